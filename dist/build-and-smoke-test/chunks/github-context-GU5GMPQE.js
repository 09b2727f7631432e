import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import"./chunk-ZKAAFD5R.js";function r(){return(process.env.GITHUB_REPOSITORY?.split("/")[1]||process.cwd().split("/").pop()||"app").toLowerCase()}function o(){return process.env.GITHUB_SHA||void 0}function t(){let{GITHUB_REPOSITORY:e,GITHUB_RUN_ID:n}=process.env;if(!(!e||!n))return`${process.env.GITHUB_SERVER_URL||"https://github.com"}/${e}/actions/runs/${n}`}export{o as commitSha,r as repositoryName,t as runUrl};
//# sourceMappingURL=github-context-GU5GMPQE.js.map
