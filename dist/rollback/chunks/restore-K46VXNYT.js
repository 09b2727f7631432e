import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import{b as a}from"./chunk-RHWB2T3V.js";import"./chunk-LA2NKZFQ.js";import"./chunk-FLQU5JPU.js";import"./chunk-4M5RUKLI.js";import"./chunk-TRXJLZ4D.js";import"./chunk-I7Q6UDEJ.js";import"./chunk-CFIEYOSE.js";import"./chunk-FA3XAGEH.js";import"./chunk-EEEC4TXW.js";export{a as restoreService};
