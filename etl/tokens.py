"""A paper's tokens as a table of numbers, and the gazetteer's phrases found in it, without spaCy Docs.

Concept extraction reads five things of each token: its text (ORTH), its offset in the text
(IDX), its length (LENGTH), whether a space follows it (SPACY) and its normalised form (NORM).
spaCy gives them through a ``Doc``, which costs about a microsecond a token to build, more than
matching the vocabulary's phrases in it. Here:

* :class:`PieceTokenizer` gives the table spaCy's tokenizer would (``doc.to_array(table_attrs())``,
  the same numbers), from pieces of text it tokenized once and remembers as rows of a growing
  token table: a paper's table is a handful of numpy gathers over those rows;
* :class:`NormMatcher` finds every occurrence of every phrase in a table's NORM column, as
  spaCy's ``PhraseMatcher(attr="NORM")`` does (the same matches), walking the phrases' prefixes
  level by level with sets of their hashes (:class:`HashSet`);
* :class:`Tokens` reads a token's text and NORM for the rules that look at words.

``bench/bench_concepts.py`` measures the extraction both ways (the spaCy Doc and ``PhraseMatcher``
way is ``GazetteerExtractor(legacy=True)``) and checks they find the same mentions.
"""

from __future__ import annotations

import re
from operator import itemgetter
from typing import Any

import numpy as np

_WORDS = re.compile(r"\w+")
_SPACE_NEXT_TO_WHITESPACE = re.compile(r" (?<=\s )")  # a space after whitespace; scans from the spaces
_PIECE_SEPARATOR = "ckgpiecebreak"
_SIMPLE_PIECE = re.compile(r"([(\[]?)([A-Za-z]+|[A-Za-z]*[0-9]+|[0-9]+(?:[.,][0-9]+)+)(%?)([)\]]?)([,;:.]?)")
"""A word (ASCII letters, letters then digits, or a number with decimals or thousands) and the
brackets, per cent and punctuation around it, which spaCy's English rules split off one by one
(see :meth:`PieceTokenizer._simple`)."""
_WHITESPACE_RUN = re.compile(r"(\s+)")


def table_attrs() -> list[int]:
    """The spaCy attributes of a token table's columns, in order: ORTH, IDX, LENGTH, SPACY, NORM."""
    from spacy.attrs import IDX, LENGTH, NORM, ORTH, SPACY

    return [ORTH, IDX, LENGTH, SPACY, NORM]


ORTH_COLUMN, IDX_COLUMN, LENGTH_COLUMN, SPACY_COLUMN, NORM_COLUMN = range(5)


class Tokens:
    """A text's tokens: the text, its token table (columns :func:`table_attrs`) and, where one was
    made, its spaCy Doc. ``norm(i)`` and ``text(i)`` read the words the extraction's rules look at.

    >>> from ckg.etl.concepts import blank_pipeline
    >>> nlp = blank_pipeline()
    >>> tokens = Tokens.of_doc(nlp.make_doc("Two Cells."))
    >>> len(tokens), tokens.text(1), tokens.norm(1), tokens.end(2)
    (3, 'Cells', 'cell', 10)
    """

    __slots__ = ("string", "table", "strings", "doc")

    def __init__(self, string: str, table, strings, doc=None) -> None:
        self.string = string
        self.table = table
        self.strings = strings
        self.doc = doc

    @classmethod
    def of_doc(cls, doc) -> Tokens:
        return cls(doc.text, doc.to_array(table_attrs()), doc.vocab.strings, doc)

    def __len__(self) -> int:
        return len(self.table)

    def norm(self, i: int) -> str:
        return self.strings[int(self.table[i, NORM_COLUMN])]

    def text(self, i: int) -> str:
        start = int(self.table[i, IDX_COLUMN])
        return self.string[start: start + int(self.table[i, LENGTH_COLUMN])]

    def start(self, i: int) -> int:
        """The character offset of token ``i``."""
        return int(self.table[i, IDX_COLUMN])

    def end(self, i: int) -> int:
        """The character offset right after token ``i``."""
        return int(self.table[i, IDX_COLUMN] + self.table[i, LENGTH_COLUMN])


