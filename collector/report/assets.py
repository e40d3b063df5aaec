"""The HTML report's stylesheet (screen and print) and its small filter script, inlined into the page.

The page must work from a USB stick in an audit room: no CDN, no web font, no request of any kind.
The script only filters and exports what the page already holds; without it (or in a PDF) every
section is still there.
"""

CSS = """
:root{--fg:#1f2328;--muted:#57606a;--line:#d8dee4;--soft:#f6f8fa;--pass:#2e7d32;--fail:#c62828;
--na:#b26a00;--manual:#5c6bc0;--excl:#757575;--link:#0a58ca}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);
margin:0 auto;max-width:1200px;padding:0 1rem 3rem}
h1{font-size:1.5rem;margin:1.2rem 0 .2rem}
h2{font-size:1.25rem;margin:2.2rem 0 .6rem;padding-top:.6rem;border-top:2px solid var(--line)}
h3{font-size:1.05rem;margin:1.4rem 0 .4rem}
a{color:var(--link)}
p,li,td,th,dd,dt,summary,code,h1,h2,h3{overflow-wrap:anywhere}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:.86em}
small,.muted{color:var(--muted)}
[hidden]{display:none!important}
.meta{color:var(--muted);margin:.2rem 0 .8rem}
nav.toc{display:flex;flex-wrap:wrap;gap:.2rem 1rem;padding:.5rem 0;border-bottom:1px solid var(--line);font-size:.92rem}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;margin:.4rem 0}
th,td{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top;font-size:.88rem}
th{background:var(--soft);font-weight:600}
td.num,th.num{text-align:right;white-space:nowrap}
td.id{white-space:nowrap}td.title{min-width:9rem}td.list{font-size:.8rem}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:.8rem;color:#fff;font-size:.78rem;
white-space:nowrap;background:#666;vertical-align:.05rem}
.s-pass{background:var(--pass)}.s-fail{background:var(--fail)}.s-not_assessed,.s-error,.s-partial{background:var(--na)}
.s-manual{background:var(--manual)}.s-excluded,.s-not_applicable{background:var(--excl)}.s-ok{background:var(--pass)}
.sev{display:inline-block;font-size:.75rem;font-weight:600;text-transform:uppercase;letter-spacing:.03em;
padding:0 .35rem;border-radius:.25rem;border:1px solid currentColor;white-space:nowrap}
.sev-critical{color:#8e0000}.sev-high{color:#c62828}.sev-medium{color:#b26a00}.sev-low{color:#57606a}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(8.5rem,1fr));gap:.6rem;margin:.6rem 0}
.card{display:block;border:1px solid var(--line);border-left:6px solid var(--excl);border-radius:.45rem;
padding:.45rem .8rem;text-decoration:none;color:inherit}
.card:hover{background:var(--soft)}.card b{display:block;font-size:1.6rem;line-height:1.2}
.card.c-pass{border-left-color:var(--pass)}.card.c-fail{border-left-color:var(--fail)}
.card.c-not_assessed{border-left-color:var(--na)}.card.c-manual{border-left-color:var(--manual)}
dl.facts{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.15rem 1rem;margin:.4rem 0;font-size:.9rem}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
.chart-wrap{overflow-x:auto;max-width:100%}
.chart{display:block;width:100%;min-width:520px;max-width:760px;height:auto}
ul.legend{list-style:none;padding:0;margin:.3rem 0;display:flex;flex-wrap:wrap;gap:.2rem 1.1rem;font-size:.85rem}
.swatch{display:inline-block;width:.8rem;height:.8rem;margin-right:.35rem;vertical-align:-.05rem;border-radius:2px}
form#filters{display:flex;flex-wrap:wrap;gap:.5rem .9rem;align-items:flex-end;background:var(--soft);
border:1px solid var(--line);padding:.6rem .8rem;border-radius:.5rem;margin:1rem 0;z-index:5}
form#filters label{display:flex;flex-direction:column;font-size:.78rem;color:var(--muted);gap:.15rem;min-width:0}
form#filters select,form#filters input{font:inherit;font-size:.9rem;padding:.25rem .35rem;max-width:100%;
border:1px solid #afb8c1;border-radius:.3rem;background:#fff;color:var(--fg)}
form#filters input[type=search]{width:14rem}
button{font:inherit;font-size:.85rem;padding:.3rem .7rem;border:1px solid #afb8c1;border-radius:.3rem;
background:#fff;cursor:pointer}
.shown{font-size:.85rem;color:var(--muted);margin-left:.5rem}
details.control{border:1px solid var(--line);border-radius:.4rem;margin:.35rem 0;padding:.3rem .7rem}
details.control>summary{cursor:pointer;padding:.1rem 0}
details.control[open]>summary{border-bottom:1px solid var(--line);margin-bottom:.4rem;padding-bottom:.35rem}
ul.checklist{list-style:none;padding:0;margin:.3rem 0}ul.checklist li{margin:.25rem 0}
article.check{border:1px solid var(--line);border-left:5px solid var(--excl);border-radius:.4rem;
margin:.7rem 0;padding:.5rem .8rem}
article.check.k-pass{border-left-color:var(--pass)}article.check.k-fail{border-left-color:var(--fail)}
article.check.k-error{border-left-color:var(--na)}
article.check h3{margin:.1rem 0 .3rem;font-size:1rem}
.why{background:#fff8e1;border-left:4px solid var(--na);padding:.35rem .6rem;border-radius:.25rem;margin:.4rem 0}
.fix{background:#f1f8e9;border-left:4px solid var(--pass);padding:.35rem .6rem;border-radius:.25rem;margin:.4rem 0}
.expected{background:#eef1fb;border-left:4px solid var(--manual);padding:.35rem .6rem;border-radius:.25rem;
margin:.4rem 0}
.scope{color:var(--muted);font-size:.92em;margin:.3rem 0 .4rem}
.err{color:#8a4b00}
details.population{margin:.4rem 0}details.population>summary{cursor:pointer;color:var(--link)}
.hash{font-size:11.5px}
.empty{color:var(--muted);font-style:italic}
@media (min-width:900px){form#filters{position:sticky;top:0}}
@page{size:A4;margin:14mm 12mm 16mm;
@bottom-left{content:"Annexa ISO/IEC 27001:2022 gap report";font:8pt "DejaVu Sans",sans-serif;color:#57606a}
@bottom-right{content:"page " counter(page) " of " counter(pages);font:8pt "DejaVu Sans",sans-serif;color:#57606a}}
@media print{
body{max-width:none;font-size:9.5pt;padding:0}
/* break long words only where they overflow: `anywhere` makes paginating several times slower */
p,li,td,th,dd,dt,summary,code,h1,h2,h3{overflow-wrap:break-word}
nav.toc,form#filters,.export,.no-print{display:none!important}
a{color:inherit;text-decoration:none}
h2{break-after:avoid;page-break-after:avoid;border-top:1px solid var(--line)}
h3,summary{break-after:avoid;page-break-after:avoid}
tr,.card,.why,.fix,.expected,dl.facts{break-inside:avoid;page-break-inside:avoid}
.scroll,.chart-wrap{overflow:visible}
.chart{min-width:0}
.cards{display:flex;flex-wrap:wrap}.card{flex:1 1 7rem}
details::details-content{content-visibility:visible;display:contents}
details>summary{list-style:none}
.badge,.card,.swatch,th,.why,.fix,.expected,.sev{-webkit-print-color-adjust:exact;print-color-adjust:exact}
th,td{font-size:8.5pt;padding:.2rem .35rem}
}
"""

