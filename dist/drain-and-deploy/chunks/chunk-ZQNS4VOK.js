import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import{l as t,m as n}from"./chunk-ELCVZHHK.js";var r="restore-point";function s(e){t(r,JSON.stringify(e))}function a(){t(r,"")}function c(){let e=n(r);return e?{drain:!0,drainSeconds:330,...JSON.parse(e)}:void 0}export{s as a,a as b,c};
