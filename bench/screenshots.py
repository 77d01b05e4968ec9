"""Screenshots of ckg's pages for the README: a paper, a concept, a search and the corpus overview.

    .venv/bin/ckg demo --out /tmp/demo                      # a store with embeddings
    .venv/bin/python bench/screenshots.py --store /tmp/demo/store          # -> docs/screenshots/*.png

Starts ``ckg serve`` on the store (or uses ``--url`` of a running server), opens each page in
headless Chromium over the DevTools pipe (``tests/test_server_browser.py``'s driver), waits for
its charts and saves ``Page.captureScreenshot`` PNGs (1280 wide, the first ``--height`` pixels).
The paper is the most-cited one, the concept the most frequent, the search ``--query``.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import quote
from urllib.request import Request, urlopen

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from serving import ckg_serve  # noqa: E402
from test_server_browser import CHROMIUM, Chromium  # noqa: E402

WIDTH = 1280


def get_json(url: str) -> dict:
    with urlopen(Request(url, headers={"Accept": "application/json"}), timeout=60) as reply:
        return json.load(reply)


def pages(url: str, query: str) -> dict[str, str]:
    """The pages to show: name -> path."""
    paper = get_json(url + "api/rank?k=1&order=citations")["papers"][0]["key"]
    get_json(url + f"api/search?q={quote(query)}")  # the first search loads the text model: not in the picture
    overview = get_json(url + "-/overview.json")
    concept = overview["top_concepts"][0]["key"]
    return {"paper": f"papers/{paper}", "concept": f"concepts/{quote(concept, safe='')}",
            "search": f"search?q={quote(query)}", "overview": "-/overview"}


SCROLL_TO = {"paper": "figure.neighbourhood"}
"""The part of a page shown, when it is not its top: the paper's neighbourhood graph (its heading just above)."""


def shoot(browser: Chromium, url: str, out: Path, height: int, scroll_to: str | None = None) -> int:
    browser.call("Page.navigate", {"url": url})
    browser.wait_for("document.readyState === 'complete'")
    # every chart drawn (or saying why not)
    browser.wait_for("Array.from(document.querySelectorAll('figure.chart')).every(f => f.dataset.drawn === 'true'"
                     " || f.classList.contains('empty') || f.classList.contains('no-library'))")
    if scroll_to:
        browser.evaluate(f"window.scrollTo(0, document.querySelector({json.dumps(scroll_to)})"
                         ".getBoundingClientRect().top + window.scrollY - 140)")
    time.sleep(0.5)
    shot = browser.call("Page.captureScreenshot", {"format": "png"})  # the viewport: WIDTH x height
    data = base64.b64decode(shot["data"])
    out.write_bytes(data)
    return len(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--store", type=Path, help="serve this store (ckg serve) while the screenshots are taken")
    where.add_argument("--url", help="a running ckg server, such as http://127.0.0.1:8000/")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--query", default="spike protein ACE2 binding")
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args(argv)
    if CHROMIUM is None:
        parser.error("Chromium is not installed (Debian package 'chromium')")
    args.out.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        url = args.url
        if args.store:
            url = stack.enter_context(ckg_serve(args.store, "--workers", "1", "--threads", "2")).url
        url = url if url.endswith("/") else url + "/"
        profile = stack.enter_context(tempfile.TemporaryDirectory(prefix="ckg-screenshots-"))
        browser = Chromium(Path(profile))
        stack.callback(browser.close)
        browser.call("Emulation.setDeviceMetricsOverride", {"width": WIDTH, "height": args.height,
                                                            "deviceScaleFactor": 1, "mobile": False})
        for name, path in pages(url, args.query).items():
            size = shoot(browser, url + path, args.out / f"{name}.png", args.height, SCROLL_TO.get(name))
            print(f"{args.out / (name + '.png')}: {url + path} ({size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
