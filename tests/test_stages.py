"""The answer path's stages chosen by name (issue 29): fusions, passage signals and answer
models come from registries; the retriever reads no follow-up internals. Small inputs, no model."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from assistant.retrieval.followup import FOCUS_BONUS, SPEAKER_WEIGHT, Focus, FocusSignal, SpeakerSignal
from assistant.retrieval.fusion import FUSIONS, convex, register_fusion
from assistant.retrieval.signals import SIGNALS, make_signals, register_signal
from index.types import Passage

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent


def _passage(pid: str, doc: str, text: str) -> Passage:
    return Passage(pid, doc, text, 0, len(text), 1, 1, ((0, len(text)),))


PASSAGES = [
    _passage("p0", "a", "The talks began in May."),
    _passage("p1", "a", "“We will not give in,” says Yuki Tatsumi of the Stimson Center."),
    _passage("p2", "a", "“It is over,” said Michael Green, a former adviser."),
    _passage("p3", "b", "Another document entirely."),
]
BY_ID = {p.passage_id: i for i, p in enumerate(PASSAGES)}


def test_convex_fusion_adds_the_weighted_lexical_score():
    fused = convex([np.array([0.5, 0.2])], [np.array([0.1, 0.0])], 1.5)
    assert np.allclose(fused[0], [0.65, 0.2])
    assert FUSIONS["convex"] is convex


def test_a_new_fusion_is_one_registration():
    register_fusion("dense-only", lambda dense, lexical, weight: dense)
    try:
        assert FUSIONS["dense-only"]([np.ones(2)], [np.zeros(2)], 1.0)[0].tolist() == [1.0, 1.0]
    finally:
        del FUSIONS["dense-only"]


def test_the_focus_signal_favours_the_focus_passage_and_its_neighbours_in_its_document():
    signal = FocusSignal()
    signal.prepare(PASSAGES)
    c = signal.contribute("And then?", Focus("p1", (0, 10)), PASSAGES, BY_ID, None)
    assert list(c.pinned) == [1, 0, 2]
    assert [c.score(i) for i in range(4)] == [FOCUS_BONUS / 2, FOCUS_BONUS, FOCUS_BONUS / 2, 0.0]
    assert signal.contribute("And then?", None, PASSAGES, BY_ID, None) is None
    assert signal.contribute("And then?", Focus("p1", (0, 10)), PASSAGES, BY_ID, ["b"]) is None  # focus outside the scope


def test_the_speaker_signal_reads_who_a_passage_quotes():
    signal = SpeakerSignal()
    signal.prepare(PASSAGES)
    focus = Focus("p0", (0, 5), person=("yuki", "tatsumi"))
    c = signal.contribute("What did she say?", focus, PASSAGES, BY_ID, None)
    assert [c.score(i) for i in range(4)] == [0.0, SPEAKER_WEIGHT, -SPEAKER_WEIGHT, 0.0]
    assert signal.contribute("What did the report say?", focus, PASSAGES, BY_ID, None) is None  # no "he"/"she"


def test_signals_are_made_by_name_and_a_new_one_is_one_line():
    assert [type(s).__name__ for s in make_signals()] == ["FocusSignal", "SpeakerSignal"]
    register_signal("focus-again", "assistant.retrieval.followup:FocusSignal")
    try:
        assert [type(s).__name__ for s in make_signals(["focus-again"])] == ["FocusSignal"]
    finally:
        del SIGNALS["focus-again"]
    with pytest.raises(KeyError):
        make_signals(["no-such-signal"])


def test_the_retriever_imports_no_follow_up_internals():
    tree = ast.parse((ROOT / "assistant" / "retrieval" / "retriever.py").read_text(encoding="utf-8"))
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    assert not names & {"_PERSONAL", "FOCUS_BONUS", "SPEAKER_WEIGHT", "quoted_speakers"}
    assert "rrf" not in FUSIONS or FUSIONS["rrf"].__module__ == "rrf"  # RRF lives in benchmarks/rrf.py


def test_answer_models_are_chosen_by_name():
    from assistant.answering.answerers import ANSWER_MODELS, build_answerers
    from assistant.settings import Settings

    assert {"rules", "reader"} <= set(ANSWER_MODELS)
    quotes, answerer = build_answerers(Settings(), embedder=None)
    assert answerer is quotes and quotes.reader is None


def test_the_llm_answer_model_needs_a_language_model():
    from assistant.answering.answerers import build_answerers
    from assistant.errors import LLMConfigError
    from assistant.settings import Settings

    settings = Settings(answer={"model": "llm"})
    with pytest.raises(LLMConfigError, match="ASSISTANT_LLM"):
        build_answerers(settings, embedder=None)
