"""Generative answers (issue: optional LLM answers with verified citations).

The model is the only fake here: LangChain's fake chat models script its replies, so no LLM or
network is needed. Retrieval, the embedder, verification and the store are real.
"""

from __future__ import annotations

import subprocess
import threading
import sys
import time
from typing import Any

import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from assistant.answering.generative import REFUSAL

QUESTION = "Who is Japan's chief negotiator in the trade talks?"


def scripted(*replies: str) -> GenericFakeChatModel:
    """A chat model that answers with ``replies`` in turn (streamed word by word)."""
    return GenericFakeChatModel(messages=iter([AIMessage(content=r) for r in replies]))


class SlowModel(BaseChatModel):
    """Takes ``delay`` seconds before its first token, like an overloaded server."""

    delay: float = 2.0

    @property
    def _llm_type(self) -> str:
        return "slow-fake"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        time.sleep(self.delay)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content="Too late [1]."))])

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        time.sleep(self.delay)
        yield ChatGenerationChunk(message=AIMessageChunk(content="Too late [1]."))


class BrokenModel(SlowModel):
    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        raise ConnectionError("connection refused: http://ollama.intranet:11434")
        yield  # pragma: no cover


class QuotingModel(BaseChatModel):
    """A stand-in for a faithful model: quotes the first sentence of passage [1] and cites it."""

    @property
    def _llm_type(self) -> str:
        return "quoting-fake"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        prompt = messages[-1].content
        if "Passages:" not in prompt:  # the follow-up rewrite: keep the question
            reply = prompt.splitlines()[-1].removeprefix("User: ")
        else:
            first = prompt.split("[1] ", 1)[1].split("\n", 1)[1].split("\n\n[2]", 1)[0]
            reply = first.split(". ")[0].rstrip(".") + " [1]."
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply))])


@pytest.fixture()
def make(assistant):
    """An assistant sharing the session's model and index, with ``chat_model`` writing answers."""
    from assistant.core import Assistant

    def build(chat_model, **overrides):
        settings = assistant.settings.replace(llm="fake", **overrides)
        return Assistant(settings, assistant.store, assistant.embedder, chat_model=chat_model)

    return build


def position_of(assistant, question: str, needle: str) -> int:
    """The prompt number of the first retrieved passage containing ``needle``."""
    retrieved = assistant.retriever.search(question)
    return next(i for i, r in enumerate(retrieved, start=1) if needle in r.passage.text)


def test_faithful_answer_is_verified_and_renumbered(assistant, make):
    n = position_of(assistant, QUESTION, "Ryosei Akazawa")
    answer = make(scripted(f"Japan's chief negotiator is Ryosei Akazawa [{n}].")).ask(QUESTION)
    assert answer.generator == "fake" and not answer.abstained and not answer.flags
    assert answer.text == "Japan's chief negotiator is Ryosei Akazawa [1]."
    (citation,) = answer.citations
    (start, end), text = citation.highlights[0], citation.passage
    assert "Ryosei Akazawa" in text.text[start - text.start : end - text.start]


def test_stray_marker_is_removed(assistant, make):
    n = position_of(assistant, QUESTION, "Ryosei Akazawa")
    answer = make(scripted(f"Ryosei Akazawa is Japan's chief negotiator [{n}][9].")).ask(QUESTION)
    assert "[9]" not in answer.text and [c.n for c in answer.citations] == [1]
    assert not answer.flags


def test_uncited_sentence_is_flagged(assistant, make):
    n = position_of(assistant, QUESTION, "Ryosei Akazawa")
    answer = make(scripted(f"Ryosei Akazawa is Japan's chief negotiator [{n}]. He is a keen golfer.")).ask(QUESTION)
    assert [(f.index, f.kind) for f in answer.flags] == [(1, "uncited")]
    assert "He is a keen golfer." in answer.text  # shown, flagged, not hidden


def test_unsupported_sentence_is_flagged(assistant, make):
    n = position_of(assistant, QUESTION, "Ryosei Akazawa")
    reply = f"Ryosei Akazawa is Japan's chief negotiator [{n}]. The Marines will move to Hawaii next spring [{n}]."
    answer = make(scripted(reply)).ask(QUESTION)
    assert [(f.index, f.kind) for f in answer.flags] == [(1, "unsupported")]
    assert answer.citations and not answer.abstained


def test_refusal_phrase_means_abstained(make):
    answer = make(scripted(REFUSAL)).ask("What did Trump's letter say about rice imports?")
    assert answer.abstained and not answer.citations and answer.related
    assert answer.generator == "fake"


def test_slow_model_falls_back_to_the_extractive_answer(assistant, make):
    t = time.perf_counter()
    answer = make(SlowModel(delay=3.0), llm_timeout=0.5).ask(QUESTION)
    assert time.perf_counter() - t < 2.5
    assert answer.generator == "extractive" and "did not answer within 0.5 s" in answer.notice
    assert answer.text == assistant.ask(QUESTION).text


def test_unreachable_model_falls_back_with_a_notice(make):
    answer = make(BrokenModel()).ask(QUESTION)
    assert answer.generator == "extractive" and "connection refused" in answer.notice
    assert "Akazawa" in answer.text


def test_stream_yields_text_then_the_answer(assistant, make):
    n = position_of(assistant, QUESTION, "Ryosei Akazawa")
    items = list(make(scripted(f"Japan's chief negotiator is Ryosei Akazawa [{n}].")).ask_stream(QUESTION))
    chunks, final = items[:-1], items[-1]
    assert len(chunks) > 1 and all(isinstance(c, str) for c in chunks)
    assert "".join(chunks).startswith("Japan's chief negotiator") and final.citations


