"""Bind joins: a SERVICE clause asked only for the values the rest of the query can join with.

Sent as it is written, ``SERVICE <mesh> { ?mesh meshv:treeNumber ?tree }`` asks the remote
endpoint for every descriptor's tree numbers, even when the query joins them with the two
concepts of one paper. A bind join first finds, in ckg's own store, the values that the clause's
variables can take from the rest of the query (the *probe*), and sends them along with the
pattern in a ``VALUES`` block, in batches (:mod:`ckg.server.federation` does the calls).

Why the answer is the same. SPARQL evaluates a group bottom-up: each element of the group (a
triple block, ``OPTIONAL``, a subgroup, ``VALUES``, ``BIND``, the ``SERVICE``) on its own, joined
in order, then the group's filters. The probe is the query's ``WHERE`` group without its
``SERVICE`` clauses and without the top-level ``FILTER``\\ s and ``MINUS`` blocks that mention a
variable of a ``SERVICE`` clause: those only remove solutions, and the others decide the same
without the clauses, so every solution of the whole query, restricted to the other elements, is
a solution of the probe, and the clause's rows that join with none of the probe's values join
with nothing in the query either. A probe row that leaves a join variable unbound would constrain
nothing: then (and for a probe of more than ``max_rows`` rows, or one that fails) the clause is
sent whole, as without a bind join.

Only clauses that are elements of the query's own ``WHERE`` group take part (not those inside
``OPTIONAL``, ``UNION``, ``GRAPH``, ``MINUS`` or a subquery), of queries without ``FROM`` (the
probe runs on the request's dataset), never of updates.

>>> text = '''SELECT * WHERE { ?paper ckg:associatedConcept/skos:exactMatch ?mesh
...     SERVICE <http://m/sparql> { ?mesh rdfs:label ?label } FILTER(LANG(?label) = "en") }'''
>>> [(j.variables, " ".join(j.probe.split())) for j in analyse(text).values()]
[(('mesh',), 'SELECT DISTINCT ?mesh WHERE { ?paper ckg:associatedConcept/skos:exactMatch ?mesh }')]
>>> analyse("SELECT * WHERE { OPTIONAL { SERVICE <http://m/sparql> { ?a ?b ?c } } ?a ?p ?o }")
{}
"""

from __future__ import annotations

from dataclasses import dataclass

from ckg.sparql_text import LexError, Token, closing, prologue, tokens, where_brace

_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")


@dataclass(frozen=True)
class BindJoin:
    """How to find the values a SERVICE clause (keyed by its start offset) can join with."""

    variables: tuple[str, ...]
    """The join variables: the clause's variables that the rest of the query's group mentions."""
    probe: str
    """``SELECT DISTINCT`` of them over the group without SERVICE, FILTER and MINUS (with the
    query's prologue)."""


def analyse(text: str) -> dict[int, BindJoin]:
    """The SERVICE clauses of a query that a bind join can ask, by their start offset in ``text``."""
    try:
        toks = list(tokens(text))
        _base, _prefixes, first = prologue(toks)
        form = next((t.text.upper() for t in toks[first:] if t.kind == "name"), "")
        if form not in _FORMS:
            return {}  # an update, or no query the parser will take
        where = where_brace(toks, first)
        if any(t.is_keyword("FROM") for t in toks[first:where]):
            return {}  # a dataset of its own: the probe would run on another
        end = closing(toks, where)
        removed, services = _top_level_elements(toks, where, end)
    except (LexError, ValueError, StopIteration):
        return {}
    if removed is None or not services:
        return {}
    service_vars = {_name(t) for lo, hi in services for t in toks[lo:hi + 1] if t.kind == "var"}
    removed = [(lo, hi) for lo, hi in removed if (lo, hi) in services or not _independent(toks[lo:hi + 1], service_vars)]
    gone = set()
    for lo, hi in removed:
        gone.update(range(lo, hi + 1))
    kept = [i for i in range(where + 1, end) if i not in gone]
    outside = {_name(toks[i]) for i in kept if toks[i].kind == "var"}
    body, position = [], toks[where].end
    for lo, hi in removed:
        body.append(text[position:toks[lo].start])
        position = toks[hi].end
    body.append(text[position:toks[end].start])
    group = "".join(body)
    head = text[:toks[first].start] if first else ""
    out = {}
    for lo, hi in services:
        inside = {_name(t) for t in toks[lo:hi + 1] if t.kind == "var"}
        variables = tuple(sorted(inside & outside))
        if variables:
            probe = f"{head}SELECT DISTINCT {' '.join('?' + v for v in variables)} WHERE {{{group}}}"
            out[toks[lo].start] = BindJoin(variables, probe)
    return out


def _name(token: Token) -> str:
    return token.text[1:]


def _independent(element: list[Token], service_vars: set[str]) -> bool:
    """Whether a FILTER or MINUS element decides the same without the SERVICE clauses: it mentions
    none of their variables (and draws no random number)."""
    return not any((t.kind == "var" and _name(t) in service_vars) or t.is_keyword("RAND") for t in element)


def _top_level_elements(toks: list[Token], where: int, end: int):
    """(token ranges to leave out of the probe: SERVICE, FILTER and MINUS elements of the group;
    the SERVICE ranges), or (None, []) when an element is not understood."""
    removed, services = [], []
    i = where + 1
    while i < end:
        t = toks[i]
        if t.kind == "punct" and t.text in "{([":
            i = closing(toks, i) + 1  # a subgroup, an OPTIONAL's or GRAPH's group, a collection: kept whole
            continue
        if t.is_keyword("SERVICE"):
            j = i + 1 + (toks[i + 1].is_keyword("SILENT") if i + 1 < end else 0)
            if j + 1 >= end or toks[j + 1].text != "{":
                return None, []
            stop = closing(toks, j + 1)
            removed.append((i, stop))
            services.append((i, stop))
            i = stop + 1
        elif t.is_keyword("MINUS"):
            if i + 1 >= end or toks[i + 1].text != "{":
                return None, []
            stop = closing(toks, i + 1)
            removed.append((i, stop))
            i = stop + 1
        elif t.is_keyword("FILTER"):
            j = i + 1
            while j < end and (toks[j].is_keyword("NOT") or toks[j].is_keyword("EXISTS")):
                j += 1
            if j < end and toks[j].text != "(" and toks[j].text != "{":
                j += 1  # a function name or IRI: FILTER regex(...), FILTER <f>(...)
            if j >= end or toks[j].text not in "({":
                return None, []
            stop = closing(toks, j)
            removed.append((i, stop))
            i = stop + 1
        else:
            i += 1
    return removed, services
