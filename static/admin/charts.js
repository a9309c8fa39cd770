// The overview's charts: SVG drawn in the browser from the overview's figures, no library.
// Text reaches the DOM only as textContent. Each chart says its figures in words too (an
// aria-label, a <title> per bar, a legend with totals), so a screen reader and a test read
// the same numbers a reader sees. The words are the dashboard's (admin.js calls use() with
// its language and message function); labels and captions arrive already in them.
"use strict";
(function () {
  var NS = "http://www.w3.org/2000/svg";

  function svg(tag, attrs, text) {
    var node = document.createElementNS(NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function html(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "class") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.append(c); });
    return node;
  }

  // A round top for the y axis: 1, 2, 5 times a power of ten.
  function niceMax(n) {
    if (n <= 4) return 4;
    var p = Math.pow(10, Math.floor(Math.log10(n)));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * p >= n) return steps[i] * p;
    return 10 * p;
  }

  var lang, t, fmt, dayFmt, monthFmt, lists;
  use("en", function (key) { return key; });

  // The dashboard's language and its message function t(key, vars) (admin.js).
  function use(language, translate) {
    lang = language;
    t = translate;
    fmt = new Intl.NumberFormat(lang);
    dayFmt = new Intl.DateTimeFormat(lang, { month: "short", day: "numeric", timeZone: "UTC" });
    monthFmt = new Intl.DateTimeFormat(lang, { month: "short", timeZone: "UTC" });
    lists = Intl.ListFormat ? new Intl.ListFormat(lang, { type: "conjunction", style: "narrow" }) : null;
  }

  // "5 published, 1 held, 1 spam": each series' figure in its own words (its countKey), listed.
  function figures(series, valueOf) {
    var items = series.map(function (s) { return t(s.countKey, { n: valueOf(s) }); });
    return lists ? lists.format(items) : items.join(", ");
  }

  // Stacked columns, one per day: series = [{key, label, countKey, cls}], days = [{day: "YYYY-MM-DD", key: n...}].
  function stackedDays(days, series, caption) {
    var W = 720, H = 220, left = 40, bottom = 24, top = 8;
    var plotW = W - left - 8, plotH = H - bottom - top;
    var totals = days.map(function (d) { return series.reduce(function (s, x) { return s + d[x.key]; }, 0); });
    var max = niceMax(Math.max.apply(null, totals.concat([0])));
    var step = plotW / days.length;
    var barW = Math.max(1, step * 0.8);
    var sums = {};
    series.forEach(function (x) { sums[x.key] = days.reduce(function (s, d) { return s + d[x.key]; }, 0); });
    var words = figures(series, function (x) { return sums[x.key]; });
    var chart = svg("svg", { viewBox: "0 0 " + W + " " + H, class: "chart", role: "img",
                             "aria-label": t("chart.summary", { caption: caption, figures: words }) });
    [0, 0.5, 1].forEach(function (f) {
      var y = top + plotH - f * plotH;
      chart.append(svg("line", { x1: left, x2: W - 8, y1: y, y2: y, class: "grid" }));
      chart.append(svg("text", { x: left - 6, y: y + 4, class: "axis", "text-anchor": "end" },
                       fmt.format(Math.round(max * f))));
    });
    days.forEach(function (d, i) {
      var x = left + i * step + (step - barW) / 2;
      var y = top + plotH;
      var g = svg("g", { class: "day", "data-day": d.day });
      series.forEach(function (s) {
        g.setAttribute("data-" + s.key, d[s.key]);
        if (!d[s.key]) return;
        var h = d[s.key] / max * plotH;
        y -= h;
        g.append(svg("rect", { x: x.toFixed(2), y: y.toFixed(2), width: barW.toFixed(2), height: h.toFixed(2),
                               class: s.cls }));
      });
      // The whole column answers the pointer: its title says the day's figures.
      g.append(svg("rect", { x: (left + i * step).toFixed(2), y: top, width: step.toFixed(2), height: plotH,
                             class: "hit" }));
      g.append(svg("title", {}, t("chart.day", { day: dayFmt.format(new Date(d.day + "T00:00:00Z")),
                                                 figures: figures(series, function (s) { return d[s.key]; }) })));
      chart.append(g);
    });
    // x labels: the first day, each month's first day when the span is long, the last day.
    var labelled = {};
    days.forEach(function (d, i) {
      var first = i === 0, last = i === days.length - 1;
      var monthStart = days.length > 60 && d.day.slice(8) === "01";
      var weekStart = days.length <= 60 && i % 7 === (days.length - 1) % 7;
      if (!(first || last || monthStart || weekStart)) return;
      var x = left + i * step + step / 2;
      if (Object.keys(labelled).some(function (k) { return Math.abs(labelled[k] - x) < 44; }) && !last) return;
      if (last) Object.keys(labelled).forEach(function (k) { if (x - labelled[k] < 44) delete labelled[k]; });
      labelled[d.day] = x;
    });
    Object.keys(labelled).forEach(function (day) {
      var date = new Date(day + "T00:00:00Z");
      chart.append(svg("text", { x: labelled[day].toFixed(1), y: H - 6, class: "axis", "text-anchor": "middle" },
                       days.length > 60 && day.slice(8) === "01" ? monthFmt.format(date) : dayFmt.format(date)));
    });
    var legend = html("ul", { class: "legend" }, series.map(function (s) {
      return html("li", { "data-series": s.key }, [html("span", { class: "swatch " + s.cls, "aria-hidden": "true" }),
        html("span", { text: s.label + " " }), html("strong", { class: "figure", text: fmt.format(sums[s.key]) })]);
    }));
    return html("figure", { class: "chart-box" }, [html("figcaption", { text: caption }), chart, legend]);
  }

  // Horizontal bars with their figure written beside each: rows = [{label, value, href?}].
  function bars(rows, caption, empty) {
    var box = html("figure", { class: "chart-box" }, [html("figcaption", { text: caption })]);
    if (!rows.length) {
      box.append(html("p", { class: "empty", text: empty }));
      return box;
    }
    var max = Math.max.apply(null, rows.map(function (r) { return r.value; }));
    var list = html("ol", { class: "hbars" });
    rows.forEach(function (r) {
      var name = r.href ? html("a", { href: r.href, text: r.label, target: "_blank", rel: "noopener noreferrer" })
                        : html("span", { text: r.label });
      // Through the CSSOM: the page's policy refuses style attributes, not style properties set by script.
      var fill = html("span", { class: "fill" });
      fill.style.width = (r.value / max * 100).toFixed(1) + "%";
      var track = html("span", { class: "track", "aria-hidden": "true" }, [fill]);
      list.append(html("li", { "data-label": r.key || r.label }, [html("span", { class: "name" }, [name]), track,
        html("strong", { class: "figure", text: fmt.format(r.value) })]));
    });
    box.append(list);
    return box;
  }

  // One figure, large, with what it means: {label, value, note}.
  function figure(label, value, note, key) {
    return html("div", { class: "stat", "data-stat": key }, [html("span", { class: "stat-label", text: label }),
      html("strong", { class: "figure", text: value }), note ? html("span", { class: "stat-note", text: note }) : null]);
  }

  // A success rate as a ring and a percentage; null rate: nothing was sent.
  function rate(label, value, detail, key) {
    var box = html("div", { class: "stat", "data-stat": key });
    box.append(html("span", { class: "stat-label", text: label }));
    if (value === null) {
      box.append(html("strong", { class: "figure", text: "–" }), html("span", { class: "stat-note", text: detail }));
      return box;
    }
    var r = 16, c = 2 * Math.PI * r;
    var ring = svg("svg", { viewBox: "0 0 40 40", class: "ring", "aria-hidden": "true" });
    ring.append(svg("circle", { cx: 20, cy: 20, r: r, class: "ring-bg" }));
    ring.append(svg("circle", { cx: 20, cy: 20, r: r, class: value >= 0.95 ? "ring-ok" : "ring-bad",
                                "stroke-dasharray": (c * value).toFixed(2) + " " + c.toFixed(2),
                                transform: "rotate(-90 20 20)" }));
    var pct = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 }).format(value);
    box.append(ring, html("strong", { class: "figure", text: pct }), html("span", { class: "stat-note", text: detail }));
    return box;
  }

  window.RejoinderCharts = { use: use, stackedDays: stackedDays, bars: bars, figure: figure, rate: rate };
})();
