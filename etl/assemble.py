"""Find a release's inputs and join metadata rows with their parses into papers.

A path given to the ETL is a release directory (its top-level ``*metadata*.csv`` files and
every parse below it), a folder of parses (papers with no metadata row, like the first
CORD-19 release's bioRxiv/medRxiv subset), or a single ``metadata.csv`` file (its rows, and
the parse files its ``pdf_json_files``/``pmc_json_files`` cells name, relative to it).

A row is joined to the PDF parses named by its ``sha`` cell (several SHA-1s separated by
``; ``) and to the PMC parse of its ``pmcid``. Parses no row claims are papers on their own.

What comes from where when a paper has both:

* title, abstract, dates, journal, identifiers: the metadata row (the parse's title/abstract
  where the row has none);
* authors: the parses' structured author lists (PMC parse first, then the PDF parses; they
  carry affiliations), else the row's ``authors`` string;
* body text and bibliography: the PMC parse where it has them (cleaner), else the PDF parse;
* the paper's DOI: the row, else the DOI printed in a preprint's page footers.

A path a row's ``pdf_json_files``/``pmc_json_files`` cell gives is read only inside the release
(an absolute path or one that climbs out with ``..`` is reported, ``parse-path-outside-release``).
A metadata file that is not a table, not a regular file or cannot be read is rejected whole
(``not-metadata``).

A paper needs an identifier (see :mod:`ckg.etl.identity`). A paper with no title anywhere
but with an abstract or body (35 of the 803 parses of the first release) is kept, with a
``no-title`` warning, so its text and references are not lost; a record with neither title
nor text is rejected (``empty-title``). A second record with a key already read is rejected
(``duplicate-paper``), and its parses are not turned into papers of their own.

**Unchanged input is not read again.** Each paper read from a metadata row gets an input
fingerprint (:func:`input_fingerprint`: the row's cells, the names and bytes of its parse files,
the metadata file's name, ckg's version). An update passes the fingerprints its store recorded
(``known``); a row whose fingerprint is known yields :class:`Unchanged` (its key) without its
parses being parsed, normalised or emitted again: hashing a file's bytes costs a fraction of
parsing it, so an update reads what changed, not the release. A paper whose assembly reported
anything (a warning or a rejected parse) gets no fingerprint, so it is read, and its issues
reported, at every run. Papers made from parses alone are always read (their key is inside the
parse).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ckg import faults
from ckg.etl.authors import authors_from_parse, parse_author_string
from ckg.etl.identity import IdentityError, paper_key
from ckg.etl import metadata
from ckg.etl.metadata import MetadataFormatError, MetadataRow, read_metadata
from ckg.etl.normalize import (
    clean_text,
    clean_title,
    normalize_doi,
    normalize_pmcid,
    normalize_pmid,
    normalize_sha,
    parse_date,
    split_multi,
    strip_preprint_boilerplate,
)
from ckg.etl.parses import ParseDoc, ParseError, ParseIndex, body_text, read_parse, relative_name, scan
from ckg.etl.prefetch import DigestsAhead, Recorder, file_digest, will_need
from ckg.etl.records import Paper
from ckg.etl.report import Issue, Report, issue_text
from ckg.etl.workers import batches, start_executor

_PREPRINT_DATE = re.compile(r"^10\.1101/(\d{4})\.(\d{2})\.(\d{2})\.\d+$")
_LEADING_ABSTRACT = re.compile(r"^(?:abstract|summary)\s*[:.]?\s+", re.IGNORECASE)


class InputError(ValueError):
    """A path given as input does not exist or is not a CORD-19 input."""


class WorkerStopped(RuntimeError):
    """A worker process assembling a build's rows stopped before it was done (killed, out of memory)."""

    def __init__(self, name: str, what: str) -> None:
        super().__init__(f"a worker process assembling the rows of {name} stopped (killed, or out of memory?)"
                         f"{what}; the store is left as it was")


@dataclass
class Inputs:
    """The metadata files and the parse index of one release (one or several paths)."""

    paths: list[Path]
    metadata_files: list[tuple[Path, Path]] = field(default_factory=list)  # (file, root)
    parses: ParseIndex = field(default_factory=ParseIndex)


