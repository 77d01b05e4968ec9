"""Run SPARQL against a store (named queries or text) and write the results in a chosen format.

>>> import pyoxigraph as ox
>>> store = ox.Store()
>>> store.add(ox.Quad(ox.NamedNode("http://ex/a"), ox.NamedNode("http://ex/p"), ox.Literal("1"), ox.NamedNode("http://ex/g")))
>>> result = execute(store, "SELECT ?s WHERE { ?s ?p ?o }")
>>> result.form, result.variables, [str(r[0]) for r in result.rows]
('SELECT', ['s'], ['<http://ex/a>'])
>>> execute(store, "ASK { ?s ?p 2 }").boolean
False
>>> execute(store, "SELECT * WHERE {")
Traceback (most recent call last):
...
ckg.sparql.QuerySyntaxError: error at 1:17: expected ...

A text nested or chained too deeply for pyoxigraph's parser is refused before it is parsed (the
parser recurses, and past a few thousand levels its process dies of a stack overflow), and a
call of a function pyoxigraph does not know is a client's error that names the function:

>>> execute(store, "ASK " + "{" * 500 + "}" * 500)
Traceback (most recent call last):
...
ckg.sparql.QueryTooDeep: the query nests {, ( and [ 500 deep; at most 100 levels are parsed
>>> execute(store, "SELECT (<http://example.org/nofn>(1) AS ?x) {}")
Traceback (most recent call last):
...
ckg.sparql.UnknownFunction: unknown function <http://example.org/nofn>: a query may call SPARQL 1.1's functions
"""

from __future__ import annotations

import heapq
import math
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ckg import counted, first_pages, resources
from ckg import results as formats
from ckg.etl.catalog import first_titles_containing, papers_with_title_containing
from ckg.queries import NamedQuery
from ckg.sparql_text import LexError, Token, tokens
from ckg.store import CATALOG_FILE, EDITED_FILE
from ckg.store import query as store_query
from ckg.terms import CKG, PREFIXES


class QuerySyntaxError(ValueError):
    """The query text does not parse (the message is the parser's)."""


class QueryTooDeep(QuerySyntaxError):
    """The text is nested or chained deeper than the parser can safely take."""


class UnknownFunction(QuerySyntaxError):
    """The text calls a function the engine does not know (neither SPARQL's nor ckg's)."""


class DefaultGraphUpdate(QuerySyntaxError):
    """An update's WHERE would match the store's default graph, where ckg keeps no data."""


MAX_NESTING = 100
"""Deepest nesting of ``{``, ``(`` and ``[`` a query or update may have (:func:`check_depth`)."""
MAX_CHAIN = 1000
"""Most chained operators (``||``, ``+``, ``/``, ``UNION``, ...) along one path of a text."""

_CHAIN_PUNCT = frozenset({"||", "&&", "=", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "|", "^", "!"})
_CHAIN_WORDS = {"UNION": 1, "OPTIONAL": 1, "NOT": 1, "EXISTS": 1, "FILTER": 1, "GRAPH": 1, "SERVICE": 1,
                "VALUES": 1, "LATERAL": 1, "BIND": 3, "MINUS": 3}
"""Pattern keywords and their weight: about the stack one more of them costs pyoxigraph, in units of
an operator's (BIND and MINUS, like a projected or ordering expression, cost three)."""
EXPRESSION_WEIGHT = 3
"""The weight of a parenthesised expression beside others in a pattern or a clause (SELECT
(... AS ?x), GROUP BY (...), ORDER BY (...)), not in an expression or a VALUES row."""
_OPENING, _CLOSING = "{([", "})]"


MAX_RESUMPTIONS = 50
"""Characters :func:`lenient_tokens` skips by lexing on; past them, it reads brackets and operators alone."""
_RAW = frozenset(_OPENING + _CLOSING + ".;,|&=<>+-*/^!")


