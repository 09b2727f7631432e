import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import{c as t}from"./chunk-Z3J5FAUC.js";function g(r){return{region:r,retryStrategy:new t(2,e=>150*e),customUserAgent:[["ecs-lockstep","1"]]}}export{g as a};
//# sourceMappingURL=chunk-HOCIPHNM.js.map
