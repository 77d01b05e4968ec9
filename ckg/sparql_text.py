"""A SPARQL 1.1 lexer: what a query text is made of, read the way the grammar reads it.

ckg does not execute anything on the strength of this lexer — the network of the query
processes is closed (:mod:`ckg.server.sandbox`), so a text this lexer reads differently from
pyoxigraph can at worst fail, never call out. It serves to find the ``SERVICE`` clauses that
ckg evaluates itself (:mod:`ckg.server.federation`), to refuse texts nested too deep for the
parser (:func:`ckg.sparql.check_depth`), and to give clear errors. A character the grammar does
not know is a token of kind ``other`` (the parser decides what it means); only an unterminated
string ends the reading (:class:`LexError`). It follows the SPARQL 1.1 grammar's terminals (section 19.8):
comments end at a line feed *or* a carriage return; whitespace is space, tab, CR and LF; escapes
(``\\u0022``, ``\\"``) are read inside strings and IRIs, never expanded over the whole text.

>>> [(t.kind, t.text) for t in tokens('SELECT ?x WHERE { # c\\r SERVICE <http://e/s> { ?s ?p "}" } }')][:7]
[('name', 'SELECT'), ('var', '?x'), ('name', 'WHERE'), ('punct', '{'), ('name', 'SERVICE'), ('iri', '<http://e/s>'), ('punct', '{')]
>>> [t.kind for t in tokens("ASK { << ?s ?p ?o ~ ?r >> ?q 1 }")][4:9]
['var', 'var', 'var', 'other', 'var']
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_WS = re.compile(r"[ \t\r\n]+")
_COMMENT = re.compile(r"#[^\r\n]*")
_IRIREF = re.compile(r'<([^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>')
_STRINGS = (
    re.compile(r'"""(?:(?:"|"")?(?:[^"\\]|\\.))*"""', re.S),
    re.compile(r"'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''", re.S),
    re.compile(r'"(?:[^"\\\n\r]|\\.)*"', re.S),
    re.compile(r"'(?:[^'\\\n\r]|\\.)*'", re.S),
)
_PN_CHARS_BASE = (r"A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D"
                  r"\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\U00010000-\U000EFFFF")
_PN_CHARS = _PN_CHARS_BASE + r"_\-0-9\u00B7\u0300-\u036F\u203F-\u2040"
_PREFIX = rf"(?:[{_PN_CHARS_BASE}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)?"
_LOCAL_CHAR = rf"(?:[{_PN_CHARS}:]|%[0-9A-Fa-f]{{2}}|\\[_~.\-!$&'()*+,;=/?#@%])"
_LOCAL_FIRST = rf"(?:[{_PN_CHARS_BASE}_:0-9]|%[0-9A-Fa-f]{{2}}|\\[_~.\-!$&'()*+,;=/?#@%])"
_PNAME = re.compile(rf"{_PREFIX}:(?:{_LOCAL_FIRST}(?:(?:{_LOCAL_CHAR}|\.)*{_LOCAL_CHAR})?)?")
_BNODE = re.compile(rf"_:[{_PN_CHARS_BASE}_0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?")
_VAR = re.compile(rf"[?$][{_PN_CHARS_BASE}_0-9][{_PN_CHARS_BASE}_0-9\u00B7\u0300-\u036F\u203F-\u2040]*")
_LANGTAG = re.compile(r"@[A-Za-z]+(?:-[A-Za-z0-9]+)*")
_NUMBER = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_PUNCT = re.compile(r"\^\^|&&|\|\||!=|<=|>=|[{}()\[\].,;=<>!+\-*/^|?@]")

OPENING = "{(["
CLOSING = "})]"


class LexError(ValueError):
    """An unterminated string: the rest of the text cannot be read."""

    def __init__(self, text: str, offset: int, what: str) -> None:
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        super().__init__(f"{what} at line {line}, column {column}")
        self.offset = offset


@dataclass(frozen=True)
class Token:
    """One terminal: ``kind`` is name, var, iri, pname, bnode, string, number, langtag, punct or other."""

    kind: str
    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    def is_keyword(self, word: str) -> bool:
        return self.kind == "name" and self.text.upper() == word


def tokens(text: str) -> Iterator[Token]:
    """The tokens of a query or update, comments and whitespace left out.

    >>> [t.text for t in tokens("ASK { ?s ex:p 'a\\\\'b' } # end")]
    ['ASK', '{', '?s', 'ex:p', "'a\\\\'b'", '}']
    """
    pos, n = 0, len(text)
    while pos < n:
        m = _WS.match(text, pos) or _COMMENT.match(text, pos)
        if m:
            pos = m.end()
            continue
        c = text[pos]
        kind, m = _match(text, pos, c)
        if m is None:
            if c in "\"'":
                raise LexError(text, pos, "unterminated string")
            yield Token("other", c, pos)  # a character SPARQL 1.1 does not know (1.2's ~, a stray \\): read on
            pos += 1
            continue
        yield Token(kind, m.group(0), pos)
        pos = m.end()


def _match(text: str, pos: int, c: str):
    if c == "<":
        m = _IRIREF.match(text, pos)
        if m:
            return "iri", m
        return "punct", _PUNCT.match(text, pos)
    if c in "\"'":
        for pattern in _STRINGS:
            m = pattern.match(text, pos)
            if m:
                return "string", m
        return "string", None
    if c in "?$":
        m = _VAR.match(text, pos)
        return ("var", m) if m else ("punct", _PUNCT.match(text, pos))
    if c == "@":
        return "langtag", _LANGTAG.match(text, pos)
    if c == "_" and text.startswith("_:", pos):
        return "bnode", _BNODE.match(text, pos)
    if c.isdigit() or (c == "." and pos + 1 < len(text) and text[pos + 1].isdigit()):
        return "number", _NUMBER.match(text, pos)
    m = _PNAME.match(text, pos)
    if m and ":" in m.group(0):
        return "pname", m
    m = _NAME.match(text, pos)
    if m:
        return "name", m
    return "punct", _PUNCT.match(text, pos)


def closing(toks: list[Token], index: int) -> int:
    """The index of the token that closes the bracket at ``toks[index]``.

    >>> toks = list(tokens("{ { } ( ) } x"))
    >>> closing(toks, 0), closing(toks, 1)
    (5, 2)
    """
    depth = 0
    for i in range(index, len(toks)):
        t = toks[i]
        if t.kind == "punct" and t.text in OPENING:
            depth += 1
        elif t.kind == "punct" and t.text in CLOSING:
            depth -= 1
            if depth == 0:
                return i
    raise LexError("", toks[index].start, "unbalanced bracket")


def prologue(toks: list[Token]) -> tuple[str | None, dict[str, str], int]:
    """The ``BASE`` IRI, the ``PREFIX`` declarations and the index of the first token after them
    (a prologue only at the start; an update's later operations may declare more, see
    :func:`declarations`).

    >>> prologue(list(tokens("BASE <http://b/> PREFIX e: <http://e/> SELECT")))
    ('http://b/', {'e': 'http://e/'}, 5)
    """
    base, prefixes, i = None, {}, 0
    while i < len(toks):
        if toks[i].is_keyword("BASE") and i + 1 < len(toks) and toks[i + 1].kind == "iri":
            base = toks[i + 1].text[1:-1]
            i += 2
        elif (toks[i].is_keyword("PREFIX") and i + 2 < len(toks) and toks[i + 1].kind == "pname"
              and toks[i + 1].text.endswith(":") and toks[i + 2].kind == "iri"):
            prefixes[toks[i + 1].text[:-1]] = toks[i + 2].text[1:-1]
            i += 3
        else:
            break
    return base, prefixes, i


def declarations(toks: list[Token], before: int) -> tuple[str | None, dict[str, str]]:
    """The ``BASE`` and ``PREFIX`` declarations made anywhere before token ``before`` (an update
    may declare prefixes between its operations)."""
    base, prefixes = None, {}
    for i in range(min(before, len(toks))):
        if toks[i].is_keyword("BASE") and i + 1 < len(toks) and toks[i + 1].kind == "iri":
            base = toks[i + 1].text[1:-1]
        elif (toks[i].is_keyword("PREFIX") and i + 2 < len(toks) and toks[i + 1].kind == "pname"
              and toks[i + 1].text.endswith(":") and toks[i + 2].kind == "iri"):
            prefixes[toks[i + 1].text[:-1]] = toks[i + 2].text[1:-1]
    return base, prefixes


_IRI_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_LOCAL_ESCAPE = re.compile(r"\\([_~.\-!$&'()*+,;=/?#@%])")


def iri_value(token: Token, prefixes: dict[str, str]) -> str | None:
    """The IRI an ``iri`` or ``pname`` token stands for (escapes read), or None for an
    undeclared prefix.

    >>> iri_value(Token("iri", "<http://e/\\\\u0041>", 0), {})
    'http://e/A'
    >>> iri_value(Token("pname", "e:a\\\\/b", 0), {"e": "http://e/"})
    'http://e/a/b'
    """
    if token.kind == "iri":
        return _IRI_ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), token.text[1:-1])
    if token.kind == "pname":
        prefix, _, local = token.text.partition(":")
        if prefix not in prefixes:
            return None
        return prefixes[prefix] + _LOCAL_ESCAPE.sub(r"\1", local)
    return None


def where_brace(toks: list[Token], first: int) -> int:
    """The index of the ``{`` that opens the query's (outermost) WHERE group (``first``: the first
    token after the prologue).

    >>> toks = list(tokens("SELECT ?s { ?s ?p [ ?q ?o ] }"))
    >>> where_brace(toks, 0), where_brace(list(tokens("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")), 0)
    (2, 7)
    """
    depth = 0
    form = next((t.text.upper() for t in toks[first:] if t.kind == "name"), "SELECT")
    for i in range(first, len(toks)):
        t = toks[i]
        if t.kind == "punct" and t.text in "{([":
            if t.text == "{" and depth == 0 and form in ("SELECT", "ASK", "DESCRIBE"):
                return i
            depth += 1
        elif t.kind == "punct" and t.text in "})]":
            depth -= 1
        elif depth == 0 and t.is_keyword("WHERE"):
            return next(j for j in range(i + 1, len(toks)) if toks[j].text == "{")
    raise ValueError("no WHERE group found")
