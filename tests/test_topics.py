"""Topics: the configuration file, tokenisation, a deterministic seeded LDA, the topic edges."""

from __future__ import annotations

import pytest

from ckg.etl.topics import TopicConfigError, load_config, tokenize, train
from ckg.store import open_store, query


def test_default_configuration_has_ten_labelled_topics_with_seeds():
    config = load_config()
    assert [t.label for t in config.topics] == [
        "virology", "epidemiology", "genomics", "clinical care", "diagnostics", "vaccines and immunology",
        "drugs and treatment", "public health and policy", "transmission and modelling", "mental health"]
    assert all(len(t.seed_words) >= 10 for t in config.topics)
    assert config.topics[7].key == "public-health-and-policy"
    assert (config.seed, config.term_weight, config.threshold) == (7, "idf", 0.2)


@pytest.mark.parametrize("text, message", [
    ("[model]\nseeds = 3\n[[topic]]\nlabel = 'a'\nseed_words = []\n", "unknown \\[model\\] setting\\(s\\) seeds"),
    ("[model]\nseed = 3\n", "no \\[\\[topic\\]\\] defined"),
    ("[[topic]]\nlabel = 'A b'\n[[topic]]\nlabel = 'a-B'\n", "two topics have the same label key"),
    ("[[topic]]\nseed_words = ['x']\n", "topic 1 needs a label"),
    ("[model]\nterm_weight = 'tfidf'\n[[topic]]\nlabel = 'a'\n", "term_weight must be one, idf or pmi"),
    ("[[topic]\n", "topics.toml: "),
    ("[model]\nbody_chars = 'all'\n[[topic]]\nlabel = 'a'\n", "body_chars must be an integer"),
])
def test_malformed_configurations_are_refused(tmp_path, text, message):
    path = tmp_path / "topics.toml"
    path.write_text(text)
    with pytest.raises(TopicConfigError, match=message):
        load_config(path)


def test_tokens_join_seed_phrases_and_drop_stop_words_and_footers():
    config = load_config()
    text = ("The copyright holder for this preprint (which was not peer-reviewed) is the author/funder. "
            "Mechanical ventilation and the length of stay of hospitalised patients in intensive care units.")
    assert tokenize(text, config.phrases()) == [
        "mechanical_ventilation", "length_stay", "hospitalised_patient", "intensive_care", "unit"]


def _documents():
    words = {"a": ["virus", "replication", "receptor", "cell", "spike", "entry"],
             "b": ["patient", "icu", "fever", "cough", "pneumonia", "admission"],
             "c": ["model", "transmission", "epidemic", "parameter", "seir", "simulation"]}
    docs = []
    for i in range(30):
        kind = "abc"[i % 3]
        docs.append((f"p{i:02d}", [w for w in words[kind] for _ in range(3)] + ["study", "data", "result"]))
    return docs


def test_training_is_deterministic_and_every_paper_gets_its_top_topic():
    config = load_config()
    first, second = train(_documents(), config), train(_documents(), config)
    assert first.edges == second.edges and [t.top_terms for t in first.topics] == [t.top_terms for t in second.topics]
    top = {k: t for (k, t), (_p, rank) in first.edges.items() if rank == 1}
    assert len(top) == 30
    assert {top[f"p{i:02d}"] for i in range(0, 30, 3)} == {"virology"}
    assert {top[f"p{i:02d}"] for i in range(1, 30, 3)} == {"clinical-care"}
    assert {top[f"p{i:02d}"] for i in range(2, 30, 3)} == {"transmission-and-modelling"}
    assert all(p >= config.threshold for (_k, _t), (p, rank) in first.edges.items() if rank > 1)
    virology = first.topics[0]
    assert virology.label == "virology" and set(virology.top_terms[:3]) <= {"virus", "replication", "receptor", "cell",
                                                                            "spike", "entry"}
    assert "viral load" in virology.missing_seeds


def test_seeded_topics_recover_the_demo_corpus_topics(demo_store, tmp_path):
    from ckg.demo_corpus import generate

    truth = generate(tmp_path / "again", papers=60, seed=7, release=1).topics  # the demo_store's corpus
    store = open_store(demo_store, read_only=True)
    top = {r["p"].value.rsplit("/", 1)[1]: r["l"].value for r in query(store, """SELECT ?p ?l WHERE {
        ?a ckg:topicRank 1 ; ckg:annotatedSource ?p ; ckg:annotatedTarget ?t . ?t skos:prefLabel ?l }""")}
    assert len(top) == 60
    agree = sum(1 for uid, label in truth.items() if top[uid] == label)
    assert agree >= 50, f"only {agree} of 60 papers got the topic they were generated from"


