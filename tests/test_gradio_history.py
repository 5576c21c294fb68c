"""The Gradio ``/ask`` endpoint takes history as a list of earlier questions, as Gradio's own
chat messages (``{"role", "content"}``), or as ``[user, bot]`` pairs, and refuses anything
else with a message (never silently answering without the context). Real server, gradio_client."""

from __future__ import annotations

import pytest

FIRST = "Who is Yuki Tatsumi?"
FOLLOW_UP = "What did she say about Abe?"


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server, verbose=False)


@pytest.fixture(scope="module")
def with_context(client):
    d = client.predict(FOLLOW_UP, [FIRST], api_name="/ask")
    alone = client.predict(FOLLOW_UP, [], api_name="/ask")
    assert "error" not in d and d["citations"]
    assert (d["answer"], d["abstained"]) != (alone["answer"], alone["abstained"])  # the context matters here
    return d


@pytest.mark.parametrize(
    "history",
    [
        [{"role": "user", "content": FIRST}, {"role": "assistant", "content": "She directs the Japan programme. [1]"}],
        [{"role": "user", "content": [{"type": "text", "text": FIRST}]}, {"role": "assistant", "content": "..."}],
        [[FIRST, "She directs the Japan programme. [1]"]],
        [[FIRST, None]],
    ],
    ids=["messages", "messages-with-content-parts", "pairs", "pair-without-answer"],
)
def test_gradio_history_formats_keep_the_follow_up_in_context(client, with_context, history):
    d = client.predict(FOLLOW_UP, history, api_name="/ask")
    assert "error" not in d, d
    assert d["answer"] == with_context["answer"]
    assert [c["start"] for c in d["citations"]] == [c["start"] for c in with_context["citations"]]


@pytest.mark.parametrize("history", [[{"speaker": "me", "said": FIRST}], "Who is Yuki Tatsumi?", [[1, 2, 3]], [42]])
def test_unreadable_history_is_refused_with_a_message(client, history):
    d = client.predict(FOLLOW_UP, history, api_name="/ask")
    assert "history" in d.get("error", ""), d
    assert "\n" not in d["error"]
