import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import{g as r,i as m}from"./chunks/chunk-7FFUFUFX.js";import{e as t,f as e,v as i}from"./chunks/chunk-UBXK63FO.js";import"./chunks/chunk-ZKAAFD5R.js";await i("build-and-smoke-test (cleanup)",async()=>{let o=t(m);o&&await r(o)&&e(`Removed test container ${o.slice(0,12)} left by the main step.`)});
//# sourceMappingURL=run-post.js.map
