"""The build report: every rejected record and every warning, with where it was found.

Bad input never stops a build and is never dropped silently: a reader calls
:meth:`Report.reject` (the record is skipped) or :meth:`Report.warn` (the record is kept, with
a caveat), naming the file and row or key. The report counts them by reason, keeps the first
examples of each reason in memory and streams every issue to a JSON-lines log. Characters that
are not valid text (control characters, lone surrogates in file names) are written as escapes
(:func:`ckg.etl.normalize.escape_invalid`) and a detail is cut at :data:`MAX_DETAIL` characters,
so the log and the manifest are always valid UTF-8 JSON.

>>> r = Report()
>>> r.reject("empty-title", "metadata.csv row 7 (line 9)", "no title in the row or its parses")
>>> r.warn("author-entry-dropped", "a1b2.json", "entry 3 has no family name")
>>> r.rejected, r.counts["empty-title"]
(1, 1)
>>> print(r.format_summary())
rejected 1 record(s):
  empty-title: 1 (e.g. metadata.csv row 7 (line 9): no title in the row or its parses)
warnings 1:
  author-entry-dropped: 1 (e.g. a1b2.json: entry 3 has no family name)
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from ckg.etl.normalize import cut_text, escape_invalid

MAX_DETAIL = 1000
"""Most characters of an issue's detail (it may quote the input)."""


@dataclass(frozen=True)
class Issue:
    severity: str  # "rejected" or "warning"
    reason: str  # a short stable code, e.g. "malformed-json"
    where: str  # file and row/key
    detail: str

    def __str__(self) -> str:
        return f"{self.severity} [{self.reason}] {self.where}: {self.detail}"


def _issue(severity: str, reason: str, where: str, detail: str) -> Issue:
    """An issue whose texts are valid, bounded text (see the module docstring)."""
    return Issue(severity, reason, issue_text(where), issue_text(detail))


def issue_text(text: str) -> str:
    """A text as an issue holds it: valid text, at most :data:`MAX_DETAIL` characters.

    >>> len(issue_text("x" * 5000)), issue_text("plain")
    (1000, 'plain')
    """
    return escape_invalid(cut_text(text, MAX_DETAIL))


class Report:
    """Counts and examples of rejected records and warnings; optionally a JSON-lines log."""

    def __init__(self, log_path: Path | None = None, examples_per_reason: int = 5) -> None:
        self.counts: Counter[str] = Counter()
        self.severity: dict[str, str] = {}
        self.examples: dict[str, list[Issue]] = {}
        self.examples_per_reason = examples_per_reason
        self._log: IO[str] | None = open(log_path, "w", encoding="utf-8") if log_path else None
        self.log_path = log_path

    def _add(self, issue: Issue) -> None:
        self.counts[issue.reason] += 1
        self.severity.setdefault(issue.reason, issue.severity)
        examples = self.examples.setdefault(issue.reason, [])
        if len(examples) < self.examples_per_reason:
            examples.append(issue)
        if self._log:
            self._log.write(json.dumps(asdict(issue), ensure_ascii=False) + "\n")

    def record(self, issue: Issue) -> None:
        """An issue reported to another report (a worker process's), replayed here."""
        self._add(issue)

    def reject(self, reason: str, where: str, detail: str) -> None:
        """A record is skipped."""
        self._add(_issue("rejected", reason, where, detail))

    def warn(self, reason: str, where: str, detail: str) -> None:
        """A record is kept, with a caveat."""
        self._add(_issue("warning", reason, where, detail))

    def _total(self, severity: str) -> int:
        return sum(n for reason, n in self.counts.items() if self.severity[reason] == severity)

    @property
    def rejected(self) -> int:
        return self._total("rejected")

    @property
    def warnings(self) -> int:
        return self._total("warning")

    def by_reason(self, severity: str) -> dict[str, int]:
        return {r: n for r, n in sorted(self.counts.items()) if self.severity[r] == severity}

    def summary(self) -> dict:
        """Counts by reason and the first examples, for the manifest."""
        return {
            "rejected": self.rejected,
            "warnings": self.warnings,
            "rejected_by_reason": self.by_reason("rejected"),
            "warnings_by_reason": self.by_reason("warning"),
            "examples": {r: [f"{i.where}: {i.detail}" for i in ex] for r, ex in sorted(self.examples.items())},
            "log": str(self.log_path) if self.log_path else None,
        }

    def format_summary(self) -> str:
        lines = []
        for severity, title in (("rejected", "rejected {} record(s):"), ("warning", "warnings {}:")):
            reasons = self.by_reason(severity)
            if not reasons:
                continue
            lines.append(title.format(sum(reasons.values())))
            for reason, n in reasons.items():
                first = self.examples[reason][0]
                lines.append(f"  {reason}: {n} (e.g. {first.where}: {first.detail})")
        return "\n".join(lines) if lines else "no rejected records, no warnings"

    def close(self) -> None:
        if self._log:
            self._log.close()
            self._log = None
