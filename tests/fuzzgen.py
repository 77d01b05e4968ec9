"""Bad CORD-19 input for the tests: valid records to start from, a seeded generator of malformed
ones (tests/test_fuzz_inputs.py), and helpers that build a release and read what its report says.

The generator mutates valid records of the demo corpus (:mod:`ckg.demo_corpus`) and mixes them
with untouched ones. Each mutation says whether the report must name it: the oracle below is
written from CORD-19's schema (the fields the ETL reads), independently of the reader's code.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import os
import random
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ckg.etl.annotate import AnnotationOptions
from ckg.etl.build import RunResult, build
from ckg.store import open_store, query

PAPER_IRI = "https://w3id.org/ckg/resource/paper/"


# -- valid records -------------------------------------------------------------------------------


def sha_of(name: str) -> str:
    """A stable SHA-1 to name a test parse by."""
    return hashlib.sha1(name.encode()).hexdigest()


def valid_parse(sha: str, title: str) -> dict[str, Any]:
    """A complete, valid pdf_json parse with every field the ETL reads."""
    return {
        "paper_id": sha,
        "metadata": {
            "title": title,
            "authors": [
                {"first": "Lin", "middle": ["M."], "last": "Wang", "suffix": "", "email": "lin@example.org",
                 "affiliation": {"laboratory": "Virology Lab", "institution": "Wuhan University",
                                 "location": {"settlement": "Wuhan", "region": "Hubei", "country": "China"}}},
                {"first": "Anna", "middle": [], "last": "Berg", "suffix": "", "email": "",
                 "affiliation": {"laboratory": "", "institution": "Karolinska Institutet",
                                 "location": {"settlement": "Stockholm", "country": "Sweden"}}},
            ],
        },
        "abstract": [{"text": "We measured how the spike protein binds the ACE2 receptor.", "cite_spans": [],
                      "ref_spans": [], "section": "Abstract"}],
        "body_text": [
            {"text": "Coronavirus infection spreads through respiratory droplets [1].",
             "cite_spans": [{"start": 56, "end": 59, "text": "[1]", "ref_id": "BIBREF0"}], "ref_spans": [],
             "section": "Introduction"},
            {"text": "Patients with pneumonia were followed for fourteen days.", "cite_spans": [], "ref_spans": [],
             "section": "Methods"},
        ],
        "bib_entries": {
            "BIBREF0": {"ref_id": "b0", "title": "Clinical features of patients infected with a novel coronavirus",
                        "authors": [{"first": "C", "middle": [], "last": "Huang", "suffix": ""}], "year": 2020,
                        "venue": "Lancet", "volume": "395", "issn": "", "pages": "497--506",
                        "other_ids": {"DOI": ["10.1016/S0140-6736(20)30183-5"]}},
        },
        "ref_entries": {"FIGREF0": {"text": "Figure 1: the study design.", "type": "figure"}},
        "back_matter": [],
    }


# -- building and reading the outcome ------------------------------------------------------------


def build_quietly(inputs: list[Path], store: Path) -> RunResult:
    """A build with the default small vocabulary in one process (fast in tests)."""
    return build(store, inputs, annotation=AnnotationOptions(processes=1))


def logged_issues(result: RunResult) -> list[dict[str, str]]:
    """Every issue of the run's JSON-lines report (rejects and warnings)."""
    text = Path(result.report.log_path).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def paper_keys(store: Path) -> set[str]:
    """Keys of the papers in a store."""
    rows = query(open_store(store, read_only=True), "SELECT ?p WHERE { ?p a ckg:Paper }")
    return {row["p"].value.removeprefix(PAPER_IRI) for row in rows}


