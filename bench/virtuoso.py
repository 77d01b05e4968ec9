"""A private Virtuoso for the benchmarks and the cross-engine test: start, bulk-load N-Quads, query, stop.

ckg's speed is measured against Virtuoso (Debian's ``virtuoso-opensource`` 7.2, which ``make
install`` installs when it can) on the same data and the same HTTP path. This module is bench and
test tooling, not part of the graph: nothing under ``ckg`` imports it.

:class:`Virtuoso` runs one ``virtuoso-t`` in a folder of its own (its ``virtuoso.ini``, database,
transaction log and error log all there), listening on two free loopback ports (SQL for ``isql-vt``,
HTTP for ``/sparql``), with settings for benchmarking rather than the Debian defaults: no
result-row cap (``ResultSetMaxRows``), a query time limit (``MaxQueryExecutionTime``), buffers sized
from a memory budget, HTTP threads for 16+ concurrent clients, and the folder's ``data/`` in
``DirsAllowed`` for the bulk loader::

    with Virtuoso(memory_mb=2048) as v:          # a temporary folder, removed on exit
        v.load_rdf([Path("cord19.nq")])        # ld_dir + rdf_loader_run + checkpoint
        client = SparqlClient(v.sparql_url)       # the same client as for `ckg serve`
        client.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")

N-Quads, not Turtle: Virtuoso 7.2 keeps the backslash of an escaped prefixed name
(``ckgr:paper\\/x``) when it reads Turtle, so the Turtle export would load wrong IRIs. The bulk
loader (``ld_dir``/``rdf_loader_run``) reads ``*.nq`` as N-Quads (each quad into its own graph; a
triple without a graph into the graph ``ld_dir`` names) and records every file's state and error in
``DB.DBA.LOAD_LIST``, which :meth:`Virtuoso.load_rdf` checks.

Virtuoso's ``/sparql`` answers GET and form-encoded POST but never a POST of
``application/sparql-query``: :class:`SparqlClient` sends form-encoded POSTs (which ckg's endpoint
takes too), so both engines see the same requests. Virtuoso answers a query that runs past
``MaxQueryExecutionTime`` with *partial* results and an ``X-SQL-State`` header instead of an error;
the client turns that into :class:`PartialResult` so that a cut answer is never taken for a whole
one.

The named queries run here as :func:`ckg.queries.portable.portable_query` writes them (explicit
``PREFIX`` lines, the parameters in the text), on both engines.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from ckg.queries.portable import portable_query  # noqa: F401 (the benchmarks' queries)

SERVER_NAMES = ("virtuoso-t",)
ISQL_NAMES = ("isql-vt",)  # not plain "isql": on Debian that is unixODBC's, another program
EXTRA_DIRS = ("/usr/bin", "/usr/local/bin", "/usr/local/virtuoso-opensource/bin", "/opt/virtuoso-opensource/bin")
DEFAULT_GRAPH = "urn:ckg:bench:default-graph"  # where the loader puts N-Quads lines without a graph


class VirtuosoError(RuntimeError):
    """Virtuoso did not start, refused a command or failed to load a file."""


class HTTPStatusError(RuntimeError):
    """An endpoint answered with another status than 200 (``status``: 503 when ckg sheds load)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class PartialResult(RuntimeError):
    """Virtuoso cut an answer at MaxQueryExecutionTime (an ``X-SQL-State`` header on a 200 answer)."""


def _which(names: tuple[str, ...]) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
        for folder in EXTRA_DIRS:
            path = Path(folder) / name
            if path.is_file() and os.access(path, os.X_OK):
                return str(path)
    return None


def binaries() -> tuple[str, str] | None:
    """(virtuoso-t, isql-vt) paths, or None when Virtuoso is not installed."""
    server, isql = _which(SERVER_NAMES), _which(ISQL_NAMES)
    return (server, isql) if server and isql else None


