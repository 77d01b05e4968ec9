"""Deterministic randomness addressed by position: every value of a generated corpus is a pure
function of the seed and of where it is (which paper, which person, which field), so any part
of a corpus can be generated alone, in any order, in any process, and comes out the same.

>>> mix(7, 1, 42) == mix(7, 1, 42), mix(7, 1, 42) == mix(7, 1, 43)
(True, False)
>>> s = Stream(7, 1, 42); t = Stream(7, 1, 42)
>>> [s.u() for _ in range(3)] == [t.u() for _ in range(3)]
True
>>> p = Permutation(10, 3); sorted(p(k) for k in range(10)) == list(range(10))
True
>>> w = Weighted(["a", "b"], [1, 3]); w.pick(0.1), w.pick(0.5)
('a', 'b')
"""

from __future__ import annotations

import bisect
import random
from itertools import accumulate

M64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def mix(*parts: int) -> int:
    """A 64-bit hash of integers (splitmix64 finaliser chained over the parts)."""
    h = _GOLDEN
    for p in parts:
        h = ((h ^ (p & M64)) * 0xBF58476D1CE4E5B9) & M64
        h = ((h ^ (h >> 31)) * 0x94D049BB133111EB) & M64
        h ^= h >> 29
    return h


class FastRandom(random.Random):
    """``random.Random`` whose ``choice`` and ``randrange`` draw from one ``random()`` call
    (several times faster than the standard ones, which draw bits until a value fits; the
    bias, below 2^-40 for the sizes used here, does not matter for synthetic data)."""

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]

    def randrange(self, start, stop=None, step=1):
        if stop is None:
            start, stop = 0, start
        return start + int(self.random() * (stop - start))


def rng(*parts: int) -> FastRandom:
    """A random generator for one place of the corpus (about 10 µs to make: use it for the many
    draws of a whole text, :class:`Stream` for a few)."""
    return FastRandom(mix(*parts))


class Stream:
    """A few uniform draws, cheap to start (splitmix64)."""

    __slots__ = ("s",)

    def __init__(self, *parts: int) -> None:
        self.s = mix(*parts)

    def u(self) -> float:
        self.s = (self.s + _GOLDEN) & M64
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return ((z ^ (z >> 31)) >> 11) * (1.0 / (1 << 53))

    def below(self, n: int) -> int:
        return int(self.u() * n)

    def pick(self, seq):
        return seq[int(self.u() * len(seq))]


class Weighted:
    """Items drawn in proportion to weights, from one uniform number."""

    __slots__ = ("items", "cum", "total")

    def __init__(self, items, weights) -> None:
        self.items = list(items)
        self.cum = list(accumulate(weights))
        self.total = self.cum[-1]

    def pick(self, u: float):
        return self.items[min(bisect.bisect_right(self.cum, u * self.total), len(self.items) - 1)]


class Permutation:
    """A bijection of ``range(n)`` that scatters neighbours (``k -> (a k + b) mod n``)."""

    _PRIMES = (2_654_435_761, 2_246_822_519, 3_266_489_917, 668_265_263, 374_761_393, 1_000_000_007)

    def __init__(self, n: int, salt: int) -> None:
        self.n = max(1, n)
        self.a = next((p for p in self._PRIMES if self.n % p), 1) % self.n or 1
        self.b = mix(salt) % self.n

    def __call__(self, k: int) -> int:
        return (self.a * k + self.b) % self.n


class Scramble:
    """A bijection of ``range(n)`` that looks random: a four-round Feistel network on the
    smallest even number of bits that holds ``n``, walking the cycle back into range.

    >>> f = Scramble(1000, 5); sorted(f(k) for k in range(1000)) == list(range(1000))
    True
    """

    def __init__(self, n: int, salt: int) -> None:
        self.n = n
        bits = max(2, (n - 1).bit_length())
        self.half = (bits + 1) // 2
        self.mask = (1 << self.half) - 1
        self.keys = [mix(salt, r) for r in range(4)]

    def __call__(self, k: int) -> int:
        x = k
        while True:
            left, right = x >> self.half, x & self.mask
            for key in self.keys:
                h = ((right ^ key) * 0x9E3779B97F4A7C15) & M64
                left, right = right, left ^ ((h ^ (h >> 29)) & self.mask)
            x = (left << self.half) | right
            if x < self.n:
                return x


def base36(value: int, width: int) -> str:
    """``value`` as ``width`` base-36 digits (0-9a-z)."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = []
    for _ in range(width):
        value, r = divmod(value, 36)
        out.append(digits[r])
    return "".join(reversed(out))
