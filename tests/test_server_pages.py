"""The HTML pages for people: Swagger UI at /api/docs, /-/about, the endpoint's page for browsers,
the entity pages (papers, concepts, authors, topics, institutions) and their JSON twins.

A Flask test client on a store of the demo corpus (concepts, topics, authors, institutions and
citations made by the build)."""

from __future__ import annotations

import html
import json
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
    # ... and as a network: the concept in the middle, each co-occurring one linked to its page
    if data["cooccurring"]:
        import re as _re

        network = json.loads(html.unescape(_re.search(r"data-network='([^']*)'", text).group(1)))
        assert network["center"] == {"label": data["label"], "papers": data["paper_count"]}
        assert [(n["label"], n["papers"]) for n in network["nodes"]] == [(c["label"], c["papers"])
                                                                         for c in data["cooccurring"]]
        assert network["nodes"][0]["href"] == f"/concepts/{data['cooccurring'][0]['key']}"


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
    _check_top_topics(client, data, text, f"?paper ckg:authoredBy <{data['iri']}>")


def _check_top_topics(client, data, text, papers):
    """An author's or institution's top topics: counted as SPARQL counts them, linked to their pages."""
    assert data["top_topics"]
    for t in data["top_topics"]:
        assert f"/topics/{t['key']}" in hrefs(text)
        n = client.get("/sparql?query=" + quote(
            f"SELECT (COUNT(DISTINCT ?paper) AS ?n) WHERE {{ {papers} . ?paper ckg:associatedTopic <{t['iri']}> }}"),
            headers={"Accept": "application/sparql-results+json"}).get_json()["results"]["bindings"][0]["n"]["value"]
        assert t["papers"] == int(n)
    counts = [t["papers"] for t in data["top_topics"]]
    assert counts == sorted(counts, reverse=True)


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
    assert all(f"/concepts/{c['key']}" in hrefs(text) for c in data["top_concepts"])
    _check_top_topics(client, data, text,
                      f"?authorship ckg:statedAffiliation <{data['iri']}> ; ckg:annotatedSource ?paper")
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


# -- a paper's neighbourhood graph ---------------------------------------------------------------

def graph_data(text: str) -> dict:
    import json

    raw = re.search(r"<figure class=\"chart neighbourhood\" data-chart=\"neighbourhood\" data-graph='([^']*)'>", text).group(1)
    return json.loads(html.unescape(raw))


def test_paper_page_draws_its_neighbourhood(client, busy_paper):
    key, record = busy_paper
    text = page(client.get(f"/papers/{key}"))
    graph = graph_data(text)
    assert graph == client.get(f"/papers/{key}/neighbourhood.json").get_json()  # the page's data is the route's
    assert client.get(f"/papers/{key}.json").get_json() == client.get(f"/api/papers/{key}").get_json()  # unchanged
    centre = graph["nodes"][0]
    assert (centre["id"], centre["relation"], centre["href"]) == (key, "paper", f"/papers/{key}")
    by_relation = {r: {n["iri"] for n in graph["nodes"] if r in n["relations"]} for r in ("reference", "cited_by")}
    assert by_relation["reference"] == {p["iri"] for p in record["references"][:pages.NEIGHBOURS]}
    assert by_relation["cited_by"] == {p["iri"] for p in record["cited_by"][:pages.NEIGHBOURS]}
    assert graph["counts"]["reference"] == record["counts"]["references"]
    assert graph["counts"]["cited_by"] == record["counts"]["cited_by"]
    ids = [n["id"] for n in graph["nodes"]]
    assert len(ids) == len(set(ids))  # each paper once, however many relations it has
    for link in graph["links"]:
        assert key in (link["source"], link["target"]) and {link["source"], link["target"]} <= set(ids)
        if link["relation"] == "cited_by":
            assert link["target"] == key  # the citing paper points at this one
    for node in graph["nodes"][1:]:
        assert node["href"] == f"/papers/{node['key']}" and node["relation"] == node["relations"][0]
    assert graph["counts"]["similar"] == 0 and graph["similar_note"]  # this store has no embeddings: the page says why
    assert 'data-chart="neighbourhood"' in text and f'href="/papers/{key}/neighbourhood.json"' in text
    assert f"cites {record['counts']['references']}" in text and f"cited by {record['counts']['cited_by']}" in text
    if VENDOR:
        assert "/-/vendor/echarts/echarts.min.js" in srcs(text)
    assert "/static/charts.js" in srcs(text)


def test_neighbourhood_is_capped_and_says_so(client, busy_paper, monkeypatch):
    key, record = busy_paper
    cited = max(record["counts"]["references"], record["counts"]["cited_by"])
    assert cited >= 2
    monkeypatch.setattr(pages, "NEIGHBOURS", 1)
    graph = client.get(f"/papers/{key}/neighbourhood.json").get_json()
    assert graph["limit"] == 1
    assert graph["shown"]["reference"] <= 1 and graph["shown"]["cited_by"] <= 1
    assert graph["counts"]["reference"] == record["counts"]["references"]
    text = page(client.get(f"/papers/{key}"))
    assert graph_data(text)["shown"] == graph["shown"]
    assert "drawn)" in text  # "(1 drawn)" or "(1 newest drawn)"
    assert client.get("/papers/nope/neighbourhood.json").status_code == 404


