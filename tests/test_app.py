"""The Gradio chat mounted in the real server (see the ``server`` fixture), called through gradio_client."""

from __future__ import annotations

import pytest


def test_named_api_endpoint_answers_with_citations(server, article):
    from gradio_client import Client

    client = Client(server, verbose=False)
    d = client.predict("Who is Japan's chief negotiator?", [], api_name="/ask")
    assert "Ryosei Akazawa" in d["answer"]
    c = d["citations"][0]
    assert c["n"] == 1 and article.text[c["start"] : c["end"]] == c["text"]


def test_api_reports_bad_input_as_a_message(server):
    from gradio_client import Client

    client = Client(server, verbose=False)
    assert "Please type a question" in client.predict("   ", [], api_name="/ask")["error"]
    assert "under 2,000" in client.predict("x" * 3000, [], api_name="/ask")["error"]


def test_chat_escapes_html_and_shows_sources(assistant):
    from ui.app import build_app

    demo = build_app(assistant)
    respond = next(fn.fn for fn in demo.fns.values() if fn.fn.__name__ == "respond")
    *_, (_, chat, asked, sources, answers) = respond("<img src=x onerror=alert(1)> Who is Japan's chief negotiator?", [], [])
    assert chat[0]["content"].startswith("&lt;img src=x onerror=alert(1)&gt;")
    assert "<mark>" in sources and "Ryosei Akazawa" in sources and "lines" in sources
    assert asked == ["<img src=x onerror=alert(1)> Who is Japan's chief negotiator?"]
    *_, (box, chat, asked2, _, _) = respond("", chat, asked)
    assert "Please type a question" in chat[-1]["content"] and asked2 == asked
    assert answers == {1: answers[1]} and answers[1]["answer"]["citations"][0]["n"] == 1 and answers[1]["history"] == []


def test_a_refused_long_question_is_echoed_short_and_kept_in_the_box(assistant):
    from ui.app import ECHO_CHARS, build_widget

    respond = next(fn.fn for fn in build_widget(assistant).fns.values() if fn.fn.__name__ == "respond")
    question = "x" * 100_000
    *_, (box, chat, asked, answers) = respond(question, [], [])  # the widget has no sources panel: sources fold under each answer
    assert box == question  # nothing is lost: the user can shorten it
    assert len(chat[0]["content"]) < ECHO_CHARS + 40 and "100,000 characters" in chat[0]["content"]
    assert "under 2,000" in chat[1]["content"] and asked == [] and answers == {}


def test_the_empty_chat_names_the_indexed_documents(assistant):
    from ui.app import documents_placeholder

    text = documents_placeholder(assistant)
    assert "1 document is indexed" in text and "Japan faces an era-defining reset with the US" in text


@pytest.mark.unit
def test_an_abstention_says_why_and_where_the_related_passages_are():
    from assistant.types import Answer, Citation
    from index.types import Passage
    from ui.render import RELATED_HINT, answer_markdown

    passage = Passage("p1", "doc.txt", "Some text.", 0, 10, 1, 1, title="A document")
    related = (Citation(1, passage, (), 0.4),)
    answer = Answer("Who is X?", "The documents do not answer this question.", (), True, related, "the documents never mention X")
    text = answer_markdown(answer)
    assert "Why: the documents never mention X." in text and RELATED_HINT in text and "beside" not in text
