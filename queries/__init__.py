"""Named SPARQL queries: the ``.rq`` files beside this module, used by the CLI, the API and tests.

Each file starts with a header of comment lines that this module reads::

    # name: paper-authors
    # summary: A paper's authors in author-list order, ...
    # param: paper (paper): The paper: its key (cord_uid, SHA-1, PMC id) or its IRI.
    # param: min_year (integer, optional): Only papers published in or after this year.
    # param: k (integer, default 10): ...
    # param: first (integer, default 100, one of 10 100 1000): ...

A query may also say that ckg can narrow one of its variables with the title index of the store's
catalog (``# title-index: paper text``: ``?paper`` ranges over the papers whose lower-cased title
contains the lower-cased ``text``): ckg then adds those papers at the start of its ``WHERE``
(:meth:`NamedQuery.narrowed`), a superset of the answer that the query's own
filter still decides, so that the answer is the same, without the index and on other engines.
With ``ordered`` (``# title-index: paper text ordered``) the query says that it orders its rows
by ``ORDER BY ?title ?paper`` and that ``?title`` is the title that holds the text: asked for at most N
rows, ckg narrows to the papers of the first N such titles (:func:`ckg.first_pages.first_by_title`).
A ranking may say that ckg can find the papers of its first rows without ranking every paper
(``# first-page: paper customised-citations``, one of :data:`ckg.first_pages.RANKINGS`): asked for
at most N rows, ckg narrows ``?paper`` the same way to the papers that can be among the first N
(:mod:`ckg.first_pages`). A query may say that ckg keeps one of its counts over the whole corpus
(``# counted: cooccurrence``, one of :data:`ckg.counted.COUNTS`): ckg then gives the rows of its
group between a ``# counted values: VARIABLE ...`` line and a ``# counted values end`` line as
values instead of running it (:meth:`NamedQuery.with_counts`).

A parameter is a variable of the query. Its value is bound with SPARQL substitution (the
query text is never pasted together with user input): ``paper``, ``author`` and
``institution`` take a key or an IRI, ``iri`` an IRI, ``string``, ``integer`` and ``decimal``
a literal. Parameters are required unless marked ``optional`` or given a ``default``; ``one of``
lists the only values a parameter takes (any other is refused with the list).

>>> q = get("paper-authors")
>>> q.summary
"A paper's authors in author-list order, with the institutions they gave in that paper."
>>> [(p.name, p.type, p.required) for p in q.params]
[('paper', 'paper', True)]
>>> q.bind({"paper": "ug7v899j"})
{<Variable value=paper>: <NamedNode value=https://w3id.org/ckg/resource/paper/ug7v899j>}
>>> q.bind({})
Traceback (most recent call last):
...
ckg.queries.QueryParameterError: paper-authors: missing parameter 'paper' (paper): The paper: its key (cord_uid, SHA-1, PMC id) or its IRI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ckg import resources
from ckg.terms import XSD

_HEADER = re.compile(r"^#\s*(name|summary|param|title-index|first-page|counted):\s*(.*?)\s*$")
_PARAM = re.compile(r"^(\w+)\s*\((\w+)(?:,\s*(optional|default\s+([^,)]+?)))?(?:,\s*one of\s+([^,)]+?))?\)\s*:\s*(.+)$")
_WHERE = re.compile(r"(?i)\bWHERE\s*\{")
_MARK = re.compile(r"(?m)^([ \t]*)#\s*first-page values:\s*(.*?)\s*$")
_COUNTED = re.compile(r"(?ms)^([ \t]*)#\s*counted values:\s*([^\n]*?)\s*$.*?^[ \t]*#\s*counted values end\s*$")
TYPES = ("paper", "author", "institution", "iri", "string", "integer", "decimal")


class QueryFileError(ValueError):
    """A shipped .rq file has a malformed header."""


class QueryParameterError(ValueError):
    """A parameter value is missing, unknown or of the wrong type."""


class UnknownQuery(KeyError):
    def __str__(self) -> str:
        return f"no named query {self.args[0]!r}; known: {', '.join(names())}"


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    description: str
    required: bool = True
    default: str | None = None
    choices: tuple[str, ...] = ()

    def to_term(self, value: str, query: str) -> ox.NamedNode | ox.Literal:
        value = str(value).strip()
        if self.choices and value not in self.choices:
            raise QueryParameterError(f"{query}: parameter {self.name!r} must be one of {', '.join(self.choices)}, "
                                      f"got {value!r}")
        if self.type in ("paper", "author", "institution"):
            try:
                return resources.from_user(self.type, value)
            except ValueError as exc:
                raise QueryParameterError(
                    f"{query}: parameter {self.name!r} must be a key or an IRI, got {value!r} ({exc})") from None
        if self.type == "iri":
            if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s<>\"{}|\\^`]*$", value):
                raise QueryParameterError(f"{query}: parameter {self.name!r} must be an IRI, got {value!r}")
            return ox.NamedNode(value)
        if self.type == "integer":
            if not re.fullmatch(r"[+-]?\d+", value):
                raise QueryParameterError(f"{query}: parameter {self.name!r} must be an integer, got {value!r}")
            return ox.Literal(str(int(value)), datatype=XSD.integer)
        if self.type == "decimal":
            try:
                number = Decimal(value)
            except InvalidOperation:
                raise QueryParameterError(f"{query}: parameter {self.name!r} must be a number, got {value!r}") from None
            return ox.Literal(str(number), datatype=XSD.decimal)
        return ox.Literal(value)


@dataclass(frozen=True)
class NamedQuery:
    name: str
    summary: str
    params: tuple[Param, ...]
    text: str
    path: Path
    title_index: tuple[str, str] | None = None
    """(variable, string parameter) from a ``# title-index:`` line."""
    first_page: tuple[str, str] | None = None
    """(variable, ranking) from a ``# first-page:`` line."""
    title_ordered: bool = False
    """A ``# title-index: VARIABLE PARAMETER ordered`` line: the query orders its rows by
    ``?title ?VARIABLE``, the titles the parameter is looked for in."""
    counted: str | None = None
    """A ``# counted: COUNT`` line: ckg can give the rows of the group between its ``# counted
    values: VARIABLE ...`` and ``# counted values end`` lines (one of :data:`ckg.counted.COUNTS`)."""

    @property
    def counted_variables(self) -> list[str]:
        """The variables of the ``# counted values:`` line (none without one)."""
        found = _COUNTED.search(self.text)
        return found.group(2).split() if found else []

    def with_counts(self, rows: list[tuple]) -> str:
        """The text with its counted group replaced by these rows of values of its counted
        variables (:mod:`ckg.counted`): IRIs, integers or literals.

        >>> q = get("concept-cooccurrence")
        >>> text = q.with_counts([(ox.NamedNode("http://example.org/c"), 3)])
        >>> [line.strip() for line in text.splitlines() if "VALUES" in line]
        ['VALUES (?other ?papers) { (<http://example.org/c> 3) }']
        >>> "COUNT" in text, "COUNT" in q.text
        (False, True)
        """
        def term(value: Any) -> str:
            if isinstance(value, bool) or not isinstance(value, (int, ox.NamedNode, ox.Literal)):
                raise TypeError(f"{self.name}: a counted value must be an IRI, an integer or a literal, not {value!r}")
            return str(value)

        def values(match: re.Match) -> str:
            names = match.group(2).split()
            listed = " ".join("(" + " ".join(term(v) for v in row) + ")" for row in rows)
            return f"{match.group(1)}VALUES ({' '.join('?' + n for n in names)}) {{ {listed} }}"

        return _COUNTED.sub(values, self.text, count=1)

    def narrowed(self, variable: str, iris: list[ox.NamedNode]) -> str:
        """The text with the values of ``?variable`` first in its ``WHERE`` group (:meth:`narrowed_to`).

        >>> get("find-papers").narrowed("paper", [ox.NamedNode("http://example.org/p")]).splitlines()[6]
        '  { SELECT ?paper WHERE { VALUES ?paper { <http://example.org/p> } } }'
        """
        return self.narrowed_to({variable: iris})

    def narrowed_to(self, values: dict[str, list[ox.NamedNode]]) -> str:
        """The text with the values of each variable in a subquery, either on the query's lines that
        say ``# first-page values: VARIABLE ...`` (those of their variables that have values), or,
        without such lines, first in its ``WHERE`` group and in each subquery's that projects the
        variable. pyoxigraph's planner joins a subquery first, where it joined a plain ``VALUES``
        block after the query's type pattern (a scan of every paper: 5.3 s against 0.45 s for
        find-papers narrowed to 2,342 papers of the 100k store); it evaluates a subquery (a ``GROUP
        BY``'s) before the group around it joins it, and each branch of a ``UNION`` before the
        union, so the values must be inside the branch to narrow what it reads.

        >>> q = get("customised-citation-counts")
        >>> text = q.narrowed_to({"paper": [ox.NamedNode("http://example.org/p")]})
        >>> [line.strip() for line in text.splitlines() if "VALUES" in line][:1]
        ['{ SELECT ?paper WHERE { VALUES ?paper { <http://example.org/p> } } }']
        """
        def subquery(variable: str) -> str:
            listed = " ".join(str(iri) for iri in values[variable])
            return f"{{ SELECT ?{variable} WHERE {{ VALUES ?{variable} {{ {listed} }} }} }}"

        if _MARK.search(self.text):
            def at_mark(match: re.Match) -> str:
                indent, names = match.group(1), match.group(2).split()
                return "\n".join(f"{indent}{subquery(v)}" for v in names if v in values) or match.group(0)

            return _MARK.sub(at_mark, self.text)
        text = self.text
        for variable in values:
            projects = re.compile(rf"\?{variable}\b|\*")

            def insert(match: re.Match, source: str = text) -> str:
                selects = list(re.finditer(r"(?i)\bSELECT\b", source[:match.start()]))
                projection = source[selects[-1].end():match.start()] if selects else "*"
                return f"{match.group(0)}\n  {subquery(variable)}" if projects.search(projection) else match.group(0)

            text = _WHERE.sub(insert, text)
        return text

    @property
    def form(self) -> str:
        """SELECT, ASK, CONSTRUCT or DESCRIBE."""
        body = re.sub(r"#[^\n]*", "", self.text)
        body = re.sub(r"(?is)\bPREFIX\s+\S*\s*<[^>]*>|\bBASE\s*<[^>]*>", "", body)
        match = re.search(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", body, re.IGNORECASE)
        return match.group(1).upper() if match else "SELECT"

    def bind(self, values: dict[str, Any]) -> dict[ox.Variable, ox.NamedNode | ox.Literal]:
        """Substitutions for the given parameter values (defaults filled in)."""
        known = {p.name for p in self.params}
        unknown = sorted(set(values) - known)
        if unknown:
            raise QueryParameterError(
                f"{self.name}: unknown parameter(s) {', '.join(unknown)}; it takes {', '.join(sorted(known)) or 'none'}")
        out = {}
        for p in self.params:
            value = values.get(p.name)
            if value in (None, ""):
                value = p.default
            if value in (None, ""):
                if p.required:
                    raise QueryParameterError(f"{self.name}: missing parameter {p.name!r} ({p.type}): {p.description}")
                continue
            out[ox.Variable(p.name)] = p.to_term(value, self.name)
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "summary": self.summary,
            "form": self.form,
            "params": [p.__dict__ for p in self.params],
            "sparql": self.text,
        }


