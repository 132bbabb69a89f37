// The operator console: no build step, live over server-sent events (GET /events).
"use strict";
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
