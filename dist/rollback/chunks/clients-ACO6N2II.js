import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import{a}from"./chunk-LJGWTYSE.js";import"./chunk-UH6WUCHM.js";import"./chunk-6OU3YVMM.js";import"./chunk-3D7I3C3F.js";import"./chunk-ZC3G5T2M.js";import"./chunk-FA3XAGEH.js";import"./chunk-EEEC4TXW.js";export{a as clientConfig};
