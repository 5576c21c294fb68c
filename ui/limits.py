"""What every request must be before the app sees it: a known ``Host``, a bounded body, and not
Gradio's upload route (the assistant takes no files). One pure ASGI middleware, outermost, so
a refused request costs no parsing, no Gradio work and no memory; each refusal is the API's
``{"error": ...}`` shape."""

from __future__ import annotations

import ipaddress
import socket
import time

import anyio

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
"""Host names that always mean this machine (IP addresses are always accepted: a DNS-rebinding
page reaches the server under its own host *name*, never under an address)."""

BLOCKED_SUFFIXES = ("/gradio_api/upload", "/gradio_api/upload_progress")
"""Gradio's file upload routes (anonymous uploads stored in the temp folder and served back);
no component of the chat or the widget takes a file, so they are answered 404."""

WILDCARD_BINDS = frozenset({"0.0.0.0", "::", ""})

REFUSALS_PER_SECOND = 20.0
"""Refusals answered at once per second after a burst (count/s); beyond that each waits its turn
(see :class:`RefusalPacer`)."""
REFUSAL_BURST = 10
"""Refusals answered at once in a burst before the pacing starts (count)."""
REFUSAL_MAX_WAIT = 0.05
"""Longest a refusal waits its turn (seconds): well under the 100 ms in which issue 30 wants a
50 MB body refused, so a refusal is never slow, only spaced out."""


class RefusalPacer:
    """Spaces out refusals so that clients that keep sending oversized bodies cannot take the
    server's event loop from everyone else.

    Each refusal costs the server a connection, a request and a response (about a millisecond
    of CPU), and a client refused at once can send the next 50 MB body at once: four such
    clients made 400-700 refusals per second and doubled other users' p95 (issue 30's floor is
    at most 2x). A burst of ``burst`` refusals, and then ``rate`` per second, are answered at
    once; beyond that each waits for its slot, at most ``max_wait`` seconds, while its
    connection reads nothing more (uvicorn stops reading a body nobody receives after 64 kB).
    The schedule is the generic cell rate algorithm's (a token bucket), and the backlog never
    grows beyond ``max_wait``, so after a flood refusals are immediate again within a second.

    Args:
        rate: Refusals per second answered without waiting, after the burst (count/s).
        burst: Refusals answered without waiting at once (count).
        max_wait: Longest wait of one refusal (seconds).
    """

    def __init__(self, rate: float = REFUSALS_PER_SECOND, burst: int = REFUSAL_BURST, max_wait: float = REFUSAL_MAX_WAIT) -> None:
        self.interval = 1.0 / rate
        self.tolerance = (burst - 1) * self.interval
        self.max_wait = max_wait
        self.due = float("-inf")

    def delay(self, now: float) -> float:
        """Seconds the refusal arriving at ``now`` (``time.monotonic()``) waits; books its slot."""
        due = max(self.due, now)
        wait = min(max(0.0, due - now - self.tolerance), self.max_wait)
        self.due = min(due, now + self.tolerance + self.max_wait) + self.interval
        return wait

    async def wait(self) -> None:
        """Wait for this refusal's slot (see :meth:`delay`)."""
        seconds = self.delay(time.monotonic())
        if seconds > 0:
            await anyio.sleep(seconds)


def served_hosts(bind_host: str, allowed: list[str]) -> frozenset[str] | None:
    """Host names (lower case, no port) accepted in the ``Host`` header besides IP addresses and
    :data:`LOOPBACK_NAMES`: the bound host (when it is a name), ``allowed``, and, when bound to
    every interface, this machine's name and fully qualified name. None: accept any (``*``)."""
    if "*" in allowed:
        return None
    names = set(LOOPBACK_NAMES) | {h.lower().rstrip(".") for h in allowed}
    if bind_host in WILDCARD_BINDS:
        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    else:
        names.add(bind_host.lower().strip("[]"))
    return frozenset(names)


