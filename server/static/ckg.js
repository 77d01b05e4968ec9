/* ckg's query page: a small SPARQL editor (a parse error marked on its line), the examples, and the
 * results: a table with sort, filter and pages and a chart (query-results.js, with the vendored
 * DataTables and ECharts). Written for this project; no network access beyond this server. */
(function () {
  'use strict';

  var KEYWORDS = ('BASE PREFIX SELECT DISTINCT REDUCED AS CONSTRUCT DESCRIBE ASK FROM NAMED WHERE ORDER BY ASC DESC ' +
    'LIMIT OFFSET VALUES OPTIONAL GRAPH SERVICE SILENT BIND UNDEF MINUS FILTER UNION GROUP HAVING NOT IN EXISTS ' +
    'INSERT DELETE DATA WITH USING DEFAULT ALL LOAD CLEAR DROP CREATE ADD MOVE COPY INTO TO a true false').split(' ');
  var BUILTINS = ('STR LANG LANGMATCHES DATATYPE BOUND IRI URI BNODE RAND ABS CEIL FLOOR ROUND CONCAT STRLEN UCASE ' +
    'LCASE ENCODE_FOR_URI CONTAINS STRSTARTS STRENDS STRBEFORE STRAFTER YEAR MONTH DAY HOURS MINUTES SECONDS ' +
    'TIMEZONE TZ NOW UUID STRUUID MD5 SHA1 SHA256 SHA384 SHA512 COALESCE IF STRLANG STRDT SAMETERM ISIRI ISURI ' +
    'ISBLANK ISLITERAL ISNUMERIC REGEX SUBSTR REPLACE COUNT SUM MIN MAX AVG SAMPLE GROUP_CONCAT SEPARATOR').split(' ');
  var KW = {}, FN = {};
  KEYWORDS.forEach(function (k) { KW[k.toUpperCase()] = true; });
  BUILTINS.forEach(function (k) { FN[k] = true; });

  var TOKEN = new RegExp([
    '(#[^\\n]*)',                                                  // 1 comment
    '("""[\\s\\S]*?(?:"""|$)|\'\'\'[\\s\\S]*?(?:\'\'\'|$)|"(?:[^"\\\\\\n]|\\\\.)*"?|\'(?:[^\'\\\\\\n]|\\\\.)*\'?)', // 2 string
    '(<[^<>"{}|^`\\\\\\s]*>)',                                      // 3 IRI
    '([?$][A-Za-z0-9_\\u00B7\\u00C0-\\uFFFF]+)',                    // 4 variable
    '((?:[A-Za-z][\\w.-]*)?:(?:[\\w\\-%:]|\\.(?=[\\w\\-%:]))*)',     // 5 prefixed name
    '(\\d+(?:\\.\\d*)?(?:[eE][+-]?\\d+)?)',                         // 6 number
    '([A-Za-z_]\\w*)'                                               // 7 word
  ].join('|'), 'g');

  function escapeHtml(text) {
    return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  }

  function highlight(text) {
    var out = '', last = 0, m;
    TOKEN.lastIndex = 0;
    while ((m = TOKEN.exec(text)) !== null) {
      if (m[0] === '') { TOKEN.lastIndex++; continue; }
      out += escapeHtml(text.slice(last, m.index));
      var cls = null;
      if (m[1]) cls = 'com';
      else if (m[2]) cls = 'str';
      else if (m[3]) cls = 'iri';
      else if (m[4]) cls = 'var';
      else if (m[5]) cls = 'pn';
      else if (m[6]) cls = 'num';
      else if (m[7]) cls = KW[m[7].toUpperCase()] ? 'kw' : (FN[m[7].toUpperCase()] ? 'fn' : null);
      out += cls ? '<span class="tok-' + cls + '">' + escapeHtml(m[0]) + '</span>' : escapeHtml(m[0]);
      last = TOKEN.lastIndex;
    }
    return out + escapeHtml(text.slice(last));
  }

  /* ---------------------------------------------------------------- the editor */
  function Editor(textarea, layer, gutter, onRun) {
    this.ta = textarea; this.layer = layer; this.gutter = gutter; this.onRun = onRun; this.tabLeaves = false;
    var self = this;
    this.error = null;
    var code = textarea.parentNode;
    this.errorLine = document.createElement('div'); this.errorLine.className = 'error-line'; this.errorLine.id = 'error-line';
    this.errorColumn = document.createElement('div'); this.errorColumn.className = 'error-column';
    this.errorNote = document.createElement('div'); this.errorNote.className = 'error-note'; this.errorNote.id = 'error-note';
    this.errorNote.setAttribute('role', 'alert');
    [this.errorLine, this.errorColumn, this.errorNote].forEach(function (node) { node.hidden = true; code.insertBefore(node, layer); });
    textarea.addEventListener('input', function () { self.clearError(); self.refresh(); });
    textarea.addEventListener('scroll', function () { self.sync(); });
    textarea.addEventListener('keydown', function (e) { self.key(e); });
    this.refresh();
  }
  Editor.prototype.value = function () { return this.ta.value; };
  Editor.prototype.setValue = function (text) { this.ta.value = text; this.clearError(); this.refresh(); this.ta.scrollTop = 0; this.ta.scrollLeft = 0; this.sync(); };
  Editor.prototype.refresh = function () {
    this.layer.innerHTML = highlight(this.ta.value) + '\n';
    var lines = this.ta.value.split('\n').length, numbers = [], marked = this.error && this.error.line;
    for (var i = 1; i <= lines; i++) {
      numbers.push(i === marked ? '<span class="gutter-error" title="' + escapeHtml(this.error.message).replace(/"/g, '&quot;') +
                                  '">' + i + '</span>' : String(i));
    }
    this.gutter.innerHTML = numbers.join('\n') + '\n';
    this.sync();
  };
  Editor.prototype.sync = function () {
    this.layer.scrollTop = this.ta.scrollTop; this.layer.scrollLeft = this.ta.scrollLeft;
    this.gutter.scrollTop = this.ta.scrollTop;
    if (this.error) this.placeError();
  };
  /* Mark a parse error: its line in the gutter and the text, its column, its message beside it.
   * line and column count from 1 (the parser's "error at 3:14"); cleared by the next edit. */
  Editor.prototype.markError = function (line, column, message) {
    var lines = this.ta.value.split('\n');
    line = Math.max(1, Math.min(line, lines.length));
    column = column ? Math.max(1, Math.min(column, lines[line - 1].length + 1)) : null;
    this.error = {line: line, column: column, message: message};
    this.errorNote.textContent = 'line ' + line + (column ? ', column ' + column : '') + ': ' + message;
    this.errorLine.hidden = false; this.errorNote.hidden = false; this.errorColumn.hidden = !column;
    this.ta.setAttribute('aria-invalid', 'true');
    this.ta.setAttribute('aria-describedby', 'error-note');
    this.refresh();
  };
  Editor.prototype.clearError = function () {
    if (!this.error) return;
    this.error = null;
    this.errorLine.hidden = true; this.errorColumn.hidden = true; this.errorNote.hidden = true;
    this.ta.removeAttribute('aria-invalid'); this.ta.removeAttribute('aria-describedby');
    this.refresh();
  };
  Editor.prototype.placeError = function () {
    var style = getComputedStyle(this.ta), e = this.error;
    var lineHeight = parseFloat(style.lineHeight) || 20, top = parseFloat(style.paddingTop) || 0,
        left = parseFloat(style.paddingLeft) || 0;
    if (!this.charWidth) {
      var canvas = document.createElement('canvas').getContext('2d');
      canvas.font = style.fontSize + ' ' + style.fontFamily;
      this.charWidth = canvas.measureText('0123456789').width / 10 || 8;
    }
    var y = top + (e.line - 1) * lineHeight - this.ta.scrollTop;
    this.errorLine.style.top = y + 'px'; this.errorLine.style.height = lineHeight + 'px';
    if (e.column) {
      var before = this.ta.value.split('\n')[e.line - 1].slice(0, e.column - 1).replace(/\t/g, '  ');
      this.errorColumn.style.top = y + 'px'; this.errorColumn.style.height = lineHeight + 'px';
      this.errorColumn.style.left = (left + before.length * this.charWidth - this.ta.scrollLeft) + 'px';
    }
    var below = y + lineHeight, room = this.ta.clientHeight - below;
    this.errorNote.style.top = ''; this.errorNote.style.bottom = '';
    if (room < this.errorNote.offsetHeight + 4 && y > this.errorNote.offsetHeight) {
      this.errorNote.style.bottom = (this.ta.clientHeight - y) + 'px';  // above the line, no room below it
    } else {
      this.errorNote.style.top = below + 'px';
    }
  };
  Editor.prototype.insert = function (text) {
    this.ta.focus();
    if (!document.execCommand || !document.execCommand('insertText', false, text)) {  // keeps undo where it works
      this.ta.setRangeText(text, this.ta.selectionStart, this.ta.selectionEnd, 'end');
    }
    this.refresh();
  };
  Editor.prototype.lineStart = function (pos) { return this.ta.value.lastIndexOf('\n', pos - 1) + 1; };
  Editor.prototype.key = function (e) {
    var ta = this.ta;
    if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') { e.preventDefault(); this.onRun(); return; }
    if (e.key === 'Escape') { this.tabLeaves = true; return; }
    if (e.key === 'Tab' && !this.tabLeaves) {
      e.preventDefault();
      var start = ta.selectionStart, end = ta.selectionEnd, value = ta.value;
      if (start === end && !e.shiftKey) { this.insert('  '); return; }
      var from = this.lineStart(start), block = value.slice(from, end);
      var changed = e.shiftKey ? block.replace(/^ {1,2}/gm, '') : block.replace(/^/gm, '  ');
      ta.setSelectionRange(from, end);
      this.insert(changed);
      ta.setSelectionRange(from, from + changed.length);
      return;
    }
    this.tabLeaves = false;
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      var pos = ta.selectionStart, line = ta.value.slice(this.lineStart(pos), pos);
      var indent = (line.match(/^\s*/) || [''])[0];
      if (/[{(]\s*$/.test(line)) indent += '  ';
      this.insert('\n' + indent);
      return;
    }
    if (e.key === '}') {
      var p = ta.selectionStart, before = ta.value.slice(this.lineStart(p), p);
      if (/^\s+$/.test(before) && ta.selectionStart === ta.selectionEnd) {
        e.preventDefault();
        ta.setSelectionRange(p - Math.min(2, before.length), p);
        this.insert('}');
      }
    }
  };

  /* ---------------------------------------------------------------- results */
  var data, editor, endpoint, resultsEl, statusEl, runButton, current = null;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function compact(iri) {
    if (iri.indexOf(data.resource_base) === 0) return 'ckgr:' + iri.slice(data.resource_base.length);
    var best = null;
    Object.keys(data.prefixes).forEach(function (p) {
      var ns = data.prefixes[p], rest = iri.slice(ns.length);
      if (iri.indexOf(ns) === 0 && rest && !/[\/#]/.test(rest) && (!best || ns.length > best[1].length)) best = [p, ns];
    });
    return best ? best[0] + ':' + iri.slice(best[1].length) : '<' + iri + '>';
  }

  var NUMERIC = /#(integer|decimal|double|float|int|long|short|byte|nonNegativeInteger|positiveInteger|negativeInteger|nonPositiveInteger|unsignedLong|unsignedInt|unsignedShort|unsignedByte)$/;

  /* A term as the table shows it (the filter searches this text, and the full IRI). */
  function termText(term) {
    if (term.type === 'uri') return compact(term.value);
    if (term.type === 'bnode') return '_:' + term.value;
    if (term.type === 'triple') {
      return '<< ' + [term.value.subject, term.value.predicate, term.value.object].map(function (t) {
        return t.type === 'uri' ? compact(t.value) : JSON.stringify(t.value);
      }).join(' ') + ' >>';
    }
    if (term['xml:lang']) return term.value + ' @' + term['xml:lang'];
    if (term.datatype && !NUMERIC.test(term.datatype)) return term.value + ' ' + compact(term.datatype);
    return term.value;
  }

  function cell(term) { return fill(el('td'), term); }

  /* Fill a table cell with a term: an IRI of the web or a paper of this server is a link, never
   * one of another scheme; text only, never HTML. */
  function fill(td, term) {
    td.textContent = '';
    if (!term) return td;
    if (term.type === 'uri') {
      var paperBase = data.resource_base + 'paper/', href = term.value;
      if (term.value.indexOf(paperBase) === 0 && term.value.slice(paperBase.length).indexOf('/') < 0) {
        href = 'papers/' + term.value.slice(paperBase.length);
      }
      if (/^https?:\/\//i.test(href) || href.indexOf('papers/') === 0) {  // never a javascript: or data: link
        td.appendChild(el('a', {href: href, title: term.value}, compact(term.value)));
      } else {
        td.appendChild(el('span', {title: term.value}, compact(term.value)));
      }
    } else if (term.type === 'bnode') {
      td.textContent = '_:' + term.value;
    } else if (term.type === 'triple') {
      td.textContent = termText(term);
    } else {
      td.appendChild(document.createTextNode(term.value));
      if (term['xml:lang']) td.appendChild(el('span', {'class': 'dt'}, ' @' + term['xml:lang']));
      else if (term.datatype) {
        if (NUMERIC.test(term.datatype)) td.className = 'num';
        else td.appendChild(el('span', {'class': 'dt'}, ' ' + compact(term.datatype)));
      }
    }
    return td;
  }

  function setStatus(text, cls) {
    statusEl.textContent = text;
    statusEl.className = 'status' + (cls ? ' ' + cls : '');
  }

  var view = null;  // the results shown (query-results.js): destroyed before the next ones

  function clearResults() {
    if (view) { try { view.destroy(); } catch (e) { /* already gone */ } view = null; }
    while (resultsEl.lastChild !== statusEl) resultsEl.removeChild(resultsEl.lastChild);
  }

  function showError(text) {
    clearResults();
    setStatus('The query failed.', 'warning');
    resultsEl.appendChild(el('pre', {'class': 'error', id: 'error'}, text));
  }

  function downloads(links) {
    var box = el('div', {'class': 'downloads', id: 'downloads'});
    box.appendChild(document.createTextNode('Download:'));
    links.forEach(function (link) {
      var a = el('a', {href: link.href, download: link.file}, link.label);
      a.addEventListener('click', function (e) {
        if (!link.post) return;  // a plain GET link
        e.preventDefault();
        fetch(link.post.url, {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded;charset=UTF-8'},
                              body: new URLSearchParams(link.post.body)})
          .then(function (r) { return r.blob(); })
          .then(function (blob) {
            var url = URL.createObjectURL(blob), tmp = el('a', {href: url, download: link.file});
            document.body.appendChild(tmp); tmp.click(); tmp.remove();
            setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
          });
      });
      box.appendChild(a);
    });
    return box;
  }

  function render(response, text, elapsed, links) {
    clearResults();
    var type = (response.headers.get('Content-Type') || '').split(';')[0];
    var truncated = response.headers.get('X-CKG-Truncated') === 'true';
    var limit = response.headers.get('X-CKG-Row-Limit');
    var seconds = (elapsed / 1000).toFixed(2) + ' s';
    if (type === 'application/sparql-results+json' || type === 'application/json') {
      var json = JSON.parse(text);
      if (typeof json.boolean === 'boolean') {
        setStatus('ASK answered in ' + seconds + '.');
        resultsEl.appendChild(el('p', {'class': 'boolean', id: 'boolean'}, String(json.boolean)));
        resultsEl.appendChild(downloads(links.solutions));
        return;
      }
      var vars = json.head.vars, rows = json.results.bindings;
      setStatus(rows.length + (rows.length === 1 ? ' row' : ' rows') + ' in ' + seconds +
                (truncated ? ' — cut at the server\'s limit of ' + limit + ' rows' : '') + '.', truncated ? 'warning' : '');
      resultsEl.appendChild(downloads(links.solutions));
      if (window.ckgResults) {
        view = window.ckgResults.show(resultsEl, vars, rows, {fill: fill, text: termText, echarts: resultsEl.getAttribute('data-echarts')});
        return;
      }
      var wrap = el('div', {'class': 'table-wrap'}), table = el('table', {'class': 'results-table', id: 'results-table'});
      var head = el('tr');
      vars.forEach(function (v) { head.appendChild(el('th', {}, v)); });
      var thead = el('thead'); thead.appendChild(head); table.appendChild(thead);
      var tbody = el('tbody');
      rows.forEach(function (row) {
        var tr = el('tr');
        vars.forEach(function (v) { tr.appendChild(cell(row[v])); });
        tbody.appendChild(tr);
      });
      table.appendChild(tbody); wrap.appendChild(table); resultsEl.appendChild(wrap);
    } else {
      setStatus('Graph result in ' + seconds + (truncated ? ' — cut at the server\'s limit of ' + limit + ' triples' : '') + '.',
                truncated ? 'warning' : '');
      resultsEl.appendChild(downloads(links.graph));
      resultsEl.appendChild(el('pre', {'class': 'graph', id: 'graph'}, text));
    }
  }

  function busy(on) {
    runButton.disabled = on;
    if (on) setStatus('Running…');
  }

  function sparqlLinks(query) {
    function link(label, format, file) {
      var href = endpoint + '?' + new URLSearchParams({query: query, format: format}).toString();
      return {label: label, file: file, href: href, post: href.length > 4000 ? {url: endpoint, body: {query: query, format: format}} : null};
    }
    return {
      solutions: [link('CSV', 'csv', 'results.csv'), link('TSV', 'tsv', 'results.tsv'), link('JSON', 'json', 'results.json'),
                  link('XML', 'xml', 'results.xml')],
      graph: [link('Turtle', 'turtle', 'results.ttl'), link('N-Triples', 'ntriples', 'results.nt'),
              link('JSON-LD', 'jsonld', 'results.jsonld')]
    };
  }

  var PARSE_ERROR = /error at (\d+):(\d+):?\s*([^\n]*)/;

  function runQuery() {
    var query = editor.value();
    editor.clearError();
    busy(true);
    var t0 = performance.now();
    fetch(endpoint, {
      method: 'POST',
      headers: {'Content-Type': 'application/x-www-form-urlencoded;charset=UTF-8',
                'Accept': 'application/sparql-results+json, text/turtle;q=0.9'},
      body: new URLSearchParams({query: query})
    }).then(function (response) {
      return response.text().then(function (text) {
        busy(false);
        if (!response.ok) {
          showError(response.status + ' ' + response.statusText + '\n' + text);
          var at = response.status === 400 && editor.value() === query && PARSE_ERROR.exec(text);
          if (at) editor.markError(Number(at[1]), Number(at[2]), at[3] || 'the query does not parse');
          return;
        }
        render(response, text, performance.now() - t0, sparqlLinks(query));
      });
    }).catch(function (err) { busy(false); showError('The server could not be reached: ' + err); });
  }

  function runNamed(q, form) {
    var params = new URLSearchParams();
    q.params.forEach(function (p) {
      var value = form.elements[p.name].value.trim();
      if (value) params.set(p.name, value);
    });
    var base = 'api/queries/' + encodeURIComponent(q.name) + '?';
    function link(label, format, file) {
      var ps = new URLSearchParams(params); ps.set('_format', format);
      return {label: label, file: file, href: base + ps.toString(), post: null};
    }
    var links = {solutions: [link('CSV', 'csv', q.name + '.csv'), link('TSV', 'tsv', q.name + '.tsv'),
                             link('JSON', 'sparql-json', q.name + '.json'), link('XML', 'sparql-xml', q.name + '.xml')]};
    var ps = new URLSearchParams(params); ps.set('_format', 'sparql-json');
    busy(true);
    var t0 = performance.now();
    fetch(base + ps.toString(), {headers: {Accept: 'application/sparql-results+json'}}).then(function (response) {
      return response.text().then(function (text) {
        busy(false);
        if (!response.ok) {
          var message = text;
          try { message = JSON.parse(text).error; } catch (e) { /* not JSON */ }
          showError(response.status + ' ' + response.statusText + '\n' + message);
          return;
        }
        render(response, text, performance.now() - t0, links);
      });
    }).catch(function (err) { busy(false); showError('The server could not be reached: ' + err); });
  }

  function showNamed(q) {
    var panel = document.getElementById('named-panel'), form = document.getElementById('named-form');
    document.getElementById('named-title').textContent = q.name;
    document.getElementById('named-summary').textContent = q.summary +
      (q.params.length ? ' Its parameters are bound by the server, not pasted into the text.' : '');
    form.innerHTML = '';
    q.params.forEach(function (p) {
      var label = el('label', {title: p.description}, p.name + ' (' + p.type + (p.required ? '' : ', optional') + ')');
      var input;
      if (p.choices && p.choices.length) {  // a parameter that takes only some values: a list of them
        input = el('select', {name: p.name});
        p.choices.forEach(function (c) {
          var option = el('option', {value: c}, c);
          if (c === p.default) option.selected = true;
          input.appendChild(option);
        });
      } else {
        input = el('input', {name: p.name, value: p.default || '', placeholder: p.description});
      }
      label.appendChild(input);
      form.appendChild(label);
    });
    var button = el('button', {type: 'submit', id: 'run-named'}, 'Run ' + q.name);
    form.appendChild(button);
    form.onsubmit = function (e) { e.preventDefault(); runNamed(q, form); };
    panel.hidden = false;
  }

  function start(runNow) {
    data = JSON.parse(document.getElementById('ckg-data').textContent);
    var form = document.getElementById('query-form');
    endpoint = form.getAttribute('action');
    resultsEl = document.getElementById('results');
    statusEl = document.getElementById('status');
    runButton = document.getElementById('run');
    editor = new Editor(document.getElementById('query'), document.getElementById('highlight'),
                        document.getElementById('gutter'), runQuery);
    form.addEventListener('submit', function (e) { e.preventDefault(); runQuery(); });
    document.getElementById('share').addEventListener('click', function () {
      this.href = '?' + new URLSearchParams({query: editor.value(), run: '1'}).toString();
    });
    document.querySelectorAll('aside.examples a[data-kind]').forEach(function (a) {
      a.addEventListener('click', function (e) {
        e.preventDefault();
        var index = Number(a.getAttribute('data-index'));
        if (a.getAttribute('data-kind') === 'query') {
          current = data.queries[index];
          editor.setValue(current.sparql);
          showNamed(current);
        } else {
          current = null;
          editor.setValue(data.functions[index].sparql);
          document.getElementById('named-panel').hidden = true;
        }
      });
    });
    if (runNow) runQuery();
  }

  window.ckg = {start: start, highlight: highlight};
})();
