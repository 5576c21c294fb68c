"""Step 4 of chunking (:mod:`index.chunking`): sentences, units and passages kept within the
embedding model's token limit, cut at word boundaries found by counting with the real
tokenizer; nothing is ever embedded truncated."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from index.sentences import _trim
from index.types import Span


TokenCounter = Callable[[Sequence[str]], list[int]]
"""``count(texts) -> [word pieces of each text, without special tokens]`` (the embedder's tokenizer)."""


def _fits(text: str, span: Span, limit: int, count: TokenCounter) -> bool:
    # A word piece covers at least one character, so a span of at most `limit` characters fits.
    return span[1] - span[0] <= limit or count([text[span[0] : span[1]]])[0] <= limit


def split_to_token_limit(text: str, span: Span, limit: int, count: TokenCounter) -> list[Span]:
    """Cut ``span`` into consecutive trimmed pieces of at most ``limit`` word pieces each.

    Each cut is at the last whitespace whose prefix still fits (binary search with the real
    tokenizer); a single "word" over the limit (a long URL, a hash) is cut between characters.

    Returns:
        ``[(start, end), ...]`` covering every non-whitespace character of ``span``, in order.
    """
    pieces: list[Span] = []
    start, end = span
    while True:
        rest = _trim(text, start, end)
        if rest is None:
            return pieces
        start = rest[0]
        if _fits(text, rest, limit, count):
            pieces.append(rest)
            return pieces
        cuts = [start + m.start() for m in re.finditer(r"\s+", text[start:end])]
        cut = _last_fitting(cuts, lambda c: count([text[start:c]])[0] <= limit)
        if cut is None:  # no word boundary fits: cut inside the first word
            cut = _last_fitting(list(range(start + 1, end)), lambda c: count([text[start:c]])[0] <= limit) or start + 1
        piece = _trim(text, start, cut)
        if piece:
            pieces.append(piece)
        start = cut


def _last_fitting(candidates: list[int], fits: Callable[[int], bool]) -> int | None:
    """The largest candidate (ascending list) for which ``fits`` holds, assuming monotonicity."""
    lo, hi, best = 0, len(candidates) - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        if fits(candidates[mid]):
            best, lo = candidates[mid], mid + 1
        else:
            hi = mid - 1
    return best


def _split_unit(unit: list[Span], tokens: dict[Span, int], limit: int) -> list[list[Span]]:
    """Split a unit over the token limit between sentences into runs that fit."""
    runs: list[list[Span]] = [[]]
    total = 0
    for span in unit:
        if runs[-1] and total + tokens[span] > limit:
            runs.append([])
            total = 0
        runs[-1].append(span)
        total += tokens[span]
    return runs


def _exact_fit(text: str, groups: list[list[Span]], limit: int, count: TokenCounter) -> list[list[Span]]:
    """The groups, each split between sentences where the passage text really exceeds ``limit``."""
    over = [g for g in groups if g[-1][1] - g[0][0] > limit]
    counts = dict(zip(map(id, over), count([text[g[0][0] : g[-1][1]] for g in over])))
    out: list[list[Span]] = []
    for g in groups:
        if counts.get(id(g), 0) <= limit or len(g) == 1:
            out.append(g)
        else:
            half = len(g) // 2
            out.extend(_exact_fit(text, [g[:half], g[half:]], limit, count))
    return out

