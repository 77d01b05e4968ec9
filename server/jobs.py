"""The jobs an engine process runs (see :mod:`ckg.server.engine`): each is a function of the
engine's context and plain parameters that returns plain values (bytes, dicts), so that the
whole work of a request — parsing, evaluation, custom functions, serialisation — happens in the
process that the timeout can kill.

>>> classify(SyntaxError("error at 1:5: expected ..."))
(400, 'error at 1:5: expected ...')
>>> classify(OSError("connection refused"))
(500, 'query evaluation failed: connection refused')
>>> classify(RuntimeError("The custom function <http://example.org/nofn> is not supported"))
(400, "unknown function <http://example.org/nofn>: a query may call SPARQL 1.1's functions")
>>> classify(ValueError("Port could not be cast to integer value as '1:2'"))
(400, "not a valid IRI: Port could not be cast to integer value as '1:2'")
>>> classify(MemoryError())[0]
503
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import pyoxigraph as ox

from ckg import queries, resources
from ckg.server import guard, records
from ckg.sparql import QuerySyntaxError, Result, check_update, execute, execute_named, unknown_function, write
from ckg.store import StoreError
from ckg.terms import PREFIXES

FORMS_WITH_SOLUTIONS = ("SELECT", "ASK")


class JobError(Exception):
    """A job refused its input: ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


_INVALID_IRI = re.compile(r"^(?:No scheme found in an absolute IRI|Invalid IRI|Invalid character '.*'|Invalid host|"
                          r"Invalid port|Port could not be cast|Invalid IPv6 URL|.* is not an IRI\b)")
"""The messages of pyoxigraph's IRI parser (and of urllib's) for a malformed IRI: the client's error."""


def memory_message() -> str:
    """What a query that ran out of memory is told (the limit is this process's RLIMIT_DATA)."""
    import resource

    from ckg.server.engine import OUT_OF_MEMORY

    limit = resource.getrlimit(resource.RLIMIT_DATA)[0]
    if limit == resource.RLIM_INFINITY:
        return f"{OUT_OF_MEMORY} this server could give it and was stopped"
    return f"{OUT_OF_MEMORY} this endpoint allows a query ({limit // 2**20} MiB, CKG_QUERY_MEMORY_MB) and was stopped"


def classify(exc: BaseException) -> tuple[int, str]:
    """HTTP status and message for an error raised while a job ran: 400 for what the client
    sent (a syntax error, an unknown function, a malformed IRI, a text nested too deeply), 503
    for a query out of memory (as when its process aborts), 500 for the rest."""
    message = re.sub(r"\s+", " ", str(exc)).strip() or type(exc).__name__
    if isinstance(exc, guard.GuardError):
        return exc.status, message
    if isinstance(exc, MemoryError):
        return 503, memory_message()
    if isinstance(exc, RecursionError):
        return 400, f"the request is nested too deeply to be read ({message})"
    unknown = unknown_function(exc)
    if unknown is not None:
        return 400, str(unknown)
    if isinstance(exc, ValueError) and not isinstance(exc, QuerySyntaxError) and _INVALID_IRI.match(message):
        return 400, f"not a valid IRI: {message}"
    if isinstance(exc, (SyntaxError, QuerySyntaxError, queries.QueryParameterError)):
        return 400, message
    if isinstance(exc, queries.UnknownQuery):
        return 404, str(exc)
    if isinstance(exc, StoreError):
        return 500, message
    if isinstance(exc, OSError) and ("os error 13" in message or "failed to lookup address" in message):
        # pyoxigraph's own SERVICE/LOAD, in a process without network (even DNS fails there)
        return 403, ("the query tried to open a network connection (a SERVICE or LOAD this endpoint did not "
                     f"evaluate itself), and its query process has no network: {message}")
    if isinstance(exc, (OSError, RuntimeError, ValueError)):
        return 500, f"query evaluation failed: {message}"
    return 500, f"internal error: {type(exc).__name__}: {message}"


def _graphs(values: list[str] | None, what: str) -> list[ox.NamedNode] | None:
    if values is None:
        return None
    out = []
    for value in values:
        try:
            out.append(ox.NamedNode(value))
        except ValueError:
            raise JobError(400, f"{what} {value!r} is not an IRI") from None
    return out


