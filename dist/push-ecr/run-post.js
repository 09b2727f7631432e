import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import{b as a,d as g}from"./chunks/chunk-GLKCBIBB.js";import{e as t,o as e,p as i,q as l}from"./chunks/chunk-UJUH4Y5E.js";import"./chunks/chunk-ZKAAFD5R.js";await l("push-ecr (logout)",async()=>{let o=t(g);if(!o)return;let r=await a(["logout",o],{silent:!0,allowFailure:!0});r.exitCode===0?e(`Logged out of ${o}.`):i(`docker logout ${o} failed: ${r.stderr.trim()}`)});
//# sourceMappingURL=run-post.js.map
