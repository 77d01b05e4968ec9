"""The similar-paper engine behind the endpoint: ``/api/papers/<paper>/similar``, the similarity
SPARQL functions, the paper page, and a new training run picked up by a running server."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from ckg.embed import Index, train
from ckg.embed.config import TrainConfig
from ckg.etl.build import update

from conftest import EMBED_TEST_CONFIG, copy_store
from serving import app_on, error, ok_json

pytestmark = pytest.mark.slow  # trains embeddings (the session's trained demo store)

SPARQL_JSON = "application/sparql-results+json"


@pytest.fixture(scope="module")
def index(trained_demo_store):
    return Index.load(trained_demo_store[0])


@pytest.fixture(scope="module")
def app(trained_demo_store):
    with app_on(trained_demo_store[0], {"engines": 1, "max_rows": 100}) as app:
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


def select(client, sparql: str) -> list[dict]:
    r = client.post("/sparql", data={"query": sparql}, headers={"Accept": SPARQL_JSON})
    assert r.status_code == 200, r.get_data(as_text=True)
    return json.loads(r.get_data(as_text=True))["results"]["bindings"]


@pytest.mark.parametrize("mode", ["combined", "text", "graph"])
def test_similar_api_gives_the_engine_s_neighbours(client, index, mode):
    paper = index.papers[4]
    body = ok_json(client.get(f"/api/papers/{paper}/similar?k=7&mode={mode}"))
    expected = index.similar(paper, k=7, mode=mode)
    assert body["paper"] == paper and body["mode"] == mode and body["k"] == 7 and body["run"] == index.run_id
    assert body["iri"] == f"https://w3id.org/ckg/resource/paper/{paper}"
    assert [n["paper"] for n in body["similar"]] == [n.paper for n in expected]
    assert [n["rank"] for n in body["similar"]] == list(range(1, 8))
    assert [n["score"] for n in body["similar"]] == pytest.approx([n.score for n in expected], abs=1e-6)
    assert all(n["title"] == index.run.titles[index.rows[n["paper"]]] for n in body["similar"])
    assert paper not in {n["paper"] for n in body["similar"]}


def test_similar_api_answers_as_its_openapi_document_says(client, index):
    doc = ok_json(client.get("/api/openapi.json"))
    operation = doc["paths"]["/api/papers/{paper}/similar"]["get"]
    schema = doc["components"]["schemas"]["Similar"]
    r = client.get(f"/api/papers/{index.papers[0]}/similar?k=2")
    assert r.content_type in operation["responses"]["200"]["content"]
    body = r.get_json()
    assert set(body) == set(schema["properties"])
    assert set(body["similar"][0]) == set(schema["properties"]["similar"]["items"]["properties"])
    assert {p["name"] for p in operation["parameters"]} == {"paper", "k", "mode"}


def test_similar_api_defaults_and_iri(client, index):
    paper = index.papers[9]
    iri = f"https://w3id.org/ckg/resource/paper/{paper}"
    by_iri = ok_json(client.get(f"/api/papers/{quote(iri, safe='')}/similar"))
    by_key = ok_json(client.get(f"/api/papers/{paper}/similar"))
    assert by_iri == by_key and by_key["mode"] == "combined" and len(by_key["similar"]) == 10


@pytest.mark.parametrize("query, status, message", [
    ("?mode=fancy", 400, "parameter 'mode' must be one of combined, text, graph, got 'fancy'"),
    ("?k=0", 400, "parameter 'k' must be an integer from 1 to 1000, got 0"),
    ("?k=ten", 400, "parameter 'k' must be an integer from 1 to 1000, got 'ten'"),
    ("?n=3", 400, "unknown parameter(s) n; /api/papers/<paper>/similar takes k, mode"),
])
def test_similar_api_bad_parameters(client, index, query, status, message):
    assert error(client.get(f"/api/papers/{index.papers[0]}/similar{query}"), status) == message


def test_similar_api_unknown_paper_is_404(client):
    message = error(client.get("/api/papers/nosuchpaper/similar"), 404)
    assert message == "no paper 'nosuchpaper' in this store"


def test_similarity_functions_are_the_engine_s_scores(client, index):
    a, b, c = index.papers[2], index.papers[11], index.papers[30]
    iri = "https://w3id.org/ckg/resource/paper/{}".format
    rows = select(client, f"""SELECT ?b (ckg:similarity(?a, ?b) AS ?s) (ckg:textSimilarity(?a, ?b) AS ?t)
        (ckg:graphSimilarity(?a, ?b) AS ?g) WHERE {{ VALUES ?b {{ <{iri(b)}> <{iri(c)}> }}
        BIND(<{iri(a)}> AS ?a) }} ORDER BY ?b""")
    assert [r["b"]["value"] for r in rows] == sorted([iri(b), iri(c)])
    for r in rows:
        other = r["b"]["value"].rsplit("/", 1)[1]
        for var, mode in (("s", "combined"), ("t", "text"), ("g", "graph")):
            assert r[var]["datatype"] == "http://www.w3.org/2001/XMLSchema#double"
            assert float(r[var]["value"]) == pytest.approx(index.similarity(a, other, mode), abs=1e-6)


def test_ranking_by_similarity_in_sparql_is_the_similar_papers(client, index):
    paper = index.papers[20]
    rows = select(client, f"""SELECT ?other (ckg:textSimilarity(?paper, ?other) AS ?s) WHERE {{
        BIND(<https://w3id.org/ckg/resource/paper/{paper}> AS ?paper) ?other a ckg:Paper
        FILTER(?other != ?paper) }} ORDER BY DESC(?s) LIMIT 5""")
    assert [r["other"]["value"] for r in rows] == [n.iri for n in index.similar(paper, k=5, mode="text")]


def test_similarity_of_a_non_paper_is_unbound(client, index):
    rows = select(client, f"""SELECT (ckg:similarity(<https://w3id.org/ckg/resource/paper/{index.papers[0]}>, ?x) AS ?s)
        WHERE {{ VALUES ?x {{ <https://example.org/not-a-paper> "text" }} }}""")
    assert rows == [{}, {}]


def test_about_says_which_run_answers(client, index):
    store = ok_json(client.get("/-/about.json"))["store"]
    assert store["similarity"] is True and store["embeddings_run"] == index.run_id


def test_paper_page_lists_similar_papers(client, index):
    paper = index.papers[4]
    page = client.get(f"/papers/{paper}").get_data(as_text=True)
    assert "<h2>Similar papers</h2>" in page
    first = index.similar(paper, k=10, mode="combined")
    for n in first:
        assert f'<a href="/papers/{n.paper}">' in page
    # in the order of similarity, within the section (a similar paper may also be cited above it)
    section = page[page.index("<h2>Similar papers</h2>"):]
    assert section.index(f'/papers/{first[0].paper}"') < section.index(f'/papers/{first[-1].paper}"')
    assert f"/api/papers/{paper}/similar" in page


def test_without_embeddings_similar_says_how_to_get_them(demo_store):
    with app_on(demo_store, {"engines": 1}) as app:
        client = app.test_client()
        paper = ok_json(client.get("/api/queries/most-cited-papers?_limit=1"))["rows"][0]["paper"]
        key = paper.rsplit("/", 1)[1]
        message = error(client.get(f"/api/papers/{key}/similar"), 409)
        assert message.startswith("this store has no embeddings yet: they are made by `ckg train`")
        assert str(demo_store) not in message  # no server path in a public answer
        assert "nosuchpaper" in error(client.get("/api/papers/nosuchpaper/similar"), 404)
        page = client.get(f"/papers/{key}").get_data(as_text=True)
        assert "<h2>Similar papers</h2>" in page and "this store has no embeddings yet" in page
        rows = select(client, f"SELECT (ckg:similarity(<{paper}>, <{paper}>) AS ?s) WHERE {{}}")
        assert rows == [{}]
        assert ok_json(client.get("/-/about.json"))["store"]["similarity"] is False


def test_a_server_picks_up_new_papers_and_a_new_training_run(trained_demo_store, demo_releases, tmp_path):
    store = copy_store(trained_demo_store[0], tmp_path / "store")
    first = Index.load(store)
    with app_on(store, {"engines": 1}) as app:
        client = app.test_client()
        assert ok_json(client.get("/-/about.json"))["store"]["embeddings_run"] == first.run_id
        update(store, [demo_releases[1]], release="demo-2")
        papers = {r["p"]["value"].rsplit("/", 1)[1] for r in select(client, "SELECT ?p WHERE { ?p a ckg:Paper }")}
        added = sorted(papers - set(first.rows))
        assert added, "release 2 of the demo corpus adds papers"
        message = error(client.get(f"/api/papers/{added[0]}/similar"), 409)
        assert f"paper {added[0]} is in this store but not in the embeddings of run {first.run_id}" in message
        assert str(store) not in message
        second = train(store, TrainConfig().override(EMBED_TEST_CONFIG))
        assert ok_json(client.get("/-/about.json"))["store"]["embeddings_run"] == second.run_id
        body = ok_json(client.get(f"/api/papers/{added[0]}/similar?k=3"))
        assert body["run"] == second.run_id
        assert [n["paper"] for n in body["similar"]] == [n.paper for n in Index.load(store).similar(added[0], k=3)]