def parse(text: str, path: Path) -> NamedQuery:
    """Read a named query's header; :class:`QueryFileError` names the file and line."""
    name = summary = None
    title_index = first_page = counted = None
    title_ordered = False
    params: list[Param] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("#"):
            break
        match = _HEADER.match(line)
        if not match:
            continue
        key, value = match.groups()
        if key == "name":
            name = value
        elif key == "summary":
            summary = value
        elif key == "title-index":
            words = value.split()
            title_index, title_ordered = tuple(words[:2]), words[2:] == ["ordered"]
            if len(words) not in (2, 3) or (len(words) == 3 and not title_ordered):
                raise QueryFileError(f"{path.name}:{number}: bad title-index line {line!r} "
                                     f"(expected '# title-index: VARIABLE PARAMETER [ordered]')")
        elif key == "counted":
            counted = value
        elif key == "first-page":
            first_page = tuple(value.split())
            if len(first_page) != 2:
                raise QueryFileError(f"{path.name}:{number}: bad first-page line {line!r} "
                                     f"(expected '# first-page: VARIABLE RANKING')")
        else:
            pm = _PARAM.match(value)
            if not pm or pm.group(2) not in TYPES:
                raise QueryFileError(f"{path.name}:{number}: bad param line {line!r} "
                                     f"(expected '# param: NAME (TYPE[, optional|, default VALUE][, one of V1 V2 ...]): "
                                     f"DESCRIPTION', "
                                     f"TYPE one of {', '.join(TYPES)})")
            pname, ptype, flag, default, choices, description = pm.groups()
            param = Param(pname, ptype, description, required=flag is None, default=default,
                          choices=tuple(choices.split()) if choices else ())
            for value in param.choices + ((default,) if default is not None else ()):
                try:
                    param.to_term(value, name or path.stem)
                except QueryParameterError as exc:
                    raise QueryFileError(f"{path.name}:{number}: {exc}") from None
            params.append(param)
    if not name or not summary:
        raise QueryFileError(f"{path.name}: header needs '# name:' and '# summary:' lines")
    if name != path.stem:
        raise QueryFileError(f"{path.name}: name {name!r} differs from the file name")
    query = NamedQuery(name, summary, tuple(params), text, path, title_index, first_page, title_ordered, counted)
    if title_index is not None:
        variable, param = title_index
        if param not in {p.name for p in params if p.type == "string"} or not _WHERE.search(text) \
                or not re.search(rf"\?{variable}\b", text):
            raise QueryFileError(f"{path.name}: title-index {variable} {param}: needs a string parameter {param}, "
                                 f"a variable ?{variable} and a WHERE group")
        if title_ordered and not re.search(rf"(?im)^ORDER BY \?title \?{variable}\s*$", text):
            raise QueryFileError(f"{path.name}: title-index {variable} {param} ordered: needs a line "
                                 f"'ORDER BY ?title ?{variable}'")
    if first_page is not None:
        from ckg.first_pages import RANKINGS

        variable, ranking = first_page
        if ranking not in RANKINGS or not _WHERE.search(text) or not re.search(rf"\?{variable}\b", text):
            raise QueryFileError(f"{path.name}: first-page {variable} {ranking}: needs a ranking among "
                                 f"{', '.join(RANKINGS)}, a variable ?{variable} and a WHERE group")
    if counted is not None:
        from ckg.counted import COUNTS

        if counted not in COUNTS or not query.counted_variables:
            raise QueryFileError(f"{path.name}: counted {counted}: needs a count among {', '.join(COUNTS)} and a group "
                                 f"between '# counted values: VARIABLE ...' and '# counted values end' lines")
    if query.form == "SELECT":
        projection = re.search(r"(?is)\bSELECT\b(.*?)\bWHERE\b", text)
        for p in params:
            if projection and not re.search(rf"\?{p.name}\b", projection.group(1)):
                # SPARQL substitution (SEP-0007) binds only variables the query projects
                raise QueryFileError(f"{path.name}: parameter ?{p.name} must be in the SELECT projection")
    return query


@lru_cache(maxsize=1)
def _all() -> dict[str, NamedQuery]:
    folder = importlib_resources.files(__name__)
    out = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".rq"):
            path = Path(str(entry))
            query = parse(entry.read_text(encoding="utf-8"), path)
            out[query.name] = query
    return out


def names() -> list[str]:
    return list(_all())


def all_queries() -> list[NamedQuery]:
    return list(_all().values())


def get(name: str) -> NamedQuery:
    try:
        return _all()[name]
    except KeyError:
        raise UnknownQuery(name) from None
