/// The operator console: one page, no build step, live over server-sent events.
enum ConsolePage {
    static let html = #"""
<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>PlanWatch 教育工作要点监测台</title>
<style>
  :root { --red:#c62828; --orange:#ef6c00; --orange-text:#c2410c; --yellow:#f9a825; --blue:#1565c0; --bg:#f4f6f8; --card:#fff; --muted:#5f6b7a; }
  .sr-only { position:absolute; width:1px; height:1px; padding:0; margin:-1px; overflow:hidden; clip:rect(0,0,0,0); white-space:nowrap; border:0; }
  .alert.focus { outline:3px solid #17324d; outline-offset:1px; }
  * { box-sizing: border-box; }
  body { margin:0; font: 14px/1.45 "Noto Sans CJK SC","Noto Sans SC","WenQuanYi Micro Hei","Microsoft YaHei",sans-serif; background:var(--bg); color:#1d2733; }
  header { display:flex; align-items:center; gap:16px; padding:10px 16px; background:#17324d; color:#fff; }
  header h1 { font-size:18px; margin:0; font-weight:600; }
  header .live { margin-left:auto; font-size:12px; opacity:.85; }
  header .live.on::before { content:"●"; color:#7be07b; margin-right:4px; }
  .filters { display:flex; gap:10px; padding:8px 16px; background:#fff; border-bottom:1px solid #dde3ea; flex-wrap:wrap; align-items:center; }
  .filters label { color:var(--muted); font-size:13px; }
  .filters select { margin-left:4px; padding:2px 4px; }
  main { display:grid; grid-template-columns: minmax(0,1.15fr) minmax(0,1fr); gap:12px; padding:12px 16px; height: calc(100vh - 96px); }
  section { background:var(--card); border-radius:6px; box-shadow:0 1px 2px rgba(0,0,0,.08); display:flex; flex-direction:column; min-height:0; }
  section h2 { font-size:15px; margin:0; padding:10px 12px; border-bottom:1px solid #e6ebf0; }
  section h2 small { color:var(--muted); font-weight:normal; margin-left:6px; }
  .scroll { overflow-y:auto; padding:8px 12px; }
  .alert { border-left:6px solid var(--blue); padding:6px 10px; margin-bottom:8px; background:#fafbfc; border-radius:3px; }
  .alert.red { border-color:var(--red); background:#fdecea; } .alert.orange { border-color:var(--orange); background:#fff3e0; }
  .alert.yellow { border-color:var(--yellow); background:#fffde7; } .alert.blue { border-color:var(--blue); background:#e8f1fb; }
  .alert .head { display:flex; gap:8px; font-size:12px; color:var(--muted); }
  .alert .level { font-weight:700; color:#fff; padding:0 6px; border-radius:3px; }
  .level.red { background:var(--red); } .level.orange { background:var(--orange-text); } .level.yellow { background:var(--yellow); color:#333 !important; } .level.blue { background:var(--blue); }
  .alert .summary { margin-top:2px; font-size:14px; }
  .alert .age { margin-left:auto; }
  .tiles { display:grid; grid-template-columns: repeat(auto-fill, minmax(210px,1fr)); gap:8px; }
  .tile { border:1px solid #e1e7ee; border-radius:5px; padding:8px; }
  .tile .name { font-size:13px; color:var(--muted); }
  .tile .value { font-size:20px; font-weight:600; }
  .tile .target { font-size:12px; color:var(--muted); }
  .bar { height:6px; background:#e9eef3; border-radius:3px; margin:4px 0; overflow:hidden; }
  .bar > div { height:100%; background:#2e7d32; }
  .status-atRisk .bar > div { background:var(--yellow); } .status-offTrack .bar > div { background:var(--red); }
  .status { font-size:12px; padding:0 5px; border-radius:3px; background:#e8f5e9; color:#2e7d32; }
  .status.atRisk { background:#fffde7; color:#8d6e00; } .status.offTrack { background:#fdecea; color:var(--red); } .status.none { background:#eef1f4; color:var(--muted); }
  svg.spark { width:100%; height:28px; }
  .empty { color:var(--muted); padding:12px; }
  .desk { display:flex; gap:8px; align-items:center; font-size:12px; color:var(--muted); margin-top:3px; flex-wrap:wrap; }
  .desk .esc { color:#fff; background:#6a1b9a; padding:0 5px; border-radius:3px; }
  .desk .acked { color:#2e7d32; }
  .desk button { font:inherit; font-size:12px; padding:0 8px; border:1px solid #17324d; background:#fff; color:#17324d; border-radius:3px; cursor:pointer; }
  .desk a { color:#17324d; }
  .trail { font-size:12px; color:#37474f; margin:4px 0 0 4px; border-left:2px solid #cfd8dc; padding-left:8px; }
</style>
</head>
<body>
<header><h1>PlanWatch 教育工作要点监测台</h1><span id="counts"></span><span id="clock" title="处理器时钟: 预警时长与逾期按此计算"></span><span class="live" id="live" role="status">连接中…</span></header>
<div id="announce" class="sr-only" aria-live="polite" aria-atomic="true"></div>
<div class="filters">
  <label>预警级别<select id="f-level"><option value="">全部</option><option value="red">红色(Ⅰ级)</option><option value="orange">橙色(Ⅱ级)</option><option value="yellow">黄色(Ⅲ级)</option><option value="blue">蓝色(Ⅳ级)</option></select></label>
  <label>领域<select id="f-domain"><option value="">全部</option></select></label>
  <label>区域<select id="f-region"><option value="">全部</option></select></label>
</div>
<main>
  <section><h2>当前预警<small id="alert-count"></small></h2><div class="scroll" id="alerts"></div></section>
  <section><h2>指标<small>区县与全市, 对照计划目标</small></h2><div class="scroll"><div class="tiles" id="tiles"></div></div></section>
</main>
<script>
// Regions, domains and names come from the daemon's catalog (its handlers and plans).
const REGIONS = {}, NAMES = {}, RULES = {}, INDICATOR_DOMAIN = {};
const DOMAINS = {safety:"校园安全", enrolment:"学籍与班额", projects:"项目建设", teachers:"教师队伍", finance:"经费保障",
  inspection:"教育督导", training:"校外培训", special:"特殊教育", aid:"学生资助", infra:"教育信息化", ingest:"数据接入",
  compulsory:"义务教育", preschool:"学前教育", secondary:"高中阶段", senior:"普通高中"};
const LEVELS = {red:"红色", orange:"橙色", yellow:"黄色", blue:"蓝色"};
const STATUS = {met:"已达标", onTrack:"进度正常", atRisk:"进度落后", offTrack:"严重滞后"};
const OWNERS = {school:"学校", district:"区县教育局", city:"市教育局"};
const CHANGES = {fired:"触发", levelChanged:"级别变化", acknowledged:"确认", escalated:"升级", resolved:"解除"};
const alerts = new Map(), indicators = new Map(), history = new Map(), trails = new Map();
let lastSeq = 0, focused = null;
const $ = id => document.getElementById(id);
function regionName(code) { return REGIONS[code] || code; }
function isShare(id) { return id.endsWith("_share"); }
function fmt(id, v) { if (v === null || v === undefined) return "-"; return isShare(id) ? (v*100).toFixed(1)+"%" : (Math.round(v*100)/100).toString(); }
// The daemon's clock: the wall clock in production; under the event clock (a replay, the
// demo) the latest event time, which may be years behind the browser's.
let clock = {mode: "wall", base: Date.now(), fetched: Date.now()}, latest = 0;
function now() { return clock.mode === "event" ? Math.max(clock.base, latest) : clock.base + (Date.now() - clock.fetched); }
async function syncClock() {
  try { const c = await fetch("/api/clock").then(r => r.json()); clock = {mode: c.mode, base: Date.parse(c.now), fetched: Date.now()};
    $("clock").textContent = (c.mode === "event" ? "事件时钟 " : "") + c.now.slice(0, 16).replace("T", " "); } catch (e) {}
}
function age(ts) {
  const s = Math.max(0, (now() - Date.parse(ts)) / 1000);
  if (s < 3600) return Math.floor(s/60) + " 分钟前"; if (s < 86400) return Math.floor(s/3600) + " 小时前"; return Math.floor(s/86400) + " 天前";
}
function owner(o) { if (!o) return "—"; const [lvl, id] = o.split(":"); return (OWNERS[lvl] || lvl) + " " + (lvl === "school" ? id : regionName(id)); }
function desk(a) {
  const acked = a.ackedBy ? `<span class="acked">已确认: ${esc(a.ackedBy)} · ${age(a.ackedAt)}${a.ackNote ? " — " + esc(a.ackNote) : ""}</span>`
    : `<button class="ack" data-fingerprint="${esc(a.fingerprint)}">确认</button>`;
  return `<div class="desk"><span>责任: ${esc(owner(a.owner))}</span>${a.escalatedTo ? `<span class="esc">已升级</span>` : ""}${acked}` +
    `<a href="#" class="trail-link" data-fingerprint="${esc(a.fingerprint)}">处置记录</a></div>` + (trails.get(a.fingerprint) || "");
}
async function acknowledge(fp) {
  const note = prompt("处置说明(可空; 确认人为当前登录的操作员):", ""); if (note === null) return;
  const r = await fetch("/api/alerts/ack", {method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify({fingerprint: fp, note})});
  if (r.ok) { const body = await r.json(); if (body.seq > lastSeq) apply(`alert.${body.rule.split(".")[0]}.${body.region}`, body); }
  else alert("确认失败: " + await r.text());
}
async function showTrail(fp) {
  if (trails.has(fp)) { trails.delete(fp); render(); return; }
  const rows = await fetch("/api/alerts/history?fingerprint=" + encodeURIComponent(fp)).then(r => r.json());
  trails.set(fp, `<div class="trail">` + rows.map(c => `<div>${esc(c.at.slice(0,16).replace("T"," "))} ${CHANGES[c.change] || c.change} · ${LEVELS[c.level] || c.level}` +
    ` · ${esc(owner(c.owner))}${c.by ? " · " + esc(c.by) : ""}${c.note ? " — " + esc(c.note) : ""}</div>`).join("") + `</div>`);
  render();
}
function esc(t) { return String(t).replace(/[&<>"]/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;"}[c])); }
function filters() { return {level:$("f-level").value, domain:$("f-domain").value, region:$("f-region").value}; }
function inRegion(code, r) { return !r || code === r || (r.endsWith("00") && code.slice(0,4) === r.slice(0,4)); }
function renderAlerts() {
  const f = filters();
  const list = [...alerts.values()].filter(a => (!f.level || a.level === f.level) && (!f.domain || a.rule.split(".")[0] === f.domain) && inRegion(a.region, f.region))
    .sort((a,b) => b.seq - a.seq);
  $("alert-count").textContent = list.length + " 条";
  const counts = {}; for (const a of alerts.values()) counts[a.level] = (counts[a.level]||0) + 1;
  $("counts").textContent = Object.keys(LEVELS).map(l => LEVELS[l] + " " + (counts[l]||0)).join("  ·  ");
  // The alert a link opened (?fingerprint=), if it has been resolved since: its history alone.
  const gone = focused && !alerts.has(focused) && trails.has(focused)
    ? `<div class="alert focus" data-fingerprint="${esc(focused)}"><div class="summary">${esc(focused)} 已解除</div>${trails.get(focused)}</div>` : "";
  $("alerts").innerHTML = gone + (list.length ? list.slice(0, 300).map(a => {
    const school = a.subject.schoolId || a.subject.projectId || a.subject.source || "";
    return `<div class="alert ${a.level}${a.fingerprint === focused ? " focus" : ""}" data-fingerprint="${esc(a.fingerprint)}"><div class="head"><span class="level ${a.level}">${LEVELS[a.level]}</span>` +
      `<span title="${esc(a.rule)}">${esc(RULES[a.rule] || a.rule)}</span><span>${esc(regionName(a.region))}</span><span>${esc(school)}</span><span class="age">${age(a.startsAt)}</span></div>` +
      `<div class="summary">${esc(a.summary)}</div><div class="head"><span>${esc(a.planRef || "")}</span></div>${desk(a)}</div>`; }).join("")
    : `<div class="empty">没有正在触发的预警</div>`);
}
function spark(topic) {
  const pts = (history.get(topic) || []).filter(p => p.value !== null);
  if (pts.length < 2) return "";
  const vs = pts.map(p => p.value), min = Math.min(...vs), max = Math.max(...vs), span = (max - min) || 1;
  const d = vs.map((v,i) => `${(i/(vs.length-1)*100).toFixed(1)},${(26 - (v-min)/span*24).toFixed(1)}`).join(" ");
  return `<svg class="spark" viewBox="0 0 100 28" preserveAspectRatio="none"><polyline fill="none" stroke="#17324d" stroke-width="1.5" points="${d}"/></svg>`;
}
function renderTiles() {
  const f = filters();
  const list = [...indicators.values()].filter(i => inRegion(i.region, f.region) && (!f.domain || (INDICATOR_DOMAIN[i.measures || i.indicator] || i.indicator.split(".")[0]) === f.domain))
    .sort((a,b) => (a.scope === b.scope ? 0 : a.scope === "city" ? -1 : 1) || a.indicator.localeCompare(b.indicator) || a.region.localeCompare(b.region));
  $("tiles").innerHTML = list.slice(0, 200).map(i => {
    const t = i.target; let pct = 0, tgt = "无计划目标";
    if (t) { const bound = t.atLeast ?? t.atMost ?? t.equals; const op = t.atLeast !== undefined ? "≥" : t.atMost !== undefined ? "≤" : "=";
      tgt = `目标 ${op}${fmt(i.indicator, bound)} · ${t.deadline}前 · ${esc(t.planRef)}`;
      pct = t.atLeast !== undefined ? Math.min(100, (i.value||0)/(bound||1)*100) : (i.status === "met" ? 100 : 50); }
    const st = i.status ? `<span class="status ${i.status}">${STATUS[i.status]}${i.final ? "(终)" : ""}</span>` : `<span class="status none">—</span>`;
    return `<div class="tile status-${i.status||"none"}" data-topic="indicator.${esc(i.indicator)}.${i.region}"><div class="name">${esc(NAMES[i.indicator]||i.indicator)} · ${esc(regionName(i.region))}</div>` +
      `<div class="value">${fmt(i.indicator, i.value)} ${st}</div><div class="bar"><div style="width:${pct.toFixed(0)}%"></div></div>` +
      `<div class="target">${tgt}</div>${spark("indicator." + i.indicator + "." + i.region)}</div>`; }).join("") || `<div class="empty">尚无指标</div>`;
}
let pending = false;
function render() { if (pending) return; pending = true; requestAnimationFrame(() => { pending = false; renderAlerts(); renderTiles(); }); }
function seen(body) { const t = Date.parse(body.updatedAt || body.asOf || ""); if (t > latest) latest = t; }
function apply(topic, body) {
  if (body.seq <= lastSeq) return; lastSeq = body.seq; seen(body);
  if (topic.startsWith("alert.")) {
    if (body.status === "resolved") alerts.delete(body.fingerprint);
    else {
      if (!alerts.has(body.fingerprint) && (body.level === "red" || body.level === "orange"))
        $("announce").textContent = `新${LEVELS[body.level]}预警: ${body.summary}`;
      alerts.set(body.fingerprint, body);
    }
  }
  else if (topic.startsWith("indicator.")) {
    indicators.set(topic, body);
    const h = history.get(topic) || []; h.push({asOf: body.asOf, value: body.value}); if (h.length > 60) h.shift(); history.set(topic, h);
  }
  render();
}
// The whole state from the APIs: at start, and after every reconnect (what was published
// while the stream was down, resolves included, is in it).
async function load() {
  const [a, i] = await Promise.all([fetch("/api/alerts").then(r => r.json()), fetch("/api/indicators").then(r => r.json())]);
  const top = Math.max(0, ...a.map(x => x.seq), ...i.map(x => x.seq));
  for (const [fp, x] of alerts) if (x.seq <= top && !a.some(y => y.fingerprint === fp)) alerts.delete(fp);
  for (const x of a) { const old = alerts.get(x.fingerprint); if (!old || old.seq <= x.seq) alerts.set(x.fingerprint, x); seen(x); }
  for (const x of i) { const topic = `indicator.${x.indicator}.${x.region}`; const old = indicators.get(topic);
    if (!old || old.seq <= x.seq) indicators.set(topic, x); seen(x); }
  lastSeq = Math.max(lastSeq, top);
  await syncClock();
  render();
}
async function catalog() {
  const c = await fetch("/api/catalog").then(r => r.json());
  for (const r of c.regions) REGIONS[r.code] = r.name || r.code;
  for (const i of c.indicators) NAMES[i.id] = i.name;
  for (const p of c.plans) for (const t of p.targets) if (!NAMES[t.series]) NAMES[t.series] = t.text || NAMES[t.indicator] || t.series;
  for (const r of c.rules) RULES[r.id] = r.name;
  // An indicator belongs to the domain of its handler's rules (preschool.* to enrolment).
  const handlerDomain = {}; for (const r of c.rules) handlerDomain[r.handler] = handlerDomain[r.handler] || r.domain;
  for (const i of c.indicators) INDICATOR_DOMAIN[i.id] = handlerDomain[i.handler] || i.domain;
  const domains = [...new Set(c.rules.map(r => r.domain))].sort();
  for (const d of domains) $("f-domain").insertAdjacentHTML("beforeend", `<option value="${esc(d)}">${esc(DOMAINS[d] || d)}</option>`);
  for (const code of Object.keys(REGIONS).sort()) $("f-region").insertAdjacentHTML("beforeend", `<option value="${esc(code)}">${esc(REGIONS[code])}</option>`);
}
// ?fingerprint=…: the alert an Alertmanager notification links to, shown with its history.
async function focusAlert() {
  const fp = new URLSearchParams(location.search).get("fingerprint"); if (!fp) return;
  focused = fp;
  if (!trails.has(fp)) await showTrail(fp);
  requestAnimationFrame(() => { const el = document.querySelector(".alert.focus"); if (el) el.scrollIntoView({block: "center"}); });
}
async function start() {
  await catalog();
  for (const id of ["f-level","f-domain","f-region"]) $(id).addEventListener("change", render);
  $("alerts").addEventListener("click", e => {
    const t = e.target; if (!t.dataset || !t.dataset.fingerprint) return; e.preventDefault();
    if (t.classList.contains("ack")) acknowledge(t.dataset.fingerprint); else if (t.classList.contains("trail-link")) showTrail(t.dataset.fingerprint);
  });
  await load();
  await Promise.all([...indicators.keys()].filter(t => /\.\d{4}00$/.test(t)).map(t =>
    fetch("/api/indicators/history?topic=" + encodeURIComponent(t)).then(r => r.json()).then(h => history.set(t, h))));
  render();
  requestAnimationFrame(focusAlert);
  let dropped = false;
  const es = new EventSource("/events");
  es.onopen = () => { $("live").textContent = "实时"; $("live").classList.add("on"); if (dropped) { dropped = false; load(); } };
  es.onerror = () => { $("live").textContent = "重新连接中…"; $("live").classList.remove("on"); dropped = true; };
  es.onmessage = e => { const m = JSON.parse(e.data); apply(m.topic, m.body); };
  es.addEventListener("resync", () => load());
  setInterval(() => { syncClock(); renderAlerts(); }, 30000);
}
start();
</script>
</body>
</html>
"""#
}
