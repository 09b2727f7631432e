import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import{a,b,c,d,e,f,g}from"./chunk-GNWEXD4L.js";import"./chunk-QACG5ZBN.js";import"./chunk-3QLVNMGC.js";import"./chunk-LB2FTQG7.js";import"./chunk-ZKAAFD5R.js";export{f as ENV_ACCOUNT_ID,e as ENV_CREDENTIAL_SCOPE,d as ENV_EXPIRATION,a as ENV_KEY,b as ENV_SECRET,c as ENV_SESSION,g as fromEnv};
