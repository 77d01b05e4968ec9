"""Named queries as standalone SPARQL for other engines (Virtuoso, Jena, QLever, Comunica, ...).

ckg predeclares its prefixes and binds a named query's parameters by SPARQL substitution; another
engine needs the ``PREFIX`` lines in the text and the values in it. :func:`portable_query` writes
both: a ``PREFIX`` line for every ckg prefix the text uses, and the parameters as a ``VALUES``
block first in the ``WHERE`` group, or substituted in the text where a subgroup reads them (a
``VALUES`` block joins the group it is in, which the group's subgroups, evaluated before the
join, never see). ``ckg queries --portable`` prints them; ``tests/test_virtuoso.py`` runs every
named query so written on Virtuoso and compares the rows with ckg's.
"""

from __future__ import annotations

from typing import Any

from ckg.sparql_text import where_brace


def _term_text(term) -> str:
    """A pyoxigraph term as SPARQL text (N-Triples syntax is valid SPARQL for IRIs and literals)."""
    return str(term)


def portable_query(named, params: dict[str, Any] | None = None, *, limit: int | None = None) -> str:
    """The standalone text of a ckg named query (a :class:`ckg.queries.NamedQuery`, or its name)
    with ``params`` bound: a ``PREFIX`` line for every ckg prefix the text uses and does not
    declare, and a ``VALUES`` block for the bound parameters as the first element of the query's
    ``WHERE`` group (the parameters are projected variables of the query: see
    :mod:`ckg.queries`); with ``params`` None, no parameter is bound (each stays a variable, to be
    bound by the user). ``limit`` adds a ``LIMIT`` when the text has none.

    >>> text = portable_query("paper-authors", {"paper": "ug7v899j"})
    >>> text.split("WHERE {")[1].splitlines()[0]
    ' VALUES (?paper) { (<https://w3id.org/ckg/resource/paper/ug7v899j>) }'
    >>> "PREFIX ckg: <https://w3id.org/ckg/ontology#>" in text, "PREFIX prov:" in text
    (True, False)
    """
    from ckg import queries
    from ckg.sparql_text import closing, prologue, tokens
    from ckg.terms import PREFIXES

    if isinstance(named, str):
        named = queries.get(named)
    bound = named.bind(params) if params is not None else {}  # None: the parameters stay variables
    text = named.text
    toks = list(tokens(text))
    _, declared, first = prologue(toks)
    used = {t.text.split(":", 1)[0] for t in toks if t.kind == "pname"}
    lines = [f"PREFIX {p}: <{iri}>" for p, iri in PREFIXES.items() if p in used and p not in declared]
    missing = sorted(used - set(PREFIXES) - set(declared))
    if missing:
        raise ValueError(f"{named.name}: prefixes {', '.join(missing)} are neither declared nor ckg's")
    out = text
    if bound:
        where = where_brace(toks, first)
        nested = _used_in_subgroups(toks, where, {v.value for v in bound})
        if nested:  # a VALUES block joins the WHERE group, which its subgroups do not see: substitute
            out = _substituted(text, toks, first, where, {v.value: _term_text(t) for v, t in bound.items()})
        else:
            names = " ".join(f"?{v.value}" for v in bound)
            row = " ".join(_term_text(t) for t in bound.values())
            block = f" VALUES ({names}) {{ ({row}) }}"
            position = toks[where].end
            out = text[:position] + block + text[position:]
    if limit is not None and not any(t.is_keyword("LIMIT") for t in toks[closing(toks, where_brace(toks, first)) + 1:]):
        out = out.rstrip() + f"\nLIMIT {int(limit)}"
    return "\n".join(lines) + ("\n" if lines else "") + out


def _used_in_subgroups(toks, where: int, names: set[str]) -> bool:
    """Whether a variable of ``names`` occurs inside a group nested in the WHERE group."""
    from ckg.sparql_text import closing

    depth = 0
    for t in toks[where:closing(toks, where) + 1]:
        if t.kind == "punct" and t.text == "{":
            depth += 1
        elif t.kind == "punct" and t.text == "}":
            depth -= 1
        elif t.kind == "var" and depth > 1 and t.text[1:] in names:
            return True
    return False


def _substituted(text: str, toks, first: int, where: int, terms: dict[str, str]) -> str:
    """``text`` with the variables of ``terms`` replaced by their values, as SPARQL substitution
    (SEP-0007, what ckg's named queries use) does: ``(value AS ?v)`` in a projection (the query's
    or a subquery's), ``(value)`` as a GROUP BY, HAVING or ORDER BY condition, the value elsewhere.

    >>> from ckg.sparql_text import prologue, tokens
    >>> q = "SELECT ?t ?n WHERE { { SELECT ?t (COUNT(*) AS ?n) WHERE { ?s ?p ?t } GROUP BY ?t } } ORDER BY DESC(?n) ?t"
    >>> toks = list(tokens(q))
    >>> _substituted(q, toks, prologue(toks)[2], where_brace(toks, prologue(toks)[2]), {"t": '"x"'})
    'SELECT ?t ?n WHERE { { SELECT ("x" AS ?t) (COUNT(*) AS ?n) WHERE { ?s ?p "x" } GROUP BY ("x") } } ORDER BY DESC(?n) ("x")'
    """
    subquery_projected = _subquery_projections(toks, first)
    pieces, position = [], 0
    clause, depth = None, 0  # "projection" or "modifier" while in one; depth: brackets within it
    selects = 0
    for i, t in enumerate(toks[first:], start=first):
        if t.kind == "name" and t.text.upper() == "SELECT":
            clause, depth, selects = "projection", 0, selects + 1
        elif t.kind == "name" and t.text.upper() in ("GROUP", "ORDER", "HAVING"):
            clause, depth = "modifier", 0
        elif t.kind == "punct" and t.text in "{}" or (t.kind == "name" and t.text.upper() in ("WHERE", "LIMIT", "OFFSET")):
            clause = None
        elif t.kind == "punct" and t.text == "(":
            depth += 1
        elif t.kind == "punct" and t.text == ")":
            depth -= 1
        if t.kind != "var" or t.text[1:] not in terms:
            continue
        value = terms[t.text[1:]]
        if clause == "projection" and depth == 0:
            if selects == 1 and t.text[1:] in subquery_projected:
                continue  # the subquery binds it: the query's projection may not bind it again
            value = f"({value} AS {t.text})"
        elif clause == "modifier" and depth == 0:
            value = f"({value})"
        pieces += [text[position:t.start], value]
        position = t.end
    return "".join(pieces) + text[position:]


def _subquery_projections(toks, first: int) -> set[str]:
    """Names of the variables that a subquery (a SELECT after the first) projects."""
    out, selects, inside, depth, after_as = set(), 0, False, 0, False
    for t in toks[first:]:
        if t.kind == "name" and t.text.upper() == "SELECT":
            selects += 1
            inside, depth = selects > 1, 0
        elif t.kind == "punct" and t.text == "{" or (t.kind == "name" and t.text.upper() == "WHERE"):
            inside = False
        elif t.kind == "punct" and t.text in "()":
            depth += 1 if t.text == "(" else -1
        elif inside and t.kind == "var" and (depth == 0 or after_as):
            out.add(t.text[1:])  # ?v, or (expression AS ?v)
        after_as = t.kind == "name" and t.text.upper() == "AS"
    return out
