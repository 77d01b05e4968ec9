/* ckg's charts: papers per publication year, drawn with the ECharts this server vendors (installed
 * by `make install`); without it each chart says so and its table of numbers stays. No network. */
(function () {
  'use strict';

  function years(rows) {
    var dated = rows.filter(function (r) { return r.year !== null && r.year !== undefined; });
    if (!dated.length) return [];
    var counts = {}, first = dated[0].year, last = dated[dated.length - 1].year, out = [];
    dated.forEach(function (r) { counts[r.year] = r.papers; });
    if (last - first > 80) return dated;  // no gaps filled over a century
    for (var y = first; y <= last; y++) out.push({ year: y, papers: counts[y] || 0 });
    return out;
  }

  function draw(figure) {
    var canvas = figure.querySelector('.chart-canvas');
    var rows = years(JSON.parse(figure.getAttribute('data-years') || '[]'));
    if (!window.echarts) {
      figure.classList.add('no-library');
      canvas.textContent = 'The chart library (ECharts) is not installed on this server: run `make install`. ' +
        'The numbers are in the table below.';
      return;
    }
    if (!rows.length) {
      figure.classList.add('empty');
      canvas.textContent = 'No paper has a publication year.';
      return;
    }
    var chart = window.echarts.init(canvas, null, { renderer: 'canvas' });
    chart.setOption({
      animation: false,
      grid: { left: 44, right: 16, top: 16, bottom: 28 },
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'category', data: rows.map(function (r) { return String(r.year); }) },
      yAxis: { type: 'value', minInterval: 1 },
      series: [{ type: 'bar', name: 'papers', data: rows.map(function (r) { return r.papers; }),
                 itemStyle: { color: '#0b6bcb' } }]
    });
    window.addEventListener('resize', function () { chart.resize(); });
    figure.setAttribute('data-drawn', 'true');
  }

  Array.prototype.forEach.call(document.querySelectorAll('[data-chart="years"]'), draw);
})();
