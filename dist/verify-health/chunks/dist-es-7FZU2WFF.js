import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import{a,b,c,d,e,f,g}from"./chunk-ZNRTGFPL.js";import"./chunk-EA63UNRR.js";import"./chunk-ZC2Z655W.js";import"./chunk-LB2FTQG7.js";import"./chunk-ZKAAFD5R.js";export{f as ENV_ACCOUNT_ID,e as ENV_CREDENTIAL_SCOPE,d as ENV_EXPIRATION,a as ENV_KEY,b as ENV_SECRET,c as ENV_SESSION,g as fromEnv};
