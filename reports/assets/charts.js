// Draws every chart of a page. The server puts each chart's ECharts options, as JSON, in the
// data-echarts attribute of its container: no inline script, so the Content-Security-Policy
// needs no exceptions, and no data is ever parsed as code (JSON.parse, not eval).
//
// fit then lays each chart out for the width it gets, so that a phone (390 px) shows as much
// as a laptop: every category label (wrapped within its share of the width, or turned when a
// word is too long for it), a legend that wraps onto more rows rather than paging, with room
// kept for it under the plot, and a radar small enough for its axis names.
(function () {
  "use strict";
  var FONT = "12px sans-serif";
  var measure = document.createElement("canvas").getContext("2d");
  measure.font = FONT;
  function textWidth(s) { return measure.measureText(String(s)).width; }
  // longestPiece is the widest part of a label that cannot be broken: a word of Latin
  // letters, or a single character of Chinese.
  function longestPiece(s) {
    var widest = 0;
    String(s).split(/\s+/).forEach(function (word) {
      var w = /[\u2e80-\u9fff\uff00-\uffef]/.test(word) ? textWidth(word.charAt(0)) * 1.1 : textWidth(word);
      widest = Math.max(widest, w);
    });
    return widest;
  }
  function list(v) { return v === undefined ? [] : [].concat(v); }

  function fit(el, option) {
    var width = el.clientWidth || 320;
    var narrow = width < 560;
    var bottom = 8;
    list(option.legend).forEach(function (legend) {
      if (legend.show === false) return;
      legend.type = "plain";
      legend.left = "center";
      legend.bottom = 0;
      legend.width = width - 16;
      // Lay the items out as ECharts will (icon 25 px, 5 px to the text, 10 px apart) to
      // know how many rows the legend takes.
      var rows = 1, x = 0;
      list(option.series).forEach(function (s) {
        var w = 25 + 5 + textWidth(s.name || "") + 10;
        if (x > 0 && x + w > width - 16) { rows++; x = 0; }
        x += w;
      });
      bottom = Math.max(bottom, rows * 24 + 8);
    });
    var heat = list(option.series).some(function (s) { return s.type === "heatmap"; });
    if (heat) bottom = Math.max(bottom, 56); // the colour scale sits under the plot
    list(option.grid).forEach(function (g) { g.containLabel = true; g.bottom = bottom; g.left = narrow ? 8 : "5%"; g.right = narrow ? 12 : "5%"; });
    if (!option.grid && (option.xAxis || option.yAxis)) option.grid = { containLabel: true, bottom: bottom, left: narrow ? 8 : "5%", right: narrow ? 12 : "5%" };

    list(option.xAxis).forEach(function (axis) {
      if ((axis.type || "category") !== "category" || !axis.data) return; // an x axis is a category axis unless it says otherwise
      var slot = (width - (narrow ? 60 : 120)) / Math.max(axis.data.length, 1) - 6;
      var label = axis.axisLabel || {};
      label.interval = 0;
      label.hideOverlap = false;
      var widest = 0, piece = 0;
      axis.data.forEach(function (d) {
        var s = typeof d === "object" && d !== null ? d.value : d;
        widest = Math.max(widest, textWidth(s));
        piece = Math.max(piece, longestPiece(s));
      });
      // Every field is set either way, so that a redraw for a new width replaces them all.
      label.rotate = widest > slot && piece > slot ? 40 : 0;
      label.width = label.rotate ? 160 : slot;
      label.overflow = widest > slot ? "break" : "none";
      axis.axisLabel = label;
    });
    list(option.yAxis).forEach(function (axis) {
      if (axis.type !== "category" || !axis.data) return;
      axis.axisLabel = axis.axisLabel || {};
      axis.axisLabel.interval = 0;
      axis.axisLabel.width = narrow ? 72 : 140;
      axis.axisLabel.overflow = "break";
    });
    list(option.radar).forEach(function (radar) {
      radar.radius = narrow ? "48%" : "62%";
      radar.center = ["50%", narrow ? "46%" : "48%"];
      radar.axisName = { width: narrow ? 64 : 120, overflow: "break" };
    });
    return option;
  }

  function draw() {
    if (typeof echarts === "undefined") {
      return; // the library did not load: the tables beside the charts still show the numbers
    }
    var nodes = document.querySelectorAll("[data-echarts]");
    var drawn = [];
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i];
      var option;
      try {
        option = JSON.parse(el.getAttribute("data-echarts"));
      } catch (e) {
        continue;
      }
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(fit(el, option));
      el.setAttribute("data-drawn", "true");
      drawn.push({ el: el, chart: chart });
    }
    var lastWidth = window.innerWidth;
    window.addEventListener("resize", function () {
      if (window.innerWidth === lastWidth) {
        for (var k = 0; k < drawn.length; k++) drawn[k].chart.resize();
        return;
      }
      lastWidth = window.innerWidth;
      for (var j = 0; j < drawn.length; j++) {
        var d = drawn[j];
        d.chart.resize();
        // Merged, not replaced: replacing would tear down a tooltip that may be showing.
        d.chart.setOption(fit(d.el, JSON.parse(d.el.getAttribute("data-echarts"))));
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