@dataclass
class AssemblyCounts:
    rows: int = 0
    papers: int = 0
    with_metadata_and_parse: int = 0
    metadata_only: int = 0
    parse_only: int = 0
    parses_read: int = 0
    unchanged_not_read: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def discover(paths: list[Path], report: Report) -> Inputs:
    """Classify the given paths and index every parse under them."""
    if not paths:
        raise InputError("no CORD-19 input given")
    inputs = Inputs(paths=[Path(p) for p in paths])
    for path in inputs.paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or directory")
        if path.is_file():
            if path.suffix.lower() != ".csv":
                raise InputError(f"{path}: expected a release directory, a folder of parses or a metadata .csv file")
            inputs.metadata_files.append((path, path.parent))
            continue
        if not path.is_dir():
            raise InputError(f"{path}: not a regular file or a folder")
        for csv_path in sorted(path.glob("*.csv")):
            if "metadata" not in csv_path.name.lower():
                continue
            if csv_path.is_file():
                inputs.metadata_files.append((csv_path, path))
            else:
                report.reject("not-metadata", relative_name(csv_path, path),
                              "not a regular file (a FIFO, folder, device or broken link): not read")
        scan(path, inputs.parses, report)
    if not inputs.metadata_files and not len(inputs.parses):
        raise InputError(f"no metadata.csv and no JSON parses under {', '.join(map(str, inputs.paths))}")
    return inputs


def _clean_id(value: str) -> str:
    """'227251863.0' -> '227251863' (pandas wrote numeric ids as floats in some releases)."""
    value = clean_text(value)
    return value[:-2] if re.fullmatch(r"\d+\.0", value) else value


def _version() -> str:
    import ckg

    return ckg.__version__


FINGERPRINT_FORMAT = "ckg-input-1"
"""Changes when what goes into a paper's input fingerprint changes."""


def input_fingerprint(fields: dict[str, str], metadata_name: str, parse_names: list[str], parse_paths: list[Path],
                      version: str, digest: Callable[[Path], bytes] = file_digest) -> str:
    """A digest of everything a paper read from a metadata row is made of: the row's cells, the
    metadata file's name, the names and bytes of its parse files, and the code's version.

    >>> input_fingerprint({"title": "A"}, "metadata.csv", [], [], "1.0") == input_fingerprint({"title": "A"}, "metadata.csv", [], [], "1.0")
    True
    >>> input_fingerprint({"title": "A"}, "metadata.csv", [], [], "1.0") == input_fingerprint({"title": "B"}, "metadata.csv", [], [], "1.0")
    False
    """
    h = hashlib.blake2b(digest_size=20)
    h.update("\x1f".join([FINGERPRINT_FORMAT, version, metadata_name, *parse_names, "",
                           *(f"{k}\x1e{v}" for k, v in sorted(fields.items()))]).encode("utf-8", "surrogatepass"))
    for path in parse_paths:
        h.update(b"\0" + digest(path))
    return h.hexdigest()


def _fingerprint_or_empty(fields: dict[str, str], metadata_name: str, parse_names: list[str],
                          parse_paths: list[Path], digest: Callable[[Path], bytes] = file_digest) -> str:
    """:func:`input_fingerprint`, or '' when a parse file cannot be read (reading it reports why)."""
    try:
        return input_fingerprint(fields, metadata_name, parse_names, parse_paths, _version(), digest)
    except OSError:
        return ""


@dataclass
class Unchanged:
    """A paper whose input fingerprint the store already holds: not read again."""

    key: str


DIGEST_THREADS = 2
"""Threads of each worker process hashing the parse files of an update's rows ahead (with
``processes`` above 1): reading files is what they wait for, and this machine's disk reads 20,000
cold parse files twice as fast with four readers as with one (6.4 s against 2.9 s, 1.5 GB): two
workers, two threads each."""

KnownInput = Callable[[str, str], "str | None"]
"""known(key, fingerprint): the paper's stored DOI ('' for none) when the store holds the paper
with this input fingerprint, else None."""

Finish = Callable[[Paper], None]
"""What a build does to each paper it reads, done where the paper is assembled (in a worker when
rows are assembled ahead): :func:`ckg.etl.build` emits its N-Quads and hashes them there."""

AHEAD_BATCH = 32
"""Rows a worker assembles per task when rows are assembled ahead."""


@dataclass
class RowIds:
    """What a row says of its paper's identity: the key (None when the row has no usable
    identifier: rejected) and the parse files it claims."""

    key: str | None
    cord_uid: str
    shas: list[str]
    pmcid: str
    doi: str
    pmid: str
    parse_paths: list[Path]

    @property
    def parse_ids(self) -> list[str]:
        return self.shas + ([self.pmcid] if self.pmcid else [])


