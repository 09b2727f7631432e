import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import{k as t,l as r}from"./chunk-TRXJLZ4D.js";var o="restore-point";function i(e){t(o,JSON.stringify(e))}function s(){t(o,"")}function a(){let e=r(o);return e?JSON.parse(e):void 0}export{i as a,s as b,a as c};
