import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import{d as s}from"./chunk-PGOFKG54.js";import{j as o}from"./chunk-ETVOWDUU.js";var c={minMs:1e3,maxMs:1800,factor:1.25};function m(n){let e="waiting";return async()=>{try{let r=await n();return r.done||(e=r.progress),r}catch(r){let t=r.cause??r;if(!s(t))throw r;return o(`AWS was busy while polling; trying again (${t.message})`),{done:!1,progress:e}}}}export{c as a,m as b};
//# sourceMappingURL=chunk-7RRA5PNF.js.map