def test_follow_up_is_rewritten_by_the_model(assistant, make):
    history = ["Who is Yuki Tatsumi?"]
    rewritten = "What did Yuki Tatsumi say Abe never did in front of the press?"
    n = position_of(assistant, rewritten, "Abe never criticised Trump")
    model = scripted(rewritten, f"Abe never criticised Trump in front of the press [{n}].")
    answer = make(model).ask("What did she say Abe never did in front of the press?", history)
    assert not answer.flags and "criticised" in answer.citations[0].passage.text


def test_questions_that_fail_the_checks_never_reach_the_model(make):
    model = scripted()  # would raise StopIteration if called
    answer = make(model).ask("What did Fumio Kishida say about the tariff negotiations?")
    assert answer.abstained and "Fumio Kishida" in answer.abstain_reason


def test_eval_runs_the_generative_path(assistant, make):
    from assistant.evaluation import load_questions, run_eval

    questions = load_questions(assistant.settings.eval.questions, assistant.documents())
    report = run_eval(make(QuotingModel()), questions)
    assert report.summary["n_errors"] == 0
    generated = [r for r in report.results if r.answer and r.answer.generator == "fake"]
    assert len(generated) > 40
    assert report.summary["hit@3"] > 0.6  # it quotes passage [1], the retriever's best


def test_unknown_provider_is_a_clear_config_error():
    from assistant.errors import LLMConfigError
    from assistant.answering.generative import build_chat_model

    with pytest.raises(LLMConfigError, match="provider:model"):
        build_chat_model("nosuchprovider:some-model", None, 5.0)


def test_without_llm_nothing_llm_is_imported():
    code = (
        "import sys, assistant.core, ui.cli\n"
        "bad = [m for m in ('assistant.answering.generative', 'langchain.chat_models', 'langchain_ollama', 'langchain_openai') "
        "if m in sys.modules]\n"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_http_api_streams_tokens_then_the_verified_answer(assistant, make):
    """``POST /api/ask?stream=true`` through the real FastAPI app (in-process ASGI client)."""
    import json

    from fastapi.testclient import TestClient

    from ui.server import create_app

    n = position_of(assistant, QUESTION, "Ryosei Akazawa")
    llm_assistant = make(scripted(f"Japan's chief negotiator is Ryosei Akazawa [{n}]."))
    client = TestClient(create_app(llm_assistant, llm_assistant.settings), base_url="http://localhost")
    with client.stream("POST", "/api/ask?stream=true", json={"question": QUESTION}) as reply:
        assert reply.status_code == 200
        lines = [json.loads(line) for line in reply.iter_lines() if line]
    assert [line["type"] for line in lines[:-1]] == ["token"] * (len(lines) - 1) and len(lines) > 2
    assert lines[-1]["type"] == "answer" and lines[-1]["generator"] == "fake" and lines[-1]["citations"][0]["n"] == 1
    bad = client.post("/api/ask?stream=true", json={"question": "   "})
    assert bad.status_code == 422 and "Please type a question" in bad.json()["error"]


def test_chat_shows_flags_and_notices(assistant, make):
    from ui.app import _responder

    n = position_of(assistant, QUESTION, "Ryosei Akazawa")
    respond = _responder(make(scripted(f"Ryosei Akazawa is Japan's chief negotiator [{n}]. He is a keen golfer.")))
    updates = list(respond(QUESTION, [], []))
    assert len(updates) > 2  # streamed, then final
    final_chat = updates[-1][1]
    assert "Not verified: “He is a keen golfer.”" in final_chat[-1]["content"]
    slow = list(_responder(make(SlowModel(delay=3.0), llm_timeout=0.3))(QUESTION, [], []))
    assert "did not answer within 0.3 s" in slow[-1][1][-1]["content"]


class BlockingModel(BaseChatModel):
    """Answers only once ``release`` is set; counts how many calls are inside it at once."""

    release: Any
    inside: list = []
    most: list = [0]

    @property
    def _llm_type(self) -> str:
        return "blocking-fake"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        self.inside.append(1)
        self.most[0] = max(self.most[0], len(self.inside))
        try:
            self.release.wait(10)
        finally:
            self.inside.pop()
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=REFUSAL))])


def test_streamed_answers_count_against_max_concurrent_questions(make):
    """Two streamed questions with ``max_concurrent_questions=1``: the second reaches the model
    only after the first is done (before, streams bypassed the limit)."""
    import json

    from fastapi.testclient import TestClient

    from ui.server import create_app

    model = BlockingModel(release=threading.Event(), inside=[], most=[0])
    llm_assistant = make(model, max_concurrent_questions=1)
    replies: list[list[dict]] = []

    def ask(client) -> None:
        with client.stream("POST", "/api/ask?stream=true", json={"question": QUESTION}) as reply:
            replies.append([json.loads(line) for line in reply.iter_lines() if line])

    with TestClient(create_app(llm_assistant, llm_assistant.settings), base_url="http://localhost") as client:
        threads = [threading.Thread(target=ask, args=(client,)) for _ in range(2)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while not model.inside and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(1.0)  # the second stream would be inside the model by now if it could (0.2 s when unbounded)
        model.release.set()
        for t in threads:
            t.join(30)
    assert model.most[0] == 1
    assert len(replies) == 2 and all(r[-1]["type"] == "answer" and r[-1]["abstained"] for r in replies)
