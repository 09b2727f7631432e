import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import{b as h}from"./chunk-2XPBFPEY.js";import{b as w}from"./chunk-TOYCSVI2.js";import{a as g,b,c as m,d as $,g as A,h as x,i as T,j as S,l as C,m as P}from"./chunk-LSPVR27A.js";var I={succeeded:"\u2705",failed:"\u274C",cancelled:"\u26D4",skipped:"\u23ED\uFE0F"};function d(a){return a.replace(/&/g,"&amp;").replace(/</g,"&lt;").replace(/>/g,"&gt;").replace(/"/g,"&quot;")}var y=class{headline="";facts=[];phases=[];sections=[];action;constructor(t){this.action=t}fact(t,e){if(e===void 0||e==="")return;let o=this.facts.find(([s])=>s===t);o?o[1]=String(e):this.facts.push([t,String(e)])}section(t,e,o={}){this.sections.push({title:t,body:e,preformatted:o.preformatted??!0,open:o.open??!1})}phase(t){this.phases.push(t)}toMarkdown(t){let e=[],o=t.ok?"\u2705":"\u274C",s=t.ok?this.headline||"succeeded":"failed";if(e.push(`### ${o} ${this.action}: ${d(s)}
`),!t.ok&&t.error&&(e.push(`> [!CAUTION]
${G(t.error)}
`),t.hint&&e.push(`**What to do:** ${d(t.hint)}
`)),this.facts.length>0){let r=this.facts.map(([p,u])=>`<tr><th align="left">${d(p)}</th><td><code>${d(u)}</code></td></tr>`);e.push(`<table>${r.join("")}</table>
`)}if(this.phases.length>0){let r=this.phases.some(i=>i.note),p=this.phases.map(i=>{let n=[`${I[i.status]} ${i.name}`,i.startedAt.toISOString().slice(11,19),w(i.ms)];return r&&n.push(i.note?d(i.note):""),`| ${n.join(" | ")} |`}),u=r?`| Phase | Started (UTC) | Took | Note |
|---|---|---|---|`:`| Phase | Started (UTC) | Took |
|---|---|---|`;e.push(`${u}
${p.join(`
`)}
`)}for(let r of this.sections){let p=r.preformatted?`<pre>${d(r.body)}</pre>`:r.body;e.push(`<details${r.open?" open":""}><summary>${d(r.title)}</summary>

${p}

</details>
`)}return h(e.join(`
`))}async write(t){process.env.GITHUB_STEP_SUMMARY&&(t.ok&&!this.headline&&this.facts.length+this.phases.length+this.sections.length===0||await $.addRaw(this.toMarkdown(t),!0).write())}};function G(a){return a.split(`
`).map(t=>`> ${d(t)}`).join(`
`)}var v={afterSigint:1e4,afterSigterm:2500};function M(){let a=new AbortController,t={at:void 0,killAt:void 0},e=o=>{let s=Date.now();t.at??=s;let r=s+(o==="SIGINT"?v.afterSigint:v.afterSigterm);t.killAt=Math.min(t.killAt??r,r),S(a.signal.aborted?`Received ${o}: the runner kills this step in ${w(t.killAt-s)}.`:`Received ${o}: the workflow was cancelled. Stopping and cleaning up.`),a.abort(new b("the step was running"))};return process.on("SIGINT",e),process.on("SIGTERM",e),{signal:a.signal,cancellation:t,dispose:()=>{process.off("SIGINT",e),process.off("SIGTERM",e)}}}async function q(a,t){let e=new y(a),o=[],{signal:s,cancellation:r,dispose:p}=M(),u={signal:s,cancellation:r,report:e,async phase(n,c){let f=new Date,l="failed";C(n);try{let k=await c();return l="succeeded",k}catch(k){throw s.aborted&&(l="cancelled"),k}finally{P(),e.phase({name:n,status:l,startedAt:f,ms:Date.now()-f.getTime()})}},output(n,c){A(n,Array.isArray(c)?c.join(`
`):String(c))},defer(n){o.push(n)}},i={ok:!0};try{await t(u)}catch(n){let c=s.aborted,f=h(c&&!(n instanceof g)?"The workflow was cancelled.":m(n)),l=n instanceof g?n.hint:void 0;i={ok:!1,error:f,...l?{hint:l}:{}},x(l?`${f}
${l}`:f),!(n instanceof g)&&n instanceof Error&&n.stack&&T(h(n.stack))}finally{for(let n of o.reverse())try{await n()}catch(c){S(`Cleanup failed: ${h(m(c))}`)}p()}try{await e.write(i)}catch(n){S(`Could not write the job summary: ${m(n)}`)}}export{q as a};
