"""The evaluation report as Markdown (the JSON twin, report.json, holds every figure).

>>> print(to_markdown({"run": "r1", "store": "s", "counts": {"papers_in_run": 3}, "config": {"k": 10, "holdout": 0.2},
...                    "citation_recovery": {"note": "nothing to recover"}, "topics": {"available": False,
...                    "note": "no topics in this store"}}).splitlines()[0])
# Similar-paper engine: evaluation of run r1
"""

from __future__ import annotations

from typing import Any

MODE_NAMES = {"text": "text only", "graph": "graph only", "combined": "combined",
              "graph_link_prediction": "graph link prediction (diagnostic)", "most_cited": "most cited (diagnostic)",
              "random": "random (expected)"}


def _f(value, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _ci(pair) -> str:
    if not pair or pair[0] is None:
        return ""
    return f"[{_f(pair[0])}, {_f(pair[1])}]"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def to_markdown(report: dict[str, Any]) -> str:
    lines = [f"# Similar-paper engine: evaluation of run {report.get('run')}", ""]
    counts = report.get("counts", {})
    cfg = report.get("config", {})
    lines += [f"Store `{report.get('store')}`: {counts.get('papers_in_run', 0):,} papers in the run, "
              f"{counts.get('citation_edges', 0):,} in-corpus citation edges between them, "
              f"{counts.get('papers_with_topics', 0):,} papers with topics. k = {cfg.get('k')}, "
              f"hold-out share {cfg.get('holdout')}, seed {cfg.get('seed')}.", ""]
    if counts.get("papers_in_store_not_in_run"):
        lines += [f"Note: {counts['papers_in_store_not_in_run']:,} papers of the store are not in the run "
                  "(added after the last `ckg train`); they are left out.", ""]
    lines += _recovery(report.get("citation_recovery", {}), cfg.get("k", 10))
    if report.get("trec_covid"):
        from ckg.embed.trec import to_markdown as trec_markdown

        lines += trec_markdown(report["trec_covid"])
    lines += _popularity(report.get("popularity", {}), cfg.get("k", 10))
    lines += _topics(report.get("topics", {}))
    if report.get("projection"):
        p = report["projection"]
        lines += ["## 2-D projection", "", f"![projection]({p['file']})", "",
                  f"{p['method']}, one panel per mode, coloured by {p['coloured_by']}.", ""]
    lines += _samples(report.get("samples", []))
    if report.get("timings_s"):
        lines += ["## Timings", "", ", ".join(f"{k} {v} s" for k, v in report["timings_s"].items()), ""]
    return "\n".join(lines)


def _recovery(rec: dict[str, Any], k: int) -> list[str]:
    lines = ["## Citation recovery", ""]
    if "modes" not in rec:
        return lines + [rec.get("note", "not measured"), ""]
    g = rec.get("evaluation_graph_model", {})
    gm = g.get("metrics", {})
    if gm.get("method") == "features":
        built = (f"before the evaluation's own graph features were computed ({gm.get('reduction')}, "
                 f"{gm.get('dimension')} dimensions)")
    else:
        built = (f"before the evaluation's own KG training ({gm.get('epochs_run')} epochs, link prediction on its "
                 f"test triplets: MRR {_f(gm.get('mrr'))}, Hits@10 {_f(gm.get('hits_at_10'))})")
    w = rec.get("weights") or {}
    tuned = (w.get("tuned_on") or {})
    prior = f", popularity prior {w['popularity']}" if w.get("popularity") else ""
    weights = (f" Combined weights (text, graph) {tuple(w['text_graph'])}{prior}, "
               + (f"tuned on {tuned.get('ground_truth')} ({tuned.get('split')})." if tuned else "not tuned.")
               if w.get("text_graph") else "")
    lines += [f"{rec['held_out_edges']:,} of {rec['held_out_edges'] + rec['kept_edges']:,} citation edges held out "
              f"{built}.{weights} {rec['queries']:,} citing "
              f"papers with held-out references; on average {rec['candidates_mean']:,} candidates each (the source "
              "and its citation neighbours still in the training graph are not candidates).", "",
              f"| mode | Recall@{k} | 95% CI | nDCG@{k} | 95% CI | hit rate | sources with a vector | "
              "held-out rank percentile |",
              "|---|---|---|---|---|---|---|---|"]
    for mode in ("text", "graph", "combined", "random", "graph_link_prediction", "most_cited"):
        m = rec["modes"].get(mode)
        if not m:
            continue
        lines.append(f"| {MODE_NAMES[mode]} | {_f(m['recall_at_k'])} | {_ci(m['recall_ci95'])} | {_f(m['ndcg_at_k'])} | "
                     f"{_ci(m['ndcg_ci95'])} | {_f(m.get('hit_rate'))} | {_f(m.get('queries_with_vector'))} | "
                     f"{_f(m.get('mean_percentile_rank_of_held_out'))} |")
    lines += ["", "The rank percentile is the mean position of each held-out cited paper among the candidates "
              "(0 = first, 1 = last; random: 0.5).", ""]
    comp = rec.get("comparisons", {})
    if comp:
        lines += ["Paired bootstrap differences (mean, 95% interval, share of resamples where the first is not "
                  "better):", ""]
        for name, c in comp.items():
            r, n = c["recall"], c["ndcg"]
            lines.append(f"- {name.replace('_vs_', ' vs ')}: Recall {_f(r['mean_difference'])} {_ci(r['ci95'])} "
                         f"(p {_f(r['p_not_better'], 4)}); nDCG {_f(n['mean_difference'])} {_ci(n['ci95'])} "
                         f"(p {_f(n['p_not_better'], 4)})")
        lines.append("")
    lines += _verdict(rec)
    d = rec.get("diagnostics", {})
    if d:
        lines += ["Diagnostics:", "",
                  f"- the combined top-{k} shares {_f(d.get('combined_top_k_shared_with_text'))} of its papers with the "
                  f"text top-{k} and {_f(d.get('combined_top_k_shared_with_graph'))} with the graph top-{k};",
                  f"- spread (standard deviation) of a source's scores over all papers: text "
                  f"{_f(d.get('score_std_text'))}, graph {_f(d.get('score_std_graph'))}; correlation of text and graph "
                  f"scores {_f(d.get('text_graph_score_correlation'))};",
                  f"- {d.get('held_out_targets_without_graph_vector')} of {d.get('held_out_targets')} held-out cited "
                  f"papers and {d.get('sources_without_graph_vector')} sources have no graph vector in the reduced graph "
                  f"(their only edges were held out); median graph degree of a held-out cited paper "
                  f"{_f(d.get('held_out_target_graph_degree_median'), 1)}, of any paper "
                  f"{_f(d.get('paper_graph_degree_median'), 1)};",
                  "- training triplets by relation: " + ", ".join(
                      f"{k_.rsplit('#', 1)[-1]} {v:,}" for k_, v in d.get("training_triples_by_relation", {}).items())
                  + ";",
                  f"- {d.get('held_out_pairs_sharing_an_author')} of {rec['held_out_edges']} held-out citations link "
                  f"papers that share an author; of the hits, text {d.get('text_hits_sharing_an_author')}/"
                  f"{d.get('text_hits')}, graph {d.get('graph_hits_sharing_an_author')}/{d.get('graph_hits')}, "
                  f"combined {d.get('combined_hits_sharing_an_author')}/{d.get('combined_hits')} do;"]
        sens = d.get("graph_weight_sensitivity", {})
        if sens.get("recall_at_k"):
            lines.append(f"- sensitivity to the graph's share w of the combined score ({sens['note']}): "
                         + ", ".join(f"w={w}: {_f(v)}" for w, v in sens["recall_at_k"].items()) + ".")
        lines.append("")
    return lines


def _verdict(rec: dict[str, Any]) -> list[str]:
    modes = rec["modes"]
    if not all(m in modes for m in ("text", "graph", "combined")):
        return []
    c, t, g = (modes[m]["recall_at_k"] for m in ("combined", "text", "graph"))
    if c > t and c > g:
        text = (f"Combined recovers more held-out citations than text only and graph only (Recall {c:.3f} vs "
                f"{t:.3f} and {g:.3f}).")
    else:
        beaten = [name for name, v in (("text only", t), ("graph only", g)) if v >= c]
        text = (f"Combined does not beat {' and '.join(beaten)} on Recall (combined {c:.3f}, text {t:.3f}, "
                f"graph {g:.3f}); see the diagnostics below and the intervals above.")
    return [text, ""]


def _popularity(pop: dict[str, Any], k: int) -> list[str]:
    if not pop.get("modes"):
        return []
    lines = ["## Popularity of the recommendations", "",
             f"In-corpus citation counts: corpus mean {_f(pop.get('corpus_mean_citations'))}, "
             f"share of papers cited at least once {_f(pop.get('corpus_share_cited'))}.", "",
             f"| mode | sources | source mean | top-{k} mean | top-{k} median | share cited | "
             "sources with more-cited recommendations | ratio to corpus mean |",
             "|---|---|---|---|---|---|---|---|"]
    for mode, m in pop["modes"].items():
        lines.append(f"| {mode} | {m['sources']:,} | {_f(m['source_mean_citations'])} | "
                     f"{_f(m['recommendation_mean_citations'])} | {_f(m['recommendation_median_citations'], 1)} | "
                     f"{_f(m['recommendation_share_cited'])} | "
                     f"{_f(m['share_of_sources_whose_recommendations_are_more_cited'])} | "
                     f"{_f(m['ratio_to_corpus_mean'])} |")
    return lines + [""]


def _topics(top: dict[str, Any]) -> list[str]:
    lines = ["## Topic intersection", ""]
    if not top.get("available"):
        return lines + [f"{top.get('note', 'no topics in this store')[:1].upper()}{top.get('note', 'no topics in this store')[1:]}: "
                        "the topic analyses are skipped.", ""]
    lines += [f"{top['papers_with_topics']:,} papers with topics; topics (papers whose dominant topic it is): "
              + ", ".join(f"{t['label']} {t['papers_dominant']}" for t in top["topics"].values()) + ".", "",
              "| mode | sources | same dominant topic | random | mean topic Jaccard | random |",
              "|---|---|---|---|---|---|"]
    for mode, m in top["modes"].items():
        lines.append(f"| {mode} | {m['sources']:,} | {_f(m['share_same_dominant_topic'])} | "
                     f"{_f(m['random_share_same_dominant_topic'])} | {_f(m['mean_topic_jaccard'])} | "
                     f"{_f(m['random_mean_topic_jaccard'])} |")
    return lines + [""]


def _samples(samples: list[dict[str, Any]]) -> list[str]:
    if not samples:
        return []
    lines = ["## Sample of recommendations", ""]
    for s in samples:
        lines += [f"### {_cell(s['title'])} (`{s['paper']}`)", "", "| | score | title | abstract |", "|---|---|---|---|",
                  f"| source | | {_cell(s['title'])} | {_cell(s['abstract'])} |"]
        for i, r in enumerate(s["recommendations"].get("combined", []), start=1):
            lines.append(f"| combined #{i} | {_f(r['score'])} | {_cell(r['title'])} | {_cell(r['abstract'])} |")
        for mode in ("text", "graph"):
            recs = s["recommendations"].get(mode, [])
            if recs:
                lines.append(f"| {mode} top 3 | | " + "; ".join(_cell(r["title"]) for r in recs) + " | |")
        lines.append("")
    return lines