def _hostname(header: str) -> str:
    """``Host`` header -> host name without port or brackets, lower case."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class RequestLimitsMiddleware:
    """Refuses, before the app reads anything: a ``Host`` not in ``hosts`` (400), a body over
    ``max_body_bytes`` by its ``Content-Length`` (413; a chunked body, which has none, is read
    here up to the limit and refused the same way), and Gradio's upload routes (404). Every
    refusal closes the connection and is paced by a :class:`RefusalPacer`.

    Args:
        max_body_bytes: Largest body read (bytes).
        hosts: :func:`served_hosts` (None: any host).
        pacer: Spaces out refusals (default: :data:`REFUSALS_PER_SECOND`, :data:`REFUSAL_MAX_WAIT`).
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int, hosts: frozenset[str] | None, pacer: RefusalPacer | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.hosts = hosts
        self.pacer = pacer or RefusalPacer()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        host = _hostname(headers.get("host", ""))
        if self.hosts is not None and host and not _is_ip(host) and host not in self.hosts:
            await self._refuse(
                scope,
                receive,
                send,
                400,
                f"This server does not answer for the host name {host!r}; add it to ASSISTANT_ALLOWED_HOSTS if it is yours.",
            )
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].endswith(BLOCKED_SUFFIXES):
            await self._refuse(scope, receive, send, 404, "Not found: this server takes no file uploads.")
            return
        length = headers.get("content-length", "")
        if length.strip().isdigit() and int(length) > self.max_body_bytes:
            await self._refuse(scope, receive, send, 413, self._too_large(int(length)))
            return

        if length.strip().isdigit() or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)  # uvicorn never delivers more than Content-Length
            return
        # a chunked body: read it here, up to the limit, then hand it on whole
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_body_bytes:
                await self._refuse(scope, receive, send, 413, self._too_large(None))
                return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _too_large(self, length: int | None) -> str:
        size = f"{length:,} bytes" if length is not None else "over the limit"
        return f"The request body is {size}; this server reads at most {self.max_body_bytes:,} bytes (ASSISTANT_MAX_BODY_BYTES)."

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int, error: str) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await self.pacer.wait()
        await JSONResponse({"error": error, "detail": []}, status_code=status, headers={"Connection": "close"})(scope, receive, send)


class ErrorShapeMiddleware:
    """Gives every 4xx response the API's shape, ``{"error": "one line", "detail": ...}``:
    FastAPI's and Gradio's ``{"detail": "Not Found"}`` get an ``error`` (their other fields are
    kept, for Gradio's own clients) and plain-text errors become ``{"error", "detail": []}``;
    a body that already has ``error``, and HTML pages (the source view's 404 is a page for
    people), pass through untouched. Only 4xx bodies are held (they are small); everything
    else, streams included, passes straight through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def reshaping_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start" and 400 <= message["status"] < 500:
                kind = dict((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in message.get("headers", ())).get("content-type", "")
                if kind.startswith(("application/json", "text/plain")) or not kind:
                    start = message
                    return
            if message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = _error_body(b"".join(chunks), start["status"])
                headers = [(k, v) for k, v in start.get("headers", ()) if k.lower() not in (b"content-length", b"content-type")]
                headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, reshaping_send)


def _error_body(raw: bytes, status: int) -> bytes:
    """``raw`` (a 4xx body) as ``{"error", "detail"}`` JSON bytes; unchanged if it has ``error``."""
    import json
    from http import HTTPStatus

    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        data = raw.decode("utf-8", "replace").strip() or None
    if isinstance(data, dict) and "error" in data:
        return raw
    detail = data.get("detail") if isinstance(data, dict) else data
    if isinstance(detail, str) and detail.strip():
        error = " ".join(detail.split())[:500]
    else:
        error = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Bad request"
    if isinstance(data, dict):  # Gradio's own clients may read its fields: keep them, add "error"
        return json.dumps({**data, "error": error, "detail": data.get("detail", [])}, ensure_ascii=False).encode()
    items = detail if isinstance(detail, list) else []
    return json.dumps({"error": error, "detail": items}, ensure_ascii=False).encode()
