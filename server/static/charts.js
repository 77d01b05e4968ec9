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

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  function missingLibrary(figure, canvas, where) {
    figure.classList.add('no-library');
    canvas.textContent = 'The chart library (ECharts) is not installed on this server: run `make install`. ' + where;
  }

  // a paper's citation neighbourhood (server/pages.py's neighbourhood()): the paper in the middle,
  // its references, the papers citing it and its similar papers; a click opens a paper's page
  var RELATIONS = ['paper', 'reference', 'cited_by', 'similar'];
  var RELATION_NAMES = { paper: 'this paper', reference: 'cited by this paper', cited_by: 'citing this paper',
                         similar: 'similar' };
  var RELATION_COLOURS = { paper: '#1d2430', reference: '#0b6bcb', cited_by: '#d9480f', similar: '#2b8a3e' };

  function shortTitle(text) {
    text = String(text || '');
    return text.length > 40 ? text.slice(0, 39) + '\u2026' : text;
  }

  function drawNeighbourhood(figure) {
    var canvas = figure.querySelector('.chart-canvas');
    var graph = JSON.parse(figure.getAttribute('data-graph') || '{}');
    var nodes = graph.nodes || [];
    if (!window.echarts) {
      missingLibrary(figure, canvas, 'The papers are listed below.');
      return;
    }
    if (nodes.length < 2) {
      figure.classList.add('empty');
      canvas.textContent = 'No reference, citing paper or similar paper of this paper is in the store.';
      return;
    }
    var chart = window.echarts.init(canvas, null, { renderer: 'canvas' });
    chart.setOption({
      animation: false,
      color: RELATIONS.map(function (r) { return RELATION_COLOURS[r]; }),
      legend: { top: 4, data: RELATIONS.map(function (r) { return RELATION_NAMES[r]; }) },
      tooltip: {
        formatter: function (p) {
          if (p.dataType !== 'node') return '';
          var n = p.data.paper;
          return escapeHtml(n.title || n.id) + (n.year ? ' (' + escapeHtml(n.year) + ')' : '') + '<br>' +
            n.relations.map(function (r) { return escapeHtml(RELATION_NAMES[r]); }).join(', ') +
            (n.score !== undefined ? ' \u00b7 similarity ' + Number(n.score).toFixed(3) : '');
        }
      },
      series: [{
        type: 'graph', layout: 'force', roam: true, draggable: true, top: 40,
        force: { repulsion: 220, edgeLength: [60, 150], gravity: 0.1, layoutAnimation: false },
        categories: RELATIONS.map(function (r) { return { name: RELATION_NAMES[r] }; }),
        edgeSymbol: ['none', 'arrow'], edgeSymbolSize: 6,
        emphasis: { focus: 'adjacency' },
        label: { position: 'right', fontSize: 11, color: '#5f6b7a' },
        lineStyle: { color: '#9aa5b1', opacity: 0.7 },
        data: nodes.map(function (n) {
          var centre = n.relation === 'paper';
          return { id: n.id, name: shortTitle(n.title || n.id), category: RELATIONS.indexOf(n.relation),
                   symbolSize: centre ? 28 : 13, paper: n, cursor: centre ? 'default' : 'pointer',
                   label: { show: centre || nodes.length <= 12, fontWeight: centre ? 'bold' : 'normal',
                            color: centre ? '#1d2430' : '#5f6b7a' } };
        }),
        links: (graph.links || []).map(function (l) {
          return { source: l.source, target: l.target,
                   lineStyle: l.relation === 'similar' ? { type: 'dashed', color: RELATION_COLOURS.similar } : {} };
        })
      }]
    });
    chart.on('click', function (p) {
      if (p.dataType === 'node' && p.data.paper.relation !== 'paper' && p.data.paper.href) {
        window.location.href = p.data.paper.href;
      }
    });
    window.addEventListener('resize', function () { chart.resize(); });
    figure.setAttribute('data-drawn', 'true');
  }

  // the corpus overview's growth by release: papers first seen in each release, and the store's size
  function drawReleases(figure) {
    var canvas = figure.querySelector('.chart-canvas');
    var rows = JSON.parse(figure.getAttribute('data-releases') || '[]');
    if (!window.echarts) {
      missingLibrary(figure, canvas, 'The numbers are in the table below.');
      return;
    }
    var chart = window.echarts.init(canvas, null, { renderer: 'canvas' });
    chart.setOption({
      animation: false,
      grid: { left: 56, right: 16, top: 36, bottom: 28 },
      legend: { top: 4, data: ['new papers', 'of them in the store now', 'papers in the store'] },
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'category', data: rows.map(function (r) { return String(r.release); }) },
      yAxis: { type: 'value', minInterval: 1 },
      series: [{ type: 'bar', name: 'new papers', data: rows.map(function (r) { return r.new || 0; }),
                 itemStyle: { color: '#0b6bcb' } },
               { type: 'bar', name: 'of them in the store now', data: rows.map(function (r) { return r.first_seen || 0; }),
                 itemStyle: { color: '#2b8a3e' } },
               { type: 'line', name: 'papers in the store',
                 data: rows.map(function (r) { return r.papers || 0; }), itemStyle: { color: '#d9480f' } }]
    });
    window.addEventListener('resize', function () { chart.resize(); });
    figure.setAttribute('data-drawn', 'true');
  }

  // a concept's co-occurring concepts (server/templates/concept.html): a star, node size = papers with both
  function drawCooccurrence(figure) {
    var canvas = figure.querySelector('.chart-canvas');
    var network = JSON.parse(figure.getAttribute('data-network') || '{}');
    if (!window.echarts) {
      missingLibrary(figure, canvas, 'The concepts are listed below.');
      return;
    }
    var nodes = network.nodes || [];
    var most = Math.max.apply(null, nodes.map(function (n) { return n.papers; }).concat([1]));
    var data = [{ name: shortTitle(network.center.label), value: network.center.papers, symbolSize: 46,
                  category: 0, label: { show: true, fontWeight: 'bold' } }].concat(nodes.map(function (n) {
      return { name: shortTitle(n.label), value: n.papers, symbolSize: 12 + 30 * Math.sqrt(n.papers / most),
               category: 1, href: n.href, label: { show: true } };
    }));
    var chart = window.echarts.init(canvas, null, { renderer: 'canvas' });
    chart.setOption({
      animation: false,
      color: ['#1f2937', '#0b6bcb'],
      tooltip: { formatter: function (p) {
        return p.dataType === 'edge' ? '' : escapeHtml(p.data.name) + ': ' + p.data.value + ' papers';
      } },
      series: [{
        type: 'graph', layout: 'force', roam: true, draggable: true,
        force: { repulsion: 260, edgeLength: [80, 180] },
        categories: [{ name: 'this concept' }, { name: 'co-occurring' }],
        label: { position: 'right', fontSize: 11 },
        data: data,
        links: nodes.map(function (n, i) {
          return { source: 0, target: i + 1, lineStyle: { width: 1 + 4 * n.papers / most, opacity: 0.6 } };
        })
      }]
    });
    chart.on('click', function (p) {
      if (p.dataType === 'node' && p.data.href) { window.location.href = p.data.href; }
    });
    window.addEventListener('resize', function () { chart.resize(); });
    figure.setAttribute('data-drawn', 'true');
  }

  Array.prototype.forEach.call(document.querySelectorAll('[data-chart="cooccurrence"]'), drawCooccurrence);
  Array.prototype.forEach.call(document.querySelectorAll('[data-chart="years"]'), draw);
  Array.prototype.forEach.call(document.querySelectorAll('[data-chart="releases"]'), drawReleases);
  Array.prototype.forEach.call(document.querySelectorAll('[data-chart="neighbourhood"]'), drawNeighbourhood);
})();