def lenient_tokens(text: str) -> Iterator[Token]:
    """The tokens of a text (:func:`ckg.sparql_text.tokens`), where an unterminated string's quote
    is skipped instead of ending the text: pyoxigraph may read on past it, so a check of what it
    will parse must too. After
    :data:`MAX_RESUMPTIONS` such characters the rest is read as brackets and operators only (it
    then counts more than pyoxigraph would parse, never less).

    >>> [t.text for t in lenient_tokens("ASK { ?s ?p 'o . { } }")]
    ['ASK', '{', '?s', '?p', 'o', '.', '{', '}', '}']
    """
    pos, resumed = 0, 0
    while pos < len(text):
        try:
            for token in tokens(text[pos:] if pos else text):
                yield Token(token.kind, token.text, token.start + pos)
            return
        except LexError as exc:
            pos += exc.offset + 1
            resumed += 1
            if resumed > MAX_RESUMPTIONS:
                break
    for offset in range(pos, len(text)):
        if text[offset] in _RAW:
            yield Token("punct", text[offset], offset)


def measure(text: str) -> tuple[int, int]:
    """The nesting of ``{ ( [`` in a text (outside strings, IRIs and comments, reading on past an
    unterminated string), and an upper bound of the depth of its expression
    and pattern tree: along every path of nested brackets, the sum of the operators, pattern
    keywords, triple patterns, groups and expressions of each bracket level, weighted by what one
    more costs pyoxigraph's stack (it builds ``a || b || c``, ``{A} UNION {B} UNION {C}``, the joins
    of a group's patterns and the ``BIND``/projected expressions as left-deep trees, and its parser
    and evaluator recurse over them). Lists of arguments, ``IN (...)`` and ``VALUES`` rows are
    flat: they do not count.

    >>> measure("ASK { FILTER(1 + 2 + (3 * 4 * 5) > 0) }")  # chain: 1 ({) + 1 (FILTER) + 3 (() + 3 (+ + >) + 2 (* *)
    (3, 10)
    >>> measure("SELECT ?s WHERE { ?s ?p ?o . ?o ?q ?r ; ?t ?u , ?v }")  # 1 ({) + 3 (. ; ,)
    (1, 4)
    >>> measure("SELECT * WHERE { VALUES (?a ?b) { (1 2) (3 4) (5 6) } FILTER(?a IN (1, 2, 3, 4)) }")
    (3, 11)
    >>> measure("ASK { ?s ?p ?o ~ ?r . " + "{" * 300 + "}" * 300 + " }")[0]  # past SPARQL 1.2's ~
    301
    >>> measure("ASK { FILTER(1<" + "(" * 300 + "1" + ")" * 300 + ">0) }")[0]  # 1 < ((( ... ))) > 0
    302
    >>> measure("ASK " + "{ FILTER(1 = <)))>) " * 200 + "}" * 200)[0]  # an IRI's ) closes nothing outside it
    201
    """
    stack: list[list] = [[0, 0, "{"]]  # per open bracket: [operators at its level, deepest chain below, bracket]
    nesting = 0
    values = False  # the next { opens a VALUES block (its rows are flat)

    def opening(bracket: str) -> None:
        nonlocal nesting, values
        if bracket == "{":
            stack[-1][0] += 1  # a group beside others is joined to them
            if values:
                bracket, values = "v", False
        elif bracket == "(" and stack[-1][2] not in "(v":
            stack[-1][0] += EXPRESSION_WEIGHT
        stack.append([0, 0, bracket])
        nesting = max(nesting, len(stack) - 1)

    def closing() -> None:
        if len(stack) > 1:
            ops, child, _ = stack.pop()
            stack[-1][1] = max(stack[-1][1], ops + child)

    for token in lenient_tokens(text):
        if token.kind == "punct":
            if token.text in _OPENING:
                opening(token.text)
            elif token.text in _CLOSING:
                closing()
            elif token.text in _CHAIN_PUNCT:
                stack[-1][0] += 1
            elif token.text in ".;," and stack[-1][2] in "{[":
                stack[-1][0] += 1  # one more triple pattern (not an argument or IN list separator)
        elif token.kind == "name" and token.text.upper() in _CHAIN_WORDS:
            stack[-1][0] += _CHAIN_WORDS[token.text.upper()]
            values = values or token.text.upper() == "VALUES"
        elif token.kind == "iri" and stack[-1][2] == "(":
            # in an expression, pyoxigraph may read "<" as "less than": what the lexer took for an
            # IRI such as <(((1)))> or <(!!!true> may be parsed as code, so read it as code too
            # (its operators at half weight: an IRI of an expression has a few slashes and dots); its
            # closing brackets close only what it opened, so that <)))> cannot hide the nesting around it
            floor = len(stack)
            for char in token.text[1:-1]:
                if char in _OPENING:
                    opening(char)
                elif char in _CLOSING:
                    if len(stack) > floor:
                        closing()
                elif char in _RAW:
                    stack[-1][0] += 0.5
    while len(stack) > 1:
        closing()
    return nesting, math.ceil(stack[0][0] + stack[0][1])


