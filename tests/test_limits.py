"""Bounded requests (issue 30): a body over ASSISTANT_MAX_BODY_BYTES is refused (413) before it
is read, a history turn or a whole history over its limit is a 422, Gradio's upload route is
gone, and a Host header naming someone else's domain (DNS rebinding) is a 400. Against the
real server of the ``server`` fixture."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlparse

import httpx
import pytest

QUESTION = "Who is Japan's chief negotiator?"


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server, timeout=60) as client:
        yield client


def _raw(server: str, head: bytes, body: bytes = b"") -> tuple[bytes, float]:
    """Send ``head`` + ``body`` on a raw socket; return the response's first bytes and the seconds until they came."""
    url = urlparse(server)
    with socket.create_connection((url.hostname, url.port), timeout=30) as s:
        t0 = time.perf_counter()
        s.sendall(head + body)
        reply = s.recv(65536)
        return reply, time.perf_counter() - t0


def test_a_50_mb_body_is_refused_in_under_100_ms_before_it_is_sent(server):
    head = (
        b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 52428800\r\n\r\n"
    )
    reply, seconds = _raw(server, head, b'{"question": "' + b"x" * 60_000)
    assert reply.startswith(b"HTTP/1.1 413") and b'"error":"The request body is 52,428,800 bytes' in reply
    assert seconds < 0.1, seconds


def test_a_chunked_body_over_the_limit_is_refused(http):
    def chunks():
        yield b'{"question": "'
        for _ in range(20):
            yield b"x" * 100_000

    r = http.post("/api/ask", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "at most 1,000,000 bytes" in r.json()["error"]


def test_a_small_chunked_body_still_answers(http):
    r = http.post("/api/ask", content=iter([b'{"question": ', f'"{QUESTION}"}}'.encode()]), headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and "Ryosei Akazawa" in r.json()["answer"]


@pytest.mark.parametrize(
    ("history", "says"),
    [
        (["Who is Yuki Tatsumi?", "x" * 2001], "History turn 2 is 2,001 characters long; please keep each turn under 2,000."),
        (["y" * 1999] * 11, "The history is 21,989 characters long; please keep it under 20,000"),
    ],
)
def test_a_history_over_its_limits_is_a_422(http, history, says):
    for path, body in (
        ("/api/ask", {"question": QUESTION, "history": history}),
        ("/api/feedback", {"verdict": "up", "history": history, "answer": {"question": QUESTION}}),
    ):
        r = http.post(path, json=body)
        assert r.status_code == 422 and r.json()["error"].startswith(says), (path, r.text)


@pytest.mark.unit
def test_the_assistant_skips_over_long_turns_and_keeps_the_latest_that_fit():
    from assistant.questions import usable_history

    assert usable_history(["a" * 30, "b" * 3000, "c" * 30, "d" * 30], 2000, 70) == ["c" * 30, "d" * 30]


def test_gradio_upload_route_is_gone(http):
    r = http.post("/gradio_api/upload", files={"files": ("a.txt", b"hello")})
    assert r.status_code == 404 and "takes no file uploads" in r.json()["error"]
    assert http.post("/widget/gradio_api/upload", files={"files": ("a.txt", b"hello")}).status_code == 404


def test_a_foreign_host_header_is_refused_and_local_names_answer(http, server):
    port = urlparse(server).port
    r = http.get("/healthz", headers={"Host": "evil.example"})
    assert r.status_code == 400 and "evil.example" in r.json()["error"]
    assert http.get("/", headers={"Host": "evil.example:80"}).status_code == 400
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", "[::1]", "LOCALHOST"):
        assert http.get("/healthz", headers={"Host": host}).status_code == 200, host


@pytest.mark.unit
def test_served_hosts_follow_the_bind_address_and_the_setting():
    from assistant.settings import Settings
    from ui.limits import served_hosts

    assert "assistant.intranet" in served_hosts("127.0.0.1", Settings(allowed_hosts=["Assistant.Intranet."]).server.allowed_hosts)
    assert "evil.example" not in served_hosts("127.0.0.1", [])
    assert socket.gethostname().lower() in served_hosts("0.0.0.0", [])
    assert served_hosts("0.0.0.0", ["*"]) is None
    with pytest.raises(ValueError, match="allowed host"):
        Settings(allowed_hosts=["http://x/"])


def test_the_refusal_pacer_lets_a_burst_through_then_spaces_refusals_out_never_longer_than_its_limit():
    from ui.limits import RefusalPacer

    pacer = RefusalPacer(rate=20.0, burst=5, max_wait=0.05)
    assert [pacer.delay(100.0) for _ in range(5)] == [0.0] * 5  # a burst is answered at once
    flood = [pacer.delay(100.0 + i * 0.001) for i in range(50)]  # then refusals wait their turn
    assert flood[0] > 0 and all(0 < d <= 0.05 + 1e-9 for d in flood)
    assert pacer.delay(101.5) == 0.0  # no backlog beyond max_wait: after the flood, immediate again


def test_clients_that_keep_sending_50_mb_bodies_are_paced_and_refused_in_under_100_ms(server):
    """Four clients sending whole 50 MB bodies back to back for 1.5 s: refusals still come in
    under 100 ms, and they get far fewer than the 400-700 per second an unpaced server
    answered: about 4 / REFUSAL_MAX_WAIT per second after a burst of REFUSAL_BURST (asserted with a
    factor 2 of slack for a busy machine)."""
    import threading

    from ui.limits import REFUSAL_BURST, REFUSAL_MAX_WAIT

    url = urlparse(server)
    head = (
        b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 52428800\r\n\r\n"
    )
    body = memoryview(bytes(52_428_800))
    times: list[float] = []
    replies: list[bytes] = []
    stop = time.monotonic() + 1.5

    def sender() -> None:
        while time.monotonic() < stop:
            with socket.create_connection((url.hostname, url.port), timeout=30) as s:
                t0 = time.perf_counter()
                try:
                    s.sendall(head)
                    s.sendall(body)  # refused after the headers: fails early with a reset
                except OSError:
                    pass
                try:
                    replies.append(s.recv(4096)[:12])
                except OSError:  # the reset of the refused connection overtook the 413
                    pass
                times.append(time.perf_counter() - t0)

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert replies and set(replies) == {b"HTTP/1.1 413"}, set(replies)
    assert sorted(times)[len(times) // 2] < 0.1, sorted(times)  # the median (the clients' own copies of the body count too)
    assert len(times) <= 2 * (1.5 * 4 / REFUSAL_MAX_WAIT + REFUSAL_BURST), len(times)  # unpaced: 600-900
