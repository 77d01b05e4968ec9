"""The query page (``/``) and the vendored libraries of its results: DataTables (table: sort, filter,
pages) and ECharts (the Chart tab), served by this server from npm's packages that ``make install``
puts in the virtual environment (nothing from a CDN: the page works offline).

A Flask test client on the mini corpus's store. The page in a browser: tests/test_query_page_browser.py."""

from __future__ import annotations

import html
import re

import pytest

from serving import app_on

from ckg.server import pages

FILES = [("datatables", "dataTables.min.js", "text/javascript"),
         ("datatables-css", "dataTables.dataTables.min.css", "text/css"),
         ("echarts", "echarts.min.js", "text/javascript")]
MISSING = [f"{library}/{name}" for library, name, _ in FILES if pages.vendored(library, name) is None]
needs_vendor = pytest.mark.skipif(bool(MISSING), reason=f"not installed: {', '.join(MISSING)} "
                                                        "(`make install` installs npm's datatables.net, datatables.net-dt, echarts)")


@pytest.fixture(scope="module")
def client(mini_store):
    store, _ = mini_store
    with app_on(store, {"engines": 1}) as app:
        yield app.test_client()


def attributes(text: str, name: str) -> list[str]:
    return [html.unescape(v) for v in re.findall(rf'{name}="([^"]*)"', text)]


def test_query_page_references_its_scripts_and_styles_on_this_server(client):
    response = client.get("/")
    assert response.status_code == 200 and response.content_type == "text/html; charset=utf-8"
    text = response.get_data(as_text=True)
    scripts, links = attributes(text, "src"), attributes(text, "href")
    # the table library before the page's scripts, which use it when it is there
    assert scripts.index("/-/vendor/datatables/dataTables.min.js") < scripts.index("/static/query-results.js") < \
        scripts.index("/static/ckg.js")
    assert "/-/vendor/datatables-css/dataTables.dataTables.min.css" in links
    # ECharts is loaded when the Chart tab is first opened
    assert 'data-echarts="/-/vendor/echarts/echarts.min.js"' in text
    assert all(u.startswith("/") and not u.startswith("//") for u in scripts), scripts
    assert all(u.startswith(("/", "#", "?")) and not u.startswith("//") for u in links), links
    # the named queries' panel and forms stay
    assert 'id="named-queries"' in text and 'id="named-form"' in text and 'id="query"' in text


@pytest.mark.parametrize("library,name,media_type", FILES)
@needs_vendor
def test_vendored_result_libraries_are_served_with_their_types(client, library, name, media_type):
    response = client.get(f"/-/vendor/{library}/{name}")
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = response.get_data()
    assert len(body) > 10_000
    assert b"//cdn" not in body.lower() and b"@import" not in body  # nothing more to fetch


@pytest.mark.parametrize("name", ["query-results.js", "ckg.js", "ckg.css"])
def test_page_scripts_are_served(client, name):
    response = client.get(f"/static/{name}")
    assert response.status_code == 200
    assert response.mimetype == ("text/css" if name.endswith(".css") else "text/javascript")


def test_only_the_listed_files_of_the_result_libraries_are_served(client):
    for path in ("/-/vendor/datatables/dataTables.js", "/-/vendor/datatables/package.json",
                 "/-/vendor/datatables/..%2F..%2Fdatatables.net%2Fpackage.json",
                 "/-/vendor/datatables-css/dataTables.dataTables.css", "/-/vendor/datatables-css/dataTables.min.js"):
        assert client.get(path).status_code == 404, path


def test_missing_library_is_a_404_saying_how_to_install_it(client, monkeypatch, tmp_path):
    monkeypatch.setattr(pages, "node_modules", lambda: [tmp_path])
    response = client.get("/-/vendor/datatables/dataTables.min.js")
    assert response.status_code == 404 and b"make install" in response.get_data()
    assert client.get("/").status_code == 200  # the page still works: its results are then a plain paged table