def check_depth(text: str, what: str = "query") -> None:
    """Refuse (:class:`QueryTooDeep`) a text nested deeper than :data:`MAX_NESTING` levels of
    ``{ ( [`` or whose operators and patterns chain deeper than :data:`MAX_CHAIN` (:func:`measure`).

    pyoxigraph's parser and evaluator recurse on the nesting and on left-deep chains. Measured with
    pyoxigraph 0.5 on an 8 MiB stack, a process dies (SIGSEGV) at about 830 nested ``FILTER
    EXISTS {``, 920 nested function calls, 2,200 nested ``{``, 2,600 nested sub-queries, 3,400
    ``[``, 4,100 collections ``(``, 4,700 ``(``; and at chains of 2,600 ``BIND``, ``MINUS`` or
    projected, grouping or ordering expressions, 6,200 ``OPTIONAL``, 6,500 ``UNION`` or ``GRAPH``,
    6,900 ``+``, 8,100 triple patterns (``.``, ``;`` or ``,``) or groups with patterns, 8,200 ``/``
    in a property path, 9,300 ``FILTER``, ``||``, ``&&`` or ``!``. (Flat lists do not recurse:
    100,000 ``VALUES`` rows, 50,000 ``IN`` values, 50,000 function arguments.) The limits keep the
    worst case within about a third of that stack.

    >>> check_depth("SELECT * WHERE { FILTER(" + " || ".join(["?x = 1"] * 600) + ") }")
    Traceback (most recent call last):
    ...
    ckg.sparql.QueryTooDeep: the query chains operators and patterns (||, &&, +, /, UNION, OPTIONAL, BIND, ...) 1205 deep; at most 1000 are parsed: write long alternatives as IN (...) or VALUES
    """
    if len(text) <= min(MAX_NESTING, MAX_CHAIN):
        return
    nesting, chain = measure(text)
    if nesting > MAX_NESTING:
        raise QueryTooDeep(f"the {what} nests {{, ( and [ {nesting} deep; at most {MAX_NESTING} levels are parsed")
    if chain > MAX_CHAIN:
        raise QueryTooDeep(f"the {what} chains operators and patterns (||, &&, +, /, UNION, OPTIONAL, BIND, ...) "
                           f"{chain} deep; at most {MAX_CHAIN} are parsed: write long alternatives as IN (...) "
                           f"or VALUES")


DEFAULT_GRAPH_MESSAGE = (
    "this update's WHERE matches {what} in the default graph, which holds none of ckg's data: every triple of "
    "the store is in a named graph (a paper's, the citations', ...). Queries read the union of the named "
    "graphs as their default graph, but an update cannot (pyoxigraph has no such option), so this WHERE "
    "would match nothing. Match the patterns inside GRAPH ?g {{ ... }}, or name the graphs to read with "
    "USING <graph> (or WITH <graph>, or the protocol's using-graph-uri)")

_TERMS = frozenset({"var", "iri", "pname", "bnode", "string", "number"})
_MODIFIERS = frozenset({"GROUP", "ORDER", "HAVING", "LIMIT", "OFFSET"})


