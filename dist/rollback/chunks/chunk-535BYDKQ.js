import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import{j as r,k as o}from"./chunk-MF476LAU.js";var t="restore-point";function s(e){r(t,JSON.stringify(e))}function a(){r(t,"")}function d(){let e=o(t);return e?{drain:!0,drainSeconds:330,...JSON.parse(e)}:void 0}var c="lowered-deregistration-delays";export{s as a,a as b,d as c,c as d};
//# sourceMappingURL=chunk-535BYDKQ.js.map
