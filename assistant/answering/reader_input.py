"""How the reader sees a (question, candidate sentence) pair: word-piece ids, built the same
way for training (``benchmarks/train_reader.py``) and for answering (:mod:`assistant.answering.reader`).

Layout (BERT pair encoding, ``token_type_ids`` 0 for the question, 1 for the rest)::

    [CLS] question [SEP] sentence [SEP] title | context [SEP]

* ``sentence`` is the candidate, always whole: when the question and the sentence do not fit
  in ``max_tokens``, the sentence is cut into overlapping windows of word pieces that do
  (:func:`encode_pair` returns one row per window; the reader keeps the best window's score),
  as indexing cuts an over-long sentence rather than truncating it.
* ``title`` is the document's title and ``context`` what comes before the sentence (the
  previous sentence, or earlier turns of a conversation): they say what the sentence is about.
  They fill the room left, the context losing its *start* first (the words nearest the
  sentence are kept), the title cut to :data:`TITLE_TOKENS`.
* ``question`` keeps at most :data:`QUESTION_TOKENS` word pieces (its end is dropped beyond
  that; questions are at most 2,000 characters, and nearly all are under 40 word pieces).
"""

from __future__ import annotations

from collections.abc import Sequence

QUESTION_TOKENS = 64
"""Word pieces of the question the reader reads (its start)."""

TITLE_TOKENS = 12
"""Word pieces of the document title the reader reads."""

CONTEXT_TOKENS = 24
"""At most this many word pieces of context (its end), room permitting."""

MAX_TOKENS = 128
"""Word pieces of one reader input, special tokens included (the model could read 512; this
bounds the cost of a candidate)."""


class PairEncoder:
    """Builds reader inputs with the model's ``tokenizers.Tokenizer`` (no truncation, no padding set).

    Args:
        tokenizer: The packaged all-MiniLM-L6-v2 tokenizer (uncased WordPiece).
        max_tokens: Word pieces per input, special tokens included.
    """

    def __init__(self, tokenizer, max_tokens: int = MAX_TOKENS) -> None:
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.cls = tokenizer.token_to_id("[CLS]")
        self.sep = tokenizer.token_to_id("[SEP]")
        self.bar = tokenizer.token_to_id("|")

    def pieces(self, texts: Sequence[str]) -> list[list[int]]:
        """Word-piece ids of each text, without special tokens."""
        if not texts:
            return []
        return [e.ids for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=False)]

    def encode_pair(self, question: list[int], sentence: list[int], title: list[int], context: list[int]) -> list[tuple[list[int], list[int]]]:
        """Inputs for one candidate, from word-piece ids (see :meth:`pieces`).

        Returns:
            ``[(input_ids, token_type_ids), ...]``: one row, or one per window when the
            sentence does not fit beside the question; each at most ``max_tokens`` long.
        """
        q = question[:QUESTION_TOKENS]
        room = self.max_tokens - len(q) - 3  # [CLS] q [SEP] sentence [SEP]
        windows = [sentence] if len(sentence) <= room else _windows(sentence, room)
        rows = []
        for piece in windows:
            extra = self.max_tokens - len(q) - len(piece) - 4  # ... [SEP] title | context [SEP]
            tail: list[int] = []
            if extra > 1:
                t = title[: min(TITLE_TOKENS, extra - 1)]
                c_room = min(CONTEXT_TOKENS, extra - len(t) - 1)
                c = context[-c_room:] if c_room > 0 and context else []
                tail = t + [self.bar] + c + [self.sep]
            ids = [self.cls] + q + [self.sep] + piece + [self.sep] + tail
            types = [0] * (len(q) + 2) + [1] * (len(piece) + 1 + len(tail))
            rows.append((ids, types))
        return rows


def _windows(ids: list[int], size: int) -> list[list[int]]:
    """Windows of ``size`` word pieces covering ``ids``, overlapping by a quarter."""
    step = max(1, size - size // 4)
    out = []
    for start in range(0, len(ids), step):
        out.append(ids[start : start + size])
        if start + size >= len(ids):
            break
    return out