def reads_default_graph(toks: list[Token], start: int) -> bool:
    """Whether the group pattern opening at ``toks[start]`` (a ``{``) has a triple pattern outside
    every ``GRAPH`` (sub-queries and ``EXISTS`` included): a pattern the default graph answers.
    ``SERVICE`` and ``VALUES`` blocks and expressions are not patterns of this store.

    >>> from ckg.sparql_text import tokens
    >>> reads_default_graph(list(tokens("{ ?p dcterms:title ?t }")), 0)
    True
    >>> reads_default_graph(list(tokens("{ GRAPH ?g { ?p dcterms:title ?t } FILTER(?t != 'x') BIND(1 AS ?one) }")), 0)
    False
    >>> reads_default_graph(list(tokens("{ GRAPH ?g { ?p a ?c } FILTER NOT EXISTS { ?p a ckg:Paper } }")), 0)
    True
    """
    frames: list[str] = []  # group, graph, service, values, paren, bracket, skip
    pending = None  # what the next { opens
    skip_term = skip_until_open = False
    for token in toks[start:]:
        kind, text = token.kind, token.text
        if kind == "punct" and text in _OPENING:
            if text == "{":
                frames.append(pending or "group")
                pending, skip_until_open = None, False
            else:
                frames.append("paren" if text == "(" else "bracket")
            skip_term = False
            continue
        if kind == "punct" and text in _CLOSING:
            if frames:
                frames.pop()
            if not frames:
                return False
            continue
        if kind == "name":
            word = text.upper()
            if word in ("GRAPH", "SERVICE"):
                pending, skip_term = word.lower(), True
            elif word == "VALUES":
                pending, skip_until_open = "values", True
            elif word == "FILTER":
                skip_term = True  # FILTER <function>(...)
            elif word == "SELECT":
                skip_until_open = True  # the projection of a sub-query
            elif word in _MODIFIERS and frames:
                frames[-1] = "skip"  # GROUP BY ?x, ORDER BY ?x ... end the sub-query's group level
            continue
        if kind not in _TERMS:
            continue
        if skip_term:
            skip_term = False
            continue
        if skip_until_open or not frames or frames[-1] not in ("group", "bracket"):
            continue
        if any(frame in ("graph", "service", "values") for frame in frames):
            continue
        return True
    return False


def check_update(text: str) -> None:
    """Refuse an update nested too deeply (:func:`check_depth`), or one whose WHERE (of an
    INSERT/DELETE without USING or WITH, or a DELETE WHERE) matches the default graph
    (:class:`DefaultGraphUpdate`): ckg keeps its data in named graphs, and pyoxigraph's updates
    cannot read their union as the default graph, as queries do.

    >>> check_update("INSERT { GRAPH <http://e/g> { ?p <http://e/t> ?t } } WHERE { GRAPH ?g { ?p dcterms:title ?t } }")
    >>> check_update("INSERT { GRAPH <http://e/g> { ?p <http://e/t> ?t } } USING <http://e/a> WHERE { ?p dcterms:title ?t }")
    >>> check_update("INSERT DATA { <http://e/s> <http://e/p> 1 } ; DELETE WHERE { ?p dcterms:title ?t }")
    Traceback (most recent call last):
    ...
    ckg.sparql.DefaultGraphUpdate: this update's WHERE matches triple patterns in the default graph, which holds none of ckg's data: ...
    """
    check_depth(text, "update")
    toks = list(lenient_tokens(text))
    depth, operation_start = 0, 0
    for i, token in enumerate(toks + [Token("punct", ";", len(text))]):
        if token.kind != "punct":
            continue
        if token.text in _OPENING:
            depth += 1
        elif token.text in _CLOSING:
            depth -= 1
        elif token.text == ";" and depth == 0:
            _check_operation(toks, operation_start, i)
            operation_start = i + 1