def test_topic_nodes(demo_store):
    store = open_store(demo_store, read_only=True)
    rows = [(r["t"].value, r["l"].value, r["n"].value, len(r["terms"].value.split(", ")))
            for r in query(store, """SELECT ?t ?l ?n ?terms WHERE { ?t a ckg:Topic , skos:Concept ; skos:prefLabel ?l ;
               skos:notation ?n ; ckg:topTerms ?terms ; ckg:seedTerms ?seeds } ORDER BY ?n""")]
    assert len(rows) == 10
    assert rows[0] == ("https://w3id.org/ckg/resource/topic/clinical-care", "clinical care", "clinical-care", 10)


def _sampled_config(tmp_path, sample: int, retrain_share: float):
    """The default topics with a small training sample, so that the 60-paper demo corpus is 'large'."""
    from ckg.etl.topics import default_config_path

    import re

    text = re.sub(r"(?m)^max_training_papers = \d+", f"max_training_papers = {sample}", default_config_path().read_text())
    text = re.sub(r"(?m)^retrain_share = [\d.]+", f"retrain_share = {retrain_share}", text)
    assert f"max_training_papers = {sample}" in text and f"retrain_share = {retrain_share}" in text
    path = tmp_path / f"topics-{sample}-{retrain_share}.toml"
    path.write_text(text)
    return path


def test_training_sample_depends_on_the_keys_only():
    from ckg.etl.topics import training_sample

    keys = [f"k{i:03d}" for i in range(500)]
    sample = training_sample(keys, 50)
    assert sample == sorted(sample) and len(set(sample)) == 50
    assert training_sample(reversed(keys), 50) == sample
    # adding papers changes the sample only by the new keys that hash lower
    grown = training_sample(keys + [f"n{i:03d}" for i in range(5)], 50)
    assert len(set(grown) - set(sample)) <= 5


def test_inference_in_groups_gives_each_paper_the_edges_it_gets_alone():
    """Papers are inferred INFER_GROUP per call of tomotopy (a call costs a copy of the model, which
    grows with the vocabulary); each keeps the edges it gets when inferred alone, whatever its
    group, also with papers whose words are all unknown or that have none."""
    import random

    from ckg.etl.topics import Inferrer, train_sample

    config = load_config()
    r = random.Random(3)
    seeds = [w for topic in config.topics for w in topic.seed_words if " " not in w]
    rare = [f"word{i}" for i in range(3000)]  # a vocabulary of thousands, as real text has

    def text() -> list[str]:
        return [r.choice(seeds) if r.random() < 0.3 else rare[int(len(rare) * r.random() ** 2)] for _ in range(120)]

    model = train_sample([(f"t{i}", text()) for i in range(300)], config)
    papers = [(f"p{i}", text()) for i in range(150)] + [("empty", []), ("unknown", ["zzz", "qqq"])]
    r.shuffle(papers)
    inferrer = Inferrer(model.data, config)
    alone = {key: inferrer.edges(key, words) for key, words in papers}
    grouped = dict(inferrer.edges_many(papers))
    assert grouped == alone and grouped["empty"] == grouped["unknown"] == {}
    assert sum(map(len, alone.values())) >= 150
    regrouped = dict(inferrer.edges_many(papers[70:]) + inferrer.edges_many(papers[:70]))
    assert regrouped == alone


def test_a_large_corpus_is_inferred_with_a_sampled_model_and_an_update_infers_what_changed(tmp_path, demo_releases):
    """Above max_training_papers: a model trained on a sample infers every paper; an update infers
    the new and changed papers only and equals a fresh build given the same model; past
    retrain_share of the corpus, the update trains again and equals a plain fresh build."""
    from ckg.etl.annotate import AnnotationOptions
    from ckg.etl.build import build, update
    from test_update import assert_counted, content

    r1, r2 = demo_releases
    # two processes: the build infers its 60 papers in two workers, the update its few in one
    keep = AnnotationOptions(topics=_sampled_config(tmp_path, 20, 0.9), processes=2)
    updated, fresh = tmp_path / "updated", tmp_path / "fresh"
    first = build(updated, [r1], release="demo-1", annotation=keep)
    counts = first.counts["topics"]
    assert counts["mode"] == "sampled" and counts["trained"] and counts["documents"] == 20
    assert counts["infer_processes"] == 2
    assert counts["inferred"] == first.counts["papers_in_store"] == 60
    assert counts["edges"] >= 60 and sum(t["top_topic_of"] for t in counts["topics"]) == 60
    tops = {t["key"]: t["top_topic_of"] for t in counts["topics"]}
    assert sum(1 for n in tops.values() if n >= 5) >= 3  # the sample's model tells the demo topics apart

    result = update(updated, [r2], release="demo-2", annotation=keep)
    changes, topics_counts = result.counts["changes"], result.counts["topics"]
    assert not topics_counts["trained"] and topics_counts["inferred"] == changes["new"] + changes["changed"]
    assert topics_counts["infer_processes"] == 1  # fewer than 8 papers per process
    assert topics_counts["inferred_since_training"] == topics_counts["inferred"]
    assert_counted(result)  # the topics graph counted from the edges the catalog holds, as a scan counts it
    build(fresh, [r2], release="demo-2", annotation=AnnotationOptions(topics=keep.topics, topics_from=updated, processes=2))
    assert content(updated) == content(fresh)

    # retrain_share small: the same update trains a model on the sample of release 2 instead
    retrain = AnnotationOptions(topics=_sampled_config(tmp_path, 20, 0.01))
    again, plain = tmp_path / "again", tmp_path / "plain"
    build(again, [r1], release="demo-1", annotation=retrain)
    retrained = update(again, [r2], release="demo-2", annotation=retrain)
    assert retrained.counts["topics"]["trained"]
    assert_counted(retrained)
    build(plain, [r2], release="demo-2", annotation=retrain)
    assert content(again) == content(plain)


