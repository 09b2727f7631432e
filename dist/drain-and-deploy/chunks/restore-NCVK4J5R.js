import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import{g as a}from"./chunk-I6M2FVZZ.js";import"./chunk-FPDAYZCQ.js";import"./chunk-C72AGHPC.js";import"./chunk-Y2KUWTCA.js";import"./chunk-I7Q6UDEJ.js";import"./chunk-CFIEYOSE.js";import"./chunk-FA3XAGEH.js";import"./chunk-EEEC4TXW.js";export{a as restoreService};