def make_unreadable(folder: Path, monkeypatch) -> None:
    """Make a folder unlistable: by its mode, and (as root, whom modes do not stop) by making
    ``os.scandir`` refuse it, as the kernel would for another user."""
    folder.chmod(0)
    if os.geteuid() != 0:
        return
    real_scandir = os.scandir
    refused = os.path.abspath(folder)

    def scandir(path="."):
        if not isinstance(path, int) and os.path.abspath(os.fsdecode(path)) == refused:  # an int: a folder's fd
            raise PermissionError(13, "Permission denied", os.fsdecode(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


# -- the oracle: which JSON paths the ETL reads --------------------------------------------------

_PARA = r"(?:abstract|body_text|back_matter)\[\d+\]"
READ_TEXT = [re.compile(p + r"$") for p in (
    r"metadata\.title", r"metadata\.authors\[\d+\]\.(?:first|last|suffix)", r"metadata\.authors\[\d+\]\.middle\[\d+\]",
    r"metadata\.authors\[\d+\]\.affiliation\.(?:laboratory|institution)",
    r"metadata\.authors\[\d+\]\.affiliation\.location\.(?:settlement|region|country)",
    _PARA + r"\.section", r"bib_entries\.\w+\.(?:ref_id|title|venue)", r"bib_entries\.\w+\.other_ids\.DOI\[\d+\]")]
READ_LONG_TEXT = [re.compile(p + r"$") for p in (_PARA + r"\.text", r"ref_entries\.\w+\.text")]
READ_LIST = [re.compile(p + r"$") for p in (
    r"metadata\.authors", r"metadata\.authors\[\d+\]\.middle", r"abstract", r"body_text", r"back_matter",
    r"bib_entries\.\w+\.other_ids\.DOI")]
READ_OBJECT = [re.compile(p + r"$") for p in (
    r"metadata\.authors\[\d+\]", r"metadata\.authors\[\d+\]\.affiliation",
    r"metadata\.authors\[\d+\]\.affiliation\.location",
    _PARA, r"bib_entries", r"bib_entries\.\w+", r"bib_entries\.\w+\.other_ids", r"ref_entries")]
READ_YEAR = [re.compile(r"bib_entries\.\w+\.year$")]
REQUIRED = {"paper_id", "metadata"}


def _matches(patterns: list[re.Pattern], path: str) -> bool:
    return any(p.match(path) for p in patterns)


def json_paths(value: Any, path: str = "", keys: tuple = ()) -> list[tuple[str, tuple]]:
    """(path as the report writes it, keys to reach it) of every value inside a JSON document."""
    out = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        sub = f"{path}[{key}]" if isinstance(value, list) else (f"{path}.{key}" if path else key)
        out.append((sub, (*keys, key)))
        out.extend(json_paths(item, sub, (*keys, key)))
    return out


def _get(doc: Any, keys: tuple) -> Any:
    for k in keys:
        doc = doc[k]
    return doc


def _set(doc: Any, keys: tuple, value: Any) -> None:
    _get(doc, keys[:-1])[keys[-1]] = value


# -- mutations of a parse ------------------------------------------------------------------------

INF = "__INFINITY__"  # written as the JSON number 1e400 (which Python reads as infinity)
DEEP = "__DEEP__"  # written as a list nested 100,000 deep
BAD_CHARS = ["\x00", "\x01", "\x08", "\x1b", "\x7f", "\x80", "\x9f", "\ud800", "\udfff", "\ufffe", "\uffff"]


@dataclass
class Mutation:
    """What was done to a record and whether the report must name it."""

    kind: str
    detail: str
    must_report: bool
    rejects: bool = False  # the whole record is expected to be rejected


def _wrong_value(rng: random.Random, path: str) -> Any:
    """A value of a type the field at ``path`` never has (never null: absent is allowed)."""
    if path in REQUIRED:
        return rng.choice([42, ["x"], {"a": 1}, True] if path == "paper_id" else [42, ["x"], "text", True])
    if _matches(READ_YEAR, path):
        return rng.choice(["n.d.", [2020], {"y": 2020}, True, INF, 2020.5])
    if _matches(READ_LIST, path):
        return rng.choice([42, True, INF, "a string", {"key": "value"}])
    if _matches(READ_OBJECT, path):
        return rng.choice([42, True, INF, [1, 2], "a string"] if not path.startswith("bib_entries.")
                          else [42, True, INF, "a string"])
    return rng.choice([42, 3.5, True, INF, {"key": "value"}, [1, 2], ["joined", "strings"]])


def _is_read(path: str) -> bool:
    return path in REQUIRED or any(_matches(group, path) for group in (READ_TEXT, READ_LONG_TEXT, READ_LIST,
                                                                       READ_OBJECT, READ_YEAR))


def mutate_parse(rng: random.Random, doc: dict) -> tuple[dict | bytes, Mutation]:
    """A malformed version of a valid parse: a JSON value (written by :func:`render`) or raw bytes."""
    doc = copy.deepcopy(doc)
    paths = json_paths(doc)
    text_paths = [(p, k) for p, k in paths if isinstance(_get(doc, k), str)]
    kind = rng.choice(["type-swap", "type-swap", "delete", "deep", "huge-string", "control-chars", "surrogate",
                       "truncate", "utf-16", "latin-1", "duplicate-key", "empty", "bom", "huge-int"])
    if kind == "type-swap":
        path, keys = rng.choice(paths)
        value = _wrong_value(rng, path)
        _set(doc, keys, value)
        return doc, Mutation(kind, f"{path} = {value!r}", _is_read(path), rejects=path in REQUIRED)
    if kind == "delete":
        path, keys = rng.choice(paths)
        del _get(doc, keys[:-1])[keys[-1]]
        return doc, Mutation(kind, path, path in REQUIRED, rejects=path in REQUIRED)
    if kind == "deep":
        path, keys = rng.choice([(p, k) for p, k in paths if p not in REQUIRED])
        _set(doc, keys, DEEP)
        return doc, Mutation(kind, path, True, rejects=True)
    if kind in ("huge-string", "control-chars", "surrogate"):
        path, keys = rng.choice([(p, k) for p, k in text_paths if p != "paper_id"])
        value = _get(doc, keys)
        if kind == "huge-string":
            value = (value + " ") * (1 + 30_000 // (len(value) + 1))
            reported = _matches(READ_TEXT, path)  # long texts may be 4 MiB
        else:
            chars = BAD_CHARS[7:9] if kind == "surrogate" else BAD_CHARS
            at = rng.randint(0, len(value))
            value = value[:at] + rng.choice(chars) + value[at:]
            reported = _matches(READ_TEXT, path) or _matches(READ_LONG_TEXT, path)
        _set(doc, keys, value)
        return doc, Mutation(kind, path, reported)
    data = render(doc)
    if kind == "truncate":
        return data[:rng.randint(1, len(data) - 2)], Mutation(kind, "cut", True, rejects=True)
    if kind == "utf-16":
        return data.decode().encode("utf-16"), Mutation(kind, "", True)
    if kind == "latin-1":
        at = data.index(b'"title": "') + len(b'"title": "')
        return data[:at] + b"\xe9\xff" + data[at:], Mutation(kind, "metadata.title", True)
    if kind == "duplicate-key":
        return b'{"paper_id": ' + json.dumps(doc["paper_id"]).encode() + b", " + data[1:], Mutation(kind, "", True)
    if kind == "empty":
        return b"", Mutation(kind, "", True, rejects=True)
    if kind == "bom":
        return b"\xef\xbb\xbf" + data, Mutation(kind, "", False)
    # a number past Python's 4,300-digit limit, where the year is read
    entry = next(iter(doc["bib_entries"].values()), None)
    if entry is None:
        return data, Mutation("none", "", False)
    entry["year"] = "__HUGE__"
    return render(doc).replace(b'"__HUGE__"', b"9" * 5000), Mutation(kind, "year", True)


def render(doc: Any) -> bytes:
    """A parse as its file's bytes (ASCII escapes, as CORD-19 writes them), placeholders expanded."""
    text = json.dumps(doc, indent=1)
    text = text.replace(f'"{INF}"', "1e400").replace(f'"{DEEP}"', "[" * 100_000 + "]" * 100_000)
    return text.encode()


# -- mutations of a metadata row -----------------------------------------------------------------


def mutate_row(rng: random.Random, row: list[str]) -> tuple[list[str] | str, Mutation]:
    """A malformed row: cells (written by the CSV writer) or a raw line (broken quoting)."""
    row = list(row)
    kind = rng.choice(["too-few", "too-many", "unbalanced-quote", "control-chars", "huge-cell", "no-id", "duplicate"])
    if kind == "too-few":
        return row[:-rng.randint(1, 3)], Mutation(kind, "", True, rejects=True)
    if kind == "too-many":
        return row + ["extra"], Mutation(kind, "", True, rejects=True)
    if kind == "unbalanced-quote":
        line = _csv_line(row)
        at = line.index(",", line.index(",") + 1) + 1  # the start of the third cell
        return line[:at] + '"' + line[at:], Mutation(kind, "", True, rejects=True)
    if kind == "control-chars":
        cell = rng.choice([3, 8, 10, 11])  # title, abstract, authors, journal
        row[cell] = row[cell][:5] + rng.choice(BAD_CHARS[:7]) + row[cell][5:]
        return row, Mutation(kind, f"cell {cell}", True)
    if kind == "huge-cell":
        row[3] = (row[3] + " ") * 1000
        return row, Mutation(kind, "title", True)
    if kind == "no-id":  # and no parse files: they are then papers of their own
        for cell in (0, 1, 4, 5, 6, 15, 16):  # cord_uid, sha, doi, pmcid, pubmed_id, pdf/pmc_json_files
            row[cell] = ""
        return row, Mutation(kind, "", True, rejects=True)
    return row, Mutation("duplicate", "", False)  # the row again, below: the copy is the bad one


def _csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()


# -- a whole malformed release -------------------------------------------------------------------


@dataclass
class Expected:
    """What the build of a fuzzed release must show."""

    in_store: set[str] = field(default_factory=set)  # keys of good papers
    lines_of: dict[str, int] = field(default_factory=dict)  # good row's key -> its line
    bad_files: dict[str, Mutation] = field(default_factory=dict)  # file (relative) -> mutation
    bad_lines: dict[int, Mutation] = field(default_factory=dict)  # line of metadata.csv -> mutation
    parse_only: dict[str, str] = field(default_factory=dict)  # file -> key of a paper with no row
    reported_folders: list[str] = field(default_factory=list)


def fuzz_release(base: Path, out: Path, seed: int, *, parse_share: float = 0.5, row_share: float = 0.3,
                 extra_parses: int = 12, monkeypatch=None) -> Expected:
    """A fuzzed copy of the release ``base`` (a demo corpus) in ``out`` and what its build must show:
    mutated parses and rows among untouched ones, parse-only papers (good and mutated), FIFOs,
    a symbolic-link loop, a symbolic link to a folder of good parses outside the release, and
    an unreadable folder (when ``monkeypatch`` is given)."""
    rng = random.Random(seed)
    shutil.copytree(base, out)
    expected = Expected()
    parses = sorted((out / "document_parses").rglob("*.json"))
    for path in parses:
        if rng.random() < parse_share:
            content, mutation = mutate_parse(rng, json.loads(path.read_bytes()))
            path.write_bytes(content if isinstance(content, bytes) else render(content))
            expected.bad_files[str(path.relative_to(out))] = mutation
    _fuzz_rows(rng, out / "metadata.csv", row_share, expected)
    _parse_only(rng, out, extra_parses, expected)
    _special_files(rng, out, expected, monkeypatch)
    return expected


def _fuzz_rows(rng: random.Random, meta: Path, share: float, expected: Expected) -> None:
    with open(meta, newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    lines = [_csv_line(header)]
    for row in rows:
        if rng.random() < share:
            content, mutation = mutate_row(rng, row)
            lines.append(content if isinstance(content, str) else _csv_line(content))
            expected.bad_lines[len(lines)] = mutation
            if mutation.kind == "duplicate":
                expected.bad_lines.pop(len(lines))
                expected.in_store.add(row[0])
                expected.lines_of[row[0]] = len(lines)
                lines.append(_csv_line(row))
                expected.bad_lines[len(lines)] = Mutation("duplicate", "", True, rejects=True)
            elif not mutation.rejects:
                expected.in_store.add(row[0])
        else:
            lines.append(_csv_line(row))
            expected.in_store.add(row[0])
            expected.lines_of[row[0]] = len(lines)
    meta.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _parse_only(rng: random.Random, out: Path, n: int, expected: Expected) -> None:
    """Parses no row names: keyed by their SHA-1, good and mutated."""
    folder = out / "document_parses" / "pdf_json"
    for i in range(n):
        sha = sha_of(f"parse-only-{rng.random()}")
        doc = valid_parse(sha, f"Parse only paper number {i} on coronavirus transmission")
        name = str((folder / f"{sha}.json").relative_to(out))
        if i % 2:
            content, mutation = mutate_parse(rng, doc)
            expected.bad_files[name] = mutation
        else:
            content = doc
        (out / name).write_bytes(content if isinstance(content, bytes) else render(content))
        expected.parse_only[name] = sha


def _special_files(rng: random.Random, out: Path, expected: Expected, monkeypatch) -> None:
    """FIFOs named like parses, a symbolic-link loop, a linked folder outside the release, an
    unreadable folder."""
    parses = out / "document_parses"
    for name in ("notes.json", f"{sha_of('fifo')}.json"):
        os.mkfifo(parses / "pdf_json" / name)
        expected.bad_files[f"document_parses/pdf_json/{name}"] = Mutation("fifo", "", True, rejects=True)
    (parses / "loop").symlink_to("..", target_is_directory=True)
    expected.reported_folders.append("document_parses/loop")
    elsewhere = out.parent / f"{out.name}-linked"
    elsewhere.mkdir()
    for i in range(2):
        sha = sha_of(f"linked-{rng.random()}")
        (elsewhere / f"{sha}.json").write_bytes(render(valid_parse(sha, f"Linked folder paper {i} on SARS-CoV-2")))
        expected.in_store.add(sha)
    (parses / "linked").symlink_to(elsewhere, target_is_directory=True)
    if monkeypatch is not None:
        locked = parses / "locked"
        locked.mkdir()
        sha = sha_of(f"locked-{rng.random()}")
        (locked / f"{sha}.json").write_bytes(render(valid_parse(sha, "A paper in a folder nobody may read")))
        make_unreadable(locked, monkeypatch)
        expected.reported_folders.append("document_parses/locked")


# -- checking a build against what was expected --------------------------------------------------

_LINES = re.compile(r"\(lines? (\d+)(?:-(\d+))?\)")


def lines_named(where: str) -> range | None:
    """The physical lines a report entry names ('... (line 7)', '... (lines 7-9)')."""
    m = _LINES.search(where)
    return range(int(m.group(1)), int(m.group(2) or m.group(1)) + 1) if m else None


def check_build(result: RunResult, store: Path, expected: Expected) -> list[str]:
    """What is wrong with a fuzzed build; empty when every bad record is named and counted and
    every good paper is in the store."""
    issues = logged_issues(result)
    problems: list[str] = []
    by_where: dict[str, list[dict]] = {}
    for issue in issues:
        by_where.setdefault(issue["where"], []).append(issue)
    counted = result.manifest["rejects"]
    if counted["rejected"] + counted["warnings"] != len(issues):
        problems.append(f"the manifest counts {counted['rejected'] + counted['warnings']} issues, "
                        f"the log {len(issues)}")
    named_lines = [r for i in issues if i["where"].startswith("metadata.csv") and (r := lines_named(i["where"]))]
    for name, mutation in expected.bad_files.items():
        named = by_where.get(name, [])
        if mutation.must_report and not named:
            problems.append(f"{name} ({mutation.kind} {mutation.detail}) is not named in the report")
        if mutation.rejects and not any(i["severity"] == "rejected" for i in named):
            problems.append(f"{name} ({mutation.kind} {mutation.detail}) is not rejected")
    for line, mutation in expected.bad_lines.items():
        if mutation.must_report and not any(line in r for r in named_lines):
            problems.append(f"metadata.csv line {line} ({mutation.kind} {mutation.detail}) is not named in the report")
    keys = paper_keys(store)
    swallowed = {line for r in named_lines if len(r) > 1 for line in r}
    for key in sorted(expected.in_store - keys):
        if expected.lines_of.get(key) not in swallowed:
            problems.append(f"good paper {key} is not in the store")
    for name, key in expected.parse_only.items():
        rejected = any(i["severity"] == "rejected" for i in by_where.get(name, []))
        if key not in keys and not rejected:
            problems.append(f"parse-only paper {key} ({name}) is neither in the store nor rejected")
    for folder in expected.reported_folders:
        if folder not in by_where:
            problems.append(f"folder {folder} is not named in the report")
    return problems