class _Rows:
    """Columns of numbers that grow at their end: numpy arrays with room to spare, doubled when full."""

    def __init__(self, *dtypes) -> None:
        self.n = 0
        self.columns = [np.zeros(1024, dtype=d) for d in dtypes]

    def extend(self, *values: list) -> None:
        end = self.n + len(values[0])
        if end > len(self.columns[0]):
            size = max(end, 2 * len(self.columns[0]))
            grown = []
            for column in self.columns:
                new = np.zeros(size, dtype=column.dtype)
                new[: self.n] = column[: self.n]
                grown.append(new)
            self.columns = grown
        for column, v in zip(self.columns, values):
            column[self.n: end] = v
        self.n = end


class PieceTokenizer:
    """spaCy's tokenizer of ``nlp``, giving the same tokens (text, offsets, spaces, NORM) several
    times faster on papers: a text is split at single spaces into pieces ("cells,", "(ARDS)",
    "end.\\n\\nThe"), each piece is tokenized once and remembered as rows of a token table
    (ORTH, NORM, offset in the piece, length), and a paper's table (:meth:`table`) is gathered
    from those rows; :meth:`tokenize` makes a spaCy Doc of it.

    spaCy's tokenizer caches what it tokenized only until a document hits a special case ("e.g.",
    a line break) and only the first 10,000 chunks a process sees, so on full texts it tokenizes
    most chunks again with its affix expressions. Here a piece is tokenized once, as its chunks
    (the runs between whitespace) and whitespace runs, each tokenized once: by spaCy (the new
    chunks of a text all together, in one call), or, for a word of ASCII letters or digits with at
    most an opening bracket before it and a per cent sign, a closing bracket and a comma,
    semicolon, colon or full stop after it ("(cells),", "2020.", "(4.5%)"), by the split spaCy's
    rules make of it, when no special case of spaCy's is among its parts (those go to spaCy). A
    chunk is tokenized the same wherever it stands: spaCy splits text at whitespace first, and a
    special case spanning whitespace is none. A text with a space next to other whitespace, or at
    either end, goes to spaCy as a whole (none of the 803 CORD-19 full texts in
    ``../shared/data`` has one). ``max_pieces`` bounds the memory (about 500 bytes a piece with
    its strings, 100 MB when full; the 803 full texts have 148,000 pieces): it starts afresh when
    full. ``tests/test_concepts.py`` checks the tables and docs equal spaCy's (and so did every
    one of the 803 full texts when this was written).

    >>> from ckg.etl.concepts import blank_pipeline
    >>> nlp = blank_pipeline()
    >>> text = "Acute (ARDS), e.g. 10am; SARS CoV 2 (Fig. 1A; 4.5%).\\n\\nThe end  of it"
    >>> [(t.text, t.whitespace_, t.norm_) for t in PieceTokenizer(nlp)(text)] == [
    ...     (t.text, t.whitespace_, t.norm_) for t in nlp.make_doc(text)]
    True
    >>> text = "Acute (ARDS), e.g. 10am.\\n\\nThe end"
    >>> (PieceTokenizer(nlp).table(text)[0] == nlp.make_doc(text).to_array(table_attrs())).all()
    True
    """

    def __init__(self, nlp, max_pieces: int = 200_000) -> None:
        self.nlp = nlp
        self.vocab = nlp.vocab
        self.max_pieces = max_pieces
        self.special_cases = frozenset(nlp.tokenizer.rules)
        from spacy.attrs import NORM

        from ckg.etl.concepts import normalize_word

        # a blank_pipeline's lexemes have normalize_word's NORM: computed here without making the lexeme
        self._normalize = normalize_word if nlp.vocab.lex_attr_getters.get(NORM) is normalize_word else None
        self._forget()

    def _forget(self) -> None:
        self._ids: dict[str, int] = {}  # piece -> its row of _pieces
        self._pieces = _Rows(np.int64, np.int64, np.int64, np.int64)  # first token row, tokens, characters, words
        self._tokens = _Rows(np.uint64, np.uint64, np.int64, np.int64)  # ORTH, NORM, offset in the piece, length
        self._chunks: dict[str, tuple] = {}  # chunk or whitespace run -> (its tokens' texts, NORMs of special cases)
        self._token_of: dict[str, tuple[int, int]] = {}  # a token's text -> its ORTH and NORM

    def __call__(self, text: str):
        return self.tokenize(text)[0]

    @staticmethod
    def _whole(text: str) -> bool:
        """Whether a text goes to spaCy as a whole (see the class docstring)."""
        return not text or text[0] == " " or text[-1].isspace() or _SPACE_NEXT_TO_WHITESPACE.search(text) is not None

    def tokenize(self, text: str) -> tuple[Any, int]:
        """The spaCy Doc of a text and the number of its words (runs of ``\\w``, as :data:`_WORDS`)."""
        from spacy.attrs import NORM
        from spacy.tokens import Doc

        if self._whole(text):
            return self.nlp.make_doc(text), len(_WORDS.findall(text))
        table, words = self._gather(text)
        doc = Doc(self.vocab, words=table[:, ORTH_COLUMN].tolist(), spaces=table[:, SPACY_COLUMN].astype(bool).tolist())
        norms = table[:, NORM_COLUMN]
        for i in np.flatnonzero(doc.to_array(NORM) != norms).tolist():  # NORMs of special cases
            doc[i].norm_ = self.vocab.strings[int(norms[i])]
        return doc, words

    def tokens(self, text: str) -> tuple[Tokens, int]:
        """The :class:`Tokens` of a text and the number of its words."""
        if self._whole(text):
            doc = self.nlp.make_doc(text)
            return Tokens.of_doc(doc), len(_WORDS.findall(text))
        table, words = self._gather(text)
        return Tokens(text, table, self.vocab.strings), words

    def table(self, text: str) -> tuple[Any, int]:
        """The token table of a text (columns :func:`table_attrs`, the numbers spaCy's
        ``make_doc(text).to_array`` gives) and the number of its words."""
        if self._whole(text):
            return self.nlp.make_doc(text).to_array(table_attrs()), len(_WORDS.findall(text))
        return self._gather(text)

    def _gather(self, text: str) -> tuple[Any, int]:
        """:meth:`table` for a text that does not go to spaCy as a whole."""
        pieces = text.split(" ")
        try:
            rows = np.array(list(map(self._ids.get, pieces)), dtype=np.int64)
        except TypeError:  # a None: pieces not seen yet
            self._learn(set(pieces).difference(self._ids), pieces)
            rows = np.array(list(map(self._ids.__getitem__, pieces)), dtype=np.int64)
        first, count, chars, words = (column[rows] for column in self._pieces.columns)
        ends = np.cumsum(count)
        total = int(ends[-1])
        token_rows = np.repeat(first - (ends - count), count) + np.arange(total)
        orth, norm, offset, length = self._tokens.columns
        table = np.empty((total, 5), dtype=np.uint64)
        table[:, ORTH_COLUMN] = orth[token_rows]
        starts = np.cumsum(chars + 1) - (chars + 1)  # each piece's offset in the text
        table[:, IDX_COLUMN] = np.repeat(starts, count) + offset[token_rows]
        table[:, LENGTH_COLUMN] = length[token_rows]
        spacy = np.zeros(total, dtype=np.uint64)
        spacy[ends[:-1] - 1] = 1  # a space after each piece but the last
        table[:, SPACY_COLUMN] = spacy
        table[:, NORM_COLUMN] = norm[token_rows]
        return table, int(words.sum())

    def _simple(self, chunk: str) -> list[str] | None:
        """The tokens of a chunk made of a word and brackets or punctuation ("(cells),"), as spaCy's
        English prefixes and suffixes split it; None when it is another chunk, or when a run of its
        tokens is one of spaCy's special cases."""
        if chunk.isalpha() and chunk.isascii():  # most: a word alone
            return None if chunk in self.special_cases else [chunk]
        m = _SIMPLE_PIECE.fullmatch(chunk)
        if m is None:
            return None
        opening, word, percent, closing, stop = m.groups()
        if percent and not word[-1].isdigit():
            return None
        # spaCy splits a final full stop after a lower-case letter, a digit, "%", a bracket or two capitals
        if stop == "." and not closing and not percent and not (
                word[-1].islower() or word[-1].isdigit() or (len(word) > 1 and word[-2:].isupper())):
            return None
        tokens = [t for t in (opening, word, percent, closing, stop) if t]
        for i in range(len(tokens)):
            for j in range(i + 1, len(tokens) + 1):
                if "".join(tokens[i:j]) in self.special_cases:
                    return None
        return tokens

    def _learn(self, pieces: set[str], text_pieces: list[str]) -> None:
        """Tokenize the pieces not seen yet (a piece: chunks and the whitespace runs between them)
        of a text's pieces, and add them to the table."""
        if len(self._ids) + len(pieces) > self.max_pieces:
            self._forget()
            pieces = set(text_pieces)
        chunks = self._chunks
        split: dict[str, list[str]] = {}  # the pieces with whitespace (a line break) in them
        hard = []
        new: list[tuple[str, Any, tuple, int]] = []  # (piece, its tokens' texts, NORMs of special cases, words)
        special_cases = self.special_cases
        words = [piece for piece in pieces if piece.isalpha() and piece.isascii() and piece not in special_cases]
        self._add_words(words)  # most: a word alone
        for piece in pieces.difference(words) if words else pieces:
            if piece.isprintable():  # no whitespace: a piece of one chunk
                tokens = self._simple(piece)
                if tokens is None:
                    hard.append(piece)
                else:
                    new.append((piece, tokens, (), len(_WORDS.findall(piece))))
            else:
                split[piece] = [c for c in _WHITESPACE_RUN.split(piece) if c]
        for chunk in {c for parts in split.values() for c in parts if c not in chunks}:
            tokens = None if chunk[0].isspace() else self._simple(chunk)
            if tokens is None:
                hard.append(chunk)
            else:
                chunks[chunk] = (tokens, ())
        if hard:
            self._tokenize_apart(hard)
        for piece in hard:
            if piece in pieces and piece not in split:
                texts, norms = chunks[piece]
                new.append((piece, texts, norms, len(_WORDS.findall(piece))))
        for piece, parts in split.items():
            texts_: list[str] = []
            norms_: list[tuple[int, str]] = []
            for chunk in parts:
                chunk_texts, chunk_norms = chunks[chunk]
                norms_.extend((len(texts_) + i, norm) for i, norm in chunk_norms)
                texts_.extend(chunk_texts)
            new.append((piece, texts_, tuple(norms_), len(_WORDS.findall(piece))))
        self._add(new)

    def _token(self, text: str) -> tuple[int, int]:
        """The ORTH and NORM of a token's text (the NORM of its lexeme: for a
        :func:`ckg.etl.concepts.blank_pipeline`, :func:`ckg.etl.concepts.normalize_word` of it)."""
        known = self._token_of.get(text)
        if known is None:
            orth = self.vocab.strings.add(text)
            norm = self.vocab[orth].norm if self._normalize is None else self.vocab.strings.add(self._normalize(text))
            known = self._token_of[text] = (orth, norm)
        return known

    def _add_words(self, words: list[str]) -> None:
        """Rows for new pieces that are a word alone (one token, no special case)."""
        if not words:
            return
        row, token_row = self._pieces.n, self._tokens.n
        self._ids.update(zip(words, range(row, row + len(words))))
        n = len(words)
        lengths = list(map(len, words))
        orths, norms = zip(*map(self._token, words))
        self._pieces.extend(range(token_row, token_row + n), [1] * n, lengths, [1] * n)
        self._tokens.extend(orths, norms, [0] * n, lengths)

    def _add(self, new: list[tuple[str, Any, tuple, int]]) -> None:
        """Rows for new pieces: (piece, its tokens' texts, (token, NORM) of special cases, words)."""
        strings, token = self.vocab.strings, self._token
        row, token_row = self._pieces.n, self._tokens.n
        first, count, chars, words = [], [], [], []
        orths, norms, offsets, lengths = [], [], [], []
        for piece, texts, special, n_words in new:
            self._ids[piece] = row
            row += 1
            first.append(token_row)
            count.append(len(texts))
            chars.append(len(piece))
            words.append(n_words)
            token_row += len(texts)
            at = 0
            for text in texts:
                orth, norm = token(text)
                orths.append(orth)
                norms.append(norm)
                offsets.append(at)
                lengths.append(len(text))
                at += len(text)
            if at != len(piece):  # cannot happen: spaCy's tokens cover a piece; kept as a guard
                raise AssertionError(f"the tokens of {piece!r} do not cover it")
            for i, norm in special:
                norms[len(norms) - len(texts) + i] = strings.add(norm)
        self._pieces.extend(first, count, chars, words)
        self._tokens.extend(orths, norms, offsets, lengths)

    def _tokenize_apart(self, chunks: list[str]) -> None:
        """Tokenize chunks (or whitespace runs) with spaCy, in one call, each as if alone."""
        from spacy.attrs import NORM, ORTH
        from spacy.tokens import Doc

        # a word between the chunks: spaCy matches its special cases of several tokens ("p." of
        # "p.E300X", "''") over whitespace, and a neighbour could take a token of one (a match that
        # spans a space is then dropped)
        apart = [c for c in chunks if _PIECE_SEPARATOR in c or c[0].isspace()]
        together = [c for c in chunks if _PIECE_SEPARATOR not in c and not c[0].isspace()]
        docs = [(self.nlp.make_doc(f" {_PIECE_SEPARATOR} ".join(together)), together)] if together else []
        docs += [(self.nlp.make_doc(c), [c]) for c in apart]
        separator = self.vocab.strings.add(_PIECE_SEPARATOR)
        for doc, group in docs:
            table = doc.to_array([ORTH, NORM])
            ids = table[:, 0].tolist()
            # a special case sets a NORM of its own on a token: where the token's NORM is not its word's
            special = set(np.flatnonzero(table[:, 1] != Doc(self.vocab, words=ids).to_array(NORM)).tolist())
            bounds = [-1, *np.flatnonzero(table[:, 0] == separator).tolist(), len(ids)] if len(group) > 1 \
                else [-1, len(ids)]
            if len(bounds) != len(group) + 1:  # cannot happen; kept as a guard
                raise AssertionError(f"chunks and tokens disagree: {len(bounds) - 1} of {len(group)}")
            strings = self.vocab.strings
            for chunk, before, after in zip(group, bounds, bounds[1:]):
                start = before + 1
                self._chunks[chunk] = ([strings[i] for i in ids[start:after]],
                                       tuple((k - start, doc[k].norm_) for k in range(start, after) if k in special))


