import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import"./chunk-EEEC4TXW.js";function e(){return{}}var r={parse:e};export{r as default,e as parse};
