"""Passage signals: scores a retriever adds, per candidate passage, to the fused score of its
sentences, one small protocol each, chosen by name from a registry.

The two sentence rankers (dense cosine and lexical coverage, :mod:`assistant.retrieval.retriever`)
find the candidates and are fused (:mod:`assistant.retrieval.fusion`); a passage signal then
adds what it knows of a passage, e.g. where the conversation is (:mod:`assistant.retrieval.followup`).
Adding one is a class with the :class:`PassageSignal` methods and one line in :data:`SIGNALS`
(or :func:`register_signal` from outside the package).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from assistant.retrieval.followup import Focus
    from index.types import Passage


@dataclass(frozen=True)
class Contribution:
    """What a signal adds for one question.

    Attributes:
        score: Passage index -> the score added to every sentence of that candidate passage
            (fused-score units).
        pinned: Passage indexes made candidates whatever the rankers found, in this order.
    """

    score: Callable[[int], float]
    pinned: Sequence[int] = ()


class PassageSignal(Protocol):
    """A per-passage score (see the module docstring). One instance per retriever."""

    def prepare(self, passages: Sequence[Passage]) -> None:
        """Read what the signal needs of a build's ``passages`` (in passage-index order), once per build."""
        ...

    def contribute(self, query: str, focus: Focus | None, passages: Sequence[Passage], by_id: dict[str, int],
                   scope: Sequence[str] | None) -> Contribution | None:
        """This question's :class:`Contribution`, or None when the signal has nothing to add.
        ``focus``: where the conversation is (None: not a follow-up); ``by_id``: passage id ->
        index; ``scope``: the document ids searched (None: all)."""
        ...


SIGNALS: dict[str, str] = {
    "focus": "assistant.retrieval.followup:FocusSignal",  # a follow-up is read where the previous answer was
    "speaker": "assistant.retrieval.followup:SpeakerSignal",  # "what did she say": passages quoting that person
}
"""Name -> ``"module:Class"`` of every passage signal, applied in this order (imported on first use)."""


def register_signal(name: str, target: str) -> None:
    """Register a passage signal class (``"module:Class"``) as ``name``, applied after the others."""
    SIGNALS[name] = target


def make_signals(names: Sequence[str] | None = None) -> list[PassageSignal]:
    """New instances of the signals ``names`` (default: every one of :data:`SIGNALS`, in order).

    Raises:
        KeyError: a name that is not registered.
    """
    out = []
    for name in SIGNALS if names is None else names:
        module, _, cls = SIGNALS[name].partition(":")
        out.append(getattr(importlib.import_module(module), cls)())
    return out
