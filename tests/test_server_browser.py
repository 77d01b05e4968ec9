"""The query page in headless Chromium: type a query, click Run, see the results table.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: JSON
messages ended by NUL on file descriptors 3 and 4), so no driver package is needed. The test also
records every request the page makes: all go to the ckg server (the page works offline).
Skipped, saying why, when Debian's ``chromium`` is not installed (``make install`` installs it
where it can).
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import time

import pytest

from serving import build_subject_store, ckg_serve

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,1000", "--remote-debugging-pipe"]


class Chromium:
    """A headless Chromium and one page, spoken to over the DevTools pipe."""

    def __init__(self, profile) -> None:
        reader, self._write = os.pipe()
        self._read, writer = os.pipe()
        # above 4, so that the redirections to 3 and 4 cannot overwrite one another (bash: dash takes one digit)
        to_browser_r, from_browser_w = (fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (reader, writer))
        os.close(reader)
        os.close(writer)
        command = f'exec "$0" "$@" 3<&{to_browser_r} 4>&{from_browser_w}'
        self.proc = subprocess.Popen(["bash", "-c", command, CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                     pass_fds=(to_browser_r, from_browser_w), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._id = 0
        self.events: list[dict] = []
        self.session = None
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)["sessionId"]
        for domain in ("Page", "Runtime", "Network"):
            self.call(f"{domain}.enable")

    def _message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._read], [], [], remaining)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._read, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed its DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: dict | None = None, session: bool = True, timeout: float = 30) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._message(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(f"never true: {expression}")

    def click(self, selector: str) -> None:
        """A real mouse click in the middle of an element."""
        box = self.evaluate(f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
                            f" e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect();"
                            f" return [r.x + r.width / 2, r.y + r.height / 2]; }})()")
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1})

    def close(self) -> None:
        try:
            self.call("Browser.close", session=False, timeout=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()
        os.close(self._read)
        os.close(self._write)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    store = build_subject_store(tmp_path_factory.mktemp("browser") / "store")
    with ckg_serve(store, "--workers", "1", "--threads", "2") as server:
        yield server


@pytest.fixture
def browser(tmp_path):
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (Debian package 'chromium'; `make install` installs it when run as root)")
    chromium = Chromium(tmp_path / "profile")
    yield chromium
    chromium.close()


TABLE_ROWS = "Array.from(document.querySelectorAll('#results-table tbody tr')).map(tr => Array.from(tr.cells).map(td => td.textContent))"


def test_query_page_runs_a_query_and_shows_the_results(server, browser):
    browser.call("Page.navigate", {"url": server.url})
    browser.wait_for("document.readyState === 'complete' && !!window.ckg")
    assert browser.evaluate("document.querySelectorAll('#highlight .tok-kw').length") > 0  # the default query, highlighted
    query = ("SELECT ?paper (ckg:citationCount(?paper) AS ?citations) WHERE { ?paper a ckg:Paper } "
             "ORDER BY DESC(?citations) ?paper LIMIT 3")
    browser.evaluate("document.getElementById('query').focus(); document.getElementById('query').select()")
    browser.call("Input.insertText", {"text": query})  # typed into the editor
    assert browser.evaluate("document.getElementById('query').value") == query
    assert browser.evaluate("document.querySelector('#highlight .tok-pn').textContent") == "ckg:citationCount"
    browser.click("#run")
    browser.wait_for("document.querySelectorAll('#results-table tbody tr').length > 0")
    assert browser.evaluate("Array.from(document.querySelectorAll('#results-table th')).map(th => th.textContent)") == [
        "paper", "citations"]
    assert browser.evaluate(TABLE_ROWS) == [["ckgr:paper/aaaa0001", "2"], ["ckgr:paper/aaaa0002", "1"],
                                            ["ckgr:paper/aaaa0003", "1"]]
    assert browser.evaluate("document.getElementById('status').textContent").startswith("3 rows in ")
    links = browser.evaluate("Array.from(document.querySelectorAll('#downloads a')).map(a => [a.textContent, a.href])")
    assert [label for label, _ in links] == ["CSV", "TSV", "JSON", "XML"]
    assert links[0][1].startswith(server.sparql + "?query=SELECT") and links[0][1].endswith("&format=csv")
    assert browser.evaluate(f"fetch({json.dumps(links[0][1])}).then(r => r.text())") == (
        "paper,citations\r\nhttps://w3id.org/ckg/resource/paper/aaaa0001,2\r\n"
        "https://w3id.org/ckg/resource/paper/aaaa0002,1\r\nhttps://w3id.org/ckg/resource/paper/aaaa0003,1\r\n")

    # a named query from the examples, its parameter bound by the server
    browser.click("a[data-kind=query][data-index='%d']" % browser.evaluate(
        "JSON.parse(document.getElementById('ckg-data').textContent).queries.findIndex(q => q.name === 'paper-authors')"))
    browser.wait_for("!document.getElementById('named-panel').hidden")
    assert browser.evaluate("document.getElementById('query').value").startswith("# name: paper-authors")
    browser.evaluate("document.querySelector('#named-form input[name=paper]').value = 'aaaa0001'")
    browser.click("#run-named")
    browser.wait_for("document.querySelectorAll('#results-table th').length === 7")  # paper-authors' columns
    assert [row[3] for row in browser.evaluate(TABLE_ROWS)] == ["Lin Wang", "John A. Smith", "Zoë Müller"]

    # a parameter that takes only some values is a list of them, its default chosen
    browser.click("a[data-kind=query][data-index='%d']" % browser.evaluate(
        "JSON.parse(document.getElementById('ckg-data').textContent).queries.findIndex(q => q.name === 'most-cited-papers')"))
    browser.wait_for("document.querySelector('#named-form select[name=first]') !== null")
    assert browser.evaluate("Array.from(document.querySelectorAll('#named-form select[name=first] option'))"
                            ".map(o => o.value)") == ["10", "100", "1000", "10000"]
    assert browser.evaluate("document.querySelector('#named-form select[name=first]').value") == "100"
    browser.evaluate("document.querySelector('#named-form select[name=first]').value = '10'")
    browser.click("#run-named")
    browser.wait_for("document.querySelectorAll('#results-table th').length === 5")  # first, paper, title, year, citations
    assert [row[0] for row in browser.evaluate(TABLE_ROWS)] == ["10", "10", "10"]

    # an IRI that is not a web address is shown, never made a link
    browser.evaluate("document.getElementById('query').select()")
    browser.call("Input.insertText", {"text": "SELECT ?x WHERE { BIND(IRI('javascript:alert(1)') AS ?x) }"})
    browser.click("#run")
    browser.wait_for("document.querySelectorAll('#results-table th').length === 1")
    assert browser.evaluate("document.querySelectorAll('#results-table a').length") == 0
    assert browser.evaluate(TABLE_ROWS) == [["<javascript:alert(1)>"]]

    # an error is shown, not swallowed
    browser.evaluate("document.getElementById('query').select()")
    browser.call("Input.insertText", {"text": "SELECT * WHERE {"})
    browser.click("#run")
    error = browser.wait_for("document.getElementById('error') && document.getElementById('error').textContent")
    assert error.startswith("400 BAD REQUEST\nerror at 1:17: expected one of")

    requested = {e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"}
    assert requested and all(url.startswith(server.url) for url in requested), requested  # nothing from elsewhere


CHART_PIXELS = """(() => {
  const canvas = document.querySelector('figure.chart .chart-canvas canvas');
  if (!canvas || !canvas.width || !canvas.height) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted++;
  return painted;
})()"""


def _problems(browser) -> list:
    """The console errors, uncaught exceptions and failed loads the page reported."""
    out = []
    for e in browser.events:
        method, params = e.get("method"), e.get("params", {})
        if method == "Runtime.exceptionThrown":
            out.append(params["exceptionDetails"])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            out.append(params.get("args"))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            if not params["entry"].get("url", "").endswith("/favicon.ico"):  # the browser's own request
                out.append(params["entry"])
    return out


def _go(browser, selector: str, path_start: str) -> None:
    """Click a link and wait for the page it opens to be loaded."""
    browser.click(selector)
    browser.wait_for(f"location.pathname.startsWith({json.dumps(path_start)}) && document.readyState === 'complete'")


def test_click_through_paper_concept_author_with_charts(server, browser):
    from ckg.server import pages

    if pages.vendored("echarts", "echarts.min.js") is None:
        pytest.skip("ECharts is not installed (`make install` installs npm's echarts)")
    browser.call("Log.enable")
    browser.call("Page.navigate", {"url": server.url + "papers/aaaa0001"})
    browser.wait_for("document.readyState === 'complete' && !!document.querySelector('a.chip')")
    assert browser.evaluate("document.querySelector('a.chip').textContent").startswith("pneumonia")

    _go(browser, "a.chip", "/concepts/")  # the paper's concept
    assert browser.evaluate("document.querySelector('h1').textContent") == "pneumonia"
    browser.wait_for("document.querySelector('figure.chart').dataset.drawn === 'true'")
    assert browser.wait_for(CHART_PIXELS) > 100  # the bars and axes are drawn

    _go(browser, "ol.ranked li a", "/papers/")  # its most-cited paper
    _go(browser, "p.authors a", "/authors/")  # that paper's first author
    assert browser.evaluate("document.querySelector('p.kind-label').textContent") == "Author"
    browser.wait_for("document.querySelector('figure.chart').dataset.drawn === 'true'")
    assert browser.wait_for(CHART_PIXELS) > 100
    assert browser.evaluate("document.querySelectorAll('ul.papers li a').length") >= 1

    assert _problems(browser) == []
    requested = {e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"}
    assert any("/-/vendor/echarts/echarts.min.js" in url for url in requested)
    assert all(url.startswith(server.url) for url in requested), requested  # nothing from elsewhere


ALL_CHART_PIXELS = """(() => Array.from(document.querySelectorAll('figure.chart')).map(figure => {
  const canvas = figure.querySelector('.chart-canvas canvas');
  if (!canvas || !canvas.width || !canvas.height) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted++;
  return painted;
}))()"""
"""The painted pixels of each chart of the page (0 for a chart not drawn)."""

GRAPH_NODE = """(() => {
  const dom = document.querySelector('figure.neighbourhood .chart-canvas');
  dom.scrollIntoView({block: 'center'});
  const chart = echarts.getInstanceByDom(dom), data = chart.getModel().getSeriesByIndex(0).getData();
  const box = dom.getBoundingClientRect();
  for (let i = 0; i < data.count(); i++) {
    const node = data.getRawDataItem(i).paper;
    if (node.relation === 'paper') continue;
    const [x, y] = chart.convertToPixel({seriesIndex: 0}, data.getItemLayout(i));
    return [box.left + x, box.top + y, node.href];
  }
  return null;
})()"""
"""Where the first neighbour of a paper's neighbourhood graph is drawn, and the page it opens."""


