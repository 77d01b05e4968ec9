"""Small helpers of the scale benchmark: sizes, units, plain-text tables (bench tooling)."""

from __future__ import annotations

from pathlib import Path


def parse_sizes(text: str) -> list[int]:
    """Corpus sizes from a comma-separated list with k and M suffixes.

    >>> parse_sizes("2k,10k,1M"), parse_sizes("300, 2.5k")
    ([2000, 10000, 1000000], [300, 2500])
    """
    out = []
    for part in text.split(","):
        part = part.strip().lower().replace("_", "")
        if not part:
            continue
        factor = 1
        if part[-1] in "km":
            factor = 1000 if part[-1] == "k" else 1_000_000
            part = part[:-1]
        out.append(int(float(part) * factor))
    return out


def label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def mib(n: float | None) -> str:
    return "-" if n is None else f"{n / 2**20:,.0f}"


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file() and not p.is_symlink())


def table(headers: list[str], rows: list[list], title: str | None = None) -> str:
    cells = [[str(h) for h in headers]] + [["-" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [title] if title else []
    for j, r in enumerate(cells):
        lines.append("  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r)))
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def say(text: str = "") -> None:
    print(text, flush=True)
