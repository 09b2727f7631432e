import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import{d as u,q as R}from"./chunk-44ER7KYU.js";import{a as w,b as $,c as S,d as A,g as x,h as T,i as C,j as P,k as I,o as y,s as v,t as k}from"./chunk-URZ25WRQ.js";var M={succeeded:"\u2705",failed:"\u274C",cancelled:"\u26D4",skipped:"\u23ED\uFE0F"};function d(i){return i.replace(/&/g,"&amp;").replace(/</g,"&lt;").replace(/>/g,"&gt;").replace(/"/g,"&quot;")}var b=class{headline="";facts=[];phases=[];sections=[];action;constructor(t){this.action=t}fact(t,e){if(e===void 0||e==="")return;let o=this.facts.find(([a])=>a===t);o?o[1]=String(e):this.facts.push([t,String(e)])}section(t,e,o={}){this.sections.push({title:t,body:e,preformatted:o.preformatted??!0,open:o.open??!1})}phase(t){this.phases.push(t)}toMarkdown(t){let e=[],o=t.ok?"\u2705":"\u274C",a=t.ok?this.headline||"succeeded":"failed";if(e.push(`### ${o} ${this.action}: ${d(a)}
`),!t.ok&&t.error&&(e.push(`> [!CAUTION]
${N(t.error)}
`),t.hint&&e.push(`**What to do:** ${d(t.hint)}
`)),this.facts.length>0){let n=this.facts.map(([p,h])=>`<tr><th align="left">${d(p)}</th><td><code>${d(h)}</code></td></tr>`);e.push(`<table>${n.join("")}</table>
`)}if(this.phases.length>0){let n=this.phases.some(c=>c.note),p=this.phases.map(c=>{let g=[`${M[c.status]} ${c.name}`,c.startedAt.toISOString().slice(11,19),y(c.ms)];return n&&g.push(c.note?d(c.note):""),`| ${g.join(" | ")} |`}),h=n?`| Phase | Started (UTC) | Took | Note |
|---|---|---|---|`:`| Phase | Started (UTC) | Took |
|---|---|---|`;e.push(`${h}
${p.join(`
`)}
`)}for(let n of this.sections){let p=n.preformatted?`<pre>${d(n.body)}</pre>`:n.body;e.push(`<details${n.open?" open":""}><summary>${d(n.title)}</summary>

${p}

</details>
`)}return u(e.join(`
`))}async write(t){process.env.GITHUB_STEP_SUMMARY&&(t.ok&&!this.headline&&this.facts.length+this.phases.length+this.sections.length===0||await A.addRaw(this.toMarkdown(t),!0).write())}};function N(i){return i.split(`
`).map(t=>`> ${d(t)}`).join(`
`)}var E={afterSigint:1e4,afterSigterm:2500};function O(){let i=new AbortController,t={at:void 0,killAt:void 0},e=o=>{let a=Date.now();t.at??=a;let n=a+(o==="SIGINT"?E.afterSigint:E.afterSigterm);t.killAt=Math.min(t.killAt??n,n),k(i.signal.aborted?`Received ${o}: the runner kills this step in ${y(t.killAt-a)}.`:`Received ${o}: the workflow was cancelled. Stopping and cleaning up.`),i.abort(new $("the step was running"))};return process.on("SIGINT",e),process.on("SIGTERM",e),{signal:i.signal,cancellation:t,dispose:()=>{process.off("SIGINT",e),process.off("SIGTERM",e)}}}async function W(i,t,e={}){let o=new b(i),a=[],{signal:n,cancellation:p,dispose:h}=O(),c={signal:n,cancellation:p,report:o,async phase(s,r){let m=new Date,f="failed";P(s);try{let l=await r();return f="succeeded",l}catch(l){throw n.aborted&&(f="cancelled"),l}finally{I(),o.phase({name:s,status:f,startedAt:m,ms:Date.now()-m.getTime()})}},output(s,r){x(s,Array.isArray(r)?r.join(`
`):String(r))},defer(s){a.push(s)}},g={ok:!0};try{await t(c)}catch(s){let r=e.inputs?R(s,e.inputs):s,m=n.aborted,f=u(m&&!(r instanceof w)?"The workflow was cancelled.":S(r)),l=r instanceof w?r.hint:void 0;g={ok:!1,error:f,...l?{hint:l}:{}},T(v(l?`${f}
${l}`:f)),!(r instanceof w)&&r instanceof Error&&r.stack&&C(u(r.stack))}finally{for(let s of a.reverse())try{await s()}catch(r){k(`Cleanup failed: ${u(S(r))}`)}h()}try{await o.write(g)}catch(s){k(`Could not write the job summary: ${S(s)}`)}}export{W as a};
