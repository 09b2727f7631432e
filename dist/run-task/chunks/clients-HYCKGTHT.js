import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import{r as t}from"./chunk-DOMEHPRD.js";import"./chunk-VPOH7MGH.js";import"./chunk-3BYHCKPE.js";import"./chunk-EEEC4TXW.js";function g(r){return{region:r,retryStrategy:new t(2,e=>150*e),customUserAgent:[["ecs-lockstep","1"]]}}export{g as clientConfig};
