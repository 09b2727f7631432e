import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import{g as r,i as a}from"./chunks/chunk-XZGDATVY.js";import{c as e,g as o,u as i}from"./chunks/chunk-CJY7BQH3.js";import"./chunks/chunk-3XT4R35M.js";await i("build-and-smoke-test (cleanup)",async()=>{let t=o(a);t&&await r(t)&&e(`Removed test container ${t.slice(0,12)} left by the main step.`)});
