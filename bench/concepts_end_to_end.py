"""Concepts against human annotation end to end: the edges a `ckg build` of the gold abstracts puts in the store.

    python bench/concepts_end_to_end.py --data ../shared/data --out /tmp/concepts-e2e.json

For each PubTator file (default: the BC5CDR, NCBI Disease and BioRED development sets): the
abstracts are written as a CORD-19 release (``metadata.csv``, one row per abstract with its PMID:
:func:`ckg.etl.concept_eval.write_release`), built into a store with the configuration of the
reported gold-standard figures (``bench/concepts_gold.py``: MeSH 2024, the MeSH 2015 descriptors,
the Disease Ontology and the lexicon learned from the BC5CDR and NCBI Disease training sets with
every development abstract left out, given to the build as one more vocabulary file), and the
store's ``associatedConcept`` edges are scored (:func:`ckg.etl.concept_eval.evaluate_store`)
beside the extractor's own figures on the same abstracts with the same vocabularies
(:func:`ckg.etl.concept_eval.evaluate`). Document level (an edge has no span).

Every (abstract, MeSH id) pair the two disagree on is attributed: to the build's
document-frequency rule (:class:`ckg.etl.concept_edges.EdgeRules`: in a corpus of 50 papers or
more, a concept in more than half of them gets no edge) when its concept is one the build
dropped, else to something else (the text as the build reads it). Prints one table and the
dropped concepts; writes JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ckg.annotation_report import annotation_report  # noqa: E402
from ckg.etl.annotate import AnnotationOptions  # noqa: E402
from ckg.etl.build import build  # noqa: E402
from ckg.etl.concept_eval import TYPES, Score, evaluate, evaluate_store, read_pubtator, write_release  # noqa: E402
from ckg.etl.concepts import ExtractionConfig, Gazetteer, make_extractor  # noqa: E402
from ckg.etl.lexicon import learn  # noqa: E402
from ckg.etl.vocab import load  # noqa: E402

TRAIN = {"bc5cdr": "bc5cdr/CDR_TrainingSet.PubTator.txt", "ncbi": "ncbi-disease/NCBItrainset_corpus.txt"}
DEV = {"bc5cdr": "bc5cdr/CDR_DevelopmentSet.PubTator.txt", "ncbi": "ncbi-disease/NCBIdevelopset_corpus.txt",
       "biored": "biored/Dev.PubTator"}


def vocabulary_files(data: Path) -> list[Path]:
    v = data / "vocab"
    return [v / "mesh" / "mesh-2024.nt.gz", v / "mesh" / "mesh-2015-descriptors.nt.gz",
            v / "doid" / "HumanDO-2015-05.obo"]


def learn_lexicon(data: Path, out: Path, exclude_files: list[Path]) -> Path:
    """The lexicon of the reported figures: learned from the BC5CDR and NCBI Disease training sets,
    the abstracts of ``exclude_files`` (the sets scored) left out."""
    vocabulary = load(vocabulary_files(data))
    exclude = {d.pmid for f in exclude_files for d in read_pubtator(f)}
    learn([data / "gold" / p for p in TRAIN.values()], vocabulary, exclude=exclude).write(out)
    return out


def compare(gold: Path, extractor_eval, store_eval, dropped_ids: dict[str, str]) -> dict:
    """Attribute every (document, id) pair the extractor and the store disagree on."""
    out = {t: Counter() for t in TYPES}
    by_concept: Counter = Counter()
    for doc in read_pubtator(gold):
        gold_ids = {t: {i for m in doc.mentions if m.type == t for i in m.ids} for t in TYPES}
        ext, sto = extractor_eval.found.get(doc.pmid, {}), store_eval.found.get(doc.pmid, {})
        for t in TYPES:
            e, s = ext.get(t, set()), sto.get(t, set())
            for i in e - s:
                cause = "df_rule" if i in dropped_ids else "other"
                out[t][f"{cause}_{'tp_lost' if i in gold_ids[t] else 'fp_removed'}"] += 1
                if cause == "df_rule":
                    by_concept[dropped_ids[i]] += 1
            for i in s - e:
                out[t][f"store_only_{'tp' if i in gold_ids[t] else 'fp'}"] += 1
    return {"by_type": {t: dict(c) for t, c in out.items()}, "df_dropped_pairs_by_concept": dict(by_concept)}


def without(score: Score, tp_lost: int, fp_removed: int) -> Score:
    """The end-to-end score with the pairs a rule removed put back."""
    return Score(score.tp + tp_lost, score.fp + fp_removed, score.fn - tp_lost)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data", help="the shared data folder")
    parser.add_argument("--gold", action="append", default=None,
                        help="a PubTator file (repeatable; default: the three development sets)")
    parser.add_argument("--work", default=None,
                        help="keep the releases, lexicon and stores here (default: a temporary folder)")
    parser.add_argument("--processes", type=int, default=None, help="build processes (default: the build's)")
    parser.add_argument("--out", default=None, help="write the JSON here")
    args = parser.parse_args()
    data = Path(args.data).resolve()
    golds = [Path(g).resolve() for g in args.gold] if args.gold else [data / "gold" / p for p in DEV.values()]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work) if args.work else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        dev = [data / "gold" / p for p in DEV.values()]
        lexicon = learn_lexicon(data, work / "lexicon.tsv", sorted(set(dev) | set(golds)))
        files = [*vocabulary_files(data), lexicon]
        vocabulary = load(files)
        config = ExtractionConfig()
        extractor = make_extractor(Gazetteer.build(vocabulary, config), config)
        rows = []
        for gold in golds:
            name = gold.name.split(".")[0]
            release = write_release(gold, work / f"{name}-release")
            store = work / f"{name}-store"
            t0 = time.perf_counter()
            run = build(store, [release], overwrite=True,
                        annotation=AnnotationOptions(vocabularies=files, processes=args.processes))
            build_s = time.perf_counter() - t0
            ext = evaluate(gold, vocabulary, extractor=extractor, config=config)
            e2e = evaluate_store(gold, store)
            concepts = run.counts["concepts"]
            dropped = concepts.get("dropped_by_df", {})
            dropped_ids = {i: key for key in dropped if key in vocabulary.by_key
                           for i in vocabulary.by_key[key].mesh_ids}
            diff = compare(gold, ext, e2e, dropped_ids)
            top = annotation_report(store, top=5)["top_concepts"]
            rows.append({
                "gold": str(gold), "documents": ext.documents, "papers_in_store": run.counts.get("papers_in_store"),
                "documents_not_in_store": e2e.config["documents_not_in_store"], "build_s": round(build_s, 1),
                "edges": concepts.get("edges"), "below_evidence": concepts.get("below_evidence"),
                "top_concepts": [{k: c[k] for k in ("label", "kind", "mesh_id", "papers")} for c in top],
                "dropped_by_df": {k: {"label": vocabulary.by_key[k].label if k in vocabulary.by_key else "",
                                      "papers": n} for k, n in dropped.items()},
                "extractor": {t: s.as_dict() for t, s in ext.types.items() if ext.gold_mentions[t]},
                "end_to_end": {t: s.as_dict() for t, s in e2e.types.items() if e2e.gold_mentions[t]},
                "differences": diff,
            })
            print(f"{name}: built {run.counts.get('papers_in_store')} papers in {build_s:.1f} s", flush=True)
    print()
    print(f"{'gold standard':<28} {'type':<9} {'extractor P/R/F1':>21} {'end to end P/R/F1':>21} {'dF1':>7}  "
          f"{'df rule: TP lost, FP removed':>28}  {'other diffs':>11}")
    for row in rows:
        name = Path(row["gold"]).name[:28]
        for t, s in row["extractor"].items():
            e = row["end_to_end"][t]
            d = row["differences"]["by_type"][t]
            other = sum(n for k, n in d.items() if not k.startswith("df_rule"))
            print(f"{name:<28} {t:<9} {s['precision']:>6.3f} {s['recall']:>6.3f} {s['f1']:>6.3f}  "
                  f"{e['precision']:>6.3f} {e['recall']:>6.3f} {e['f1']:>6.3f}  {e['f1'] - s['f1']:>+7.3f}  "
                  f"{d.get('df_rule_tp_lost', 0):>14} {d.get('df_rule_fp_removed', 0):>13}  {other:>11}")
            if d.get("df_rule_tp_lost") or d.get("df_rule_fp_removed"):
                back = without(Score(e["tp"], e["fp"], e["fn"]), d.get("df_rule_tp_lost", 0),
                               d.get("df_rule_fp_removed", 0))
                row.setdefault("end_to_end_without_df_rule", {})[t] = back.as_dict()
                print(f"{'':<28} {'':<9} {'':>21} {'(without df rule)':>21}  "
                      f"{back.precision:.3f} {back.recall:.3f} {back.f1:.3f}")
        print(f"{'':<28} top concepts with edges: " + "; ".join(
            f"{c['label']} ({c['kind']}, {c['papers']} of {row['papers_in_store']} papers)"
            for c in row["top_concepts"][:3]))
        if row["dropped_by_df"]:
            print(f"{'':<28} dropped by the df rule: " + "; ".join(
                f"{k} {v['label']!r} ({v['papers']} of {row['papers_in_store']} papers)"
                for k, v in row["dropped_by_df"].items()))
    report = {"vocabularies": [str(p) for p in vocabulary_files(data)]
              + ["lexicon (learned; development abstracts left out)"],
              "lexicon_learned_from": [str(data / "gold" / p) for p in TRAIN.values()],
              "seconds": round(time.perf_counter() - started, 1), "rows": rows}
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
