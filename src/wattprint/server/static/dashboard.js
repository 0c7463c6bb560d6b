// Draws each page's charts from its page-data block, and keeps a live run's power chart
// up to date from the server's event stream. No inline script: the CSP forbids it.
(function () {
  "use strict";
  var block = document.getElementById("page-data");
  if (!block) return;
  var data = JSON.parse(block.textContent);
  var config = { responsive: true, displaylogo: false };

  function layout(chart) {
    var base = { margin: { t: 10, r: 10, b: 50, l: 60 }, autosize: true,
                 font: { color: "#1a1a1a" }, showlegend: chart.traces.length > 1 };
    return Object.assign(base, chart.layout || {});
  }

  // A map's sub-national shapes are named in its trace; /static/subnational.js holds them.
  function shapes(traces) {
    var named = window.WattprintGeo || {};
    traces.forEach(function (t) {
      if (typeof t.geojson === "string" && named[t.geojson]) t.geojson = named[t.geojson];
    });
    return traces;
  }

  (data.charts || []).forEach(function (chart) {
    var el = document.getElementById(chart.id);
    shapes(chart.traces);
    if (el && window.Plotly) window.Plotly.newPlot(el, chart.traces, layout(chart), config);
  });

  // A chart drawn from another page's data (the organization home's map, from the map page's
  // JSON): fetched once this page is shown, so that it costs this page's server time nothing.
  document.querySelectorAll("[data-chart-from]").forEach(function (el) {
    var state = document.getElementById(el.id + "-state");
    function say(text) { if (state) state.firstElementChild.textContent = text; }
    fetch(el.getAttribute("data-chart-from"), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (page) {
        var chart = (page.charts || []).filter(function (c) { return c.id === el.id; })[0];
        if (!chart) { say("No runs yet."); return; }
        window.Plotly.newPlot(el, shapes(chart.traces), layout(chart), config);
        el.setAttribute("data-drawn", "true");
        say(page.runs + " runs; their places are listed on the map's page.");
      })
      .catch(function (e) { say("The map could not be loaded (" + e.message + ")."); });
  });

  // A scatter coloured by one of several keys (status, location): the select recolours its
  // one trace and rewrites the legend under it.
  document.querySelectorAll("select.colour-by").forEach(function (select) {
    var chart = (data.charts || []).filter(function (c) { return c.id === select.dataset.chart; })[0];
    if (!chart || !window.Plotly) return;
    select.addEventListener("change", function () {
      var by = chart.colour_by[select.value];
      var el = document.getElementById(chart.id);
      window.Plotly.restyle(el, { "marker.color": [by.colours] }, [0]);
      el.setAttribute("data-coloured", select.value);
      var legend = document.getElementById(chart.id + "-legend");
      legend.textContent = "";
      by.legend.forEach(function (item) {
        var li = document.createElement("li");
        var swatch = document.createElement("span");
        swatch.className = "swatch";
        swatch.style.background = item.colour;
        li.appendChild(swatch);
        li.appendChild(document.createTextNode(item.name + " (" + item.runs + ")"));
        legend.appendChild(li);
      });
    });
  });

  if (data.page === "run" && data.live && window.EventSource) {
    var parts = ["cpu", "gpu", "ram", "platform"];
    var url = "/run/" + data.run.id + "/events?after=" + (data.last_interval_id || 0);
    var source = new EventSource(url);
    source.addEventListener("intervals", function (event) {
      var s = JSON.parse(event.data);
      var el = document.getElementById("chart-power");
      window.Plotly.extendTraces(el, { x: parts.map(function () { return s.x; }),
                                       y: parts.map(function (p) { return s.y[p]; }) },
                                 [0, 1, 2, 3]);
      el.setAttribute("data-last-interval", s.last_interval_id);
    });
    source.addEventListener("ended", function (event) {
      source.close();
      document.getElementById("run-status").textContent = JSON.parse(event.data).status;
      var live = document.getElementById("live");
      if (live) live.textContent = "finished";
    });
  }
})();
