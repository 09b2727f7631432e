import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import{b as f,d as A}from"./chunk-UHEZGRHX.js";import{a as u,b as y,c as g,d as b,g as $,h as k,i as x,j as m,l as P,m as T}from"./chunk-Y2KUWTCA.js";var C={succeeded:"\u2705",failed:"\u274C",cancelled:"\u26D4",skipped:"\u23ED\uFE0F"};function c(i){return i.replace(/&/g,"&amp;").replace(/</g,"&lt;").replace(/>/g,"&gt;").replace(/"/g,"&quot;")}var w=class{headline="";facts=[];phases=[];sections=[];action;constructor(t){this.action=t}fact(t,r){if(r===void 0||r==="")return;let s=this.facts.find(([d])=>d===t);s?s[1]=String(r):this.facts.push([t,String(r)])}section(t,r,s={}){this.sections.push({title:t,body:r,preformatted:s.preformatted??!0,open:s.open??!1})}phase(t){this.phases.push(t)}toMarkdown(t){let r=[],s=t.ok?"\u2705":"\u274C",d=t.ok?this.headline||"succeeded":"failed";if(r.push(`### ${s} ${this.action}: ${c(d)}
`),!t.ok&&t.error&&(r.push(`> [!CAUTION]
${I(t.error)}
`),t.hint&&r.push(`**What to do:** ${c(t.hint)}
`)),this.facts.length>0){let n=this.facts.map(([p,l])=>`<tr><th align="left">${c(p)}</th><td><code>${c(l)}</code></td></tr>`);r.push(`<table>${n.join("")}</table>
`)}if(this.phases.length>0){let n=this.phases.some(e=>e.note),p=this.phases.map(e=>{let o=[`${C[e.status]} ${e.name}`,e.startedAt.toISOString().slice(11,19),A(e.ms)];return n&&o.push(e.note?c(e.note):""),`| ${o.join(" | ")} |`}),l=n?`| Phase | Started (UTC) | Took | Note |
|---|---|---|---|`:`| Phase | Started (UTC) | Took |
|---|---|---|`;r.push(`${l}
${p.join(`
`)}
`)}for(let n of this.sections){let p=n.preformatted?`<pre>${c(n.body)}</pre>`:n.body;r.push(`<details${n.open?" open":""}><summary>${c(n.title)}</summary>

${p}

</details>
`)}return f(r.join(`
`))}async write(t){process.env.GITHUB_STEP_SUMMARY&&(t.ok&&!this.headline&&this.facts.length+this.phases.length+this.sections.length===0||await b.addRaw(this.toMarkdown(t),!0).write())}};function I(i){return i.split(`
`).map(t=>`> ${c(t)}`).join(`
`)}function R(){let i=new AbortController,t=r=>{m(`Received ${r}: the workflow was cancelled. Stopping and cleaning up.`),i.abort(new y("the step was running"))};return process.on("SIGINT",t),process.on("SIGTERM",t),{signal:i.signal,dispose:()=>{process.off("SIGINT",t),process.off("SIGTERM",t)}}}async function U(i,t){let r=new w(i),s=[],{signal:d,dispose:n}=R(),p={signal:d,report:r,async phase(e,o){let h=new Date,a="failed";P(e);try{let S=await o();return a="succeeded",S}catch(S){throw d.aborted&&(a="cancelled"),S}finally{T(),r.phase({name:e,status:a,startedAt:h,ms:Date.now()-h.getTime()})}},output(e,o){$(e,Array.isArray(o)?o.join(`
`):String(o))},defer(e){s.push(e)}},l={ok:!0};try{await t(p)}catch(e){let o=d.aborted,h=f(o&&!(e instanceof u)?"The workflow was cancelled.":g(e)),a=e instanceof u?e.hint:void 0;l={ok:!1,error:h,...a?{hint:a}:{}},k(a?`${h}
${a}`:h),!(e instanceof u)&&e instanceof Error&&e.stack&&x(f(e.stack))}finally{for(let e of s.reverse())try{await e()}catch(o){m(`Cleanup failed: ${f(g(o))}`)}n()}try{await r.write(l)}catch(e){m(`Could not write the job summary: ${g(e)}`)}}export{U as a};
