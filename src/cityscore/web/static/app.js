/* CityScore-KZ dashboard: draws the charts from the JSON placed next to each chart element.
 * Every chart has a text alternative in the page (aria-label and a table), so nothing depends on this script. */
(function () {
  "use strict";

  var lang = document.documentElement.lang || "ru";
  var locale = lang === "kk" ? "kk-KZ" : lang === "en" ? "en-GB" : "ru-RU";
  var numberFormats = {};
  function fmt(value, digits) {
    if (value === null || value === undefined || isNaN(value)) return "—";
    var key = String(digits);
    if (!numberFormats[key]) {
      numberFormats[key] = new Intl.NumberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits });
    }
    return numberFormats[key].format(value);
  }
  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  var geoCache = {};
  function loadGeo(url) {
    if (!geoCache[url]) {
      geoCache[url] = fetch(url, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) throw new Error("map outlines: HTTP " + r.status);
        return r.json();
      });
    }
    return geoCache[url];
  }

  var builders = {
    map: function (el, data, chart) {
      loadGeo(data.geo).then(function (geo) {
        echarts.registerMap("kz", geo);
        chart.setOption({
          animation: false,
          tooltip: {
            trigger: "item",
            formatter: function (p) {
              if (p.seriesType !== "scatter") return escapeHtml(p.name);
              var d = p.data.info;
              return "<strong>" + escapeHtml(d.name) + "</strong><br>" + escapeHtml(d.category) + "<br>" +
                escapeHtml(data.labels.score) + ": <strong>" + fmt(d.cityscore, 1) + "</strong> · " + escapeHtml(d.band) +
                "<br>" + escapeHtml(data.labels.rank) + ": " + d.rank +
                (d.population ? "<br>" + escapeHtml(data.labels.population) + ": " + fmt(d.population, 0) : "");
            }
          },
          geo: {
            map: "kz", roam: true, nameProperty: data.nameProperty, aspectScale: 0.67,
            left: 8, right: 8, top: 8, bottom: 8, scaleLimit: { min: 1, max: 12 },
            itemStyle: { areaColor: "#dfe7ef", borderColor: "#8aa0b6", borderWidth: 0.8 },
            emphasis: { itemStyle: { areaColor: "#c9d7e5" }, label: { show: true, color: "#1b1f24" } },
            label: { show: false }
          },
          series: [{
            type: "scatter", coordinateSystem: "geo", cursor: "pointer",
            data: data.points.map(function (p) {
              return { name: p.name, value: [p.lon, p.lat, p.cityscore], symbolSize: p.size, info: p,
                       itemStyle: { color: p.colour, borderColor: "#ffffff", borderWidth: 0.8, opacity: 0.92 } };
            }),
            emphasis: { scale: 1.6 }
          }]
        });
        chart.on("click", function (p) {
          if (p.seriesType === "scatter" && p.data && p.data.info) {
            window.location.href = "/settlements/" + p.data.info.kato;
          }
        });
        el.setAttribute("data-ready", "true");
      }).catch(function (err) {
        el.setAttribute("data-error", String(err));
      });
    },

    gauge: function (el, data, chart) {
      var stops = data.bands.slice().reverse().map(function (b) { return [b.upper / 100, b.colour]; });
      chart.setOption({
        animation: false,
        series: [{
          type: "gauge", min: 0, max: 100, startAngle: 210, endAngle: -30, radius: "95%",
          axisLine: { lineStyle: { width: 16, color: stops } },
          pointer: { length: "62%", width: 5, itemStyle: { color: "#1b1f24" } },
          axisTick: { show: false }, splitLine: { length: 16, lineStyle: { color: "#fff", width: 2 } },
          axisLabel: { distance: 20, color: "#5b6470", fontSize: 11 },
          detail: { valueAnimation: false, fontSize: 26, fontWeight: 700, offsetCenter: [0, "62%"],
                    formatter: function () { return data.label; } },
          data: [{ value: data.value }]
        }]
      });
      el.setAttribute("data-ready", "true");
    },

    trend: function (el, data, chart) {
      // the official CityScore year to date; the monitoring-mode line only beside it, dashed and named in the legend
      var series = [{ name: data.labels.score, type: "line", data: data.points.map(function (p) { return p.cityscore; }),
                      symbolSize: 7, lineStyle: { width: 3, color: "#0b5cad" }, itemStyle: { color: "#0b5cad" },
                      areaStyle: { color: "rgba(11,92,173,0.08)" } }];
      var monitoring = data.monitoring || [];
      if (monitoring.length) {
        series.push({ name: data.labels.monitoring, type: "line", data: monitoring.map(function (p) { return p.cityscore; }),
                      symbolSize: 5, lineStyle: { width: 2, type: "dashed", color: "#8a8f98" },
                      itemStyle: { color: "#8a8f98" } });
      }
      chart.setOption({
        animation: false,
        grid: { left: 44, right: 16, top: monitoring.length ? 40 : 24, bottom: 32 },
        legend: monitoring.length ? { top: 0, data: [data.labels.score, data.labels.monitoring] } : undefined,
        tooltip: { trigger: "axis", valueFormatter: function (v) { return fmt(v, 1); } },
        xAxis: { type: "category", data: data.months, boundaryGap: false },
        yAxis: { type: "value", min: 0, max: 100 },
        series: series
      });
      el.setAttribute("data-ready", "true");
    },

    distribution: function (el, data, chart) {
      var values = data.values.slice().sort(function (a, b) { return a.actual - b.actual; });
      var series = {
        type: "bar", name: data.labels.value, cursor: "pointer",
        data: values.map(function (v) {
          return { value: v.actual, kato: v.settlement,
                   itemStyle: { color: v.score !== null && v.score >= 0.999 ? "#1a7f37" : "#ef7d32" } };
        })
      };
      if (data.target !== null && data.target !== undefined) {
        series.markLine = { symbol: "none", silent: true, lineStyle: { color: "#1b1f24", type: "dashed" },
                            label: { position: "insideEndTop", formatter: data.labels.target + " " + fmt(data.target, 1) },
                            data: [{ yAxis: data.target }] };
      }
      chart.setOption({
        animation: false,
        grid: { left: 52, right: 24, top: 28, bottom: 24 },
        tooltip: { trigger: "item", formatter: function (p) {
          return escapeHtml(values[p.dataIndex].name) + ": <strong>" + fmt(p.value, 2) + "</strong> " + escapeHtml(data.unit);
        } },
        xAxis: { type: "category", data: values.map(function (v) { return v.name; }), axisLabel: { show: false },
                 axisTick: { show: false } },
        yAxis: { type: "value" },
        series: [series]
      });
      chart.on("click", function (p) {
        if (p.data && p.data.kato) window.location.href = "/settlements/" + p.data.kato;
      });
      el.setAttribute("data-ready", "true");
    }
  };

  var charts = [];
  function init(root) {
    if (typeof echarts === "undefined") return;
    var nodes = (root || document).querySelectorAll("[data-chart]");
    Array.prototype.forEach.call(nodes, function (el) {
      if (el.getAttribute("data-init")) return;
      var script = el.nextElementSibling;
      if (!script || script.type !== "application/json") return;
      var builder = builders[el.getAttribute("data-chart")];
      if (!builder) return;
      el.setAttribute("data-init", "true");
      var chart = echarts.init(el, null, { renderer: "canvas" });
      charts.push(chart);
      builder(el, JSON.parse(script.textContent), chart);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSwap", function (e) { init(e.target); });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
