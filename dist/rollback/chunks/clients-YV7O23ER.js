import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import{a}from"./chunk-HOCIPHNM.js";import"./chunk-Z3J5FAUC.js";import"./chunk-Y2QX3D3D.js";import"./chunk-5QG4V4DN.js";import"./chunk-5IZNRTAI.js";import"./chunk-IHLTSW3Z.js";import"./chunk-ZKAAFD5R.js";export{a as clientConfig};