class HashSet:
    """A set of 64-bit numbers (hashes) asked about many at a time: each number has a slot in a
    numpy table at least eight times its size, by its low bits (the numbers are hashes, so their
    low bits are spread); an array of numbers is looked up in one gather, and the few whose slot
    holds another number are asked of a Python set.

    >>> s = HashSet([5, 2**63 + 7, 0, 13])
    >>> s.member(np.array([5, 6, 2**63 + 7, 0, 2**63 + 5, 13, 21], dtype=np.uint64)).tolist()
    [True, False, True, True, False, True, False]
    """

    def __init__(self, values) -> None:
        self.values = {int(v) for v in values}
        size = 64
        while size < 8 * len(self.values):
            size *= 2
        self.mask = np.uint64(size - 1)
        table = np.zeros(size, dtype=np.uint64)  # 0: an empty slot (or the value 0, in the Python set)
        for v in self.values:
            slot = v & (size - 1)
            if not table[slot]:
                table[slot] = v
        self.table = table

    def member(self, values):
        """Whether each of an array of uint64 values is in the set."""
        found = self.table[(values & self.mask).astype(np.intp)]
        hit = found == values
        other = np.flatnonzero(~hit & ((found != 0) | (values == 0)))  # its slot taken by another value
        if len(other):
            hit[other] = [v in self.values for v in values[other].tolist()]
        return hit