def unavailable() -> str | None:
    """Why Virtuoso cannot be used here (a sentence for a skip message), or None when it can."""
    if binaries() is None:
        return ("Virtuoso is not installed (virtuoso-t and isql-vt not found): `make install` installs Debian's "
                "virtuoso-opensource when it runs as root with apt-get")
    return None


def version() -> str | None:
    """The server's version line (``virtuoso-t -?`` prints it), or None."""
    found = binaries()
    if not found:
        return None
    try:
        out = subprocess.run([found[0], "-?"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    for line in (out.stdout + out.stderr).splitlines():
        if line.strip().startswith("Version"):
            return line.strip()
    return None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to SIGTERM the child when the process that started it dies (PR_SET_PDEATHSIG), so
    that a killed benchmark leaves no server behind."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


_LOADABLE = (".nq", ".nq.gz", ".nt", ".nt.gz", ".ttl", ".ttl.gz", ".trig")
"""File suffixes :meth:`Virtuoso.load_rdf` loads (the bulk loader tells the format by them)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LoadResult:
    files: int
    bytes: int
    seconds: float  # ld_dir + rdf_loader_run (the load itself)
    checkpoint_seconds: float


class Virtuoso:
    """One private ``virtuoso-t`` process (see the module's documentation)."""

    def __init__(self, folder: Path | None = None, *, memory_mb: int = 2048, query_timeout_s: int = 600,
                 max_rows: int = 100_000_000, http_threads: int = 32, startup_s: float = 120.0,
                 loaders: int = 1) -> None:
        found = binaries()
        if found is None:
            raise VirtuosoError(unavailable())
        self.server_bin, self.isql_bin = found
        self._own_folder = folder is None
        self.folder = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="ckg-virtuoso-"))
        self.memory_mb = memory_mb
        self.query_timeout_s = query_timeout_s
        self.max_rows = max_rows
        self.http_threads = http_threads
        self.startup_s = startup_s
        self.loaders = max(1, loaders)
        self.proc: subprocess.Popen | None = None
        self.sql_port = self.http_port = 0
        self._log_handle = None

    # -- life cycle ---------------------------------------------------------------------------

    @property
    def sparql_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/sparql"

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    def ini_text(self) -> str:
        """The virtuoso.ini: everything in the instance's folder, loopback ports, benchmark limits."""
        f = self.folder
        buffers = max(10_000, int(self.memory_mb / 1024 * 85_000))  # OpenLink's sizing: 85,000 8K pages per GB
        cpus = os.cpu_count() or 1
        return f"""\
; written by bench/virtuoso.py for a private benchmark instance
[Database]
DatabaseFile       = {f}/virtuoso.db
ErrorLogFile       = {f}/virtuoso.log
LockFile           = {f}/virtuoso.lck
TransactionFile    = {f}/virtuoso.trx
xa_persistent_file = {f}/virtuoso.pxa
ErrorLogLevel      = 7
FileExtend         = 200
MaxCheckpointRemap = 2000
Striping           = 0
TempStorage        = TempDatabase

[TempDatabase]
DatabaseFile       = {f}/virtuoso-temp.db
TransactionFile    = {f}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping           = 0

[Parameters]
ServerPort           = 127.0.0.1:{self.sql_port}
LiteMode             = 0
DisableUnixSocket    = 1
DisableTcpSocket     = 0
MaxClientConnections = {self.http_threads + 8}
CheckpointInterval   = 60
O_DIRECT             = 0
CaseMode             = 2
MaxStaticCursorRows  = 5000
CheckpointAuditTrail = 0
AllowOSCalls         = 0
SchedulerInterval    = 10
DirsAllowed          = ., {f}, {self.data_dir}
ThreadCleanupInterval    = 0
ThreadThreshold          = 10
ResourcesCleanupInterval = 0
FreeTextBatchSize    = 100000
SingleCPU            = 0
PrefixResultNames    = 0
RdfFreeTextRulesSize = 100
IndexTreeMaps        = 256
MaxMemPoolSize       = 200000000
MaxQueryMem          = {max(1, self.memory_mb // 2048)}G
VectorSize           = 1000
MaxVectorSize        = 1000000
AdjustVectorSize     = 0
ThreadsPerQuery      = {cpus}
AsyncQueueMaxThreads = 10
NumberOfBuffers      = {buffers}
MaxDirtyBuffers      = {buffers * 3 // 4}

[HTTPServer]
ServerPort           = 127.0.0.1:{self.http_port}
ServerRoot           = {f}
MaxClientConnections = {self.http_threads}
ServerThreads        = {self.http_threads}
MaxKeepAlives        = {self.http_threads}
KeepAliveTimeout     = 10
DavRoot              = DAV
EnabledDavVSP        = 0
HTTPProxyEnabled     = 0
TempASPXDir          = 0
HTTPThreadSize       = 280000
HttpPrintWarningsInOutput = 0
Charset              = UTF-8
EnabledGzipContent   = 0

[Client]
SQL_PREFETCH_ROWS  = 100
SQL_PREFETCH_BYTES = 16000
SQL_QUERY_TIMEOUT  = 0
SQL_TXN_TIMEOUT    = 0

[SPARQL]
ResultSetMaxRows           = {self.max_rows}
MaxQueryCostEstimationTime = {max(self.query_timeout_s * 100, 100_000)}
MaxQueryExecutionTime      = {self.query_timeout_s}
DefaultQuery               = SELECT * WHERE {{ ?s ?p ?o }} LIMIT 10
DeferInferenceRulesInit    = 0
"""

    def start(self) -> Virtuoso:
        if self.proc is not None:
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(exist_ok=True)
        for attempt in range(3):  # a free port can be taken between choosing and binding it: choose again
            self.sql_port, self.http_port = free_port(), free_port()
            if self.sql_port == self.http_port:
                continue
            (self.folder / "virtuoso.ini").write_text(self.ini_text(), encoding="utf-8")
            self._log_handle = open(self.folder / "virtuoso.out", "ab")
            self.proc = subprocess.Popen([self.server_bin, "+foreground", "+configfile", str(self.folder / "virtuoso.ini")],
                                         cwd=self.folder, stdout=self._log_handle, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True,
                                         preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
            try:
                self._wait_ready()
                return self
            except VirtuosoError:
                port_taken = "address already in use" in self.log_tail().lower()
                self.stop(remove=False, clean=False)
                if not port_taken or attempt == 2:
                    raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise VirtuosoError(f"virtuoso-t exited with status {self.proc.returncode}:\n{self.log_tail()}")
            if "Server online at" in self.log_tail(4000):
                try:
                    self.isql("select 1;", timeout=30)
                    answer = SparqlClient(self.sparql_url, timeout=30).ask("ASK { ?s ?p ?o }")
                    if answer in (True, False):
                        return
                except (VirtuosoError, OSError, http.client.HTTPException, ValueError):
                    pass
            time.sleep(0.25)
        raise VirtuosoError(f"Virtuoso did not start within {self.startup_s:g} s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 2000) -> str:
        text = ""
        for name in ("virtuoso.log", "virtuoso.out"):
            path = self.folder / name
            if path.is_file():
                with open(path, "rb") as handle:
                    handle.seek(max(0, path.stat().st_size - chars))
                    text += handle.read().decode("utf-8", "replace")
        return text[-chars:]

    def stop(self, remove: bool | None = None, *, clean: bool | None = None) -> None:
        """Stop the server and remove a temporary folder (``remove``: whether to remove the folder;
        by default when this object made it). A database that is kept is shut down cleanly (SQL
        ``shutdown``: a checkpoint, then exit; ``clean``), one that is removed is killed at once."""
        remove = remove if remove is not None else self._own_folder
        clean = (not remove) if clean is None else clean
        if self.proc is not None and self.proc.poll() is None:
            if clean:
                try:
                    self.isql("shutdown;", timeout=120, check=False)
                    self.proc.wait(timeout=120)
                except (VirtuosoError, subprocess.TimeoutExpired, OSError):
                    pass
            for sig, wait in (((signal.SIGTERM, 30),) if clean else ()) + ((signal.SIGKILL, 10),):
                if self.proc.poll() is not None:
                    break
                try:
                    os.kill(self.proc.pid, sig)  # the process this object started, by its id
                    self.proc.wait(timeout=wait)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    pass
        self.proc = None
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None
        if remove:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Virtuoso:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- SQL ----------------------------------------------------------------------------------

    def isql(self, script: str, *, timeout: float = 600, check: bool = True) -> str:
        """Run SQL statements (each ended by ``;``) through isql-vt as dba; raises
        :class:`VirtuosoError` on an ``*** Error`` line when ``check``. Returns isql's output."""
        command = [self.isql_bin, f"127.0.0.1:{self.sql_port}", "dba", "dba",
                   "VERBOSE=OFF", "BANNER=OFF", "PROMPT=OFF", "ECHO=OFF", "ERRORS=STDOUT"]
        try:
            out = subprocess.run(command, input=script.rstrip() + "\nexit;\n", capture_output=True, text=True,
                                 timeout=timeout)
        except subprocess.TimeoutExpired:
            raise VirtuosoError(f"isql did not finish within {timeout:g} s: {script[:200]}") from None
        text = out.stdout + out.stderr
        if check and ("*** Error" in text or out.returncode != 0):
            raise VirtuosoError(f"isql failed ({out.returncode}) on {script[:200]!r}:\n{text[-2000:]}")
        return text

    def load_rdf(self, files: list[Path], *, graph: str = DEFAULT_GRAPH) -> LoadResult:
        """Bulk-load RDF files (N-Quads ``.nq``, N-Triples ``.nt``, Turtle ``.ttl``, each also gzipped,
        and TriG ``.trig``; the triples of N-Triples and Turtle go to ``graph``): linked into ``data/`` (the loader only reads folders in
        ``DirsAllowed``), ``ld_dir`` + ``rdf_loader_run`` (``loaders`` of them at once) +
        ``checkpoint``; any file the loader recorded an error for raises :class:`VirtuosoError`."""
        batch = self.data_dir / f"batch-{int(time.time() * 1000)}"
        batch.mkdir(parents=True)
        total = 0
        for i, src in enumerate(files):
            src = Path(src).resolve()
            suffix = next((s for s in _LOADABLE if src.name.endswith(s)), None)
            if suffix is None:
                raise VirtuosoError(f"{src}: not a file the bulk loader reads (use one of {', '.join(_LOADABLE)})")
            dest = batch / f"part-{i:05d}{suffix}"
            try:
                os.link(src, dest)
            except OSError:
                os.symlink(src, dest)
            total += src.stat().st_size
        start = time.perf_counter()
        self.isql("\n".join(f"ld_dir('{batch}', '*{suffix}', '{graph}');" for suffix in _LOADABLE))
        if self.loaders == 1:
            self.isql("rdf_loader_run();", timeout=24 * 3600)
        else:  # parallel loaders read different files: the bench splits big exports into several
            procs = [subprocess.Popen([self.isql_bin, f"127.0.0.1:{self.sql_port}", "dba", "dba", "VERBOSE=OFF",
                                       "BANNER=OFF", "PROMPT=OFF", "ECHO=OFF", "ERRORS=STDOUT"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                     for _ in range(self.loaders)]
            outs = [p.communicate("rdf_loader_run();\nexit;\n", timeout=24 * 3600)[0] for p in procs]
            if any("*** Error" in o for o in outs):
                raise VirtuosoError("rdf_loader_run failed:\n" + "\n".join(outs)[-2000:])
        seconds = time.perf_counter() - start
        start = time.perf_counter()
        self.isql("checkpoint;", timeout=24 * 3600)
        checkpoint = time.perf_counter() - start
        report = self.isql(f"select ll_file, ll_state, ll_error from DB.DBA.LOAD_LIST where ll_file like '{batch}/%' "
                           "and (ll_state <> 2 or ll_error is not null);")
        if str(batch) in report:
            raise VirtuosoError(f"the bulk loader did not load every file:\n{report[-2000:]}")
        return LoadResult(len(files), total, round(seconds, 3), round(checkpoint, 3))

    # -- measurements ---------------------------------------------------------------------------

    def database_bytes(self) -> int:
        """Bytes of the database files (main and temporary database, transaction log)."""
        return sum(p.stat().st_size for p in self.folder.glob("virtuoso*.db")) + \
            sum(p.stat().st_size for p in self.folder.glob("virtuoso*.trx"))

    def memory(self) -> dict[str, int]:
        """The server process's resident memory now and its peak (bytes, from /proc)."""
        out = {}
        if self.proc is None:
            return out
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    out["rss" if key == "VmRSS" else "peak_rss"] = int(value.split()[0]) * 1024
        except OSError:
            pass
        return out


def split_nquads(path: Path, parts: int) -> list[Path]:
    """Split an N-Quads file into about ``parts`` files of whole lines beside it (``NAME.partNNN.nq``),
    for parallel bulk loaders (N-Quads is one statement per line, so any line boundary will do)."""
    path = Path(path)
    size = path.stat().st_size
    if parts <= 1 or size == 0:
        return [path]
    target = size // parts + 1
    out: list[Path] = []
    handle = None
    written = 0
    with open(path, "rb") as source:
        for line in source:
            if handle is None or written >= target:
                if handle is not None:
                    handle.close()
                out.append(path.with_name(f"{path.stem}.part{len(out):03d}.nq"))
                handle = open(out[-1], "wb")
                written = 0
            handle.write(line)
            written += len(line)
    if handle is not None:
        handle.close()
    return out


# ------------------------------------------------------------------------------------------------
# One SPARQL client for both engines
# ------------------------------------------------------------------------------------------------


class SparqlClient:
    """A keep-alive HTTP client of a SPARQL endpoint: form-encoded POST (what Virtuoso and ckg both
    take), JSON results. Not thread-safe: one per thread."""

    def __init__(self, endpoint: str, *, timeout: float = 600) -> None:
        parts = urlsplit(endpoint)
        self.endpoint, self.host, self.port = endpoint, parts.hostname, parts.port or 80
        self.path = parts.path or "/"
        self.timeout = timeout
        self.connection: http.client.HTTPConnection | None = None
        self.last_headers: dict[str, str] = {}

    def _connection(self) -> http.client.HTTPConnection:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self.connection

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> bytes:
        """One request (re-sent once on a fresh connection when the server closed an idle one)."""
        for attempt in (0, 1):
            connection = self._connection()
            try:
                connection.request(method, path, body=body, headers=headers or {})
                response = connection.getresponse()
                data = response.read()
                break
            except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected,
                    http.client.CannotSendRequest, http.client.ResponseNotReady):
                self.close()
                if attempt:
                    raise
        self.last_headers = {k.lower(): v for k, v in response.getheaders()}
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        if response.status != 200:
            raise HTTPStatusError(f"{self.endpoint}: HTTP {response.status}: {data[:300]!r}", response.status)
        return data

    def query_raw(self, text: str) -> bytes:
        body = urlencode({"query": text}).encode()
        data = self.request("POST", self.path, body, {"Content-Type": "application/x-www-form-urlencoded",
                                                      "Accept": "application/sparql-results+json"})
        state = self.last_headers.get("x-sql-state")
        if state:  # Virtuoso's "anytime" answer: cut at MaxQueryExecutionTime
            raise PartialResult(f"{self.endpoint}: partial result ({state}: {self.last_headers.get('x-sql-message', '')})")
        if self.last_headers.get("x-ckg-truncated", "").lower() == "true":
            raise PartialResult(f"{self.endpoint}: result truncated at {self.last_headers.get('x-ckg-row-limit')} rows")
        return data

    def query(self, text: str) -> dict[str, Any]:
        return json.loads(self.query_raw(text))

    def select(self, text: str) -> tuple[list[str], list[dict[str, dict]]]:
        answer = self.query(text)
        return answer["head"].get("vars", []), answer["results"]["bindings"]

    def ask(self, text: str) -> bool:
        return bool(self.query(text)["boolean"])


# ------------------------------------------------------------------------------------------------
# Portable query texts and comparable answers
# ------------------------------------------------------------------------------------------------


_XSD = "http://www.w3.org/2001/XMLSchema#"
_NUMERIC = {_XSD + t for t in ("integer", "decimal", "int", "long", "short", "byte", "nonNegativeInteger",
                               "positiveInteger", "negativeInteger", "nonPositiveInteger", "unsignedInt",
                               "unsignedLong", "unsignedShort", "unsignedByte")}
_FLOATS = {_XSD + "double", _XSD + "float"}


def normal_term(term: dict | None) -> tuple | None:
    """A SPARQL JSON term in a form both engines agree on: ``typed-literal`` (Virtuoso) is a
    literal, ``xsd:string`` is a plain literal (RDF 1.1), numbers compare by value."""
    if term is None:
        return None
    kind = term.get("type")
    value = term.get("value")
    if kind in ("uri",):
        return ("uri", value)
    if kind == "bnode":
        return ("bnode",)  # blank node labels are local to an answer
    datatype = term.get("datatype")
    lang = term.get("xml:lang")
    if datatype == _XSD + "string":
        datatype = None
    if datatype in _NUMERIC or datatype in _FLOATS:
        try:
            number = Decimal(value)
            value = str(number.normalize()) if datatype in _NUMERIC else repr(float(value))
        except (InvalidOperation, ValueError):
            pass
        datatype = "number" if datatype in _NUMERIC else "float"
    return ("literal", value, datatype, lang.lower() if lang else None)


def normal_rows(variables: list[str], bindings: list[dict]) -> list[tuple]:
    return [tuple(normal_term(b.get(v)) for v in variables) for b in bindings]


def order_keys(text: str) -> list[str] | None:
    """The variables of a query's final ``ORDER BY`` (plain, ``ASC(?v)`` or ``DESC(?v)``), [] when it
    has none, None when it orders by an expression.

    >>> order_keys("SELECT ?a ?b WHERE { ?a ?p ?b } ORDER BY DESC(?b) ?a LIMIT 3")
    ['b', 'a']
    >>> order_keys("SELECT * WHERE { ?a ?p ?b }"), order_keys("SELECT * WHERE { ?a ?p ?b } ORDER BY STR(?a)")
    ([], None)
    """
    from ckg.sparql_text import tokens

    toks = list(tokens(text))
    depth, start = 0, None
    for i, t in enumerate(toks):
        if t.kind == "punct" and t.text in "{([":
            depth += 1
        elif t.kind == "punct" and t.text in "})]":
            depth -= 1
        elif depth == 0 and t.is_keyword("ORDER") and i + 1 < len(toks) and toks[i + 1].is_keyword("BY"):
            start = i + 2
    if start is None:
        return []
    keys, i = [], start
    while i < len(toks) and not (toks[i].is_keyword("LIMIT") or toks[i].is_keyword("OFFSET")
                                 or toks[i].is_keyword("VALUES")):
        t = toks[i]
        if t.kind == "var":
            keys.append(t.text[1:])
            i += 1
        elif (t.kind == "name" and t.text.upper() in ("ASC", "DESC") and i + 3 < len(toks)
              and toks[i + 1].text == "(" and toks[i + 2].kind == "var" and toks[i + 3].text == ")"):
            keys.append(toks[i + 2].text[1:])
            i += 4
        else:
            return None
    return keys


@dataclass
class Comparison:
    same: bool  # the same rows in the same order
    same_rows: bool  # the same rows (as a multiset), whatever their order
    rows: tuple[int, int]
    detail: str = ""
    order_checked: bool = False  # the ORDER BY keys were numbers, IRIs or unbound (no strings)
    same_order: bool = True  # checked: the sequence of ORDER BY key values is the same on both


def compare(a: tuple[list[str], list[dict]], b: tuple[list[str], list[dict]], text: str | None = None) -> Comparison:
    """Compare two SELECT answers (variables, bindings): the multiset of normalised rows, and their
    order. With the query ``text``, the order is checked where the answer fixes it: the sequence
    of the ORDER BY keys' values must be the same on both engines (rows tied on every key may come
    in any order), unless a key is bound to a string somewhere: Virtuoso 7.2 does not order long
    strings by code points, as SPARQL (and Oxigraph) do, so string order is not compared."""
    (va, ba), (vb, bb) = a, b
    if va != vb:
        return Comparison(False, False, (len(ba), len(bb)), f"variables differ: {va} vs {vb}")
    ra, rb = normal_rows(va, ba), normal_rows(vb, bb)
    ca, cb = Counter(ra), Counter(rb)
    if ca != cb:
        only_a, only_b = list((ca - cb).elements())[:3], list((cb - ca).elements())[:3]
        return Comparison(False, False, (len(ra), len(rb)), f"rows differ: first only in A {only_a}; only in B {only_b}")
    result = Comparison(ra == rb, True, (len(ra), len(rb)))
    keys = order_keys(text) if text is not None else None
    if keys and all(k in va for k in keys):
        columns = [va.index(k) for k in keys]
        ka, kb = [tuple(r[c] for c in columns) for r in ra], [tuple(r[c] for c in columns) for r in rb]
        if not any(v is not None and v[0] == "literal" and v[2] not in ("number", "float") for row in ka for v in row):
            result.order_checked = True
            result.same_order = ka == kb
    if not result.same:
        first = next(i for i, (x, y) in enumerate(zip(ra, rb)) if x != y)
        result.detail = (f"same rows, order differs from row {first}" + ("" if result.same_order else " (on the ORDER BY keys)")
                         + f": {ra[first]} vs {rb[first]}")
    return result


# ------------------------------------------------------------------------------------------------
# The named queries with parameters taken from the data
# ------------------------------------------------------------------------------------------------

_CANDIDATES = "SELECT DISTINCT ?paper WHERE { ?paper ckg:cites ?cited ; ckg:citedBy ?citing } LIMIT 100"
_FALLBACK = "SELECT ?paper WHERE { ?paper ckg:citedBy ?citing ; dcterms:title ?title } LIMIT 1"
# a release without bibliographies (metadata only) cites nothing: papers with concepts then
_UNCITED = "SELECT ?paper WHERE { ?paper ckg:associatedConcept ?concept ; dcterms:title ?title } LIMIT 100"
_PROFILE = """SELECT ?title (COUNT(DISTINCT ?author) AS ?authors) (COUNT(DISTINCT ?institution) AS ?institutions)
       (COUNT(DISTINCT ?concept) AS ?concepts) (COUNT(DISTINCT ?topic) AS ?topics)
WHERE {{
  <{paper}> dcterms:title ?title .
  OPTIONAL {{ <{paper}> ckg:authoredBy ?author }}
  OPTIONAL {{ ?authorship ckg:annotatedSource <{paper}> ; ckg:statedAffiliation ?institution }}
  OPTIONAL {{ <{paper}> ckg:associatedConcept ?concept }}
  OPTIONAL {{ <{paper}> ckg:associatedTopic ?topic }}
}} GROUP BY ?title"""


def query_parameters(client: SparqlClient) -> dict[str, str]:
    """Values for every parameter of the named queries, found in the data through ``client``: a
    paper that cites and is cited and has concepts, topics, three authors or more and a stated
    affiliation (else as much of that as a paper has; in a store that cites nothing, as a
    metadata-only release's, a paper with concepts); its first author, one of its institutions,
    its concepts' and topic's labels, the longest word of its title."""
    from ckg.terms import PREFIXES

    prefixes = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())
    best, best_score = None, -1
    # point lookups on up to 100 papers that cite and are cited (else are cited, else have concepts):
    # cheap at any size, not one big join
    for row in (client.select(prefixes + _CANDIDATES)[1] or client.select(prefixes + _FALLBACK)[1]
                or client.select(prefixes + _UNCITED)[1]):
        candidate = row["paper"]["value"]
        profile = client.select(prefixes + _PROFILE.format(paper=candidate))[1]
        if not profile:
            continue
        counts = {k: int(profile[0][k]["value"]) for k in ("authors", "institutions", "concepts", "topics")}
        score = (min(counts["authors"], 3) + sum(min(v, 1) for k, v in counts.items() if k != "authors"))
        if score > best_score:
            best, best_score = (candidate, profile[0]["title"]["value"]), score
        if score == 6:
            break
    if best is None:
        raise ValueError("the store has no paper with a title and a citation or a concept: "
                         "too small to benchmark the named queries")
    paper, title = best
    out = {"paper": paper, "text": max(title.split(), key=len).strip(".,:;?!()").lower()}
    one = lambda text: [r for r in client.select(prefixes + text)[1]]  # noqa: E731
    authors = one(f"SELECT ?a ?n WHERE {{ ?s ckg:annotatedSource <{paper}> ; ckg:annotatedTarget ?a ; "
                  f"ckg:annotatedProperty ckg:authoredBy ; ckg:authorPosition ?n }} ORDER BY ?n LIMIT 1")
    if authors:
        out["author"] = authors[0]["a"]["value"]
    institutions = one(f"SELECT ?i WHERE {{ ?s ckg:annotatedSource <{paper}> ; ckg:statedAffiliation ?i }} "
                       f"ORDER BY ?i LIMIT 1") or one("SELECT ?i WHERE { ?s ckg:statedAffiliation ?i } LIMIT 1")
    if institutions:
        out["institution"] = institutions[0]["i"]["value"]
    concepts = one(f"SELECT DISTINCT ?l WHERE {{ <{paper}> ckg:associatedConcept ?c . ?c skos:prefLabel ?l }} "
                   f"ORDER BY ?l LIMIT 3")
    for i, row in enumerate(concepts):
        out[f"concept{i + 1}"] = row["l"]["value"]
    if concepts:
        out["concept"] = concepts[0]["l"]["value"]
    topics = one(f"SELECT ?l WHERE {{ <{paper}> ckg:associatedTopic ?t . ?t skos:prefLabel ?l }} ORDER BY ?l LIMIT 1")
    if topics:
        out["topic"] = topics[0]["l"]["value"]
    return out


def named_query_cases(values: dict[str, str], names: list[str] | None = None) -> dict[str, tuple[Any, dict[str, str]]]:
    """``{case: (named query, params)}``: every named query (or those in ``names``) with its required
    parameters, and for a query with optional parameters a second case ``name[p1,p2]`` with those
    filled too. A query whose required parameter has no value is left out."""
    from ckg import queries

    out = {}
    for q in queries.all_queries():
        if names is not None and q.name not in names:
            continue
        required = {p.name: values[p.name] for p in q.params if p.required and p.name in values}
        if len(required) < sum(p.required for p in q.params):
            continue
        out[q.name] = (q, required)
        optional = {p.name: values[p.name] for p in q.params if not p.required and p.default is None and p.name in values}
        if optional:
            out[f"{q.name}[{','.join(optional)}]"] = (q, {**required, **optional})
    return out
