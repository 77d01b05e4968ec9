"""TREC-COVID co-relevance (`ckg evaluate --qrels`): exact figures on hand-made vectors whose
rankings are worked out below, the split rule, the cluster bootstrap, the store join by
ckg:cordUid, the CLI, and a real-data run on a slice of CORD-19 (April 2020) with NIST's qrels."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from ckg.embed import metrics
from ckg.embed.artifacts import EmbeddingRun, run_dir, set_current
from ckg.embed.config import SearchConfig
from ckg.embed.search import Index
from ckg.embed.trec import (CorelevanceConfig, QrelsError, corelevance, evaluate_qrels, format_table, rankers_for,
                            read_qrels, topic_split)

from conftest import copy_store

L3 = 1 / math.log2(3)  # the discount of rank 2


def unit(degrees: float) -> list[float]:
    return [math.cos(math.radians(degrees)), math.sin(math.radians(degrees))]


def hand_run(keys: list[str], text: list[float | None], graph: list[float | None] | None = None,
             run_id: str = "hand") -> EmbeddingRun:
    """A run whose papers are points on a circle (cosine = cos of the angle between them): the
    rankings are the angular distances. None: no vector in that part."""
    n = len(keys)
    text_mask = np.zeros((n, 3), bool)
    text_mask[:, 0] = [a is not None for a in text]
    t = np.array([unit(a) if a is not None else [0.0, 0.0] for a in text], np.float32)
    run = EmbeddingRun(list(keys), [f"title {k}" for k in keys], ["h"] * n, text=t,
                       text_parts=np.repeat(t[:, None, :], 3, axis=1) * text_mask[:, :, None], text_mask=text_mask)
    if graph is not None:
        run.graph = np.array([unit(a) if a is not None else [0.0, 0.0] for a in graph], np.float32)
        run.graph_mask = np.array([a is not None for a in graph])
    run.manifest = {"run": run_id, "config": {"search": {"index": "exact"}}}
    return run


# Six papers p0..p5 (cord_uids u0..u5). Text angles 0, 10, 40, 65, 115, 175 degrees, so by text:
#   p0 -> p1 p2 p3 p4 p5        p1 -> p0 p2 p3 p4 p5        p2 -> p3 p1 p0 p4 p5
#   p4 -> p3 p5 p2 p1 p0        p5 -> p4 p3 p2 p1 p0
# Graph angles 0, 90, 5, 180, 20 and none for p5: p0 -> p2 p4 p1 p3 (p5 has no graph vector).
KEYS = [f"p{i}" for i in range(6)]
UIDS = {f"p{i}": [f"u{i}"] for i in range(6)}
TEXT = [0, 10, 40, 65, 115, 175]
GRAPH = [0, 90, 5, 180, 20, None]
# topic 1 (validation): u0 relevant (2), u1 partially (1), u5 partially, u3 judged not relevant;
# topic 3 (report): u2 relevant, u4 partially, u0 not relevant; u9 is no paper of the run
JUDGMENTS = {1: {"u0": 2, "u1": 1, "u3": 0, "u5": 1, "u9": 2}, 3: {"u2": 2, "u4": 1, "u0": 0}}
CITATIONS = {"p3": 5, "p4": 2, "p0": 2}  # most cited: p3, then p0 and p4 (ties by key), then p1 p2 p5


@pytest.fixture(scope="module")
def hand_index() -> Index:
    return Index(hand_run(KEYS, TEXT, GRAPH))


def evaluate_hand(index: Index, **config) -> dict:
    cfg = CorelevanceConfig(**{"k": 2, **config})
    rankers, draws = rankers_for(index, CITATIONS, cfg)
    return corelevance(index.papers, JUDGMENTS, UIDS, rankers, cfg, draws=draws)


def per_query(result: dict, mode: str) -> dict[tuple[int, str], dict]:
    return {(q["topic"], q["paper"]): q[mode] for q in result["per_query"]}


def test_text_figures_worked_out_by_hand(hand_index):
    result = evaluate_hand(hand_index)
    got = per_query(result, "text")
    # (topic, query): (top 2, co-relevance, judged share, the judged others in ranked order -> nDCG@2)
    expected = {
        (1, "p0"): (0.5, 0.5, 1 / (1 + L3)),          # top p1 p2; judged p1(1) p3(0) p5(1): gains 1 0
        (1, "p1"): (0.5, 0.5, 2 / (2 + L3)),          # top p0 p2; judged p0(2) p3(0) p5(1): gains 2 0
        (1, "p5"): (0.0, 0.5, L3 / (2 + L3)),         # top p4 p3; judged p3(0) p1(1) p0(2): gains 0 1
        (3, "p2"): (0.0, 0.0, L3 / 1),                # top p3 p1; judged p0(0) p4(1): gains 0 1
        (3, "p4"): (0.0, 0.0, 1.0),                   # top p3 p5; judged p2(2) p0(0): gains 2 0
    }
    assert set(got) == set(expected)
    for query, (corel, judged, ndcg) in expected.items():
        assert got[query]["corelevance"] == corel and got[query]["judged"] == judged, query
        assert got[query]["ndcg"] == pytest.approx(ndcg, abs=1e-6), query
    text = result["modes"]["text"]
    assert text["split"] == "all" and text["queries"] == 5 and text["topics"] == 2 and text["queries_with_vector"] == 5
    assert text["corelevance"] == 0.2 and text["judged_share"] == 0.3
    assert text["ndcg_at_k"] == pytest.approx(np.mean([e[2] for e in expected.values()]), abs=1e-6)
    lo, hi = text["corelevance_ci95"]
    # the interval's ends: resamples of topic 3 alone (0) and of topic 1 alone (1/3)
    assert lo <= 0.2 <= hi and (lo, hi) == (0.0, round(1 / 3, 6))
    c = result["counts"]
    assert c["queries"] == 5 and c["topics_with_queries"] == 2 and c["queries_without_another_relevant_paper"] == 0
    assert c["judgments_on_run_papers"] == 7 and c["relevant_judgments_on_run_papers"] == 5  # u9 is not in the run


def test_graph_a_paper_without_a_vector_scores_zero_and_is_no_candidate(hand_index):
    result = evaluate_hand(hand_index)
    graph = per_query(result, "graph")
    assert graph[(1, "p5")] == {"corelevance": 0.0, "judged": 0.0, "ndcg": 0.0, "has_vector": False}
    # p0 by graph: p2 p4 p1 p3 (p5 is not rankable): top p2 p4; judged p1(1) p3(0): gains 1 0 against ideal 1 1
    assert graph[(1, "p0")] == {"corelevance": 0.0, "judged": 0.0, "ndcg": pytest.approx(1 / (1 + L3), abs=1e-6),
                                "has_vector": True}
    assert result["modes"]["graph"]["queries_with_vector"] == 4 and result["modes"]["graph"]["queries"] == 5


def test_references_most_cited_random_and_ideal(hand_index):
    result = evaluate_hand(hand_index, random_draws=4000)
    cited = per_query(result, "most_cited")
    # p3 p0 p4 p1 p2 p5 for everyone (the query itself left out)
    assert cited[(1, "p0")] == {"corelevance": 0.0, "judged": 0.5, "ndcg": pytest.approx(L3 / (1 + L3), abs=1e-6),
                                "has_vector": True}  # top p3 p4; judged p3(0) p1(1) p5(1)
    assert cited[(3, "p2")]["corelevance"] == 0.0 and cited[(3, "p2")]["judged"] == 0.5  # top p3 p0
    ideal = per_query(result, "ideal")
    assert ideal[(1, "p0")]["corelevance"] == 1.0 and ideal[(3, "p2")]["corelevance"] == 0.5  # one other relevant
    assert all(q["ndcg"] == 1.0 for q in ideal.values())
    assert result["modes"]["ideal"]["ndcg_at_k"] == 1.0
    # random: the average of the draws is close to the exact expectation (relevant others / other papers)
    rnd = per_query(result, "random")
    for (topic, paper), relevant in {(1, "p0"): 2, (1, "p5"): 2, (3, "p2"): 1}.items():
        assert rnd[(topic, paper)]["corelevance"] == pytest.approx(relevant / 5, abs=0.02)
    assert evaluate_hand(hand_index, random_draws=50)["modes"]["random"] == \
        evaluate_hand(hand_index, random_draws=50)["modes"]["random"]  # seeded


def test_split_halves_and_every_figure_names_its_split(hand_index):
    assert [t for t in range(1, 50, 2) if topic_split(t) == "validation"] == list(range(1, 50, 4))
    assert [t for t in range(1, 50, 2) if topic_split(t) == "report"] == list(range(3, 50, 4))
    validation = evaluate_hand(hand_index, split="validation")
    assert validation["topics"] == [1] and validation["counts"]["queries"] == 3
    assert validation["modes"]["text"]["corelevance"] == round(1 / 3, 6)
    report = evaluate_hand(hand_index, split="report")
    assert report["topics"] == [3] and report["modes"]["text"]["corelevance"] == 0.0
    for result, split in ((validation, "validation"), (report, "report")):
        assert result["split"] == split
        assert all(m["split"] == split for m in result["modes"].values())
        assert all(c["split"] == split for c in result["comparisons"].values())
        assert all(q["split"] == split for q in result["per_query"])
        assert all(row.startswith(split + " ") for row in format_table(result).splitlines()[2:-1])
    with pytest.raises(ValueError, match="topics split must be one of all, validation, report"):
        CorelevanceConfig(split="test").validate()


def test_a_topic_with_one_relevant_paper_has_no_query():
    index = Index(hand_run(KEYS, TEXT))
    cfg = CorelevanceConfig(k=2)
    rankers, draws = rankers_for(index, {}, cfg)
    result = corelevance(index.papers, {5: {"u0": 1, "u1": 0}, 1: {"u0": 1, "u1": 1}}, UIDS, rankers, cfg, draws=draws)
    assert result["counts"]["queries_without_another_relevant_paper"] == 1
    assert [(q["topic"], q["paper"]) for q in result["per_query"]] == [(1, "p0"), (1, "p1")]
    assert set(result["modes"]) == {"combined", "text", "random", "most_cited", "ideal"}  # no graph part


def test_cluster_bootstrap_resamples_topics():
    # two topics: one with 9 queries scoring 1, one with 1 query scoring 0: a query bootstrap gives a
    # tight interval around 0.9, the topic bootstrap knows there are only two topics
    values, clusters = [1.0] * 9 + [0.0], ["a"] * 9 + ["b"]
    assert metrics.cluster_bootstrap_ci(values, clusters) == (0.0, 1.0)
    assert metrics.bootstrap_ci(values)[0] > 0.5
    diff = metrics.paired_cluster_bootstrap([1, 1, 0], [0, 0, 0], ["a", "a", "b"])
    assert diff["mean_difference"] == pytest.approx(2 / 3, abs=1e-6) and diff["ci95"] == [0.0, 1.0]


def test_read_qrels(tmp_path):
    good = tmp_path / "q.txt"
    good.write_text("# comment\n1 0.5 u0 2\n\n1 4 u0 1\n3 1 u2 0\n", encoding="utf-8")
    assert read_qrels(good) == {1: {"u0": 2}, 3: {"u2": 0}}  # judged twice: the highest grade
    bad = tmp_path / "bad.txt"
    bad.write_text("1 0.5 u0 2\n1 u1 x\n", encoding="utf-8")
    with pytest.raises(QrelsError, match=r"bad.txt, line 2: expected 'topic iteration cord_uid grade'"):
        read_qrels(bad)
    (tmp_path / "empty.txt").write_text("\n", encoding="utf-8")
    with pytest.raises(QrelsError, match="has no judgments"):
        read_qrels(tmp_path / "empty.txt")


# -- on a store: the mini release with a hand-made text-only run -----------------------------------

SHA9 = "9" * 40
MINI_QRELS = "1 0.5 aaaa0001 2\n1 1 aaaa0002 1\n1 1 aaaa0008 0\n1 2 zzzz9999 2\n3 0.5 aaaa0003 1\n"


@pytest.fixture
def mini_with_run(mini_store, tmp_path):
    """The mini store with a hand-made text run. Angles: SHA9 0, aaaa0001 20, aaaa0002 50,
    aaaa0003 100, aaaa0008 30 degrees, so aaaa0001 -> 0008 SHA9 0002 0003, aaaa0002 -> 0008 0001 ..."""
    store = copy_store(mini_store[0], tmp_path / "store")
    keys = [SHA9, "aaaa0001", "aaaa0002", "aaaa0003", "aaaa0008"]
    run = hand_run(keys, [0, 20, 50, 100, 30], run_id="20200601T000000.000Z-hand00")
    run.write(run_dir(store, run.run_id))
    set_current(store, run.run_id)
    qrels = tmp_path / "qrels.txt"
    qrels.write_text(MINI_QRELS, encoding="utf-8")
    return store, qrels


def test_on_a_store_papers_join_by_cord_uid(mini_with_run, tmp_path):
    store, qrels = mini_with_run
    report = evaluate_qrels(store, qrels, tmp_path / "out", CorelevanceConfig(k=2))
    assert json.loads((tmp_path / "out" / "trec-covid.json").read_text()) == report
    assert report["kind"] == "trec-covid-corelevance" and report["run"] == "20200601T000000.000Z-hand00"
    # aaaa0001: top 0008 SHA9 (0008 judged not relevant); judged others in order 0008 0002: gains 0 1
    # aaaa0002: top 0008 0001; judged others 0008 0001: gains 0 2;  aaaa0003: alone in topic 3
    text = report["modes"]["text"]
    assert (text["corelevance"], text["judged_share"], text["queries"], text["topics"]) == (0.25, 0.75, 2, 1)
    assert text["ndcg_at_k"] == pytest.approx(L3, abs=1e-6) and text["corelevance_ci95"] == [0.25, 0.25]
    assert report["modes"]["combined"]["corelevance"] == 0.25  # a text-only run: combined is text
    # most cited (ckg:citedByCount: aaaa0001 2, aaaa0002 1, aaaa0003 1; then SHA9, aaaa0008 by key)
    cited = report["modes"]["most_cited"]
    assert (cited["corelevance"], cited["judged_share"], cited["ndcg_at_k"]) == (0.5, 0.5, 1.0)
    c = report["counts"]
    assert c["papers_in_run_with_cord_uid"] == 4 and c["judgments_on_run_papers"] == 4
    assert c["queries_without_another_relevant_paper"] == 1 and report["topics"] == [1]
    assert "3 papers of the run are cited" in report["references"]["most_cited"] and "note" not in cited


def test_cli_prints_the_table_and_writes_the_report(mini_with_run, cli, tmp_path):
    store, qrels = mini_with_run
    out = cli("evaluate", "--store", store, "--out", tmp_path / "o", "--qrels", qrels, "--qrels-only", "-k", 2,
              "--topics-split", "validation").output.splitlines()
    assert out[0] == f"evaluated run 20200601T000000.000Z-hand00 of {store} against {qrels}"
    assert out[1].startswith("TREC-COVID co-relevance, split validation: 2 query papers (judged relevant) in 1 topics")
    assert out[2].split() == ["split", "ranking", "co-relevance@2", "95%", "CI", "judged", "nDCG@2", "95%", "CI",
                              "queries", "topics"]
    rows = {line.split("  ")[1].strip(): line.split() for line in out[3:-2]}
    assert rows["text only"] == ["validation", "text", "only", "0.250", "[0.250,", "0.250]", "0.750", "0.631",
                                 "[0.631,", "0.631]", "2", "1"]
    assert rows["most cited (for everyone)"][5:] == ["0.500", "[0.500,", "0.500]", "0.500", "1.000", "[1.000,",
                                                     "1.000]", "2", "1"]
    assert set(rows) == {"combined", "text only", "random", "most cited (for everyone)", "ideal (ceiling)"}
    assert out[-1] == f"  report {tmp_path / 'o' / 'trec-covid.json'}"
    assert json.loads((tmp_path / "o" / "trec-covid.json").read_text())["split"] == "validation"
    # the report half has no topic with two relevant papers here: a table of zero queries, no crash
    empty = cli("evaluate", "--store", store, "--out", tmp_path / "r", "--qrels", qrels, "--qrels-only",
                "--topics-split", "report").output
    assert "split report: 0 query papers" in empty
    bad = cli("evaluate", "--store", store, "--out", tmp_path / "x", "--qrels-only", ok=False)
    assert bad.exit_code == 2 and "--qrels-only needs --qrels FILE" in bad.output
    (tmp_path / "bad.txt").write_text("1 0.5 aaaa0001\n", encoding="utf-8")
    bad = cli("evaluate", "--store", store, "--out", tmp_path / "x", "--qrels", tmp_path / "bad.txt", "--qrels-only",
              ok=False)
    assert bad.exit_code == 1 and bad.output.startswith("Error: ") and "line 1: expected" in bad.output


# -- next to citation recovery: the whole `ckg evaluate` on the trained demo store ------------------

@pytest.mark.slow  # the session's trained demo store, and the evaluation's own (2-epoch) graph model
def test_full_evaluation_adds_co_relevance(trained_demo_store, cli, tmp_path):
    from test_embed_evaluation import demo_topics

    store = trained_demo_store[0]
    index = Index.load(store)
    truth = {k: v for k, v in demo_topics().items() if k in set(index.papers)}
    number = {label: 2 * i + 1 for i, label in enumerate(sorted(set(truth.values())))}  # odd topics 1, 3, 5, ...
    qrels = tmp_path / "qrels.txt"
    qrels.write_text("".join(f"{number[label]} 0.5 {uid} 2\n" for uid, label in sorted(truth.items())),
                     encoding="utf-8")
    out = cli("evaluate", "--store", store, "--out", tmp_path / "eval", "--epochs", 2, "--samples", 0,
              "--qrels", qrels, "--no-progress").output
    assert "citation recovery:" in out and "TREC-COVID co-relevance, split all: 60 query papers" in out
    report = json.loads((tmp_path / "eval" / "report.json").read_text())
    trec = report["trec_covid"]
    assert trec == {k: v for k, v in json.loads((tmp_path / "eval" / "trec-covid.json").read_text()).items()
                    if k not in ("ckg", "kind", "store", "run", "started_at")}
    assert "## TREC-COVID co-relevance" in (tmp_path / "eval" / "report.md").read_text()
    assert report["files"]["trec-covid.json"] and report["config"]["qrels"] == str(qrels)
    # every paper is judged relevant to its topic: co-relevance is the share of the engine's own top 10
    # in the paper's topic (and only those are judged for that topic)
    for q in trec["per_query"]:
        top = index.similar(q["paper"], 10, "text")
        assert q["text"]["corelevance"] == pytest.approx(np.mean([truth[n.paper] == truth[q["paper"]] for n in top]))
        assert q["text"]["judged"] == q["text"]["corelevance"]
    modes = trec["modes"]
    assert modes["text"]["corelevance"] > 2 * modes["random"]["corelevance"]
    # the ceiling: a topic of n papers has n - 1 others to find, which is fewer than 10 for the small ones
    sizes = {label: list(truth.values()).count(label) for label in number}
    ceiling = np.mean([min(sizes[label] - 1, 10) / 10 for label in truth.values()])
    assert modes["ideal"]["corelevance"] == pytest.approx(ceiling, abs=1e-6) and modes["ideal"]["ndcg_at_k"] == 1.0
    assert trec["counts"]["topics_with_queries"] == len(number)


# -- real data: a slice of the 4,400 CORD-19 papers of April 2020 and NIST's odd-topic judgments ----

REAL_TOPICS = (1, 3, 5, 7)  # two of the validation half, two of the report half
PER_TOPIC = 25  # relevant and as many not-relevant judged papers of each topic (with an abstract)


def real_slice(real: Path, out: Path) -> tuple[Path, set[str]]:
    """metadata.csv of a slice of cord19/subset-2020-04: for each of REAL_TOPICS, its first
    PER_TOPIC relevant and PER_TOPIC not-relevant judged papers (file order, with an abstract),
    and 40 papers judged for none of the topics. Returns the file and its cord_uids."""
    judgments = read_qrels(real / "trec-covid" / "qrels-odd-topics.txt")
    with open(real / "cord19" / "subset-2020-04" / "metadata.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header, rows = reader.fieldnames, [r for r in reader if r["abstract"].strip()]
    chosen: dict[str, dict] = {}
    for topic in REAL_TOPICS:
        for relevant in (True, False):
            picked = [r for r in rows if (judgments[topic].get(r["cord_uid"], -1) >= 1) == relevant
                      and r["cord_uid"] in judgments[topic]][:PER_TOPIC]
            chosen.update((r["cord_uid"], r) for r in picked)
    judged_any = {u for t in REAL_TOPICS for u in judgments[t]}
    chosen.update((r["cord_uid"], r) for r in [r for r in rows if r["cord_uid"] not in judged_any][:40])
    out.mkdir(parents=True)
    with open(out / "metadata.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(chosen.values())
    return out / "metadata.csv", set(chosen)


@pytest.fixture(scope="module")
def real_trec(real_data, tmp_path_factory):
    from ckg.embed import train
    from ckg.embed.config import TrainConfig
    from ckg.etl.build import build

    base = tmp_path_factory.mktemp("real-trec")
    metadata, uids = real_slice(real_data, base / "slice")
    build(base / "store", [metadata], release="2020-04-06")
    # the offline default text model, one passage of each abstract; a short graph training
    train(base / "store", TrainConfig().override({"text.max_passages": 1, "graph.epochs": 5, "graph.eval_every": 5}))
    # NIST's lines of the four topics (the slice's papers are judged for other topics too, with
    # fewer relevant papers each)
    qrels = base / "qrels-topics-1-3-5-7.txt"
    lines = (real_data / "trec-covid" / "qrels-odd-topics.txt").read_text(encoding="utf-8").splitlines()
    qrels.write_text("".join(line + "\n" for line in lines if line.split() and int(line.split()[0]) in REAL_TOPICS),
                     encoding="utf-8")
    return base / "store", qrels, uids


@pytest.mark.realdata
@pytest.mark.slow
def test_real_co_relevance(real_trec, tmp_path):
    store, qrels, uids = real_trec
    report = evaluate_qrels(store, qrels, tmp_path / "out")
    print("\n" + format_table(report))
    judgments = read_qrels(qrels)
    assert report["split"] == "all" and report["topics"] == list(REAL_TOPICS)
    assert set(report["modes"]) == {"combined", "text", "graph", "random", "most_cited", "ideal"}
    relevant = {t: sum(judgments[t].get(u, 0) >= 1 for u in uids) for t in judgments}
    assert all(relevant[t] >= PER_TOPIC for t in REAL_TOPICS)
    # every paper judged relevant to a topic with another relevant paper in the slice is a query
    assert report["counts"]["queries"] == sum(n for n in relevant.values() if n >= 2)
    assert report["counts"]["papers_in_run_with_cord_uid"] == len(uids) == report["counts"]["papers_in_run"]
    modes = report["modes"]
    # metadata only: no citations, so the most-cited ranking is only the order of the keys, and says so
    assert modes["most_cited"]["note"].startswith("no paper of the run is cited")
    assert "most cited (for everyone) (no citations: key order)" in format_table(report)
    # a perfect ranking: every topic has over 10 other relevant papers here
    assert modes["ideal"]["corelevance"] == 1.0 and modes["ideal"]["ndcg_at_k"] == 1.0
    # random picks land on a relevant paper about as often as relevant papers are common in the slice
    share = np.mean([(relevant[q["topic"]] - 1) / (len(uids) - 1) for q in report["per_query"]])
    assert modes["random"]["corelevance"] == pytest.approx(share, abs=0.02) and share < 0.2
    # the text part finds co-relevant papers far above chance
    assert modes["text"]["corelevance"] > 2 * modes["random"]["corelevance"]
    assert modes["text"]["ndcg_at_k"] > modes["random"]["ndcg_at_k"]
    for m in modes.values():
        assert m["split"] == "all" and m["topics"] == len(REAL_TOPICS)
        assert m["corelevance_ci95"][0] <= m["corelevance"] <= m["corelevance_ci95"][1]
    # the two halves of the topics partition the queries
    halves = {s: evaluate_qrels(store, qrels, config=CorelevanceConfig(split=s)) for s in ("validation", "report")}
    assert halves["validation"]["topics"] == [1, 5] and halves["report"]["topics"] == [3, 7]
    assert sum(h["counts"]["queries"] for h in halves.values()) == report["counts"]["queries"]