@dataclass
class AssembledAhead:
    """A row assembled by a worker, before the checks that depend on the rows before it: its
    identity and the issues found reading it (``early``), the paper (None: rejected) and the issues
    of reading its parses and composing it (``late``, reported only when it is not a duplicate)."""

    ids: RowIds
    early: list[Issue]
    paper: Paper | None = None
    late: list[Issue] = field(default_factory=list)
    parses_read: int = 0
    fingerprint: str = ""  # an update's: the row's input fingerprint ('' when a parse cannot be read)
    stored_doi: str | None = None  # an update's: the store holds the row as it is (not assembled), with this DOI
    hashed_ahead: int = 0  # parse files a worker thread hashed for the fingerprint


_worker: Assembler | None = None  # a worker's own assembler (rows assembled ahead)
_worker_finish: Finish | None = None


def _start_worker(inputs: Inputs, finish: Finish | None, known: KnownInput | None) -> None:
    global _worker, _worker_finish
    _worker, _worker_finish = Assembler(inputs, Recorder(), known), finish
    if known is not None:  # an update: the batch's parse files hashed by threads
        _worker._digests = DigestsAhead(DIGEST_THREADS)


def _assemble_batch(rows: list[MetadataRow], root: Path, name: str) -> list[AssembledAhead]:
    """Rows of ``name`` assembled in a worker, each with the issues it recorded."""
    assert _worker is not None
    faults.point("read.assemble")
    return _assembled(rows, root, name)


def _assembled(rows: list[MetadataRow], root: Path, name: str) -> list[AssembledAhead]:
    """Consecutive rows of ``name`` assembled (in a worker), a row with the key of a row before it
    that made a paper left as the duplicate the writing process will find it to be."""
    assert _worker is not None
    digests = _worker._digests
    kept: set[str] = set()
    if digests is None:  # a build: the batch's parse files asked of the disk at once (prefetch.will_need)
        will_need(path for row in rows for path in _worker._guess_parses(row))
        return [_worker._assemble(row, root, name, _worker_finish, kept) for row in rows]
    guessed = [_worker._guess_parses(row) for row in rows]
    for paths in guessed:
        for path in paths:
            digests.submit(path, "")
    try:
        return [_worker._assemble(row, root, name, _worker_finish, kept) for row in rows]
    finally:
        for paths in guessed:
            digests.drop(paths)


@dataclass
class ChunkAssembled:
    """A piece of a metadata table read and its rows assembled by a worker (``sure``: the piece
    read as reading the file from its start reads it). Its rows and the issues met are numbered
    within the piece: ``places`` gives the row and lines of each ``where`` of its issues, for the
    writing process to number them in the file. ``items``: in the file's order, an issue met
    reading the table, or a row (without its cells) with what the worker made of it."""

    sure: bool
    rows: int = 0
    lines: int = 0
    items: list[Issue | tuple[MetadataRow, AssembledAhead]] = field(default_factory=list)
    places: dict[str, tuple[int, int, int]] = field(default_factory=dict)


def _assemble_chunk(path: Path, offset: int, length: int, columns: list[str], root: Path,
                    name: str) -> ChunkAssembled:
    """Bytes ``offset``..``offset + length`` of a metadata table read and their rows assembled
    (in a worker)."""
    assert _worker is not None
    faults.point("read.assemble")
    with open(path, "rb") as raw:
        raw.seek(offset)
        data = raw.read(length)
    found = Recorder()
    numbering = metadata.Numbering(places={})
    read: list[Issue | MetadataRow] = []
    try:
        for row in metadata.chunk_rows(data, columns, name, found, numbering):
            read.extend(found.issues)  # those of reading the table up to this row, the row's own last
            found.issues.clear()
            read.append(row)
    except metadata.ChunkUnsure:
        return ChunkAssembled(False)
    read.extend(found.issues)
    rows = [item for item in read if isinstance(item, MetadataRow)]
    made = _assembled(rows, root, name)
    # the places of the issues met only (most pieces have none): an issue holds its where as issue_text made it
    named = {i.where for i in read if isinstance(i, Issue)} | {i.where for m in made for i in (*m.early, *m.late)}
    assert numbering.places is not None
    places = {text: place for w, place in numbering.places.items() if (text := issue_text(w)) in named} if named else {}
    assembled = iter(made)
    return ChunkAssembled(True, numbering.row, numbering.line,
                          [(dataclasses.replace(item, fields={}), next(assembled))
                           if isinstance(item, MetadataRow) else item for item in read], places)