def test_neighbourhood_of_a_trained_store_has_similar_papers():
    similar = {"paper": "a", "similar": [{"paper": "b", "iri": R + "paper/b", "title": "B", "score": 0.9, "rank": 1},
                                         {"paper": "c", "iri": R + "paper/c", "title": "C", "score": 0.8, "rank": 2}]}
    record = {"key": "a", "iri": R + "paper/a", "title": "A", "year": 2020, "counts": {"references": 1, "cited_by": 0},
              "references": [{"key": "b", "iri": R + "paper/b", "title": "B", "year": 2019}], "cited_by": []}
    from flask import Flask

    app = Flask(__name__)
    app.register_blueprint(pages.bp)
    with app.test_request_context():
        graph = pages.neighbourhood(record, similar)
    assert [(n["id"], n["relations"]) for n in graph["nodes"]] == [("a", ["paper"]), ("b", ["reference", "similar"]),
                                                                  ("c", ["similar"])]
    assert graph["nodes"][1]["relation"] == "reference" and graph["nodes"][2]["score"] == 0.8
    assert [(l["source"], l["target"], l["relation"]) for l in graph["links"]] == [
        ("a", "b", "reference"), ("a", "b", "similar"), ("a", "c", "similar")]
    assert graph["counts"] == {"reference": 1, "cited_by": 0, "similar": 2}


# -- the corpus overview -----------------------------------------------------------------------------

def sparql_count(client, query: str) -> int:
    rows = client.get("/sparql?query=" + quote(query), headers={"Accept": "application/sparql-results+json"}).get_json()
    return int(rows["results"]["bindings"][0]["n"]["value"])


def test_overview_counts_are_the_stores(client):
    data = client.get("/-/overview.json").get_json()
    counts = data["counts"]
    assert list(counts) == [k for k, _ in pages.OVERVIEW_COUNTS]
    for key, query in {
        "papers": "?x a ckg:Paper", "with_full_text": "?x ckg:hasFullText true", "authors": "?x a ckg:Author",
        "institutions": "?x a ckg:Institution", "concepts": "?x a ckg:Concept", "topics": "?x a ckg:Topic",
        "citation_edges": "?x ckg:cites ?y",
    }.items():
        assert counts[key] == sparql_count(client, f"SELECT (COUNT(*) AS ?n) WHERE {{ {query} }}"), key
    assert counts["triples"] == client.get("/-/about.json").get_json()["store"]["triples"]
    assert data["release"] == "demo-1" and data["mode"] == "build"
    # growth: the papers first seen in each release are the store's provenance
    assert [(r["release"], r["mode"], r["new"], r["first_seen"], r["papers"]) for r in data["releases"]] == [
        ("demo-1", "build", counts["papers"], counts["papers"], counts["papers"])]
    assert data["releases"][0]["first_seen"] == sparql_count(
        client, 'SELECT (COUNT(?p) AS ?n) WHERE { ?p ckg:firstSeenIn/ckg:releaseLabel "demo-1" }')
    # papers per year, as the entity pages count them
    years = sparql_count(client, "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?p ckg:publicationYear 2020 }")
    assert {r["year"]: r["papers"] for r in data["papers_per_year"]}.get(2020, 0) == years
    assert sum(r["papers"] for r in data["papers_per_year"]) == counts["papers"]
    # concepts and topics by their materialised counts, most papers first
    top = client.get("/api/queries/top-concepts?_limit=15").get_json()["rows"]
    assert [c["iri"] for c in data["top_concepts"]] == [r["concept"] for r in top]
    assert [c["papers"] for c in data["top_concepts"]] == [r["papers"] for r in top]
    topics = client.get("/api/queries/topics").get_json()["rows"]
    assert [t["iri"] for t in data["topics"]] == [r["topic"] for r in topics] and len(topics) == counts["topics"]
    assert data["embeddings"] is None  # no `ckg train` on this store


def test_overview_page_links_and_charts(client):
    data = client.get("/-/overview.json").get_json()
    text = page(client.get("/-/overview"))
    links = hrefs(text)
    assert "/-/overview" in links and '<link rel="alternate" type="application/json" href="/-/overview.json">' in text
    assert "/-/overview" in hrefs(page(client.get("/")))  # the header's nav links it
    for key, value in data["counts"].items():
        assert re.search(rf'<div data-count="{key}"><span class="number">{value:,}</span>', text), key
    assert year_table(text) == data["papers_per_year"]
    assert "data-releases='" in text and "<td>demo-1</td><td>build</td>" in text
    for c in data["top_concepts"]:
        assert f"/concepts/{c['key']}" in links
    for t in data["topics"]:
        assert f"/topics/{t['key']}" in links
    assert "ckg train" in text and "ckg evaluate" in text  # no embeddings: how to make the plot
    assert client.get("/-/overview/projection.png").status_code == 404
    assert "/static/charts.js" in srcs(text)


