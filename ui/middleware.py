"""The server's own ASGI middleware: security headers on every response, link-preview tags that
name outside hosts taken out of the pages, and serving under a reverse proxy's path prefix."""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def frame_ancestors(origins: list[str]) -> str:
    """The CSP directive that lets the server itself and ``origins`` frame its pages."""
    return "frame-ancestors " + " ".join(["'self'", *origins])


CSP_SOURCES = (
    "default-src 'self'",
    "img-src 'self' data: blob:",
    # Gradio's pages start with inline scripts and run the apps' js= hooks with new Function
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "font-src 'self' data:",
    "media-src 'self' data: blob:",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
)
"""Content-Security-Policy directives of every response: images, scripts, styles, fonts and
connections from the server itself only (plus inline ``data:``/``blob:``), so a remote image
or script that slipped into a page is never fetched."""


def content_security_policy(origins: list[str]) -> str:
    """The whole ``Content-Security-Policy`` header value: :data:`CSP_SOURCES` and
    :func:`frame_ancestors` of ``origins``."""
    return "; ".join([*CSP_SOURCES, frame_ancestors(origins)])


class SecurityHeadersMiddleware:
    """Adds ``Content-Security-Policy`` (:func:`content_security_policy`) and
    ``X-Content-Type-Options: nosniff`` to every HTTP response (pure ASGI, so Gradio's streamed
    responses pass through untouched)."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.value = content_security_policy(origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_csp(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = self.value
                headers["X-Content-Type-Options"] = "nosniff"
            await send(message)

        await self.app(scope, receive, send_with_csp)


class RootPathMiddleware:
    """Serves the app under ``root_path`` (e.g. ``/assistant``) behind a reverse proxy.

    ASGI puts the prefix in both ``root_path`` and ``path``. When the server was not told the
    prefix (``scope["root_path"]`` empty), this adds it, whether or not the proxy stripped it
    from the path, so routing, Gradio's asset URLs and the docs all see one consistent prefix.
    It also keeps Gradio's pages from reaching outside the prefix: Gradio 6 links its web
    manifest as the absolute ``/manifest.json`` and declares no icon (so browsers ask for
    ``/favicon.ico``); both would 404 on the proxy. The HTML gets both links under the prefix.
    """

    def __init__(self, app: ASGIApp, root_path: str) -> None:
        self.app = app
        self.root_path = root_path
        self.links = (
            b'<link rel="manifest" href="/manifest.json" />',
            f'<link rel="manifest" href="{root_path}/manifest.json" /><link rel="icon" href="{root_path}/favicon.ico" />'.encode(),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        root = self.root_path
        if not scope.get("root_path"):
            path = scope["path"]
            if path != root and not path.startswith(root + "/"):
                scope = {**scope, "path": root + path, "raw_path": root.encode() + scope.get("raw_path", path.encode())}
            scope = {**scope, "root_path": root}
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        await rewrite_html(self.app, scope, receive, send, lambda body: body.replace(*self.links))


async def rewrite_html(app: ASGIApp, scope: Scope, receive: Receive, send: Send, fix: Callable[[bytes], bytes]) -> None:
    """Run ``app`` with every ``text/html`` response body passed through ``fix`` (the body is
    held until complete, and ``content-length`` set to the new length); other responses pass
    through untouched, streamed."""
    start: Message | None = None
    chunks: list[bytes] = []

    async def send_fixing_html(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            if MutableHeaders(scope=message).get("content-type", "").startswith("text/html"):
                start = message  # hold it until the body is complete
                return
        elif message["type"] == "http.response.body" and start is not None:
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = fix(b"".join(chunks))
            MutableHeaders(scope=start)["content-length"] = str(len(body))
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        await send(message)

    await app(scope, receive, send_fixing_html)


PREVIEW_META = re.compile(rb"<meta\s+(?:property|name)=\"(?:og|twitter):[^\"]*\"[^>]*>\s*", re.I)
"""Open Graph and Twitter card ``<meta>`` tags. Gradio's page template carries them for link
previews of public demos: an image on raw.githubusercontent.com, ``og:url`` https://gradio.app/.
A browser never fetches them, but a chat tool that unfurls a pasted intranet link would."""


class NoPreviewMetaMiddleware:
    """Takes :data:`PREVIEW_META` tags out of every HTML page, so no page of the server names an
    outside host to fetch (the intranet rule: nothing loads from a CDN or phones home)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await rewrite_html(self.app, scope, receive, send, lambda body: PREVIEW_META.sub(b"", body))
