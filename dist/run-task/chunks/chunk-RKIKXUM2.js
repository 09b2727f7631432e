import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import{k as h,l as w}from"./chunk-E6UGGPAB.js";import{a as k,d as $,e as A,f as x,g as T,h as C,l as P,m as g,n as m,o as v,p as S}from"./chunk-AEQQJHDG.js";var G={succeeded:"\u2705",failed:"\u274C",cancelled:"\u26D4",skipped:"\u23ED\uFE0F"};function d(a){return a.replace(/&/g,"&amp;").replace(/</g,"&lt;").replace(/>/g,"&gt;").replace(/"/g,"&quot;")}var y=class{headline="";facts=[];phases=[];sections=[];action;constructor(t){this.action=t}fact(t,e){if(e===void 0||e==="")return;let o=this.facts.find(([s])=>s===t);o?o[1]=String(e):this.facts.push([t,String(e)])}section(t,e,o={}){this.sections.push({title:t,body:e,preformatted:o.preformatted??!0,open:o.open??!1})}phase(t){this.phases.push(t)}toMarkdown(t){let e=[],o=t.ok?"\u2705":"\u274C",s=t.ok?this.headline||"succeeded":"failed";if(e.push(`### ${o} ${this.action}: ${d(s)}
`),!t.ok&&t.error&&(e.push(`> [!CAUTION]
${M(t.error)}
`),t.hint&&e.push(`**What to do:** ${d(t.hint)}
`)),this.facts.length>0){let r=this.facts.map(([p,u])=>`<tr><th align="left">${d(p)}</th><td><code>${d(u)}</code></td></tr>`);e.push(`<table>${r.join("")}</table>
`)}if(this.phases.length>0){let r=this.phases.some(i=>i.note),p=this.phases.map(i=>{let n=[`${G[i.status]} ${i.name}`,i.startedAt.toISOString().slice(11,19),w(i.ms)];return r&&n.push(i.note?d(i.note):""),`| ${n.join(" | ")} |`}),u=r?`| Phase | Started (UTC) | Took | Note |
|---|---|---|---|`:`| Phase | Started (UTC) | Took |
|---|---|---|`;e.push(`${u}
${p.join(`
`)}
`)}for(let r of this.sections){let p=r.preformatted?`<pre>${d(r.body)}</pre>`:r.body;e.push(`<details${r.open?" open":""}><summary>${d(r.title)}</summary>

${p}

</details>
`)}return h(e.join(`
`))}async write(t){process.env.GITHUB_STEP_SUMMARY&&(t.ok&&!this.headline&&this.facts.length+this.phases.length+this.sections.length===0||await k.addRaw(this.toMarkdown(t),!0).write())}};function M(a){return a.split(`
`).map(t=>`> ${d(t)}`).join(`
`)}var R={afterSigint:1e4,afterSigterm:2500};function N(){let a=new AbortController,t={at:void 0,killAt:void 0},e=o=>{let s=Date.now();t.at??=s;let r=s+(o==="SIGINT"?R.afterSigint:R.afterSigterm);t.killAt=Math.min(t.killAt??r,r),g(a.signal.aborted?`Received ${o}: the runner kills this step in ${w(t.killAt-s)}.`:`Received ${o}: the workflow was cancelled. Stopping and cleaning up.`),a.abort(new v("the step was running"))};return process.on("SIGINT",e),process.on("SIGTERM",e),{signal:a.signal,cancellation:t,dispose:()=>{process.off("SIGINT",e),process.off("SIGTERM",e)}}}async function F(a,t){let e=new y(a),o=[],{signal:s,cancellation:r,dispose:p}=N(),u={signal:s,cancellation:r,report:e,async phase(n,c){let f=new Date,l="failed";T(n);try{let b=await c();return l="succeeded",b}catch(b){throw s.aborted&&(l="cancelled"),b}finally{C(),e.phase({name:n,status:l,startedAt:f,ms:Date.now()-f.getTime()})}},output(n,c){$(n,Array.isArray(c)?c.join(`
`):String(c))},defer(n){o.push(n)}},i={ok:!0};try{await t(u)}catch(n){let c=s.aborted,f=h(c&&!(n instanceof m)?"The workflow was cancelled.":S(n)),l=n instanceof m?n.hint:void 0;i={ok:!1,error:f,...l?{hint:l}:{}},A(P(l?`${f}
${l}`:f)),!(n instanceof m)&&n instanceof Error&&n.stack&&x(h(n.stack))}finally{for(let n of o.reverse())try{await n()}catch(c){g(`Cleanup failed: ${h(S(c))}`)}p()}try{await e.write(i)}catch(n){g(`Could not write the job summary: ${S(n)}`)}}export{F as a};
