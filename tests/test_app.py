"""The Gradio app on a really launched server, called through gradio_client."""

from __future__ import annotations

import socket

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(assistant):
    from ui.app import CSS, THEME, build_app

    demo = build_app(assistant)
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, theme=THEME, css=CSS)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


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
    _, chat, asked, sources = respond("<img src=x onerror=alert(1)> Who is Japan's chief negotiator?", [], [])
    assert chat[0]["content"].startswith("&lt;img src=x onerror=alert(1)&gt;")
    assert "<mark>" in sources and "Ryosei Akazawa" in sources and "lines" in sources
    assert asked == ["<img src=x onerror=alert(1)> Who is Japan's chief negotiator?"]
    _, chat, asked2, _ = respond("", chat, asked)
    assert "Please type a question" in chat[-1]["content"] and asked2 == asked
