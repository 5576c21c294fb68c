"""Citation markers of answers versus bracketed numbers in the documents' own text.

Answers mark citations as ``[n]``. Documents have their own ``[3]``: footnote and reference
markers of reports, Wikipedia-style articles and papers. Quoted as they are, they would read
as citations of the answer (and a ``[3]`` with two citations would point nowhere), so every
sentence an answer quotes, and every passage a language model is shown, passes through
:func:`escape_footnotes`: a document's ``[3]`` becomes ``⁽³⁾`` (superscript, the way
footnote marks are printed), and the only ``[n]`` left in an answer are its own markers.
The citation's ``text`` and highlights keep the document's exact characters.
"""

from __future__ import annotations

import re

_FOOTNOTE = re.compile(r"\[(\d{1,4}(?:\s*[,–-]\s*\d{1,4})*)\]")
_SUPERSCRIPT = str.maketrans("0123456789,-–", "⁰¹²³⁴⁵⁶⁷⁸⁹'⁻⁻")

ANSWER_MARKER = re.compile(r"\[(\d+)\]")
"""An answer's citation marker ``[n]`` (after :func:`escape_footnotes`, the only kind left)."""


def escape_footnotes(text: str) -> str:
    """``text`` with each bracketed number (``[3]``, ``[12, 14]``, ``[2–4]``) written as a
    superscript footnote mark (``⁽³⁾``, ``⁽¹²'¹⁴⁾``, ``⁽²⁻⁴⁾``); everything else unchanged."""
    return _FOOTNOTE.sub(lambda m: "⁽" + re.sub(r"\s+", "", m.group(1)).translate(_SUPERSCRIPT) + "⁾", text)