class Assembler:
    """Joins rows and parses into :class:`Paper` records, reporting what it cannot use.

    ``known`` (see :data:`KnownInput`) lets unchanged rows through as :class:`Unchanged`.

    ``ahead`` worker processes assemble a build's rows (read the parses a row claims, compose the
    paper, and run ``finish`` on it) while this process reads the metadata file on; what depends
    on the rows before a row (whether it is a duplicate, which paper a parse id or DOI belongs to)
    is decided here, in the rows' order, and the issues a worker recorded for a row are reported
    then: the papers and the report are those of assembling every row here
    (``tests/test_bad_input.py``). In an update (``known``) the workers fingerprint each row
    (its parse files hashed by threads) and assemble only the rows whose fingerprint ``known``
    does not hold (``known`` goes to the workers: it must answer there as here)."""

    def __init__(self, inputs: Inputs, report: Report, known: KnownInput | None = None, *,
                 ahead: int = 0, finish: Finish | None = None) -> None:
        self.inputs = inputs
        self.report = report
        self.known = known
        self.ahead = ahead  # worker processes assembling rows ahead (a build); 0: none
        self.finish = finish
        self._digests: DigestsAhead | None = None  # a worker's: an update's parse files hashed ahead, in threads
        self.parses_hashed_ahead = 0  # of the parses an update hashed, those a worker's thread hashed
        self.rows_assembled_ahead = 0  # of the rows read, those a worker assembled
        self.counts = AssemblyCounts()
        self._used: set[Path] = set()
        self._seen: dict[str, str] = {}  # paper key -> where it was read
        self._parse_ids: dict[str, str] = {}  # sha / PMC id -> key of the paper that claimed it
        self._dois: dict[str, str] = {}

    # -- parses ------------------------------------------------------------------------------

    def _read(self, path: Path, report: Report) -> ParseDoc | None:
        where = self.inputs.parses.relative(path)
        try:
            return read_parse(path, report, where)
        except ParseError as exc:
            report.reject(exc.reason, where, str(exc))
            return None

    def _digest(self, path: Path) -> bytes:
        """A parse file's digest: hashed ahead by a thread, else here."""
        ahead = self._digests.take(path) if self._digests is not None else None
        if ahead is None:
            return file_digest(path)
        self.parses_hashed_ahead += 1
        return ahead

    def _guess_parses(self, row: MetadataRow) -> list[Path]:
        """The parses of the release's index a row names by PMC id or sha (a guess, for hashing
        ahead: :meth:`_row_parses` decides)."""
        parses = self.inputs.parses
        f = row.fields
        out = []
        pmcid = normalize_pmcid(f.get("pmcid"))
        if pmcid and pmcid in parses.by_pmcid:
            out.append(parses.by_pmcid[pmcid])
        for raw_sha in split_multi(f.get("sha")):
            path = parses.by_sha.get(normalize_sha(raw_sha))
            if path is not None and path not in out:
                out.append(path)
        return out

    def _row_parses(self, row: MetadataRow, shas: list[str], pmcid: str, root: Path, report: Report) -> list[Path]:
        paths: list[Path] = []
        if pmcid and pmcid in self.inputs.parses.by_pmcid:
            paths.append(self.inputs.parses.by_pmcid[pmcid])
        for cell in ("pmc_json_files", "pdf_json_files"):
            for rel in split_multi(row.fields.get(cell)):
                candidate = self._named_parse(row, cell, rel, root, report)
                if candidate is not None and candidate not in paths:
                    self.inputs.parses.roots.setdefault(candidate, root)
                    paths.append(candidate)
        for sha in shas:
            path = self.inputs.parses.by_sha.get(sha)
            if path is not None and path not in paths:
                paths.append(path)
        # PMC parses first: the PMC XML is the cleaner source of body text and bibliography.
        return sorted(paths, key=lambda p: 0 if p.name.startswith("PMC") else 1)

    def _named_parse(self, row: MetadataRow, cell: str, rel: str, root: Path, report: Report) -> Path | None:
        """The file a row's cell names, when there is one inside the release."""
        candidate = root / rel
        if not os.path.isabs(rel) and candidate in self.inputs.parses.roots:
            return candidate  # listed by the scan under this release: inside it, and there (no lstat)
        if os.path.isabs(rel) or not Path(os.path.abspath(candidate)).is_relative_to(os.path.abspath(root)):
            report.warn("parse-path-outside-release", row.where,
                        f"{cell} names {rel!r}, outside the release: not read")
            return None
        return candidate if os.path.lexists(candidate) else None

    # -- papers ------------------------------------------------------------------------------

    def papers(self) -> Iterator[Paper | Unchanged]:
        """Every paper of the release, metadata rows first, then parses no row claimed
        (:class:`Unchanged` for a row the store holds as it is, when ``known`` is given)."""
        yield from self._row_papers()
        for table in (self.inputs.parses.by_sha, self.inputs.parses.by_pmcid):
            for key in sorted(table):
                path = table[key]
                if path in self._used:
                    continue
                paper = self._from_parse_only(path)
                if paper is not None:
                    yield paper

    def _row_papers(self) -> Iterator[Paper | Unchanged]:
        workers = None
        if self.ahead > 0 and self.inputs.metadata_files:
            workers = start_executor(self.ahead, initializer=_start_worker,
                                     initargs=(self.inputs, self.finish, self.known))
        try:
            for csv_path, root in self.inputs.metadata_files:
                name = relative_name(csv_path, root)
                try:
                    if workers is None:
                        for row in read_metadata(csv_path, self.report, display_name=name):
                            self.counts.rows += 1
                            paper = self._from_row(row, root, name)
                            if paper is not None:
                                yield paper
                        continue
                    table = metadata.chunked(csv_path, name, self.report)
                    if table is not None:  # UTF-8: each worker reads pieces of the file
                        assembled_rows = self._chunks_ahead(workers, csv_path, table, root, name)
                    else:  # read here, the rows handed to the workers
                        read = Recorder()
                        rows = read_metadata(csv_path, read, display_name=name)
                        assembled_rows = self._assembled_ahead(workers, rows, read, root, name)
                    for row, assembled in assembled_rows:
                        self.counts.rows += 1
                        self.rows_assembled_ahead += 1
                        paper = self._checked(row, assembled, root, name)
                        if paper is not None:
                            yield paper
                except MetadataFormatError as exc:
                    self.report.reject("not-metadata", name, str(exc))
                except OSError as exc:
                    self.report.reject("not-metadata", name, f"cannot read the file: {exc.strerror}")
        finally:
            if workers is not None:
                workers.shutdown(wait=True, cancel_futures=True)

    def _assembled_ahead(self, workers: ProcessPoolExecutor, rows: Iterator[MetadataRow], read: Recorder, root: Path,
                         name: str) -> Iterator[tuple[MetadataRow, AssembledAhead]]:
        """The rows with what the workers made of them, in the rows' order, batches of
        :data:`AHEAD_BATCH` rows handed out while the file is read on (a few per worker in
        flight). ``rows`` report to ``read``: what reading a row reported is reported here just
        before the row, as reading the file here would. A failure reading the file comes after
        the rows read before it."""
        pending: deque[tuple[list[tuple[MetadataRow, list[Issue]]], Future]] = deque()
        in_flight = 4 * self.ahead
        failure: Exception | None = None

        def stopped(batch: list[tuple[MetadataRow, list[Issue]]]) -> WorkerStopped:
            return WorkerStopped(name, f" before it returned rows {batch[0][0].row}-{batch[-1][0].row}")

        def done(batch: list[tuple[MetadataRow, list[Issue]]], result: Future) -> Iterator[tuple[MetadataRow, AssembledAhead]]:
            try:
                assembled = result.result()
            except BrokenProcessPool:
                raise stopped(batch) from None
            for (row, issues), made in zip(batch, assembled):
                for issue in issues:
                    self.report.record(issue)
                yield row, made

        def with_issues() -> Iterator[tuple[MetadataRow, list[Issue]]]:
            for row in rows:
                issues, read.issues = read.issues, []
                yield row, issues

        try:
            for batch in batches(with_issues(), AHEAD_BATCH):
                try:
                    pending.append((batch, workers.submit(_assemble_batch, [row for row, _ in batch], root, name)))
                except BrokenProcessPool:
                    raise stopped(batch) from None
                if len(pending) > in_flight:
                    yield from done(*pending.popleft())
        except Exception as exc:  # noqa: BLE001 - raised again once the rows before it are assembled
            failure = exc
        while pending:
            yield from done(*pending.popleft())
        for issue in read.issues:  # after the last row
            self.report.record(issue)
        read.issues = []
        if failure is not None:
            raise failure

    def _chunks_ahead(self, workers: ProcessPoolExecutor, path: Path, table: metadata.Chunked, root: Path,
                      name: str) -> Iterator[tuple[MetadataRow, AssembledAhead]]:
        """The rows of a UTF-8 table with what the workers made of them, in the file's order: each
        worker reads a piece of the file (:func:`ckg.etl.metadata.chunk_ranges`, a few in flight
        per worker) and assembles its rows, and the issues of reading it are reported here in
        the file's order, numbered in the file. From a piece a worker could not be sure to read
        as the whole file is read, the file is read on here (:func:`ckg.etl.metadata.rows_from`),
        its rows assembled ahead a batch at a time."""
        pending: deque[tuple[int, int, Future]] = deque()
        numbering = metadata.Numbering(line=table.header_lines)  # rows and lines before the next piece

        def placed(issue: Issue, places: dict[str, tuple[int, int, int]]) -> Issue:
            place = places.get(issue.where)
            if place is None:
                return issue
            row, first, last = place
            at = metadata.where(name, row + numbering.row, first + numbering.line, last + numbering.line)
            return dataclasses.replace(issue, where=issue_text(at))

        def done(offset: int, length: int, result: Future) -> ChunkAssembled:
            try:
                return result.result()
            except BrokenProcessPool:
                raise WorkerStopped(name, f" before it returned those of bytes {offset}-{offset + length}") from None

        def submit(offset: int, length: int) -> None:
            try:
                future = workers.submit(_assemble_chunk, path, offset, length, table.columns, root, name)
            except BrokenProcessPool:
                raise WorkerStopped(name, "") from None
            pending.append((offset, length, future))

        ranges = metadata.chunk_ranges(path, table.start)
        more = True
        while True:
            while more and len(pending) <= 2 * self.ahead:
                step = next(ranges, None)
                if step is None:
                    more = False
                else:
                    submit(*step)
            if not pending:
                return
            offset, length, future = pending.popleft()
            chunk = done(offset, length, future)
            if not chunk.sure:  # read on from this piece as the whole file is read
                for _, _, later in pending:
                    later.cancel()
                pending.clear()
                read = Recorder()
                rows = metadata.rows_from(path, offset, table.columns, name, read, numbering)
                yield from self._assembled_ahead(workers, rows, read, root, name)
                return
            for item in chunk.items:
                if isinstance(item, Issue):
                    self.report.record(placed(item, chunk.places))
                    continue
                row, assembled = item
                if assembled.early or assembled.late:
                    assembled.early = [placed(i, chunk.places) for i in assembled.early]
                    assembled.late = [placed(i, chunk.places) for i in assembled.late]
                yield MetadataRow(name, row.row + numbering.row, row.line + numbering.line, row.fields), assembled
            numbering.row += chunk.rows
            numbering.line += chunk.lines

    def _duplicate(self, key: str, where: str) -> bool:
        """True (and a reject) when the paper was read before. A record keyed by a sha or PMC id
        (no cord_uid) is also a duplicate when a paper read before has that id."""
        earlier = key if key in self._seen else self._parse_ids.get(key)
        if earlier is None:
            return False
        self.report.reject("duplicate-paper", where, f"paper {key} was already read from {self._seen[earlier]}"
                           + ("" if earlier == key else f" (as paper {earlier})"))
        return True

    def _register(self, key: str, where: str, parse_ids: list[str]) -> None:
        self._seen[key] = where
        for pid in parse_ids:
            other = self._parse_ids.setdefault(pid, key)
            if other != key:
                self.report.warn("shared-parse-id", where, f"{pid} also belongs to paper {other}")

    def _from_row(self, row: MetadataRow, root: Path, name: str) -> Paper | Unchanged | None:
        issues = sum(self.report.counts.values())
        paper = self._read_row(row, root, name)
        if isinstance(paper, Paper) and sum(self.report.counts.values()) != issues:
            paper.input_hash = ""  # read again, and its issues reported again, at every run
        return paper

    def _row_ids(self, row: MetadataRow, root: Path, report: Report) -> RowIds:
        """The row's identifiers and parse files, each malformed one reported (``missing-id``: no
        key)."""
        f = row.fields
        where = row.where
        shas = []
        for raw_sha in split_multi(f.get("sha")):
            sha = normalize_sha(raw_sha)
            if sha:
                shas.append(sha)
            else:
                report.warn("malformed-id", where, f"sha {raw_sha!r} is not a SHA-1; ignored")
        pmcid = normalize_pmcid(f.get("pmcid"))
        if f.get("pmcid") and not pmcid:
            report.warn("malformed-id", where, f"pmcid {f['pmcid']!r} is not a PMC id; ignored")
        doi = normalize_doi(f.get("doi"))
        if f.get("doi") and not doi:
            report.warn("malformed-id", where, f"doi {f['doi']!r} is not a DOI; ignored")
        pmid = normalize_pmid(f.get("pubmed_id"))
        cord_uid = clean_text(f.get("cord_uid"))
        try:
            key: str | None = paper_key(cord_uid=cord_uid, shas=shas, pmcid=pmcid, doi=doi, pmid=pmid)
        except IdentityError as exc:
            report.reject("missing-id", where, str(exc))
            key = None
        return RowIds(key, cord_uid, shas, pmcid, doi, pmid, self._row_parses(row, shas, pmcid, root, report))

    def _row_paper(self, row: MetadataRow, ids: RowIds, name: str, report: Report,
                   fingerprint: str = "") -> tuple[Paper | None, int]:
        """The paper of a row that is not a duplicate (None when it cannot be used), and the
        number of its parses read."""
        assert ids.key is not None
        files = [name] + [self.inputs.parses.relative(p) for p in ids.parse_paths]
        docs = [d for p in ids.parse_paths if (d := self._read(p, report)) is not None]
        paper = self._compose(ids.key, row.where, row.fields, docs, files, report)
        if paper is None:
            return None, len(docs)
        paper.input_hash = fingerprint or _fingerprint_or_empty(row.fields, name, files[1:], ids.parse_paths)
        paper.cord_uid, paper.shas, paper.pmcid, paper.pmid = ids.cord_uid, ids.shas, ids.pmcid, ids.pmid
        if ids.doi:
            paper.doi, paper.doi_from_text = ids.doi, False
        return paper, len(docs)

    def _assemble(self, row: MetadataRow, root: Path, name: str, finish: Finish | None,
                  kept: set[str] | None = None) -> AssembledAhead:
        """A row assembled as far as it can be without the rows before it (in a worker). ``kept``:
        the keys of the rows before it (of the same task) that made a paper or were unchanged; a
        row with one of them is a duplicate, rejected as such, and is not assembled (its key is
        the writing process's by then)."""
        early = Recorder()
        assembled = AssembledAhead(self._row_ids(row, root, early), early.issues)
        ids = assembled.ids
        if ids.key is not None and (kept is None or ids.key not in kept):
            if kept is not None:
                kept.add(ids.key)  # unless nothing is made of it, below
            if self.known is not None:
                hashed = self.parses_hashed_ahead
                assembled.fingerprint = self._fingerprint(row, ids, name)
                assembled.hashed_ahead = self.parses_hashed_ahead - hashed
                assembled.stored_doi = self._known_doi(ids.key, assembled.fingerprint)
                if assembled.stored_doi is not None:
                    return assembled
            late = Recorder()
            assembled.paper, assembled.parses_read = self._row_paper(row, ids, name, late, assembled.fingerprint)
            assembled.late = late.issues
            if assembled.paper is not None and finish is not None:
                finish(assembled.paper)
            if assembled.paper is None and kept is not None:
                kept.discard(ids.key)
        return assembled

    def _checked(self, row: MetadataRow, assembled: AssembledAhead, root: Path, name: str) -> Paper | Unchanged | None:
        """A row a worker assembled, reported and checked against the rows before it as
        :meth:`_from_row` would have."""
        issues = sum(self.report.counts.values())
        for issue in assembled.early:
            self.report.record(issue)
        ids = assembled.ids
        self._used.update(ids.parse_paths)
        for path in ids.parse_paths:  # as the worker's _row_parses did
            self.inputs.parses.roots.setdefault(path, root)
        if ids.key is None or self._duplicate(ids.key, row.where):
            return None
        self.parses_hashed_ahead += assembled.hashed_ahead
        if assembled.stored_doi is not None:  # the worker asked ``known``
            return self._unchanged(row, ids, name, assembled.stored_doi)
        for issue in assembled.late:
            self.report.record(issue)
        self.counts.parses_read += assembled.parses_read
        paper = assembled.paper
        if paper is None:
            return None
        self._register(paper.key, row.where, ids.parse_ids)
        self._count(paper, assembled.parses_read > 0)
        if sum(self.report.counts.values()) != issues:
            paper.input_hash = ""  # read again, and its issues reported again, at every run
        return paper

    def _read_row(self, row: MetadataRow, root: Path, name: str) -> Paper | Unchanged | None:
        ids = self._row_ids(row, root, self.report)
        self._used.update(ids.parse_paths)  # a rejected or duplicate row's parses are not papers of their own
        if ids.key is None or self._duplicate(ids.key, row.where):
            return None
        fingerprint = ""
        if self.known is not None:
            fingerprint = self._fingerprint(row, ids, name)
            stored_doi = self._known_doi(ids.key, fingerprint)
            if stored_doi is not None:
                return self._unchanged(row, ids, name, stored_doi)
        paper, parses_read = self._row_paper(row, ids, name, self.report, fingerprint)
        self.counts.parses_read += parses_read
        if paper is None:
            return None
        self._register(paper.key, row.where, ids.parse_ids)
        return self._count(paper, parses_read > 0)

    def _fingerprint(self, row: MetadataRow, ids: RowIds, name: str) -> str:
        files = [self.inputs.parses.relative(p) for p in ids.parse_paths]
        return _fingerprint_or_empty(row.fields, name, files, ids.parse_paths, self._digest)

    def _known_doi(self, key: str, fingerprint: str) -> str | None:
        """The stored DOI of a paper the store holds with this fingerprint ('' for none), else None."""
        assert self.known is not None
        return self.known(key, fingerprint) if fingerprint else None

    def _unchanged(self, row: MetadataRow, ids: RowIds, name: str, stored_doi: str) -> Unchanged:
        """A row the store holds as it is (its DOI ``stored_doi``): registered and counted, not read."""
        assert ids.key is not None
        self._register(ids.key, row.where, ids.parse_ids)
        self.counts.unchanged_not_read += 1
        files = [self.inputs.parses.relative(p) for p in ids.parse_paths]
        self._count_kind(ids.key, stored_doi, [name, *files], bool(ids.parse_paths))
        return Unchanged(ids.key)

    def _from_parse_only(self, path: Path) -> Paper | None:
        where = self.inputs.parses.relative(path)
        self._used.add(path)
        doc = self._read(path, self.report)
        if doc is None:
            return None
        self.counts.parses_read += 1
        sha = normalize_sha(doc.paper_id)
        pmcid = normalize_pmcid(doc.paper_id) if doc.kind == "pmc_json" else ""
        try:
            key = paper_key(shas=[sha] if sha else [], pmcid=pmcid)
        except IdentityError:
            self.report.reject("missing-id", where, f"paper_id {doc.paper_id!r} is neither a SHA-1 nor a PMC id")
            return None
        if self._duplicate(key, where):
            return None
        paper = self._compose(key, where, {}, [doc], [where], self.report)
        if paper is None:
            return None
        self._register(paper.key, where, [key])
        paper.shas = [sha] if sha else []
        paper.pmcid = pmcid
        return self._count(paper, True)

    def _count(self, paper: Paper, has_parse: bool) -> Paper:
        self._count_kind(paper.key, paper.doi, paper.source_files, has_parse)
        return paper

    def _count_kind(self, key: str, doi: str, source_files: list[str], has_parse: bool) -> None:
        self.counts.papers += 1
        if source_files and source_files[0].lower().endswith(".csv"):
            if has_parse:
                self.counts.with_metadata_and_parse += 1
            else:
                self.counts.metadata_only += 1
        else:
            self.counts.parse_only += 1
        if doi:
            other = self._dois.setdefault(doi, key)
            if other != key:
                self.report.warn("duplicate-doi", key, f"DOI {doi} is also the DOI of paper {other}")

    def _compose(self, key: str, where: str, f: dict[str, str], docs: list[ParseDoc], files: list[str],
                 report: Report) -> Paper | None:
        title = clean_title(f.get("title")) or next((t for d in docs if (t := clean_title(d.title))), "")
        abstract = strip_preprint_boilerplate(_LEADING_ABSTRACT.sub("", clean_text(f.get("abstract"))))
        if not abstract:
            abstract = next(("\n\n".join(d.abstract) for d in docs if d.abstract), "")
        body_doc = next((d for d in docs if d.body), None)
        if not title:
            if not abstract and body_doc is None:
                report.reject("empty-title", where, f"paper {key} has no title and no text in its row or parses")
                return None
            report.warn("no-title", where, f"paper {key} has no title in its row or parses; kept for its text")
        authors = []
        for doc in docs:
            authors = authors_from_parse(doc.raw_authors, report, self.inputs.parses.relative(doc.path))
            if authors:
                break
        if not authors:
            authors = parse_author_string(f.get("authors", ""), report, where)
        bib_doc = next((d for d in docs if d.bib), None)
        own_doi = next((d.own_doi for d in docs if d.own_doi), "")
        issued = parse_date(f.get("publish_time"))
        if issued is None and own_doi and (m := _PREPRINT_DATE.match(own_doi)):
            issued = parse_date("-".join(m.groups()))  # bioRxiv/medRxiv DOIs carry the posting date
        return Paper(
            key=key,
            title=title,
            doi=own_doi,
            doi_from_text=bool(own_doi),
            arxiv_id=clean_text(f.get("arxiv_id")),
            mag_id=_clean_id(f.get("mag_id", "")),
            who_covidence_id=clean_text(f.get("who_covidence_id")),
            s2_id=_clean_id(f.get("s2_id", "")),
            abstract=abstract,
            body=body_text(body_doc.body) if body_doc else "",
            issued=issued,
            journal=clean_text(f.get("journal")),
            license=clean_text(f.get("license")),
            sources=split_multi(f.get("source_x")),
            url=split_multi(f.get("url"))[0] if split_multi(f.get("url")) else "",
            authors=authors,
            bib=bib_doc.bib if bib_doc else [],
            source_files=files,
            has_full_text=body_doc is not None,
        )
