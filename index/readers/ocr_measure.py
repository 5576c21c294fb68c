"""How well OCR read a page, against a reference text of the same page: the measure of the
OCR floors (``tests/test_ocr.py``, ``benchmarks/ocr.py``); the indexing path never calls it."""

from __future__ import annotations


def word_agreement(reference: str, read: str) -> float:
    """How far OCR's ``read`` text agrees with a ``reference`` text of the same page, in [0, 1]:
    the F1 of their word multisets (words = lower-case runs of letters and digits, a word
    hyphenated at a line end counted whole on both sides), so reading order (columns, a
    figure's labels) does not count, but every missed, extra or misread word does. 1.0 for
    two empty texts. This is the measure of the issue's "word agreement" floor (``benchmarks/ocr.py``)."""
    import re
    from collections import Counter

    def words(text: str) -> Counter:
        text = re.sub(r"(?<=\w)(?:[\u00ad\ufffe\x02]\s*|-\s*[\r\n]+\s*)(?=\w)", "", text)
        return Counter(re.findall(r"[^\W_]+", text.lower()))

    a, b = words(reference), words(read)
    if not a and not b:
        return 1.0
    common = sum((a & b).values())
    return 2 * common / (sum(a.values()) + sum(b.values()))
