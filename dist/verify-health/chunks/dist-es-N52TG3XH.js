import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import{a,b,c,d,e,f,g}from"./chunk-X5DNGH6Y.js";import"./chunk-43GQPJ5Q.js";import"./chunk-HPBIIGEA.js";import"./chunk-3BYHCKPE.js";import"./chunk-EEEC4TXW.js";export{f as ENV_ACCOUNT_ID,e as ENV_CREDENTIAL_SCOPE,d as ENV_EXPIRATION,a as ENV_KEY,b as ENV_SECRET,c as ENV_SESSION,g as fromEnv};
