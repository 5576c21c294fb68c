"""Who is asking, for every request: ``settings.server.auth_mode`` ``none``, ``proxy`` or ``token``.

One pure ASGI middleware (:class:`AuthMiddleware`) decides before the app sees a request, and
puts the reader in ``scope["state"]["reader"]`` (a :class:`Reader`), where the routes and the
Gradio handlers (through ``gr.Request.state``) find it with :func:`reader_of`:

- ``none``: everyone reads everything (``Reader(None, None)``); meant for one user on loopback.
- ``proxy``: the request must come from an address in ``trusted_proxies`` (else 403, whatever
  its headers say: a spoofed ``X-Forwarded-User`` from elsewhere is refused); the user is the
  ``user_header`` (missing: 401) and the groups the ``groups_header`` (comma-separated, at most
  ``max_groups`` names of letters, digits and ``._-``; else 400), plus ``everyone``.
- ``token``: ``Authorization: Bearer <token>`` must name a token of ``assistant token add``
  (missing, unknown or revoked: 401 with ``WWW-Authenticate: Bearer``); its groups, plus
  ``everyone``. Checking it is a hash and a dictionary look-up (the file is re-read only when
  it changes). No token, header value or hash is ever logged.

Every refusal has the API's ``{"error": ..., "detail": []}`` shape.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant import AccessError, TokenStore, parse_groups_header, reader_groups

log = logging.getLogger(__name__)

MAX_USER_CHARS = 256
"""Longest user name read from the proxy's user header (characters)."""

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class Reader:
    """Who is asking: ``user`` (None when unknown) and ``groups`` (None: may read every document)."""

    user: str | None
    groups: frozenset[str] | None


EVERY_DOCUMENT = Reader(None, None)


def reader_of(request) -> Reader:
    """The :class:`Reader` the middleware found for ``request`` (a Starlette request or a
    ``gr.Request``); a request that did not pass the middleware reads nothing."""
    state = getattr(request, "state", None)
    reader = getattr(state, "reader", None) if state is not None else None
    if isinstance(reader, Reader):
        return reader
    return Reader(None, frozenset())


class AuthMiddleware:
    """Identifies the reader of every HTTP and websocket request (module docstring).

    Args:
        mode: ``"none"``, ``"proxy"`` or ``"token"``.
        trusted_proxies: Addresses or CIDR networks of the proxies (``proxy``).
        user_header, groups_header: Header names (``proxy``). max_groups: Most groups (count).
        tokens: The token store (``token``).
    """

    def __init__(
        self,
        app: ASGIApp,
        mode: str,
        trusted_proxies: list[str] = (),
        user_header: str = "X-Forwarded-User",
        groups_header: str = "X-Forwarded-Groups",
        max_groups: int = 100,
        tokens: TokenStore | None = None,
    ) -> None:
        self.app = app
        self.mode = mode
        self.networks = [ipaddress.ip_network(p, strict=False) for p in trusted_proxies]
        self.user_header = user_header.lower().encode("latin-1")
        self.groups_header = groups_header.lower().encode("latin-1")
        self.user_name = user_header
        self.max_groups = max_groups
        self.tokens = tokens

    def _trusted(self, host: str | None) -> bool:
        try:
            address = ipaddress.ip_address(host or "")
        except ValueError:
            return False
        if getattr(address, "ipv4_mapped", None):
            address = address.ipv4_mapped
        return any(address in net for net in self.networks)

    def identify(self, scope: Scope) -> tuple[Reader | None, int, str, dict[str, str]]:
        """``(reader, 0, "", {})``, or ``(None, status, error, headers)`` for a refused request."""
        if self.mode == "none":
            return EVERY_DOCUMENT, 0, "", {}
        headers: dict[bytes, bytes] = {}
        for k, v in scope.get("headers", ()):
            headers[k.lower()] = v  # a repeated header: the last one (a proxy sets it once)
        if self.mode == "proxy":
            client = (scope.get("client") or ("", 0))[0]
            if not self._trusted(client):
                return None, 403, "This server answers only through its sign-in proxy; ask your administrator for its address.", {}
            user = headers.get(self.user_header, b"").decode("latin-1").strip()
            if not user:
                return None, 401, f"Not signed in: the proxy sent no {self.user_name} header.", {}
            if len(user) > MAX_USER_CHARS or not user.isprintable():
                return None, 400, f"The {self.user_name} header is not a user name (printable, at most {MAX_USER_CHARS} characters).", {}
            try:
                groups = parse_groups_header(headers.get(self.groups_header, b"").decode("latin-1"), self.max_groups)
            except AccessError as err:
                return None, 400, str(err), {}
            return Reader(user, groups), 0, "", {}
        # token
        challenge = {"WWW-Authenticate": "Bearer"}
        scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None, 401, "Sign in with a token: send Authorization: Bearer <token> (made by `assistant token add`).", challenge
        try:
            record = self.tokens.lookup(token.strip())
        except AccessError as err:
            log.warning("%s", err)  # the file's problem, never the token
            return None, 503, "The token file cannot be read; ask the administrator.", {}
        if record is None:
            return None, 401, "This token is not valid (unknown or revoked).", challenge
        return Reader(f"token:{record.name}", reader_groups(record.groups)), 0, "", {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        reader, status, error, headers = self.identify(scope)
        if reader is None:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await JSONResponse({"error": error, "detail": []}, status_code=status, headers=headers)(scope, receive, send)
            return
        scope.setdefault("state", {})["reader"] = reader
        await self.app(scope, receive, send)


def binds_beyond_loopback(host: str) -> bool:
    """Whether ``host`` (the bind address) is reachable from other machines."""
    return host not in LOOPBACK
