/* ckg's query page: the results of a SELECT as a table (sort by a header, a filter over every cell,
 * pages of 50 rows: only the shown page is in the document) and as a chart.
 *
 * The table is DataTables (npm's datatables.net, vendored by `make install` and served from
 * /-/vendor/datatables/); without it the results are a plain table in pages. The chart is ECharts
 * (npm's echarts, /-/vendor/echarts/), loaded the first time the Chart tab is opened. Nothing is
 * fetched from anywhere but this server. Used by ckg.js (window.ckgResults.show). */
(function () {
  'use strict';

  var PAGE = 50, MAX_POINTS = 2000;
  var NUMERIC = /#(integer|decimal|double|float|int|long|short|byte|nonNegativeInteger|positiveInteger|negativeInteger|nonPositiveInteger|unsignedLong|unsignedInt|unsignedShort|unsignedByte)$/;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function isNumber(term) {
    return !!term && term.type === 'literal' && NUMERIC.test(term.datatype || '') && isFinite(Number(term.value));
  }

  /* What each column holds: numbers (every bound value a numeric literal), a sequence of numbers
   * (years: every value reads as a number), anything else. */
  function profile(vars, rows) {
    return vars.map(function (v) {
      var bound = 0, numbers = 0, numeric = 0;
      rows.forEach(function (row) {
        var t = row[v];
        if (!t) return;
        bound++;
        if (isNumber(t)) numeric++;
        if (t.type === 'literal' && t.value.trim() !== '' && isFinite(Number(t.value))) numbers++;
      });
      return {name: v, bound: bound, numeric: bound > 0 && numeric === bound, sequence: bound > 0 && numbers === bound,
              yearLike: /year|date/i.test(v)};
    });
  }

  /* ------------------------------------------------------------ the table */

  function dataTable(panel, vars, rows, columns, opts) {
    var table = el('table', {'class': 'results-table display', id: 'results-table'});
    var tr = el('tr');
    vars.forEach(function (v) { tr.appendChild(el('th', {}, v)); });
    var thead = el('thead'); thead.appendChild(tr); table.appendChild(thead);
    table.appendChild(el('tbody'));
    panel.appendChild(table);
    window.DataTable.ext.errMode = function (settings, tn, message) { console.warn(message); };
    var dt = new window.DataTable(table, {
      data: rows,
      columns: vars.map(function (v, i) {
        var numeric = columns[i].numeric;
        return {
          data: null, defaultContent: '', type: numeric ? 'num' : 'string',
          render: function (data, type, row) {
            var term = row[v];
            if (type === 'display') return '';  // the cell is built as nodes by createdCell, never as HTML
            if (!term) return numeric && type !== 'filter' ? null : '';
            if (type === 'filter') return opts.text(term) + (term.type === 'uri' ? ' ' + term.value : '');
            return numeric ? Number(term.value) : opts.text(term).toLowerCase();
          },
          createdCell: function (td, cellData, row) { opts.fill(td, row[v]); }
        };
      }),
      order: [],  // the query's own order until a header is clicked
      pageLength: PAGE, lengthMenu: [25, 50, 100, 500],
      autoWidth: false, deferRender: true,
      search: {smart: false, caseInsensitive: true},
      language: {
        search: 'Filter:', searchPlaceholder: 'text in any cell',
        info: 'rows _START_–_END_ of _TOTAL_', infoEmpty: 'no rows', infoFiltered: '(filtered from _MAX_)',
        lengthMenu: '_MENU_ rows a page', zeroRecords: 'No row has that text.', emptyTable: 'No rows.',
        entries: {_: 'rows', 1: 'row'},
        paginate: {first: '«', previous: '‹ Prev', next: 'Next ›', last: '»'}
      }
    });
    return {
      rows: function () { return dt.rows({search: 'applied', order: 'applied'}).data().toArray(); },
      onChange: function (callback) { dt.on('draw', callback); },
      destroy: function () { dt.destroy(); }
    };
  }

  /* Without DataTables: the rows in pages of PAGE, the page's rows only in the document. */
  function plainTable(panel, vars, rows, opts) {
    var wrap = el('div', {'class': 'table-wrap'}), table = el('table', {'class': 'results-table', id: 'results-table'});
    var tr = el('tr');
    vars.forEach(function (v) { tr.appendChild(el('th', {}, v)); });
    var thead = el('thead'); thead.appendChild(tr); table.appendChild(thead);
    var tbody = el('tbody'); table.appendChild(tbody); wrap.appendChild(table);
    var pager = el('div', {'class': 'pager', id: 'pager'});
    var prev = el('button', {type: 'button', 'class': 'secondary', id: 'page-prev'}, '‹ Prev');
    var info = el('span', {'class': 'page-info', id: 'page-info'});
    var next = el('button', {type: 'button', 'class': 'secondary', id: 'page-next'}, 'Next ›');
    pager.appendChild(prev); pager.appendChild(info); pager.appendChild(next);
    var page = 0, pages = Math.max(1, Math.ceil(rows.length / PAGE));
    function draw() {
      tbody.textContent = '';
      var first = page * PAGE, last = Math.min(rows.length, first + PAGE);
      for (var r = first; r < last; r++) {
        var row = el('tr');
        vars.forEach(function (v) { var td = el('td'); opts.fill(td, rows[r][v]); row.appendChild(td); });
        tbody.appendChild(row);
      }
      info.textContent = rows.length ? 'rows ' + (first + 1) + '–' + last + ' of ' + rows.length : 'no rows';
      prev.disabled = page === 0; next.disabled = page >= pages - 1;
    }
    prev.addEventListener('click', function () { if (page > 0) { page--; draw(); } });
    next.addEventListener('click', function () { if (page < pages - 1) { page++; draw(); } });
    panel.appendChild(wrap);
    if (rows.length > PAGE) panel.appendChild(pager);
    draw();
    return {rows: function () { return rows; }, onChange: function () {}, destroy: function () {}};
  }

  /* ------------------------------------------------------------ the chart */

  var echartsLoading = null;
  function loadECharts(url) {
    if (window.echarts) return Promise.resolve(window.echarts);
    if (!echartsLoading) {
      echartsLoading = new Promise(function (resolve, reject) {
        var script = el('script', {src: url});
        script.onload = function () { window.echarts ? resolve(window.echarts) : reject(new Error('no echarts')); };
        script.onerror = function () { echartsLoading = null; script.remove(); reject(new Error('not installed')); };
        document.head.appendChild(script);
      });
    }
    return echartsLoading;
  }

  function shorten(text, n) { return text.length > n ? text.slice(0, n - 1) + '…' : text; }

  function Chart(panel, vars, columns, source, opts) {
    this.panel = panel; this.vars = vars; this.columns = columns; this.source = source; this.opts = opts;
    this.chart = null;
    var numeric = columns.filter(function (c) { return c.numeric; });
    this.controls = el('div', {'class': 'chart-controls'});
    this.canvas = el('div', {'class': 'chart-canvas', id: 'chart'});
    this.note = el('p', {'class': 'chart-note', id: 'chart-note'});
    panel.appendChild(this.controls); panel.appendChild(this.canvas); panel.appendChild(this.note);
    if (!numeric.length || vars.length < 2) {
      this.empty = true;
      this.canvas.hidden = true;
      this.note.className += ' empty';
      this.note.textContent = vars.length < 2 ?
        'A chart needs two columns: one of labels (or years) and one of numbers, e.g. ?year and ?n.' :
        'No column holds numbers only (xsd:integer, xsd:decimal, …), so there is nothing to chart. ' +
        'A chart needs a column of labels (or years) and one of numbers, e.g. SELECT ?year (COUNT(*) AS ?n) … GROUP BY ?year.';
      return;
    }
    // the x axis: the first column that is not numbers, else a year, else the first one
    var x = columns.filter(function (c) { return !c.numeric; })[0] ||
            columns.filter(function (c) { return c.yearLike || c.sequence; })[0] || columns[0];
    var self = this;
    var xLabel = el('label', {}, 'x ');
    this.xSelect = el('select', {id: 'chart-x', 'aria-label': 'x axis column'});
    vars.forEach(function (v) {
      var option = el('option', {value: v}, '?' + v);
      if (v === x.name) option.selected = true;
      self.xSelect.appendChild(option);
    });
    xLabel.appendChild(this.xSelect);
    this.controls.appendChild(xLabel);
    this.yBox = el('span', {'class': 'chart-y', id: 'chart-y'});
    this.yBox.appendChild(document.createTextNode('y '));
    // the y axis: the last column of numbers (where a count or a sum usually is), not a year; more can be ticked
    var ys = numeric.filter(function (c) { return c.name !== x.name && !c.yearLike; });
    if (!ys.length) ys = numeric.filter(function (c) { return c.name !== x.name; });
    var chosen = ys.slice(-1).map(function (c) { return c.name; });
    numeric.forEach(function (c) {
      var label = el('label', {}), box = el('input', {type: 'checkbox', value: c.name});
      box.checked = chosen.indexOf(c.name) >= 0;
      label.appendChild(box); label.appendChild(document.createTextNode(' ?' + c.name));
      self.yBox.appendChild(label);
    });
    this.controls.appendChild(this.yBox);
    this.controls.addEventListener('change', function () { self.draw(); });
  }

  Chart.prototype.series = function () {
    var x = this.xSelect.value, self = this;
    var ys = Array.prototype.filter.call(this.yBox.querySelectorAll('input'), function (b) { return b.checked && b.value !== x; })
      .map(function (b) { return b.value; });
    var column = this.columns[this.vars.indexOf(x)];
    var rows = this.source().filter(function (row) { return row[x]; });
    var total = rows.length, line = column.sequence;
    var labels, data;
    if (line) {  // a sequence (years): in its order, rows with the same x added up
      var sums = {}, keys = [];
      rows.forEach(function (row) {
        var k = Number(row[x].value);
        if (!(k in sums)) { sums[k] = ys.map(function () { return null; }); keys.push(k); }
        ys.forEach(function (y, i) {
          if (row[y] && isFinite(Number(row[y].value))) sums[k][i] = (sums[k][i] || 0) + Number(row[y].value);
        });
      });
      keys.sort(function (a, b) { return a - b; });
      total = keys.length;
      if (keys.length > MAX_POINTS) keys = keys.slice(0, MAX_POINTS);
      labels = keys.map(function (k) { return String(k); });
      data = ys.map(function (y, i) { return keys.map(function (k) { return sums[k][i]; }); });
    } else {  // labels: a bar each, in the table's order
      rows = rows.slice(0, MAX_POINTS);
      labels = rows.map(function (row) { return self.opts.text(row[x]); });
      data = ys.map(function (y) {
        return rows.map(function (row) { return row[y] && isFinite(Number(row[y].value)) ? Number(row[y].value) : null; });
      });
    }
    return {x: x, ys: ys, line: line, labels: labels, data: data, total: total, shown: line ? labels.length : rows.length};
  };

  Chart.prototype.draw = function () {
    if (this.empty || !this.visible) return;
    var self = this, s = this.series();
    if (!s.ys.length) {
      if (this.chart) this.chart.clear();
      this.note.textContent = 'Pick a column of numbers for the y axis.';
      return;
    }
    loadECharts(this.opts.echarts).then(function (echarts) {
      if (!self.visible || !self.canvas.isConnected) return;
      if (!self.chart) {
        self.chart = echarts.init(self.canvas, null, {renderer: 'canvas'});
        self.resize = function () { if (self.chart) self.chart.resize(); };
        window.addEventListener('resize', self.resize);
      }
      var many = s.labels.length > 60;
      self.chart.setOption({
        animation: false,
        color: ['#0b6bcb', '#b35c00', '#087443', '#8a2be2', '#a31515'],
        grid: {left: 16, right: 24, top: 36, bottom: many ? 40 : 12, containLabel: true},
        legend: s.ys.length > 1 ? {top: 4} : undefined,
        tooltip: {trigger: 'axis'},
        xAxis: {type: 'category', data: s.labels,  // its column is named by the x menu above
                axisLabel: {hideOverlap: true, rotate: s.line ? 0 : 30, formatter: function (v) { return shorten(v, 24); }}},
        yAxis: {type: 'value', name: s.ys.length === 1 ? '?' + s.ys[0] : ''},
        dataZoom: many ? [{type: 'inside'}, {type: 'slider', height: 18, bottom: 6}] : [],
        series: s.ys.map(function (y, i) {
          return {type: s.line ? 'line' : 'bar', name: '?' + y, data: s.data[i], showSymbol: s.labels.length <= 100,
                  connectNulls: false};
        })
      }, true);
      self.canvas.setAttribute('data-drawn', s.line ? 'line' : 'bar');
      self.note.textContent = (s.line ? 'A line: ?' + s.x + ' is a sequence of numbers (rows with the same ?' + s.x +
                                        ' are added up). ' : 'A bar for each row. ') +
        (s.shown < s.total ? 'The first ' + s.shown + ' of ' + s.total + (s.line ? ' values' : ' rows') + ' are drawn. ' : '') +
        'The chart follows the table\'s filter and order.';
    }, function () {
      self.canvas.hidden = true;
      self.note.className += ' no-library';
      self.note.textContent = 'The chart library (ECharts) is not installed on this server: run `make install`. ' +
        'The numbers are in the table.';
    });
  };

  Chart.prototype.show = function (on) {
    this.visible = on;
    if (on) { this.draw(); if (this.chart) this.chart.resize(); }
  };

  Chart.prototype.destroy = function () {
    if (this.resize) window.removeEventListener('resize', this.resize);
    if (this.chart) this.chart.dispose();
    this.chart = null;
  };

  /* ------------------------------------------------------------ both, in tabs */

  /* Show a SELECT's results in `parent`: a Table and a Chart tab. opts: fill(td, term) builds a
   * cell, text(term) is a term as shown, echarts is the URL of ECharts. Returns {destroy}. */
  function show(parent, vars, rows, opts) {
    var columns = profile(vars, rows);
    var tabs = el('div', {'class': 'result-tabs', role: 'tablist'});
    var tableTab = el('button', {type: 'button', role: 'tab', id: 'tab-table', 'aria-selected': 'true', 'aria-controls': 'table-panel'}, 'Table');
    var chartTab = el('button', {type: 'button', role: 'tab', id: 'tab-chart', 'aria-selected': 'false', 'aria-controls': 'chart-panel'}, 'Chart');
    tabs.appendChild(tableTab); tabs.appendChild(chartTab);
    var tablePanel = el('div', {'class': 'result-panel', id: 'table-panel', role: 'tabpanel', 'aria-labelledby': 'tab-table'});
    var chartPanel = el('div', {'class': 'result-panel', id: 'chart-panel', role: 'tabpanel', 'aria-labelledby': 'tab-chart'});
    chartPanel.hidden = true;
    parent.appendChild(tabs); parent.appendChild(tablePanel); parent.appendChild(chartPanel);

    var table;
    if (window.DataTable) {
      try {
        table = dataTable(tablePanel, vars, rows, columns, opts);
      } catch (err) {  // never leave the results unshown
        console.warn('DataTables failed, a plain table instead:', err);
        tablePanel.textContent = '';
        table = null;
      }
    }
    if (!table) {
      tablePanel.classList.add('plain');
      table = plainTable(tablePanel, vars, rows, opts);
    }
    var chart = new Chart(chartPanel, vars, columns, table.rows, opts);
    table.onChange(function () { if (chart.visible) chart.draw(); });

    function select(which) {
      var charting = which === 'chart';
      tableTab.setAttribute('aria-selected', String(!charting));
      chartTab.setAttribute('aria-selected', String(charting));
      tablePanel.hidden = charting; chartPanel.hidden = !charting;
      chart.show(charting);
    }
    tableTab.addEventListener('click', function () { select('table'); });
    chartTab.addEventListener('click', function () { select('chart'); });
    return {destroy: function () { chart.destroy(); table.destroy(); }, select: select};
  }

  window.ckgResults = {show: show, profile: profile};
})();
