import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import{d as f,q as v}from"./chunk-J2CXLA4X.js";import{a as k,b as $,c as w,d as A,g as x,h as C,i as T,j as P,k as I,l as R,p as S,u as E,v as y}from"./chunk-ETVOWDUU.js";var N={succeeded:"\u2705",failed:"\u274C",cancelled:"\u26D4",skipped:"\u23ED\uFE0F"};function d(i){return i.replace(/&/g,"&amp;").replace(/</g,"&lt;").replace(/>/g,"&gt;").replace(/"/g,"&quot;")}var b=class{headline="";facts=[];phases=[];sections=[];action;constructor(t){this.action=t}fact(t,e){if(e===void 0||e==="")return;let n=this.facts.find(([a])=>a===t);n?n[1]=String(e):this.facts.push([t,String(e)])}section(t,e,n={}){this.sections.push({title:t,body:e,preformatted:n.preformatted??!0,open:n.open??!1})}phase(t){this.phases.push(t)}toMarkdown(t){let e=[],n=t.ok?"\u2705":"\u274C",a=t.ok?this.headline||"succeeded":"failed";if(e.push(`### ${n} ${this.action}: ${d(a)}
`),!t.ok&&t.error&&(e.push(`> [!CAUTION]
${O(t.error)}
`),t.hint&&e.push(`**What to do:** ${d(t.hint)}
`)),this.facts.length>0){let r=this.facts.map(([p,h])=>`<tr><th align="left">${d(p)}</th><td><code>${d(h)}</code></td></tr>`);e.push(`<table>${r.join("")}</table>
`)}if(this.phases.length>0){let r=this.phases.some(c=>c.note),p=this.phases.map(c=>{let g=[`${N[c.status]} ${c.name}`,c.startedAt.toISOString().slice(11,19),S(c.ms)];return r&&g.push(c.note?d(c.note):""),`| ${g.join(" | ")} |`}),h=r?`| Phase | Started (UTC) | Took | Note |
|---|---|---|---|`:`| Phase | Started (UTC) | Took |
|---|---|---|`;e.push(`${h}
${p.join(`
`)}
`)}for(let r of this.sections){let p=r.preformatted?`<pre>${d(r.body)}</pre>`:r.body;e.push(`<details${r.open?" open":""}><summary>${d(r.title)}</summary>

${p}

</details>
`)}return f(e.join(`
`))}async write(t){process.env.GITHUB_STEP_SUMMARY&&(t.ok&&!this.headline&&this.facts.length+this.phases.length+this.sections.length===0||await A.addRaw(this.toMarkdown(t),!0).write())}};function O(i){return i.split(`
`).map(t=>`> ${d(t)}`).join(`
`)}var G={afterSigint:1e4,afterSigterm:2500};function j(){let i=new AbortController,t={at:void 0,killAt:void 0},e=n=>{let a=Date.now();t.at??=a;let r=a+(n==="SIGINT"?G.afterSigint:G.afterSigterm);t.killAt=Math.min(t.killAt??r,r),y(i.signal.aborted?`Received ${n}: the runner kills this step in ${S(t.killAt-a)}.`:`Received ${n}: the workflow was cancelled. Stopping and cleaning up.`),i.abort(new $("the step was running"))};return process.on("SIGINT",e),process.on("SIGTERM",e),{signal:i.signal,cancellation:t,dispose:()=>{process.off("SIGINT",e),process.off("SIGTERM",e)}}}function D(i){let t=[];for(let e=i,n=0;e!==void 0&&n<8;n++)t.push(`${n===0?"":"Caused by: "}${e instanceof Error?e.stack??String(e):String(e)}`),e=e instanceof Error?e.cause:void 0;return t.join(`
`)}async function z(i,t,e={}){let n=new b(i),a=[],{signal:r,cancellation:p,dispose:h}=j(),c={signal:r,cancellation:p,report:n,async phase(o,s){let m=new Date,u="failed";I(o);try{let l=await s();return u="succeeded",l}catch(l){throw r.aborted&&(u="cancelled"),l}finally{R(),n.phase({name:o,status:u,startedAt:m,ms:Date.now()-m.getTime()})}},output(o,s){x(o,Array.isArray(s)?s.join(`
`):String(s))},defer(o){a.push(o)}},g={ok:!0};try{await t(c)}catch(o){let s=e.inputs?v(o,e.inputs):o,m=r.aborted,u=f(m&&!(s instanceof k)?"The workflow was cancelled.":w(s)),l=s instanceof k?s.hint:void 0;g={ok:!1,error:u,...l?{hint:l}:{}},C(E(l?`${u}
${l}`:u)),T()&&P(f(D(s)))}finally{for(let o of a.reverse())try{await o()}catch(s){y(`Cleanup failed: ${f(w(s))}`)}h()}try{await n.write(g)}catch(o){y(`Could not write the job summary: ${w(o)}`)}}export{z as a};
//# sourceMappingURL=chunk-EKPT542G.js.map
