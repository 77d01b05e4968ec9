"""The query page's results in headless Chromium: a table in pages (only the shown page in the
document), sorted by a click on a header, narrowed by the filter; the Chart tab; a parse error
marked on its line of the editor; downloads and the share link; no console error, and every
request to the ckg server (the page works offline).

Chromium is driven over its DevTools pipe with the helpers of tests/test_server_browser.py.
Skipped, saying why, without Debian's ``chromium`` or without the npm packages the page vendors
(``make install`` installs both where it can)."""

from __future__ import annotations

import json
import time

import pytest

from serving import build_subject_store, ckg_serve
from test_server_browser import CHROMIUM, Chromium, _problems

from ckg.server import pages

pytestmark = pytest.mark.slow

VENDORED = [("datatables", "dataTables.min.js"), ("datatables-css", "dataTables.dataTables.min.css"),
            ("echarts", "echarts.min.js")]

ROWS = 120
N = {i: (i * 53) % 127 for i in range(1, ROWS + 1)}  # 1..126, each once: item-012 has the least, item-115 the most
QUERY = ("SELECT ?label ?year ?n WHERE {\n  VALUES (?label ?year ?n) {\n" +
         "".join(f'    ("item-{i:03d}" {1900 + i} {N[i]})\n' for i in range(1, ROWS + 1)) + "  }\n}")
BAD_QUERY = "SELECT ?x\nWHERE {\n  ?x ?y ?z .\n}\nLIMIT x\n"  # the parser stops at line 5, column 7