def _charts_drawn(browser, at_least: int = 1) -> list[int]:
    """Every chart of the page drawn (data-drawn), each with painted pixels; returns their counts."""
    browser.wait_for(f"document.querySelectorAll('figure.chart').length >= {at_least} && Array.from("
                     "document.querySelectorAll('figure.chart')).every(f => f.dataset.drawn === 'true')")
    painted = browser.wait_for(f"(() => {{ const p = {ALL_CHART_PIXELS}; return p.every(n => n > 100) && p; }})()")
    assert len(painted) >= at_least
    return painted


def test_click_through_search_paper_concept_paper_author(server, browser):
    from ckg.server import pages

    if pages.vendored("echarts", "echarts.min.js") is None:
        pytest.skip("ECharts is not installed (`make install` installs npm's echarts)")
    browser.call("Log.enable")
    browser.call("Page.navigate", {"url": server.url + "-/overview"})
    browser.wait_for("document.readyState === 'complete'")
    assert len(_charts_drawn(browser, 2)) == 2  # growth by release, papers per year
    assert _problems(browser) == []

    # the header's search box: type a query, press Enter
    browser.click("header.top form.search input")
    browser.call("Input.insertText", {"text": "spike ACE2 receptors"})
    for kind in ("keyDown", "keyUp"):
        browser.call("Input.dispatchKeyEvent", {"type": kind, "key": "Enter", "code": "Enter",
                                                "windowsVirtualKeyCode": 13, "text": "\r" if kind == "keyDown" else ""})
    browser.wait_for("location.pathname === '/search' && document.readyState === 'complete'")
    assert browser.evaluate("new URLSearchParams(location.search).get('q')") == "spike ACE2 receptors"
    first = browser.wait_for("document.querySelector('ol.hits li a') && document.querySelector('ol.hits li a').getAttribute('href')")
    assert first == "/papers/aaaa0001"
    assert _problems(browser) == []

    _go(browser, "ol.hits li a", "/papers/")  # the first result
    assert browser.evaluate("location.pathname") == "/papers/aaaa0001"
    assert _charts_drawn(browser)  # the neighbourhood graph
    assert browser.evaluate("document.querySelector('figure.neighbourhood').dataset.drawn") == "true"
    assert _problems(browser) == []

    _go(browser, "a.chip", "/concepts/")  # a concept chip
    assert browser.evaluate("document.querySelector('h1').textContent") == "pneumonia"
    assert _charts_drawn(browser)
    assert _problems(browser) == []

    _go(browser, "ol.ranked li a", "/papers/")  # its most-cited paper
    assert _charts_drawn(browser)
    _go(browser, "p.authors a", "/authors/")  # that paper's first author
    assert browser.evaluate("document.querySelector('p.kind-label').textContent") == "Author"
    assert _charts_drawn(browser)
    assert _problems(browser) == []

    # a click on a paper of the neighbourhood graph opens its page
    browser.call("Page.navigate", {"url": server.url + "papers/aaaa0001"})
    browser.wait_for("document.readyState === 'complete' && document.querySelector('figure.neighbourhood').dataset.drawn === 'true'")
    x, y, href = browser.evaluate(GRAPH_NODE)
    assert href.startswith("/papers/") and href != "/papers/aaaa0001"
    for kind in ("mousePressed", "mouseReleased"):
        browser.call("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})
    browser.wait_for(f"location.pathname === {json.dumps(href)} && document.readyState === 'complete'")

    assert _problems(browser) == []
    requested = {e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"}
    assert any("/-/vendor/echarts/echarts.min.js" in url for url in requested)
    assert all(url.startswith(server.url) for url in requested), requested  # nothing from elsewhere


def test_swagger_ui_shows_the_api_offline(server, browser):
    from ckg.server import pages

    if pages.vendored("swagger-ui", "swagger-ui-bundle.js") is None:
        pytest.skip("Swagger UI is not installed (`make install` installs npm's swagger-ui-dist)")
    browser.call("Log.enable")
    browser.call("Page.navigate", {"url": server.url + "api/docs"})
    browser.wait_for("document.querySelectorAll('.opblock').length > 5")  # the operations, read from /api/openapi.json
    assert browser.evaluate("document.querySelector('.info .title').textContent").startswith("ckg")
    assert _problems(browser) == []
    requested = {e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"}
    assert all(url.startswith(server.url) or url.startswith("data:") for url in requested), requested


def test_the_readme_screenshots_are_taken_by_a_browser(tmp_path, trained_demo_store):
    """bench/screenshots.py, the script that made docs/screenshots/*.png (which the README shows),
    run on a trained demo store: four full-size PNGs."""
    import importlib.util

    from ckg.server import pages

    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (Debian package 'chromium'; `make install` installs it when run as root)")
    if pages.vendored("echarts", "echarts.min.js") is None:
        pytest.skip("ECharts is not installed (`make install` installs npm's echarts)")
    from conftest import REPO

    spec = importlib.util.spec_from_file_location("screenshots", REPO / "bench" / "screenshots.py")
    screenshots = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(screenshots)
    store, _ = trained_demo_store
    assert screenshots.main(["--store", str(store), "--out", str(tmp_path), "--query", "coronavirus"]) == 0
    shots = sorted(p.name for p in tmp_path.glob("*.png"))
    assert shots == sorted(p.name for p in (REPO / "docs" / "screenshots").glob("*.png")) == [
        "concept.png", "overview.png", "paper.png", "search.png"]
    for name in shots:
        data = (tmp_path / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000, name
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert all(f"docs/screenshots/{name}" in readme for name in shots)
