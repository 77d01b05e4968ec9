"""The 2-D projection of the embeddings: one t-SNE panel per mode, points coloured by the paper's
dominant topic (grey when the store has no topics). Written with matplotlib's Agg backend (no
display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ckg.embed.search import Index
from ckg.embed.topics import Topics

MAX_POINTS = 5000
MAX_TOPICS_SHOWN = 12


def project(vectors: np.ndarray, seed: int = 0) -> np.ndarray:
    """2-D coordinates of the rows of ``vectors`` (t-SNE, cosine; PCA for fewer than 5 rows)."""
    n = len(vectors)
    if n < 5:
        from sklearn.decomposition import PCA

        coords = PCA(n_components=min(2, n, vectors.shape[1]), random_state=seed).fit_transform(vectors) if n > 1 \
            else np.zeros((n, 2))
        return np.pad(coords, ((0, 0), (0, 2 - coords.shape[1]))) if coords.shape[1] < 2 else coords
    from sklearn.manifold import TSNE

    perplexity = float(min(30, max(2, (n - 1) // 3)))
    return TSNE(n_components=2, perplexity=perplexity, metric="cosine", init="pca", random_state=seed,
                max_iter=500).fit_transform(vectors)


def projection(index: Index, topics: Topics, path: Path, *, seed: int = 0) -> dict[str, Any]:
    """Write the projection PNG; returns what it shows (points per mode, topics and colours)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = index.modes()
    fig, axes = plt.subplots(1, max(1, len(modes)), figsize=(6 * max(1, len(modes)), 5.5), squeeze=False)
    sizes = topics.sizes()
    shown = [t for t, _ in sizes.most_common(MAX_TOPICS_SHOWN)]
    cmap = plt.get_cmap("tab20" if len(shown) > 10 else "tab10")
    colour = {t: cmap(i % cmap.N) for i, t in enumerate(shown)}
    info: dict[str, Any] = {"file": path.name, "method": "t-SNE (cosine)", "modes": {},
                            "coloured_by": "dominant topic" if topics else "nothing (no topics in this store)"}
    rng = np.random.default_rng(seed)
    for ax, mode in zip(axes[0], modes or ["(none)"]):
        if mode not in modes:
            ax.set_axis_off()
            continue
        mi = index._mode_index(mode)
        rows = np.flatnonzero(mi.present)
        if len(rows) > MAX_POINTS:
            rows = np.sort(rng.choice(rows, size=MAX_POINTS, replace=False))
        coords = project(mi.vectors[rows], seed=seed)
        keys = [index.papers[r] for r in rows]
        doms = [topics.dominant(k) for k in keys]
        if topics:
            for t in [*shown, "other", None]:
                if t == "other":
                    sel = [i for i, d in enumerate(doms) if d is not None and d not in colour]
                    label, c = "other topics", (0.5, 0.5, 0.5, 0.8)
                elif t is None:
                    sel = [i for i, d in enumerate(doms) if d is None]
                    label, c = "no topic", (0.8, 0.8, 0.8, 0.6)
                else:
                    sel = [i for i, d in enumerate(doms) if d == t]
                    label, c = topics.label(t), colour[t]
                if sel:
                    ax.scatter(coords[sel, 0], coords[sel, 1], s=10, color=c, label=label)
        else:
            ax.scatter(coords[:, 0], coords[:, 1], s=10, color=(0.4, 0.4, 0.4, 0.7))
        ax.set_title(f"{mode} ({len(rows):,} papers)")
        ax.set_xticks([])
        ax.set_yticks([])
        info["modes"][mode] = {"points": int(len(rows))}
    if topics:
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=min(6, len(labels)), fontsize=8, frameon=False)
        fig.suptitle(f"Embeddings of run {index.run_id}, t-SNE, coloured by dominant topic")
        fig.tight_layout(rect=(0, 0.08, 1, 0.95))
    else:
        fig.suptitle(f"Embeddings of run {index.run_id}, t-SNE (no topics in this store: not coloured)")
        fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    info["topics_shown"] = [topics.label(t) for t in shown]
    return info
