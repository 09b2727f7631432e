import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import{a,b,c,d,e,f,g}from"./chunk-IAZ6LMDH.js";import"./chunk-OZLDKTH2.js";import"./chunk-FJVO6RZF.js";import"./chunk-3BYHCKPE.js";import"./chunk-EEEC4TXW.js";export{f as ENV_ACCOUNT_ID,e as ENV_CREDENTIAL_SCOPE,d as ENV_EXPIRATION,a as ENV_KEY,b as ENV_SECRET,c as ENV_SESSION,g as fromEnv};