def serialise(result: Result, max_rows: int | None, formats: dict[str, tuple[str, str] | None]) -> dict[str, Any]:
    """Serialise a result in the format chosen for its form, at most ``max_rows`` rows/triples."""
    kind = "solutions" if result.form in FORMS_WITH_SOLUTIONS else "graph"
    chosen = formats.get(kind)
    if chosen is None:
        raise JobError(406, f"no acceptable format for a {result.form} result: ask for one of "
                            f"{', '.join(formats.get(kind + '_offered') or ())}")
    fmt, media_type = chosen
    truncated = False
    count = None
    if result.form == "SELECT":
        rows = list(itertools.islice(result.rows, None if max_rows is None else max_rows + 1))
        truncated = max_rows is not None and len(rows) > max_rows
        rows = rows[:max_rows] if truncated else rows
        count = len(rows)
        result = Result("SELECT", variables=result.variables, rows=rows)
    elif result.form != "ASK":
        triples = list(itertools.islice(result.triples, None if max_rows is None else max_rows + 1))
        truncated = max_rows is not None and len(triples) > max_rows
        triples = triples[:max_rows] if truncated else triples
        count = len(triples)
        result = Result(result.form, triples=triples)
    body = write(result, fmt).encode("utf-8")
    return {"form": result.form, "format": fmt, "media_type": media_type, "body": body, "count": count,
            "truncated": truncated}


def run_query(ctx, *, query: str, default_graphs: list[str] | None = None, named_graphs: list[str] | None = None,
              formats: dict[str, Any], max_rows: int | None = None, base_iri: str | None = None) -> dict[str, Any]:
    """A SPARQL query of the protocol, run on the union of the named graphs (or the dataset the
    request names), serialised. Its SERVICE clauses were evaluated by the web worker already
    (:mod:`ckg.server.federation`); this process has no network."""
    kwargs: dict[str, Any] = {"custom_functions": ctx.functions, "base_iri": base_iri}
    default = _graphs(default_graphs, "default-graph-uri")
    named = _graphs(named_graphs, "named-graph-uri")
    if default is not None or named is not None:  # the protocol's dataset is exactly the graphs it names
        kwargs["use_default_graph_as_union"] = False
        kwargs["default_graph"] = default or []
        kwargs["named_graphs"] = named or []
    result = execute(ctx.store, query, **kwargs)
    return serialise(result, max_rows, formats)


def run_update(ctx, *, update: str, base_iri: str | None = None) -> dict[str, Any]:
    """A SPARQL update (only when the server enables updates), applied atomically (its SERVICE
    clauses were evaluated by the web worker; this process has no network)."""

    check_update(update)  # not too deep for the parser; no WHERE that reads the (empty) default graph

    def apply(store: ox.Store) -> None:
        try:
            store.update(update, prefixes=PREFIXES, base_iri=base_iri)
        except SyntaxError as exc:
            raise JobError(400, re.sub(r"\s+", " ", str(exc)).strip()) from None
        except RuntimeError as exc:
            unknown = unknown_function(exc, update=True)
            if unknown is None:
                raise
            raise JobError(400, str(unknown)) from None

    ctx.write(apply)
    return {}


def run_named(ctx, *, name: str, params: dict[str, str], fmt: str, max_rows: int | None = None) -> dict[str, Any]:
    """A named query of ``queries/`` with its parameters bound by substitution."""
    query = queries.get(name)
    subs = query.bind(params)
    # one row past the page, so that a cut answer is still known to be cut (truncated)
    result = execute_named(ctx.store, query, subs, ctx.folder, rows=None if max_rows is None else max_rows + 1,
                           custom_functions=ctx.functions)
    if fmt != "object":
        return serialise(result, max_rows, {"solutions": (fmt, ""), "graph": (fmt, "")})
    rows = list(itertools.islice(result.rows, None if max_rows is None else max_rows + 1))
    truncated = max_rows is not None and len(rows) > max_rows
    rows = rows[:max_rows] if truncated else rows
    return {"columns": result.variables, "rows": [{v: records.plain(t) for v, t in zip(result.variables, row)}
                                                  for row in rows],
            "count": len(rows), "truncated": truncated,
            "params": {p.name: records.plain(t) for p in query.params
                       for var, t in subs.items() if var.value == p.name}}


def paper(ctx, *, paper: str, cited_by_limit: int = 100) -> dict[str, Any]:
    record = records.paper_record(ctx.store, ctx.functions, paper, cited_by_limit=cited_by_limit)
    if record is None:
        raise JobError(404, f"no paper {paper!r} in this store")
    return {"record": record}


def entity(ctx, *, kind: str, key: str) -> dict[str, Any]:
    """The record of an entity page (:mod:`ckg.server.entities`): a concept, author, topic or
    institution by key or IRI; 404 when the store has none."""
    from ckg.server import entities

    if kind not in entities.RECORDS:
        raise JobError(404, f"no page for a {kind!r}")
    record = entities.RECORDS[kind](ctx.store, ctx.functions, key)
    if record is None:
        raise JobError(404, f"no {kind} {key!r} in this store")
    return {"record": record}