def test_a_build_annotates_from_the_texts_it_put_aside(tmp_path, demo_releases, monkeypatch):
    """A build's concept extraction and topic inference read the texts the build spooled as it
    read the papers, not the store; only the topic model's training sample is read from the store.
    The store holds the same texts: the build equals one whose stages read the store."""
    from ckg.etl import annotate
    from ckg.etl import build as builds
    from ckg.etl.annotate import AnnotationOptions
    from ckg.etl.build import build
    from test_update import content

    options = AnnotationOptions(topics=_sampled_config(tmp_path, 20, 0.9), processes=1)
    asked: list[int] = []
    reading = annotate.paper_texts
    monkeypatch.setattr(annotate, "paper_texts", lambda store, keys, **kw: reading(store, (asked.append(len(keys)) or keys), **kw))
    spooled = build(tmp_path / "spooled", [demo_releases[0]], release="demo-1", annotation=options)
    assert spooled.counts["topics"]["inferred"] == 60 and spooled.counts["concepts"]["extraction"]["papers"] == 60
    assert sum(asked) == 20  # the training sample; the 60 papers' concepts and topics came from the spool
    monkeypatch.setattr(builds, "spooled_texts", lambda records, store: None)  # the stages read the store
    build(tmp_path / "stored", [demo_releases[0]], release="demo-1", annotation=options)
    assert sum(asked) > 20 + 60
    assert content(tmp_path / "spooled") == content(tmp_path / "stored")


def test_topics_from_a_store_without_a_sampled_model_is_refused(tmp_path, mini_store):
    from ckg.etl.annotate import AnnotationOptions
    from ckg.etl.build import build
    from ckg.store import StoreError

    from conftest import MINI

    with pytest.raises(StoreError, match="has no sampled topic model"):
        build(tmp_path / "s", [MINI], annotation=AnnotationOptions(topics_from=mini_store[0]))


def test_a_paper_is_read_up_to_body_chars_of_its_body():
    """The topic model reads the title, the abstract and the first ``body_chars`` characters of the
    body (cut at a whole word): what a body says after them changes nothing, and a paper with no
    abstract still gets topics from the start of its body."""
    import dataclasses

    from ckg.etl.topics import document, infer_many, train_sample

    config = load_config()
    assert config.body_chars == 2000
    phrases = config.phrases()
    virology = "Viral replication and viral entry into host cells through the receptor. " * 40
    clinical = "Mechanical ventilation of hospitalised patients in intensive care units. " * 200
    assert len(virology) > config.body_chars
    text = document("Spike and receptor binding", "", virology + clinical, config.body_chars)
    assert len(text) <= len("Spike and receptor binding") + 2 + config.body_chars and not text.endswith(" ")
    assert "ventilation" not in text and tokenize(text, phrases)[-1] in {"viral_replication", "viral_entry",
                                                                         "host_cell", "receptor", "viral"}
    assert document("T", "A", "one two", -1) == "T A one two" and document("T", "A", "one two", 0) == "T A"
    training = [(f"v{i}", tokenize(virology, phrases)) for i in range(20)] + \
               [(f"c{i}", tokenize(clinical, phrases)) for i in range(20)]
    model = train_sample(training, config)
    papers = [("mixed", "Spike and receptor binding", "", virology + clinical)]
    capped = dict(infer_many(papers, model.data, config))["mixed"]
    assert capped == dict(infer_many([("mixed", "Spike and receptor binding", "", virology)], model.data,
                                     config))["mixed"]
    assert [t for (_k, t), (_p, rank) in capped.items() if rank == 1] == ["virology"]
    whole = dict(infer_many(papers, model.data, dataclasses.replace(config, body_chars=-1)))["mixed"]
    assert [t for (_k, t), (_p, rank) in whole.items() if rank == 1] == ["clinical-care"]