SCRIPT = r"""
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) return;
  var KEYS = ["status", "theme", "connector", "severity", "q"];
  function field(k) { return form.elements[k]; }
  function state() {
    var s = {};
    KEYS.forEach(function (k) {
      var v = (field(k).value || "").trim();
      if (v) s[k] = k === "q" ? v.toLowerCase() : v;
    });
    return s;
  }
  function has(list, v) { return (" " + (list || "") + " ").indexOf(" " + v + " ") >= 0; }
  function matches(el, s) {
    for (var i = 0; i < 4; i++) {
      var k = KEYS[i];
      if (s[k] && !has(el.getAttribute("data-" + k), s[k])) return false;
    }
    return !s.q || el.textContent.toLowerCase().indexOf(s.q) >= 0;
  }
  function apply() {
    var s = state(), active = Object.keys(s).length > 0;
    document.querySelectorAll("[data-group]").forEach(function (group) {
      var items = group.querySelectorAll("[data-f]"), shown = 0;
      items.forEach(function (el) { var ok = matches(el, s); el.hidden = !ok; if (ok) shown++; });
      group.querySelectorAll("[data-subgroup]").forEach(function (sub) {
        sub.hidden = !sub.querySelector("[data-f]:not([hidden])");
      });
      var out = document.getElementById(group.getAttribute("data-group") + "-shown");
      if (out) out.textContent = active ? shown + " of " + items.length + " shown" : items.length + " in all";
      var empty = group.querySelector(".empty");
      if (empty) empty.hidden = shown > 0;
    });
    document.documentElement.setAttribute("data-filtered", active ? "yes" : "no");
  }
  function fromHash() {
    var h = location.hash.slice(1);
    if (h.indexOf("=") < 0) return false;
    var p = new URLSearchParams(h);
    KEYS.forEach(function (k) { field(k).value = p.get(k) || ""; });
    return true;
  }
  function toHash() {
    var p = new URLSearchParams();
    KEYS.forEach(function (k) { var v = (field(k).value || "").trim(); if (v) p.set(k, v); });
    var text = p.toString();
    try { history.replaceState(null, "", text ? "#" + text : location.pathname + location.search); } catch (e) {}
  }
  function reveal(id) {
    if (!id) return;
    var el = document.getElementById(decodeURIComponent(id));
    if (!el) return;
    if (el.closest("[hidden]")) { form.reset(); apply(); }
    for (var n = el; n; n = n.parentElement) if (n.tagName === "DETAILS") n.open = true;
    el.scrollIntoView();
  }
  form.addEventListener("input", function () { apply(); toHash(); });
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  form.addEventListener("reset", function () { setTimeout(function () { apply(); toHash(); }, 0); });
  window.addEventListener("hashchange", function () {
    if (fromHash()) apply(); else reveal(location.hash.slice(1));
  });
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details:not([open])").forEach(function (d) {
      d.setAttribute("data-print", ""); d.open = true;
    });
  });
  window.addEventListener("afterprint", function () {
    document.querySelectorAll("details[data-print]").forEach(function (d) {
      d.removeAttribute("data-print"); d.open = false;
    });
  });
  function cells(tr) {
    return Array.prototype.map.call(tr.cells, function (td) {
      return td.getAttribute("data-value") || td.textContent.trim();
    });
  }
  function quote(v) { return /[",\r\n]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v; }
  function exportCsv(selector, name) {
    var rows = [];
    document.querySelectorAll(selector).forEach(function (table) {
      if (table.closest("[hidden]")) return;
      var check = table.getAttribute("data-check");
      if (!rows.length) rows.push((check ? ["check"] : []).concat(cells(table.tHead.rows[0])));
      Array.prototype.forEach.call(table.tBodies[0].rows, function (tr) {
        if (!tr.hidden) rows.push((check ? [check] : []).concat(cells(tr)));
      });
    });
    var text = rows.map(function (r) { return r.map(quote).join(","); }).join("\r\n") + "\r\n";
    var a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
  }
  document.querySelectorAll("button[data-export]").forEach(function (b) {
    b.addEventListener("click", function () { exportCsv(b.getAttribute("data-export"), b.getAttribute("data-file")); });
  });
  if (fromHash()) apply(); else { apply(); reveal(location.hash.slice(1)); }
  document.documentElement.setAttribute("data-ready", "yes");
})();
"""
