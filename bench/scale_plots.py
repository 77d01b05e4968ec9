"""Growth curves of the scale benchmark (PNG, matplotlib) and the merging of several runs' reports."""

from __future__ import annotations

from pathlib import Path


def plot(report: dict, out: Path, stem: str) -> list[Path]:
    """Growth curves: time and peak memory per build stage against papers, update, query latency."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted((int(n), r) for n, r in report.get("sizes", {}).items() if r.get("build"))
    written = []
    if sizes:
        xs = [n for n, _ in sizes]
        fig, axes = plt.subplots(1, 2, figsize=(13, 5))
        stages = []
        for _, r in sizes:
            stages += [s for s in r["build"]["stages_s"] if s not in stages and s != "total"]
        colours = plt.get_cmap("tab20")
        for i, s in enumerate(stages):
            ys = [r["build"]["stages_s"].get(s) for _, r in sizes]
            axes[0].plot(xs, ys, marker="o", lw=1.2, color=colours(i % 20), label=s)
            ms = [r["build"]["stage_peak_bytes"].get(s, 0) / 2**20 for _, r in sizes]
            axes[1].plot(xs, ms, marker="o", lw=1.2, color=colours(i % 20), label=s)
        axes[0].plot(xs, [r["build"]["stages_s"].get("total") for _, r in sizes], "k-", marker="o", lw=2.5, label="build (total)")
        axes[1].plot(xs, [r["build"]["peak_bytes"] / 2**20 for _, r in sizes], "k-", marker="o", lw=2.5, label="build (whole)")
        if all(r.get("update") for _, r in sizes):
            axes[0].plot(xs, [r["update"]["stages_s"].get("total") for _, r in sizes], "k--", marker="s", label="update (total)")
            axes[1].plot(xs, [r["update"]["peak_bytes"] / 2**20 for _, r in sizes], "k--", marker="s", label="update (whole)")
        for ax, what in ((axes[0], "seconds"), (axes[1], "peak memory, MiB")):
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("papers")
            ax.set_ylabel(what)
            ax.grid(True, which="both", alpha=0.3)
        axes[0].set_title("build time per stage")
        axes[1].set_title("peak memory per stage (process tree)")
        axes[1].legend(fontsize=7, loc="upper left")
        axes[0].legend(fontsize=7, loc="upper left")
        fig.tight_layout()
        path = out / f"{stem}-build.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)

        with_queries = [(n, r) for n, r in sizes if r.get("queries")]
        if with_queries:
            fig, ax = plt.subplots(figsize=(9, 6))
            cases = []
            for _, r in with_queries:
                cases += [c for c in r["queries"]["cases"] if c not in cases]
            cmap = plt.get_cmap("tab20")
            for i, case in enumerate(cases):
                for engine, style, marker in (("ckg", "-", "o"), ("virtuoso", ":", "x")):
                    pts = [(n, r["queries"]["cases"].get(case, {}).get(f"{engine}_ms")) for n, r in with_queries]
                    pts = [(x, y) for x, y in pts if y]
                    if pts:
                        ax.plot(*zip(*pts), style, marker=marker, ms=4, color=cmap(i % 20),
                                label=case if engine == "ckg" else None)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("papers")
            ax.set_ylabel("median latency, ms (o solid: ckg, x dotted: Virtuoso)")
            ax.set_title("named queries through HTTP")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=6, ncol=2, loc="upper left")
            fig.tight_layout()
            path = out / f"{stem}-queries.png"
            fig.savefig(path, dpi=110)
            plt.close(fig)
            written.append(path)
    faiss_runs = sorted((int(n), r) for n, r in report.get("faiss", {}).items())
    if faiss_runs:
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
        names = []
        for _, r in faiss_runs:
            names += [k for k in r["indexes"] if k not in names]
        for name in names:
            pts = [(n, r["indexes"][name]) for n, r in faiss_runs if name in r["indexes"]]
            text = pts[-1][1].get("index", name).split(",")[0].split(" (")[0]
            axes[0].plot([n for n, _ in pts], [x["p50_ms"] for _, x in pts], marker="o", label=text)
            axes[1].plot([n for n, _ in pts], [x["build_s"] for _, x in pts], marker="o", label=text)
        for ax, what in ((axes[0], "top-10 latency p50, ms"), (axes[1], "index build, s")):
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("papers (synthetic vectors)")
            ax.set_ylabel(what)
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=7)
        fig.tight_layout()
        path = out / f"{stem}-faiss.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def merge(reports: list[dict]) -> dict:
    out = {"merged_from": [r.get("started") for r in reports], "machine": reports[-1].get("machine"),
           "sizes": {}, "faiss": {}, "training": None}
    for r in reports:
        out["sizes"].update(r.get("sizes", {}))
        out["faiss"].update(r.get("faiss", {}))
        out["training"] = r.get("training") or out["training"]
    return out
