// Draws every chart of a page. The server puts each chart's ECharts options, as JSON, in the
// data-echarts attribute of its container: no inline script, so the Content-Security-Policy
// needs no exceptions, and no data is ever parsed as code (JSON.parse, not eval).
(function () {
  "use strict";
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
      chart.setOption(option);
      el.setAttribute("data-drawn", "true");
      drawn.push(chart);
    }
    window.addEventListener("resize", function () {
      for (var j = 0; j < drawn.length; j++) {
        drawn[j].resize();
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
