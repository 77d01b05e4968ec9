"""The concept extractor against human annotation, with and without a learned lexicon, on every split.

    python bench/concepts_gold.py --data ../shared/data --out docs/concepts/gold.json

Vocabularies: MeSH 2024 (with entry terms), the MeSH 2015 descriptors (they give the heads of
the trees, which the 2024 file leaves without tree numbers, their kind) and the Human Disease
Ontology. The lexicon (:mod:`ckg.etl.lexicon`) is learned from the BC5CDR and NCBI Disease
training sets only: BioRED reuses abstracts of those corpora, their test sets' among them, so
learning from it would leak held-out abstracts. Scores (:mod:`ckg.etl.concept_eval`):

- development sets: the lexicon learned from both training sets, every development abstract
  left out (the settings were chosen on these, so they are tuned figures);
- training sets: five-fold cross-fitting, each fifth scored with a lexicon learned from the
  other four fifths and the other training set (development abstracts left out too), so that
  no abstract is scored by a lexicon learned from it.

Prints one table (P / R / F1 per entity type, document level) and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ckg.etl.concept_eval import Score, evaluate, read_pubtator  # noqa: E402
from ckg.etl.concepts import ExtractionConfig, Gazetteer, make_extractor  # noqa: E402
from ckg.etl.lexicon import learn  # noqa: E402
from ckg.etl.vocab import Vocabulary, load  # noqa: E402

TRAIN = {"bc5cdr": "bc5cdr/CDR_TrainingSet.PubTator.txt", "ncbi": "ncbi-disease/NCBItrainset_corpus.txt",
         "biored": "biored/Train.PubTator"}
DEV = {"bc5cdr": "bc5cdr/CDR_DevelopmentSet.PubTator.txt", "ncbi": "ncbi-disease/NCBIdevelopset_corpus.txt",
       "biored": "biored/Dev.PubTator"}
LEARN_FROM = ("bc5cdr", "ncbi")


def _extractor(vocabulary: Vocabulary):
    config = ExtractionConfig()
    return make_extractor(Gazetteer.build(vocabulary, config), config), config


def _documents(path: Path) -> list[str]:
    """The blocks of a PubTator file (one per abstract, blank-line separated)."""
    return [b.strip() + "\n" for b in path.read_text(encoding="utf-8").split("\n\n") if b.strip()]


def _score(path: Path, vocabulary: Vocabulary) -> dict[str, Score]:
    extractor, config = _extractor(vocabulary)
    result = evaluate(path, vocabulary, extractor=extractor, config=config)
    return {t: s for t, s in result.types.items() if result.gold_mentions[t]}


def _add(total: dict[str, Score], part: dict[str, Score]) -> None:
    for t, s in part.items():
        acc = total.setdefault(t, Score())
        acc.tp, acc.fp, acc.fn = acc.tp + s.tp, acc.fp + s.fp, acc.fn + s.fn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data", help="the shared data folder")
    parser.add_argument("--out", default=None, help="write the JSON here")
    parser.add_argument("--folds", type=int, default=5, help="cross-fitting folds of the training sets (0: development sets only)")
    args = parser.parse_args()
    data = Path(args.data)
    gold = data / "gold"
    vocab_files = [data / "vocab" / "mesh" / "mesh-2024.nt.gz", data / "vocab" / "mesh" / "mesh-2015-descriptors.nt.gz",
                   data / "vocab" / "doid" / "HumanDO-2015-05.obo"]
    started = time.perf_counter()
    vocabulary = load(vocab_files)
    dev_pmids = {d.pmid for name in DEV.values() for d in read_pubtator(gold / name)}
    learn_files = [gold / TRAIN[n] for n in LEARN_FROM]
    rows = []

    def with_lexicon(exclude: set[str]) -> Vocabulary:
        lexicon = learn(learn_files, vocabulary, exclude=exclude)
        return Vocabulary(vocabulary.concepts, vocabulary.files, lexicon.entries)

    learned = with_lexicon(dev_pmids)
    for corpus, name in DEV.items():
        rows.append({"set": f"{corpus} development", "vocabularies": _score(gold / name, vocabulary),
                     "with_lexicon": _score(gold / name, learned)})
        print(rows[-1]["set"], "done", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for corpus, name in (TRAIN.items() if args.folds else ()):
            blocks = _documents(gold / name)
            total: dict[str, Score] = {}
            for k in range(args.folds):
                fold = blocks[k::args.folds]
                path = Path(tmp) / f"{corpus}-fold{k}.PubTator"
                path.write_text("\n".join(fold), encoding="utf-8")
                pmids = {d.pmid for d in read_pubtator(path)}
                _add(total, _score(path, with_lexicon(dev_pmids | pmids)))
            rows.append({"set": f"{corpus} training ({args.folds}-fold)", "vocabularies": _score(gold / name, vocabulary),
                         "with_lexicon": total})
            print(rows[-1]["set"], "done", flush=True)

    print()
    print(f"{'set':<26} {'type':<9} {'vocabularies P/R/F1':>22} {'+ lexicon P/R/F1':>22}")
    for row in rows:
        for t, s in row["vocabularies"].items():
            w = row["with_lexicon"][t]
            print(f"{row['set']:<26} {t:<9} {s.precision:>6.3f} {s.recall:>6.3f} {s.f1:>6.3f}   "
                  f"{w.precision:>6.3f} {w.recall:>6.3f} {w.f1:>6.3f}")
    report = {"vocabularies": [str(p) for p in vocab_files], "lexicon_learned_from": [str(p) for p in learn_files],
              "folds": args.folds, "seconds": round(time.perf_counter() - started, 1),
              "rows": [{"set": r["set"], "vocabularies": {t: s.as_dict() for t, s in r["vocabularies"].items()},
                        "with_lexicon": {t: s.as_dict() for t, s in r["with_lexicon"].items()}} for r in rows]}
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
