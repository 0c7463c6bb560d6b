// The organization home's runs in progress, kept up to date without reload: the server sends
// the whole list (server-sent events, /org/{id}/events) whenever a run sends an interval, starts
// or ends. Rows are built with textContent only (no HTML from data). No inline script: the CSP.
(function () {
  "use strict";
  var table = document.getElementById("live-runs");
  if (!table || !window.EventSource) return;
  var parts = ["cpu", "gpu", "ram", "platform"];

  // The numbers as the server's templates write them (Python's "{:.3g}").
  function num(v) {
    if (v === null || v === undefined) return "unknown";
    var s = Number(v).toPrecision(3);
    if (s.indexOf("e") >= 0) return s.replace(/\.?0+e/, "e").replace(/e([+-])(\d)$/, "e$10$2");
    return s.indexOf(".") >= 0 ? s.replace(/\.?0+$/, "") : s;
  }
  function kg(v) {
    if (v === null || v === undefined) return "unknown";
    if (Math.abs(v) >= 1000) return num(v / 1000) + " t";
    if (Math.abs(v) >= 1) return num(v) + " kg";
    return num(v * 1000) + " g";
  }
  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  }
  function byComponent(power) {
    if (!power) return "unknown";
    return parts.filter(function (p) { return power[p] !== null && power[p] !== undefined; })
      .map(function (p) { return p + " " + num(power[p]); }).join(" ");
  }
  // A run not heard from for a while (the server decides: "stale") is not shown as live: its
  // power now is unknown, whatever it was when it was last heard from.
  function row(run) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-run-id", run.id);
    tr.setAttribute("data-power-w", run.power_total_w === null ? "" : run.power_total_w);
    tr.setAttribute("data-stale", run.stale ? "true" : "false");
    if (run.stale) tr.className = "stale";
    var link = document.createElement("a");
    link.href = "/run/" + run.id;
    link.textContent = run.name || run.run_id;
    cell(tr, "").appendChild(link);
    var heard = cell(tr, run.heard);
    if (run.last_seen) heard.title = run.last_seen + " UTC";
    cell(tr, num(run.duration_s));
    cell(tr, num(run.energy_kwh));
    cell(tr, kg(run.emissions_kg));
    cell(tr, run.stale ? "unknown" : num(run.power_total_w));
    cell(tr, run.stale ? "unknown" : byComponent(run.power_w));
    return tr;
  }
  function show(runs) {
    var body = table.tBodies[0];
    var rows = runs.map(row);
    if (!rows.length) {
      var none = document.createElement("tr");
      none.className = "none";
      cell(none, "none").colSpan = 7;
      rows = [none];
    }
    body.replaceChildren.apply(body, rows);
    table.setAttribute("data-updates", Number(table.getAttribute("data-updates")) + 1);
    var state = document.getElementById("live-state");
    var stale = runs.filter(function (r) { return r.stale; }).length;
    if (state) state.textContent = "live: " + (runs.length - stale) + " in progress" +
                                   (stale ? ", " + stale + " not heard from lately" : "") +
                                   ", updated " + new Date().toLocaleTimeString();
  }

  var source = new EventSource("/org/" + table.getAttribute("data-organization") + "/events");
  source.addEventListener("runs", function (event) { show(JSON.parse(event.data).runs); });
})();