ROWS_SHOWN = "document.querySelectorAll('#results-table tbody tr').length"
FIRST_CELLS = "Array.from(document.querySelectorAll('#results-table tbody tr')).map(tr => tr.cells[0].textContent)"
COLUMN = "Array.from(document.querySelectorAll('#results-table tbody tr')).map(tr => tr.cells[%d].textContent)"
INFO = "(document.querySelector('#table-panel .dt-info') || {}).textContent"
PAINTED = """(() => {
  const canvas = document.querySelector('#chart canvas');
  if (!canvas || !canvas.width || !canvas.height) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted++;
  return painted;
})()"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    store = build_subject_store(tmp_path_factory.mktemp("query-page") / "store")
    with ckg_serve(store, "--workers", "1", "--threads", "2") as server:
        yield server


@pytest.fixture
def browser(tmp_path):
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (Debian package 'chromium'; `make install` installs it when run as root)")
    missing = [f"{library}/{name}" for library, name in VENDORED if pages.vendored(library, name) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (`make install` installs npm's datatables.net, "
                    "datatables.net-dt and echarts)")
    chromium = Chromium(tmp_path / "profile")
    chromium.call("Log.enable")
    yield chromium
    chromium.close()


def open_page(browser, url: str) -> None:
    browser.call("Page.navigate", {"url": url})
    browser.wait_for("document.readyState === 'complete' && !!window.ckg && !!window.ckgResults")


def type_query(browser, text: str) -> None:
    browser.evaluate("document.getElementById('query').focus(); document.getElementById('query').select()")
    browser.call("Input.insertText", {"text": text})
    assert browser.evaluate("document.getElementById('query').value") == text


def after_navigation(browser, expression: str, timeout: float = 20):
    """Wait for an expression to be true on a page being loaded (its old page may go away meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return browser.wait_for(expression, timeout=max(0.1, deadline - time.monotonic()))
        except RuntimeError:  # the context was destroyed by the navigation: ask the new page
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def run(browser, text: str) -> None:
    type_query(browser, text)
    browser.click("#run")


def test_results_table_pages_sorts_filters_and_charts(server, browser):
    open_page(browser, server.url)
    assert browser.evaluate("typeof window.DataTable") == "function"
    run(browser, QUERY)
    browser.wait_for(f"{ROWS_SHOWN} === 50 && /of 120/.test({INFO})")

    # one page of rows in the document, in the query's order
    assert browser.evaluate(INFO) == "rows 1–50 of 120"
    assert browser.evaluate("document.querySelectorAll('tr').length") == 51  # the header and 50 rows, no more
    assert browser.evaluate(FIRST_CELLS) == [f"item-{i:03d}" for i in range(1, 51)]
    assert browser.evaluate("Array.from(document.querySelectorAll('#results-table th')).map(th => th.textContent)") == [
        "label", "year", "n"]
    assert browser.evaluate("document.getElementById('status').textContent").startswith("120 rows in ")

    # the next page
    browser.click("#table-panel button.dt-paging-button.next")
    browser.wait_for(f"{INFO} === 'rows 51–100 of 120'")
    assert browser.evaluate(ROWS_SHOWN) == 50
    assert browser.evaluate(FIRST_CELLS) == [f"item-{i:03d}" for i in range(51, 101)]

    # a click on a header sorts by it (numbers as numbers), a second click the other way
    browser.click("#results-table thead th:nth-child(3)")
    browser.wait_for(f"{COLUMN % 2}[0] === '1'")
    assert browser.evaluate(COLUMN % 2) == [str(n) for n in sorted(N.values())[:50]]
    assert browser.evaluate(FIRST_CELLS)[:2] == ["item-012", "item-024"]
    browser.click("#results-table thead th:nth-child(3)")
    browser.wait_for(f"{COLUMN % 2}[0] === '126'")
    assert browser.evaluate(FIRST_CELLS)[0] == "item-115"

    # the filter: a substring of any cell
    browser.evaluate("document.querySelector('#table-panel .dt-search input').focus()")
    browser.call("Input.insertText", {"text": "item-11"})
    browser.wait_for(f"{ROWS_SHOWN} === 10")
    assert sorted(browser.evaluate(FIRST_CELLS)) == [f"item-{i}" for i in range(110, 120)]
    assert browser.evaluate(INFO).startswith("rows 1–10 of 10")
    browser.evaluate("document.querySelector('#table-panel .dt-search input').select()")
    browser.call("Input.insertText", {"text": "1999"})  # a year: item-099's
    browser.wait_for(f"{ROWS_SHOWN} === 1")
    assert browser.evaluate(FIRST_CELLS) == ["item-099"]
    browser.evaluate("document.querySelector('#table-panel .dt-search input').select()")
    browser.call("Input.insertText", {"text": "item-0"})
    browser.wait_for(f"/of 99/.test({INFO})")  # item-001 … item-099

    # the Chart tab: bars of ?n by ?label (the table's filter and order), a line when ?year is the x axis
    browser.click("#tab-chart")
    browser.wait_for("document.querySelector('#chart') && document.querySelector('#chart').dataset.drawn === 'bar'")
    assert browser.wait_for(PAINTED) > 1000
    assert browser.evaluate("document.getElementById('table-panel').hidden") is True
    assert browser.evaluate("document.getElementById('chart-x').value") == "label"
    assert browser.evaluate("Array.from(document.querySelectorAll('#chart-y input')).map(b => [b.value, b.checked])") == [
        ["year", False], ["n", True]]
    assert "first" not in browser.evaluate("document.getElementById('chart-note').textContent")
    browser.evaluate("(() => { const s = document.getElementById('chart-x'); s.value = 'year';"
                     " s.dispatchEvent(new Event('change', {bubbles: true})); })()")
    browser.wait_for("document.querySelector('#chart').dataset.drawn === 'line'")
    assert browser.wait_for(PAINTED) > 1000
    browser.click("#tab-table")
    assert browser.evaluate("document.getElementById('table-panel').hidden") is False

    # the downloads: the whole answer, not the page
    links = browser.evaluate("Array.from(document.querySelectorAll('#downloads a')).map(a => [a.textContent, a.href])")
    assert [label for label, _ in links] == ["CSV", "TSV", "JSON", "XML"]
    csv = browser.evaluate(f"fetch({json.dumps(links[0][1])}).then(r => r.text())")
    assert csv.startswith("label,year,n\r\nitem-001,1901,53\r\n") and csv.count("\r\n") == ROWS + 1
    tsv = browser.evaluate(f"fetch({json.dumps(links[1][1])}).then(r => r.text())")
    assert tsv.count("\n") == ROWS + 1 and tsv.startswith('?label\t?year\t?n\n"item-001"\t"1901"^^')
    answer = browser.evaluate(f"fetch({json.dumps(links[2][1])}).then(r => r.json())")
    assert len(answer["results"]["bindings"]) == ROWS

    # no numbers: the Chart tab says why
    run(browser, "SELECT ?paper ?title WHERE { ?paper a ckg:Paper ; dcterms:title ?title } ORDER BY ?paper LIMIT 3")
    browser.wait_for(f"{ROWS_SHOWN} === 3 && document.querySelectorAll('#results-table th').length === 2")
    browser.click("#tab-chart")
    note = browser.wait_for("document.querySelector('#chart-note.empty') && document.getElementById('chart-note').textContent")
    assert note.startswith("No column holds numbers only")

    assert _problems(browser) == []
    requested = {e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"}
    assert any(u.endswith("/-/vendor/datatables/dataTables.min.js") for u in requested)
    assert any(u.endswith("/-/vendor/echarts/echarts.min.js") for u in requested)  # loaded for the Chart tab
    assert all(url.startswith(server.url) for url in requested), requested  # nothing from elsewhere


def test_parse_error_is_marked_on_its_line_and_cleared_by_an_edit(server, browser):
    open_page(browser, server.url)
    run(browser, BAD_QUERY)
    error = browser.wait_for("document.getElementById('error') && document.getElementById('error').textContent")
    assert error.startswith("400 BAD REQUEST\nerror at 5:7: ")
    browser.wait_for("!document.getElementById('error-line').hidden")
    assert browser.evaluate("document.querySelector('#gutter .gutter-error').textContent") == "5"
    assert browser.evaluate("document.getElementById('error-note').textContent").startswith("line 5, column 7: expected")
    assert browser.evaluate("document.getElementById('query').getAttribute('aria-invalid')") == "true"
    # the band is on the fifth line of the text, the column mark after "LIMIT "
    line, band, column, chars = browser.evaluate("""(() => {
      const ta = document.getElementById('query'), s = getComputedStyle(ta), lh = parseFloat(s.lineHeight);
      const band = document.getElementById('error-line').getBoundingClientRect();
      const col = document.querySelector('.error-column').getBoundingClientRect();
      const box = ta.getBoundingClientRect();
      const ctx = document.createElement('canvas').getContext('2d'); ctx.font = s.fontSize + ' ' + s.fontFamily;
      return [Math.round((band.top - box.top - parseFloat(s.paddingTop)) / lh) + 1, Math.abs(band.height - lh),
              col.left - box.left - parseFloat(s.paddingLeft), ctx.measureText('LIMIT ').width];
    })()""")
    assert line == 5 and band < 1
    assert abs(column - chars) < 2
    # an edit clears the marks
    browser.evaluate("(() => { const q = document.getElementById('query'); q.focus();"
                     " q.setSelectionRange(q.value.length, q.value.length); })()")
    browser.call("Input.insertText", {"text": " "})
    assert browser.evaluate("document.getElementById('error-line').hidden && document.getElementById('error-note').hidden")
    assert browser.evaluate("document.querySelectorAll('#gutter .gutter-error').length") == 0
    assert browser.evaluate("document.getElementById('query').hasAttribute('aria-invalid')") is False

    # an error without a position (a 400 about the request) marks nothing; the share link opens and runs a query
    browser.click("#share")
    after_navigation(browser, "location.search.includes('run=1') && document.readyState === 'complete' && !!window.ckgResults")
    browser.wait_for("!!document.getElementById('error')")
    assert browser.evaluate("document.getElementById('query').value") == BAD_QUERY + " "
    browser.wait_for("!document.getElementById('error-line').hidden")  # the shared query fails again, marked again
    type_query(browser, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    browser.click("#share")
    after_navigation(browser, "location.search.includes('run=1') && document.querySelectorAll('#results-table tbody tr').length === 1")
    assert browser.evaluate("document.getElementById('error-line').hidden") is True

    problems = [p for p in _problems(browser) if not (isinstance(p, dict) and "400" in p.get("text", "")
                                                      and p.get("url", "").endswith("/sparql"))]
    assert problems == []  # nothing but the browser's own note of the 400 answers
    requested = {e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"}
    assert all(url.startswith(server.url) for url in requested), requested


def test_without_the_table_library_the_results_are_a_plain_paged_table(server, browser):
    browser.call("Network.setBlockedURLs", {"urls": ["*/-/vendor/datatables/*"]})
    open_page(browser, server.url)
    assert browser.evaluate("typeof window.DataTable") == "undefined"
    run(browser, QUERY)
    browser.wait_for(f"{ROWS_SHOWN} === 50")
    assert browser.evaluate("document.getElementById('page-info').textContent") == "rows 1–50 of 120"
    assert browser.evaluate(FIRST_CELLS)[0] == "item-001"
    browser.click("#page-next")
    browser.wait_for("document.getElementById('page-info').textContent === 'rows 51–100 of 120'")
    assert browser.evaluate(FIRST_CELLS)[0] == "item-051"
    browser.click("#page-next")
    browser.wait_for(f"{ROWS_SHOWN} === 20")
    assert browser.evaluate("document.getElementById('page-next').disabled") is True
    browser.click("#tab-chart")  # the chart works without DataTables
    browser.wait_for("document.querySelector('#chart') && document.querySelector('#chart').dataset.drawn === 'bar'")
    assert browser.wait_for(PAINTED) > 1000


def test_ten_thousand_rows_stay_paged_and_responsive(server, browser):
    """10,000 result rows (the endpoint's default row cap): one page of them in the document, and the
    page answers a click on its next page and a sort (no timing asserted: bench/ has timings)."""
    hundred = " ".join(str(i) for i in range(100))
    query = (f"SELECT ?n ?a WHERE {{ VALUES ?a {{ {hundred} }} VALUES ?b {{ {hundred} }} "
             "BIND(?a * 100 + ?b AS ?n) }")
    open_page(browser, server.url)
    run(browser, query)
    browser.wait_for(f"{ROWS_SHOWN} === 50 && /of 10,?000/.test({INFO})", timeout=60)
    assert browser.evaluate("document.querySelectorAll('#results-table tbody tr').length") == 50
    browser.click("#table-panel button.dt-paging-button.next")
    browser.wait_for(f"/rows 51.100 of 10,?000/.test({INFO})", timeout=30)
    browser.click("#results-table thead th:nth-child(1)")  # sort by ?n, descending on the second click
    browser.click("#results-table thead th:nth-child(1)")
    browser.wait_for(f"{COLUMN % 0}[0] === '9999'", timeout=30)
    assert browser.evaluate("document.querySelectorAll('tr').length") == 51
    assert not _problems(browser)
