import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import{s as a,t as b,u as c}from"./chunk-SD2RY4UQ.js";import"./chunk-AEQQJHDG.js";import"./chunk-I7Q6UDEJ.js";import"./chunk-CFIEYOSE.js";import"./chunk-FA3XAGEH.js";import"./chunk-EEEC4TXW.js";export{b as cleanupBudget,a as createBudget,c as remainingMs};