def _check_operation(toks: list[Token], start: int, end: int) -> None:
    """Check one operation of an update, ``toks[start:end]``."""
    depth, where = 0, None
    words = []
    for i in range(start, end):
        token = toks[i]
        if token.kind == "punct" and token.text in _OPENING:
            if depth == 0 and where is not None and i == where + 1:
                break  # the WHERE's group opens here
            depth += 1
        elif token.kind == "punct" and token.text in _CLOSING:
            depth -= 1
        elif depth == 0 and token.kind == "name":
            words.append(token.text.upper())
            if words[-1] == "WHERE":
                where = i
    else:
        return
    if "USING" in words or "WITH" in words or "DATA" in words:
        return
    if reads_default_graph(toks[:end], where + 1):
        raise DefaultGraphUpdate(DEFAULT_GRAPH_MESSAGE.format(what="triple patterns"))


_UNSUPPORTED = re.compile(r"The custom function <([^>]*)> is not supported")


def function_name(iri: str) -> str:
    """``ckg:name`` for a function in ckg's namespace, else ``<iri>``.

    >>> function_name(CKG.pageRank.value), function_name("http://example.org/f")
    ('ckg:pageRank', '<http://example.org/f>')
    """
    prefix = CKG.pageRank.value[: -len("pageRank")]
    return "ckg:" + iri[len(prefix):] if iri.startswith(prefix) else f"<{iri}>"


def unknown_function(exc: BaseException, functions: Any = None, *, update: bool = False) -> UnknownFunction | None:
    """The :class:`UnknownFunction` error pyoxigraph's "custom function ... is not supported"
    means, naming the function and the ones ``functions`` (IRIs) provide; None for another error."""
    found = _UNSUPPORTED.search(str(exc))
    if found is None:
        return None
    name = function_name(found.group(1))
    if update and name.startswith("ckg:"):
        return UnknownFunction(f"{name} cannot be used in an update: ckg's functions are available in queries only")
    known = sorted(function_name(getattr(f, "value", str(f))) for f in functions) if functions else []
    return UnknownFunction(f"unknown function {name}: a query may call SPARQL 1.1's functions"
                           + (f" and ckg's ({', '.join(known)})" if known else ""))


@dataclass
class Result:
    """A query result: rows for SELECT, a boolean for ASK, triples for CONSTRUCT/DESCRIBE."""

    form: str
    variables: list[str] = field(default_factory=list)
    rows: Iterable[Any] = ()
    boolean: bool | None = None
    triples: Iterable[ox.Triple] = ()


def execute(store: ox.Store, sparql: str, *, substitutions: dict | None = None, limit: int | None = None,
            **kwargs: Any) -> Result:
    """Run a query (union default graph, ckg prefixes predeclared), at most ``limit`` rows/triples.
    A text nested too deeply (:func:`check_depth`) or calling an unknown function is refused."""
    check_depth(sparql)
    try:
        answer = store_query(store, sparql, substitutions=substitutions, **kwargs)
    except SyntaxError as exc:
        raise QuerySyntaxError(_clean_message(str(exc))) from None
    except RuntimeError as exc:
        unknown = unknown_function(exc, kwargs.get("custom_functions"))
        if unknown is None:
            raise
        raise unknown from None
    if isinstance(answer, ox.QueryBoolean):
        return Result("ASK", boolean=bool(answer))
    if isinstance(answer, ox.QuerySolutions):
        variables, rows = formats.solutions(answer, limit)
        return Result("SELECT", variables=variables, rows=rows)
    triples = answer if limit is None else (t for n, t in enumerate(answer) if n < limit)
    return Result("CONSTRUCT", triples=triples)


TITLE_INDEX_MAX_PAPERS = 20_000
"""The most papers a title-index lookup narrows a query to; with more, the query scans the titles."""
TITLE_INDEX_MAX_MATCHES = 200_000
"""The most papers whose titles an ordered title-index query's first page reads (more: it scans)."""