def test_overview_is_read_once_per_release(app, client, monkeypatch):
    pages._overview_cache.clear()
    calls = []
    real = pages.run_job

    def counting(op, params):
        calls.append(op)
        return real(op, params)

    monkeypatch.setattr(pages, "run_job", counting)
    first = client.get("/-/overview.json").get_json()
    assert client.get("/-/overview.json").get_json() == first and page(client.get("/-/overview"))
    assert calls == ["overview"]  # the store is read once; the manifests give the rest


def test_overview_shows_the_current_runs_projection_only(app, client, monkeypatch, tmp_path):
    store = tmp_path / "store"
    run = store / "embeddings" / "runs" / "20200101T000000.000Z-abcdef"
    (run / "evaluation").mkdir(parents=True)
    (store / "embeddings" / "current").write_text(run.name + "\n")
    (run / "manifest.json").write_text('{"text": {"model": "t"}, "graph": {"model": "g"}}')
    assert pages.projection_file(store) is None
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    (run / "evaluation" / "projection.png").write_bytes(png)
    (run / "entities.tsv").write_text("secret")
    assert pages.projection_file(store) == run / "evaluation" / "projection.png"
    server = app.extensions["ckg"]
    import dataclasses

    monkeypatch.setattr(server, "config", dataclasses.replace(server.config, store=store))
    r = client.get("/-/overview/projection.png")
    assert (r.status_code, r.mimetype, r.get_data()) == (200, "image/png", png)
    assert client.get("/-/overview/entities.tsv").status_code == 404
    assert client.get("/-/overview/projection.png/../entities.tsv").status_code == 404
    with app.test_request_context():
        assert pages.embedding_run(store) == {"run": run.name, "finished_at": None, "text_model": "t",
                                              "graph_model": "g", "projection": "/-/overview/projection.png"}


def test_growth_follows_the_runs_since_the_last_build(tmp_path):
    import json

    history = tmp_path / "manifests"
    history.mkdir()

    def run(stamp, mode, release, new, papers, removed=0):
        (history / f"{stamp}-{mode}-x.json").write_text(json.dumps({
            "mode": mode, "release": release, "finished_at": stamp,
            "counts": {"papers_in_store": papers, "changes": {"new": new, "changed": 1, "removed": removed}}}))

    run("20200101T000000", "build", "r0", 5, 5)  # a store built over
    run("20200201T000000", "build", "r1", 10, 10)
    run("20200208T000000", "update", "r2", 4, 13, removed=1)
    run("20200209T000000", "update", "r2", 1, 14)  # the same release again: one row
    run("20200215T000000", "update", "r3", 2, 15)
    growth = pages.release_growth(tmp_path)
    assert [(r["release"], r["mode"], r["new"], r["papers"]) for r in growth] == [
        ("r1", "build", 10, 10), ("r2", "update", 5, 14), ("r3", "update", 2, 15)]
    assert growth[1]["removed"] == 1 and growth[1]["changed"] == 2
    shown = pages._with_first_seen(growth, {"r1": 9, "r2": 4, "r3": 2, "r-old": 1})
    assert [(r["release"], r["first_seen"]) for r in shown] == [("r-old", 1), ("r1", 9), ("r2", 4), ("r3", 2)]
    assert shown[0]["mode"] is None
    assert pages.release_growth(tmp_path / "nowhere") == []


def test_concept_page_shows_its_mesh_tree_position(client):
    """A MeSH concept's tree numbers (ckg:meshTreeNumber, from the vocabulary) and, for each, its
    ancestors, linked to their pages where the store has them."""
    rows = client.get("/sparql?query=" + quote(
        "SELECT ?c ?t WHERE { ?c ckg:meshTreeNumber ?t } ORDER BY DESC(STRLEN(?t)) ?c LIMIT 1"),
        headers={"Accept": "application/sparql-results+json"}).get_json()["results"]["bindings"]
    assert rows, "the demo vocabulary's MeSH descriptors have tree numbers"
    iri, number = rows[0]["c"]["value"], rows[0]["t"]["value"]
    key = iri.rsplit("/", 1)[1]
    data = client.get(f"/concepts/{key}.json").get_json()
    text = page(client.get(f"/concepts/{key}"))
    tree = next(t for t in data["mesh_tree"] if t["number"] == number)
    parts = number.split(".")
    assert [a["number"] for a in tree["path"]] == [".".join(parts[:i]) for i in range(1, len(parts))]
    assert f"<code>{number}</code>" in text
    for ancestor in tree["path"]:
        if ancestor.get("iri"):  # an ancestor the store holds is a link to its page
            assert f"/concepts/{ancestor['key']}" in hrefs(text)