_MULTIPLIER = 0x9E3779B97F4A7C15  # odd: the hash of a prefix and its next NORM, modulo 2**64
_MASK = (1 << 64) - 1


class NormMatcher:
    """Every occurrence of every phrase (a sequence of NORM ids) in a token table, as
    ``spacy.matcher.PhraseMatcher(vocab, attr="NORM")`` finds them: (key, start, end) for each
    phrase of each key at each place, overlapping and nested ones included.

    The phrases' prefixes are hashed (64 bits, the hash of a prefix times an odd constant plus the
    next NORM id), one :class:`HashSet` per length; the matcher keeps the positions whose first token
    starts a phrase, extends them a token at a time while their window is a phrase's prefix, and
    checks each window that hashes as a whole phrase against the phrase itself (a hash collision
    costs a comparison, never a wrong match). ``patterns``: key -> [NORM ids of each phrase], in
    the order a ``PhraseMatcher`` would get them; where two keys share a phrase, both match, the
    later one last (as the ``PhraseMatcher`` the extractor used listed them; none of the real
    vocabularies' gazetteers has such a phrase).

    >>> m = NormMatcher({"a": [(1, 2)], "b": [(2,), (2, 3, 4)]})
    >>> m(np.array([[0, 0, 0, 0, 1], [0, 0, 0, 0, 2], [0, 0, 0, 0, 3], [0, 0, 0, 0, 4]], dtype=np.uint64))
    [('a', 0, 2), ('b', 1, 2), ('b', 1, 4)]
    """

    def __init__(self, patterns: dict[str, list[tuple[int, ...]]]) -> None:
        prefixes: list[set[int]] = []
        self.whole: list[dict[int, list[tuple[tuple[int, ...], str]]]] = []  # per length: hash -> phrases
        for key, phrases in patterns.items():
            for phrase in phrases:
                if not phrase:
                    continue
                while len(prefixes) < len(phrase):
                    prefixes.append(set())
                    self.whole.append({})
                h = 0
                for i, norm in enumerate(phrase):
                    h = (h * _MULTIPLIER + norm) & _MASK
                    prefixes[i].add(h)
                self.whole[len(phrase) - 1].setdefault(h, []).append((tuple(phrase), key))
        self.prefixes = [HashSet(p) for p in prefixes]
        self.whole_hashes = [HashSet(w) for w in self.whole]

    def __call__(self, table) -> list[tuple[str, int, int]]:
        norms = np.ascontiguousarray(table[:, NORM_COLUMN], dtype=np.uint64)
        n = len(norms)
        if not n or not self.prefixes:
            return []
        found: list[tuple[int, int, str]] = []
        multiplier = np.uint64(_MULTIPLIER)
        positions = np.arange(n)
        hashes = norms.copy()
        keep = self.prefixes[0].member(hashes)
        positions, hashes = positions[keep], hashes[keep]
        length = 1
        while len(positions):
            whole = self.whole_hashes[length - 1].member(hashes)
            if whole.any():
                table_of = self.whole[length - 1]
                if length == 1:  # the hash of one NORM is the NORM: no collision
                    found.extend((start, start + 1, key) for start, h in zip(positions[whole].tolist(),
                                                                             hashes[whole].tolist())
                                 for _phrase, key in table_of[h])
                else:
                    for start, h in zip(positions[whole].tolist(), hashes[whole].tolist()):
                        window = tuple(norms[start: start + length].tolist())
                        found.extend((start, start + length, key) for phrase, key in table_of[h] if phrase == window)
            if length == len(self.prefixes):
                break
            longer = positions + length < n
            positions, hashes = positions[longer], hashes[longer]
            hashes = hashes * multiplier + norms[positions + length]
            keep = self.prefixes[length].member(hashes)
            positions, hashes = positions[keep], hashes[keep]
            length += 1
        found.sort(key=itemgetter(0, 1))  # stable: keys sharing a phrase in the order given
        return [(key, start, end) for start, end, key in found]