def named_text(query: NamedQuery, substitutions: dict, folder: Path | None, *, store: ox.Store | None = None,
               rows: int | None = None) -> str:
    """The text to run for a named query with these bound parameters, narrowed where ckg can, else
    its own text; only for the store of a release in ``folder`` (:func:`ckg.store.open_release`)
    that was not changed in place since it was built:

    * by the title index of the release's catalog (see :mod:`ckg.queries`) when the query declares
      one and the index can answer (it is complete, at most :data:`TITLE_INDEX_MAX_PAPERS` papers
      match); for a query ordered by title, asked for ``rows`` rows, to the papers of its first
      ``rows`` titles (up to :data:`TITLE_INDEX_MAX_MATCHES` papers match), sorted by SQLite from
      the titles as written that the catalog keeps
      (:func:`ckg.etl.catalog.first_titles_containing`), or read from the store when a catalog
      made before does not (:func:`ckg.first_pages.first_by_title`);
    * to the papers of its first ``rows`` rows when the query declares a first page
      (:mod:`ckg.first_pages`) and ``store``, the release's store, is given;
    * with its counted group's rows given as values when the query declares a count ckg keeps
      (:mod:`ckg.counted`) and ``store`` is given."""
    narrowing = _narrowing(query, substitutions, folder, store, rows)
    return narrowing if isinstance(narrowing, str) else query.narrowed(narrowing[0], narrowing[1])


TITLE_CHUNK = 1_000
"""The most papers one text of a query ordered by title is narrowed to (:func:`named_texts`)."""


def named_texts(query: NamedQuery, substitutions: dict, folder: Path | None, *, store: ox.Store | None = None,
                rows: int | None = None) -> list[str]:
    """The texts to run for a named query (:func:`named_text`): one, or, for a query ordered by
    title (``ORDER BY ?title ?VARIABLE``) narrowed to more than :data:`TITLE_CHUNK` papers in
    title order, one text per :data:`TITLE_CHUNK` of them, whose answers merged in that order
    are the query's (:func:`execute_named`). pyoxigraph joins up to about a thousand values by
    looking each paper up, and more by reading every paper: at a million papers, find-papers
    narrowed to 1,000 papers took 124 ms, to 2,000 2.2 s, to 10,001 17.7 s."""
    narrowing = _narrowing(query, substitutions, folder, store, rows)
    if isinstance(narrowing, str):
        return [narrowing]
    variable, papers, ordered = narrowing
    if not ordered or len(papers) <= TITLE_CHUNK:
        return [query.narrowed(variable, papers)]
    return [query.narrowed(variable, papers[i:i + TITLE_CHUNK]) for i in range(0, len(papers), TITLE_CHUNK)]


def execute_named(store: ox.Store, query: NamedQuery, substitutions: dict, folder: Path | None, *,
                  rows: int | None = None, limit: int | None = None, **kwargs: Any) -> Result:
    """Run a named query with bound parameters, narrowed for its first ``rows`` rows where ckg
    can (:func:`named_texts`), at most ``limit`` rows; several texts' answers are merged in the
    query's order by title."""
    texts = named_texts(query, substitutions, folder, store=store, rows=rows)
    if len(texts) == 1:
        return execute(store, texts[0], substitutions=substitutions, limit=limit, **kwargs)
    parts = [execute(store, text, substitutions=substitutions, **kwargs) for text in texts]
    variables = parts[0].variables
    order = [variables.index("title"), variables.index(query.title_index[0])]
    merged = heapq.merge(*(part.rows for part in parts),
                         key=lambda row: tuple("" if row[i] is None else row[i].value for i in order))
    return Result("SELECT", variables=variables, rows=islice(merged, limit))


