"""The HTML pages for people: Swagger UI at /api/docs, /-/about, the endpoint's page for browsers,
the entity pages (papers, concepts, authors, topics, institutions) and their JSON twins.

A Flask test client on a store of the demo corpus (concepts, topics, authors, institutions and
citations made by the build)."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

import pytest

from serving import app_on

from ckg.server import pages

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
VENDOR = pages.vendored("swagger-ui", "swagger-ui-bundle.js") is not None and \
    pages.vendored("echarts", "echarts.min.js") is not None
needs_vendor = pytest.mark.skipif(not VENDOR, reason="swagger-ui-dist and echarts are not installed (`make install`, npm)")


@pytest.fixture(scope="module")
def app(demo_store):
    with app_on(demo_store, {"engines": 1}) as app:
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


def page(response, status: int = 200) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    assert response.content_type == "text/html; charset=utf-8"
    return response.get_data(as_text=True)


def hrefs(text: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]*)"', text)]


def srcs(text: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'src="([^"]*)"', text)]


# -- Swagger UI ------------------------------------------------------------------------------

@needs_vendor
def test_api_docs_is_swagger_ui_served_from_this_server(client):
    text = page(client.get("/api/docs"))
    assert "SwaggerUIBundle(" in text and 'id="swagger-ui"' in text and 'data-spec="/api/openapi.json"' in text
    scripts, links = srcs(text), hrefs(text)
    assert "/-/vendor/swagger-ui/swagger-ui-bundle.js" in scripts
    assert "/-/vendor/swagger-ui/swagger-ui.css" in links
    assert all(s.startswith("/") and not s.startswith("//") for s in scripts + links if not s.startswith("#")), \
        "every asset is local (the page works offline)"
    for url, media_type in (("/-/vendor/swagger-ui/swagger-ui-bundle.js", "text/javascript"),
                            ("/-/vendor/swagger-ui/swagger-ui-standalone-preset.js", "text/javascript"),
                            ("/-/vendor/swagger-ui/swagger-ui.css", "text/css"),
                            ("/-/vendor/echarts/echarts.min.js", "text/javascript")):
        r = client.get(url)
        assert (r.status_code, r.mimetype) == (200, media_type), url
        assert len(r.get_data()) > 10000
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/api/openapi.json").status_code == 200


def test_vendor_serves_only_the_listed_files(client):
    assert client.get("/-/vendor/swagger-ui/package.json").status_code == 404
    assert client.get("/-/vendor/swagger-ui/..%2F..%2Fpackage.json").status_code == 404
    assert client.get("/-/vendor/nothing/x.js").status_code == 404


def test_api_docs_without_swagger_ui_says_to_run_make_install(client, monkeypatch, tmp_path):
    monkeypatch.setattr(pages, "node_modules", lambda: [tmp_path])
    text = page(client.get("/api/docs"), 503)
    assert "make install" in text and "/api/openapi.json" in text
    assert client.get("/-/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 404


def test_api_docs_is_linked_from_the_api_index_and_the_pages(client):
    index = client.get("/api").get_json()
    assert index["docs"] == "http://localhost/api/docs"
    assert "/api/docs" in hrefs(page(client.get("/")))


def test_header_has_the_search_box(client):
    text = page(client.get("/"))
    assert '<form class="search" action="/search" method="get" role="search">' in text
    assert '<input type="search" name="q" placeholder="Search papers" aria-label="Search papers">' in text


# -- /-/about ------------------------------------------------------------------------------

def test_about_shows_values_not_python_reprs(client):
    text = page(client.get("/-/about"))
    body = text.split("<main>", 1)[1]
    assert "None" not in body and "{'" not in body and "['" not in body and "True" not in body
    assert "—" in body  # an unset setting (update_token, sparql_backend)
    assert '<dl class="nested">' in body  # the last run, a mapping
    assert "demo-1" in body  # its release
    assert ">mode</dt>" in body
    data = client.get("/-/about.json").get_json()
    assert data["store"]["last_run"]["release"] == "demo-1"


# -- the endpoint's page -----------------------------------------------------------------------

def test_a_browser_gets_a_page_about_the_endpoint(client):
    r = client.get("/sparql", headers={"Accept": BROWSER})
    text = page(r)
    assert r.headers["Vary"] == "Accept"
    assert "ckg:citationCount" in text and "ckg:pageRank" in text  # the functions
    assert "SPARQL11Query" in text and "BasicFederatedQuery" in text
    assert "text/turtle" in text and "application/sparql-results+json" in text  # the formats
    assert "/" in hrefs(text)  # the query page
    assert "/sparql?format=text/turtle" in hrefs(text) or "/sparql?format=text%2Fturtle" in hrefs(text)
    assert "https://w3id.org/ckg/resource/graph/citations" in text


@pytest.mark.parametrize("accept, media_type", [
    (None, "text/turtle"), ("*/*", "text/turtle"), ("text/turtle", "text/turtle"),
    ("application/rdf+xml", "application/rdf+xml"), ("application/rdf+xml, text/html;q=0.5", "application/rdf+xml"),
    ("text/turtle;q=0.9, text/html", "text/html"), ("text/html, */*;q=0.1", "text/html")])
def test_rdf_clients_still_get_the_service_description(client, accept, media_type):
    r = client.get("/sparql", headers={"Accept": accept} if accept else {})
    assert (r.status_code, r.mimetype) == (200, media_type)
    r = client.get("/sparql?format=turtle", headers={"Accept": accept} if accept else {})
    assert (r.status_code, r.mimetype) == (200, "text/turtle")  # a format parameter is for RDF


# -- the entity pages ---------------------------------------------------------------------------

R = "https://w3id.org/ckg/resource/"


def first_row(client, name: str, **params) -> dict:
    query = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in params.items())
    body = client.get(f"/api/queries/{name}?{query}").get_json()
    assert body["rows"], (name, params)
    return body["rows"][0]


@pytest.fixture(scope="module")
def busy_paper(app):
    """The paper with the most concepts (and its record)."""
    client = app.test_client()
    rows = client.get("/sparql?query=" + quote(
        "SELECT ?paper (COUNT(?c) AS ?n) WHERE { ?paper ckg:associatedConcept ?c ; ckg:associatedTopic ?t ; "
        "bibo:doi ?doi ; bibo:pmid ?pmid } GROUP BY ?paper ORDER BY DESC(?n) ?paper LIMIT 1"),
        headers={"Accept": "application/sparql-results+json"}).get_json()["results"]["bindings"]
    key = rows[0]["paper"]["value"].rsplit("/", 1)[1]
    return key, client.get(f"/papers/{key}.json").get_json()


def test_paper_page_groups_concepts_by_kind_most_confident_first(client, busy_paper):
    key, record = busy_paper
    text = page(client.get(f"/papers/{key}"))
    confidence = {c["iri"]: c["weights"]["ckg:confidence"] for c in record["concepts"]}
    groups = re.findall(r'<section class="concept-group[^"]*" data-kind="(\w*)">(.*?)</section>', text, re.S)
    assert len(groups) >= 2
    shown = []
    for kind, body in groups:
        chips = re.findall(r'<a class="chip" href="/concepts/([^"]+)" title="confidence ([0-9.]+)[^"]*">', body)
        values = [float(v) for _, v in chips]
        assert values == sorted(values, reverse=True), kind  # most confident first
        for concept_key, value in chips:
            assert confidence[R + "concept/" + concept_key] == float(value)
            shown.append(concept_key)
    assert sorted(shown) == sorted(c["iri"].rsplit("/", 1)[1] for c in record["concepts"])  # each once
    # the kinds are the concepts' own
    one_kind, body = groups[0]
    concept_key = re.search(r'href="/concepts/([^"]+)"', body).group(1)
    assert client.get(f"/concepts/{concept_key}.json").get_json()["kind"] == one_kind


def test_paper_page_links_identifiers_people_and_topics(client, busy_paper):
    key, record = busy_paper
    text = page(client.get(f"/papers/{key}"))
    links = hrefs(text)
    ids = record["identifiers"]
    assert f"https://doi.org/{ids['doi']}" in links
    assert f"https://pubmed.ncbi.nlm.nih.gov/{ids['pmid']}/" in links
    if "pmcid" in ids:
        assert f"https://www.ncbi.nlm.nih.gov/pmc/articles/{ids['pmcid']}/" in links
    for author in record["authors"]:
        assert f"/authors/{author['key']}" in links
        for institution in author["institutions"]:
            assert "/institutions/" + quote(institution["iri"].rsplit("/", 1)[1], safe="_-.~()'!*,;=:@") in links
    bars = re.findall(r'<a href="/topics/([^"]+)">[^<]*</a></span>\s*<span class="bar"[^>]*aria-valuenow="([0-9.]+)"', text)
    assert [k for k, _ in bars] and {R + "topic/" + k for k, _ in bars} == {t["iri"] for t in record["topics"]}
    values = [float(v) for _, v in bars]
    assert values == sorted(values, reverse=True)
    assert {t["iri"]: t["weights"]["ckg:probability"] for t in record["topics"]} == \
        {R + "topic/" + k: float(v) for k, v in bars}


def year_table(text: str) -> list[dict]:
    """The papers-per-year data of a page's chart (its data attribute) and its table agree: the data."""
    raw = re.search(r"data-years='([^']*)'", text).group(1)
    import json

    data = json.loads(html.unescape(raw))
    table = re.search(r'<table class="years">(.*?)</table>', text, re.S).group(1)
    cells = [re.findall(r"<td>([^<]*)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)]
    assert [str(r["year"]) if r["year"] is not None else "no year" for r in data] == cells[0]
    assert [str(r["papers"]) for r in data] == cells[1]
    return data


def test_concept_page_and_twin(client, busy_paper):
    key, record = busy_paper
    concept = max(record["concepts"], key=lambda c: c["weights"]["ckg:confidence"])
    concept_key = concept["iri"].rsplit("/", 1)[1]
    data = client.get(f"/concepts/{concept_key}.json").get_json()
    text = page(client.get(f"/concepts/{concept_key}"))
    assert f"<h1>{html.escape(data['label'])}</h1>" in text
    assert data["kind_label"] in text
    assert year_table(text) == data["papers_per_year"]
    assert sum(y["papers"] for y in data["papers_per_year"]) == data["paper_count"] >= 1
    assert f'href="/concepts/{concept_key}.json"' in text  # the twin
    links = hrefs(text)
    for vocabulary in data["vocabularies"]:
        if vocabulary["url"]:
            assert vocabulary["url"] in links
    if data["mesh_ids"]:
        assert f"https://meshb.nlm.nih.gov/record/ui?ui={data['mesh_ids'][0]}" in links
    # the most-cited papers are /api/rank's
    ranking = client.get(f"/api/rank?concept={concept_key}&k=10").get_json()["papers"]
    assert data["most_cited"] == ranking
    shown = [h for h in links if h.startswith("/papers/")]
    assert shown[:len(ranking)] == [f"/papers/{p['key']}" for p in ranking]
    # co-occurring concepts: as many papers with both as the named query counts
    for other in data["cooccurring"][:3]:
        both = client.get("/sparql?query=" + quote(
            f"SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {{ ?p ckg:associatedConcept <{data['iri']}> , <{other['iri']}> }}"),
            headers={"Accept": "application/sparql-results+json"}).get_json()["results"]["bindings"][0]["n"]["value"]
        assert other["papers"] == int(both)
        assert f"/concepts/{other['key']}" in links
    counts = [c["papers"] for c in data["cooccurring"]]
    assert counts == sorted(counts, reverse=True)


def test_author_page_and_twin(client, busy_paper):
    key, record = busy_paper
    author = record["authors"][0]
    data = client.get(f"/authors/{author['key']}.json").get_json()
    text = page(client.get(f"/authors/{author['key']}"))
    assert data["name"] == author["name"] and f"<h1>{html.escape(author['name'])}</h1>" in text
    named = client.get(f"/api/queries/author-papers?author={author['key']}").get_json()["rows"]
    assert [p["iri"] for p in data["papers"]] == list(dict.fromkeys(r["paper"] for r in named))
    assert key in [p["key"] for p in data["papers"]]
    for p in data["papers"]:
        assert f'<a href="/papers/{p["key"]}">{html.escape(p["title"])}</a> <span class="year">({p["year"]})</span>' in text
    assert year_table(text) == data["papers_per_year"]
    assert sum(y["papers"] for y in data["papers_per_year"]) == data["paper_count"] == len(data["papers"])
    coauthors = client.get(f"/api/queries/author-coauthors?author={author['key']}").get_json()["rows"]
    assert [a["iri"] for a in data["coauthors"]] == [r["coauthor"] for r in coauthors][:len(data["coauthors"])]
    for other in record["authors"][1:]:
        assert other["iri"] in {a["iri"] for a in data["coauthors"]}
        assert f"/authors/{other['key']}" in hrefs(text)
    assert data["top_concepts"] and all(f"/concepts/{c['key']}" in hrefs(text) for c in data["top_concepts"])


def test_topic_page_and_twin(client, busy_paper):
    key, record = busy_paper
    topic_key = record["topics"][0]["iri"].rsplit("/", 1)[1]
    data = client.get(f"/topics/{topic_key}.json").get_json()
    text = page(client.get(f"/topics/{topic_key}"))
    assert data["top_terms"] and all(f"<li>{html.escape(t)}</li>" in text for t in data["top_terms"])
    assert year_table(text) == data["papers_per_year"] and data["paper_count"] >= 1
    assert data["most_cited"] == client.get(f"/api/rank?topic={topic_key}&k=10").get_json()["papers"]
    for p in data["most_cited"]:
        assert f"/papers/{p['key']}" in hrefs(text)


def test_institution_page_and_twin(client, busy_paper):
    key, record = busy_paper
    institution = next(i for a in record["authors"] for i in a["institutions"])
    institution_key = institution["iri"].rsplit("/", 1)[1]
    data = client.get(f"/institutions/{institution_key}.json").get_json()
    text = page(client.get(f"/institutions/{institution_key}"))
    assert data["name"] == institution["name"] and key in [p["key"] for p in data["papers"]]
    assert year_table(text) == data["papers_per_year"]
    for a in data["authors"]:
        assert f"/authors/{a['key']}" in hrefs(text)
    assert {a["iri"] for a in record["authors"] if institution in a["institutions"]} <= {a["iri"] for a in data["authors"]}


def test_entity_pages_by_iri_404_and_resource_iris(client, busy_paper):
    key, record = busy_paper
    author = record["authors"][0]
    by_iri = client.get("/authors/" + quote(author["iri"], safe="") + ".json").get_json()
    assert by_iri == client.get(f"/authors/{author['key']}.json").get_json()
    for kind in ("concepts", "authors", "topics", "institutions"):
        assert "no " in page(client.get(f"/{kind}/nope"), 404)
        r = client.get(f"/{kind}/nope.json")
        assert (r.status_code, r.get_json()["status"]) == (404, 404)
    # a browser asking for the resource IRI gets the same page, with its RDF documents linked
    r = client.get(f"/resource/author/{author['key']}", headers={"Accept": BROWSER})
    text = page(r)
    assert r.headers["Vary"] == "Accept" and f"<h1>{html.escape(author['name'])}</h1>" in text
    assert f"/resource/author/{author['key']}.ttl" in hrefs(text)
    assert client.get(f"/resource/author/{author['key']}", headers={"Accept": "text/turtle"}).mimetype == "text/turtle"


def test_charts_say_when_echarts_is_missing(client, busy_paper, monkeypatch, tmp_path):
    author = busy_paper[1]["authors"][0]["key"]
    text = page(client.get(f"/authors/{author}"))
    if VENDOR:
        assert "/-/vendor/echarts/echarts.min.js" in srcs(text)
    assert "/static/charts.js" in srcs(text)
    monkeypatch.setattr(pages, "node_modules", lambda: [tmp_path])
    text = page(client.get(f"/authors/{author}"))
    assert not any("echarts" in s for s in srcs(text))  # the page works; charts.js says the library is missing
    assert '<table class="years">' in text
    script = client.get("/static/charts.js").get_data(as_text=True)
    assert "not installed" in script and "make install" in script and "http" not in script
