import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import"./chunk-ZKAAFD5R.js";function e(){return{}}var r={parse:e};export{r as default,e as parse};