def _narrowing(query: NamedQuery, substitutions: dict, folder: Path | None, store: ox.Store | None,
               rows: int | None) -> str | tuple[str, list[ox.NamedNode], bool]:
    """:func:`named_text`'s text, or the variable and the papers the title index narrows it to, and
    whether they are in the order of the query's rows (by title)."""
    if folder is None or (Path(folder) / EDITED_FILE).exists():
        return query.text
    if query.counted is not None and store is not None:
        values = counted.counted_rows(query.counted, store, folder, substitutions)
        return query.text if values is None else query.with_counts(values)
    if query.first_page is not None and store is not None and rows is not None:
        citations = first_pages.citations_of(folder)
        found = None if citations is None else first_pages.candidates(store, citations, query.first_page[1],
                                                                      substitutions, rows)
        if found is not None:  # the ranked papers are the query's first-page variable
            return query.narrowed_to({query.first_page[0] if v == "paper" else v: nodes for v, nodes in found.items()})
    if query.title_index is None:
        return query.text
    variable, param = query.title_index
    text = substitutions.get(ox.Variable(param))
    if not isinstance(text, ox.Literal):
        return query.text
    catalog = Path(folder) / CATALOG_FILE
    if query.title_ordered and rows is not None:
        pairs = first_titles_containing(catalog, text.value, rows, TITLE_INDEX_MAX_MATCHES)
        if pairs is not None:
            papers = first_pages.first_of_titles(pairs, rows)
            return query.text if len(papers) > TITLE_INDEX_MAX_PAPERS else (variable, papers, True)
    paged = query.title_ordered and store is not None and rows is not None  # a catalog without the titles as written
    keys = papers_with_title_containing(catalog, text.value, TITLE_INDEX_MAX_MATCHES if paged else TITLE_INDEX_MAX_PAPERS)
    if keys is None:
        return query.text
    papers = [resources.paper(k) for k in keys]
    if paged and len(papers) > rows:
        papers = first_pages.first_by_title(store, papers, text.value, rows) or papers
    if len(papers) > TITLE_INDEX_MAX_PAPERS:
        return query.text
    return variable, papers, False


def warm(folder: Path | None) -> None:
    """Read what :func:`named_text` reads of the release in ``folder`` once per process (the
    citations, the concept edges: some 10 s each at a million papers), so that the first query
    that needs it does not wait; the query processes of ``ckg serve`` call it in a thread when
    they open a release."""
    if folder is None or (Path(folder) / EDITED_FILE).exists():
        return
    try:
        first_pages.citations_of(folder)
        counted.edges_of(folder)
    except Exception as exc:  # the queries that need them will read them, or run as written
        print(f"ckg: could not read the release's citations and concept edges ahead of the queries: {exc}",
              file=sys.stderr)


def run_named(store: ox.Store, query: NamedQuery, params: dict[str, Any], *, limit: int | None = None,
              folder: Path | None = None, **kwargs: Any) -> Result:
    """Run a named query with its parameters bound by substitution (``kwargs`` go to the store's
    ``query``, for example ``custom_functions``); ``folder``, the folder of the store's release
    (:func:`ckg.store.open_release`), lets it use the release's title index and, with a ``limit``,
    find a ranking's first page (:func:`named_text`)."""
    return execute_named(store, query, query.bind(params), folder, rows=limit, limit=limit, **kwargs)


def _clean_message(message: str) -> str:
    return re.sub(r"\s+", " ", message).strip()


RDF_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "rdfxml": ox.RdfFormat.RDF_XML,
    "jsonld": ox.RdfFormat.JSON_LD,
}


def write(result: Result, fmt: str) -> str:
    """The result as text in a format: json, xml, csv, tsv, table (SELECT/ASK) or an RDF
    format name (CONSTRUCT/DESCRIBE; 'table' writes Turtle)."""
    if result.form == "ASK":
        if fmt == "xml":
            return formats.boolean_xml(result.boolean)
        if fmt == "json":
            return formats.boolean_json(result.boolean)
        return "true" if result.boolean else "false"
    if result.form == "SELECT":
        if fmt not in formats.WRITERS:
            raise ValueError(f"format {fmt!r} is not a SELECT result format ({', '.join(formats.WRITERS)})")
        return formats.WRITERS[fmt](result.variables, result.rows)
    rdf = RDF_FORMATS.get(fmt, ox.RdfFormat.TURTLE if fmt == "table" else None)
    if rdf is None:
        raise ValueError(f"format {fmt!r} is not an RDF format ({', '.join(RDF_FORMATS)})")
    kwargs = {"prefixes": PREFIXES} if rdf in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else {}
    return ox.serialize(result.triples, format=rdf, **kwargs).decode("utf-8")
