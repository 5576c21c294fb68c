"""The Gradio chat mounted in the real server (see the ``server`` fixture), called through gradio_client."""

from __future__ import annotations


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
