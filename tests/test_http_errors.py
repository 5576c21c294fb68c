"""Uniform errors (issue 30): every 4xx of the server is ``{"error": one line, "detail": [...]}``,
a wrong method is a 405 naming the right one, feedback errors say how to send feedback, a
Gradio ``/ask`` call without values gets an error event and leaves no traceback in the log,
and the CLI prints ``root:x:0`` as it is (no emoji). Against the real server of ``server``."""

from __future__ import annotations

import json

import httpx
import pytest


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server, timeout=60) as client:
        yield client


@pytest.mark.parametrize(
    ("method", "path", "status", "says"),
    [
        ("PUT", "/api/ask", 405, "PUT is not allowed on /api/ask; use POST."),
        ("DELETE", "/api/feedback", 405, "DELETE is not allowed on /api/feedback; use POST."),
        ("GET", "/api/feedback", 405, "GET is not allowed on /api/feedback; use POST."),
        ("POST", "/healthz", 405, "POST is not allowed on /healthz; use GET."),
        ("GET", "/no/such/page", 404, "Not Found"),
        ("GET", "/gradio_api/no-such-route", 404, "Not Found"),
    ],
)
def test_every_4xx_has_the_error_shape_and_a_wrong_method_is_405(http, method, path, status, says):
    r = http.request(method, path)
    assert r.status_code == status and r.json()["error"] == says and "detail" in r.json(), r.text
    if status == 405:
        assert r.headers["allow"] in ("GET", "POST")


def test_head_on_a_post_route_is_405(http):
    r = http.head("/api/feedback")
    assert r.status_code == 405 and r.headers["allow"] == "POST"


def test_an_unparseable_body_is_an_error_line_and_feedback_errors_name_feedback(http):
    for body in (b"\xff\xfe{", b'{"question": '):
        r = http.post("/api/ask", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code in (400, 422) and set(r.json()) == {"error", "detail"} and "POST /api/ask" in r.json()["error"], r.text
    r = http.post("/api/feedback", content=b"{bad", headers={"Content-Type": "application/json"})
    error = r.json()["error"]
    assert r.status_code == 422 and "POST /api/feedback" in error and "/api/ask with" not in error, error


def test_a_gradio_ask_call_without_values_is_an_error_event_and_no_traceback(http, capfd):
    event = http.post("/gradio_api/call/ask", json={"data": []}).json()["event_id"]
    stream = http.get(f"/gradio_api/call/ask/{event}").text
    data = json.loads(stream.split("event: error\ndata: ", 1)[1].splitlines()[0])
    assert data["error"] == "This endpoint takes (question, history, documents); got 0 value(s)."
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.unit
def test_the_cli_console_prints_emoji_codes_as_text():
    from assistant.terminal import stdout_console

    console = stdout_console()
    with console.capture() as out:
        console.print("root:x:0:0:root :smile:")
    assert out.get().strip() == "root:x:0:0:root :smile:"