def paper_view(ctx, *, paper: str, cited_by_limit: int = 100) -> dict[str, Any]:
    """What a paper's page shows: its record (as ``paper``) and its concepts grouped by kind,
    most confident first (:func:`ckg.server.entities.concept_groups`)."""
    from ckg.server import entities

    record = records.paper_record(ctx.store, ctx.functions, paper, cited_by_limit=cited_by_limit)
    if record is None:
        raise JobError(404, f"no paper {paper!r} in this store")
    groups = entities.concept_groups(ctx.store, ctx.functions, ox.NamedNode(record["iri"]), record["concepts"])
    return {"record": record, "concept_groups": groups}


def overview(ctx, *, top: int = 15) -> dict[str, Any]:
    """What the corpus overview reads from the store (:func:`ckg.server.entities.overview_record`)."""
    from ckg.server import entities

    return {"record": entities.overview_record(ctx.store, ctx.functions, top=top)}


def rank(ctx, **params) -> dict[str, Any]:
    try:
        return {"ranking": records.rank_papers(ctx.store, ctx.functions, **params)}
    except ValueError as exc:  # a malformed concept, topic or order
        raise JobError(400, str(exc)) from None


def similar(ctx, *, paper: str, k: int = 10, mode: str = "combined") -> dict[str, Any]:
    """The ``k`` papers most similar to a paper in the store's current embedding run: 404 when the
    store has no such paper, 409 when the store has no embeddings, the paper was added after the
    last training, or it has no vector in ``mode``. (The messages name no server path.)"""
    from ckg.embed.errors import EmbeddingError, NoEmbedding, UnknownPaper

    def require_paper() -> None:
        if not records.paper_record_exists(ctx.store, paper):
            raise JobError(404, f"no paper {paper!r} in this store")

    backend = ctx.similarity_backend
    if backend is None:
        require_paper()
        raise JobError(409, "this store has no embeddings yet: they are made by `ckg train` on the store "
                            "(the server loads them by itself)")
    try:
        neighbours = backend.similar(paper, k=k, mode=mode)
    except UnknownPaper:
        require_paper()
        raise JobError(409, f"paper {paper} is in this store but not in the embeddings of run {backend.run_id}: it was "
                            f"added after that training, and the next `ckg train` embeds it") from None
    except NoEmbedding as exc:
        raise JobError(409, str(exc)) from None
    except EmbeddingError as exc:
        raise JobError(400, str(exc)) from None
    iri = resources.paper_from_user(paper)
    return {"answer": {"paper": resources.key_of(iri, "paper"), "iri": iri.value, "mode": mode, "k": k,
                       "run": backend.run_id, "similar": [n.as_dict() for n in neighbours]}}


def search(ctx, *, q: str, k: int = 10, mode: str = "fused", concept: str | None = None, topic: str | None = None,
           year: int | None = None, prior: float | None = None) -> dict[str, Any]:
    """The papers that best answer ``q`` (:mod:`ckg.search`): 409 when the release has no search
    index, 400 for a query the search refuses (empty, unknown mode, semantic without embeddings)."""
    from ckg.search.service import SearchError

    provider = getattr(ctx, "search_service", None)
    if provider is None:  # a SPARQL backend (ckg.server.remote) holds the graph, not the search index
        raise JobError(409, "search is not available with --sparql-backend: it needs the local store's search "
                            "index and graph")
    service = provider()
    if service is None:
        raise JobError(409, "this release has no search index: the next `ckg update` writes it, or "
                            "`ckg search reindex` on the store")
    try:
        return {"answer": service.search(q, k=k, mode=mode, concept=concept, topic=topic, year=year,
                                         prior=prior).as_dict()}
    except SearchError as exc:
        raise JobError(400, str(exc)) from None


def stats(ctx) -> dict[str, Any]:
    graphs = sum(1 for _ in ctx.store.named_graphs())
    backend = ctx.similarity_backend
    return {"triples": len(ctx.store), "named_graphs": graphs, "similarity": backend is not None,
            "embeddings_run": backend.run_id if backend is not None else None}


def sleep(ctx, *, seconds: float) -> dict[str, Any]:
    """Sleep (a job for tests of the timeout)."""
    import time

    time.sleep(seconds)
    return {}


def warm(ctx) -> dict[str, Any]:
    """Nothing: a fresh query process runs it to import its modules and open the store before it
    takes a request (the engine opens the store before any job but ``ping``)."""
    return {}


OPS = {"query": run_query, "update": run_update, "named": run_named, "paper": paper, "rank": rank,
       "entity": entity, "paper_view": paper_view, "overview": overview,
       "similar": similar, "search": search, "stats": stats, "sleep": sleep, "warm": warm}
WRITE_OPS = {"update"}
