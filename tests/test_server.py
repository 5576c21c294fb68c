"""The one-process server over HTTP: /api/ask, /healthz, OpenAPI docs, CORS and frame-ancestors, embed.js.

All against the real server of the ``server`` fixture (uvicorn in a thread, real model and store).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlparse

import httpx
import pytest

QUESTION = "Who is Japan's chief negotiator?"


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server, timeout=60) as client:
        yield client


def test_api_ask_returns_the_cli_json(http, assistant, article):
    r = http.post("/api/ask", json={"question": QUESTION})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    got = r.json()
    want = assistant.ask(QUESTION).to_dict()
    assert set(got) == set(want) and set(got["timings_ms"]) == set(want["timings_ms"])
    got.pop("timings_ms"), want.pop("timings_ms")
    assert got == want
    assert "Ryosei Akazawa" in got["answer"] and "[1]" in got["answer"]
    c = got["citations"][0]
    assert article.text[c["start"] : c["end"]] == c["text"]


def test_api_ask_uses_history_for_follow_ups(http, assistant):
    body = {"question": "What did she say about Abe?", "history": ["Who is Yuki Tatsumi?"]}
    got = http.post("/api/ask", json=body).json()
    want = assistant.ask(body["question"], body["history"]).to_dict()
    assert got["answer"] == want["answer"] and got["citations"] == want["citations"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"question": ""}, "Please type a question"),
        ({"question": " \n\t "}, "Please type a question"),
        ({"question": "x" * 3000}, "under 2,000"),
        ({}, "question: Field required"),
        ({"question": 42}, "question: Input should be a valid string"),
        ({"question": QUESTION, "history": "Who?"}, "history: Input should be a valid list"),
        ({"question": QUESTION, "history": ["a"] * 51}, "history: List should have at most 50 items"),
        ({"question": QUESTION, "extra": 1}, "extra: Extra inputs are not permitted"),
    ],
)
def test_api_ask_refuses_bad_input_with_a_readable_422(http, body, says):
    r = http.post("/api/ask", json=body)
    assert r.status_code == 422
    d = r.json()
    assert says in d["error"] and "Traceback" not in r.text
    assert d["detail"] and all({"loc", "msg"} <= set(e) for e in d["detail"])


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"content": b'{"question": "How many days of leave?"}'},  # JSON without its content type (curl -d)
        {"data": {"question": "How many days of leave?"}},  # a form post
    ],
)
def test_api_ask_says_the_body_must_be_json(http, request_kwargs):
    r = http.post("/api/ask", **request_kwargs)
    assert r.status_code == 422
    error = r.json()["error"]
    assert "Content-Type: application/json" in error and '{"question":' in error


def test_api_ask_refuses_broken_json(http):
    r = http.post("/api/ask", content=b'{"question": ', headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    error = r.json()["error"]
    assert "not valid JSON" in error and '{"question":' in error


def test_api_ask_by_get_says_how_to_ask(http):
    r = http.get("/api/ask")
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    assert "POST /api/ask" in r.json()["error"]


def test_widget_without_the_slash_redirects_to_it(http):
    r = http.get("/widget", follow_redirects=True)
    assert r.status_code == 200 and str(r.url).endswith("/widget/")


def test_healthz_reports_the_loaded_index(http, assistant):
    r = http.get("/healthz")
    assert r.status_code == 200
    d = r.json()
    assert d["status"] == "ok" and d["index_loaded"] is True
    assert d["documents"] == len(assistant.documents()) == 1
    assert d["passages"] == len(assistant.store.passages()) > 10


def test_openapi_documents_the_api_and_docs_need_no_cdn(http):
    spec = http.get("/openapi.json").json()
    assert {"/api/ask", "/healthz"} <= set(spec["paths"])
    ask = spec["paths"]["/api/ask"]["post"]
    assert ask["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/AskRequest")
    assert {"200", "422"} <= set(ask["responses"])
    assert http.get("/redoc").status_code == 404  # ReDoc would fetch its logo from a CDN
    for page in ("/docs",):
        html = http.get(page).text
        refs = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert refs and all(not urlparse(u).netloc for u in refs), refs
        for ref in refs:
            assert http.get(ref).status_code == 200, ref


def _external_refs(html: str, base: str) -> list[str]:
    """URLs a browser would fetch for ``html`` (scripts, stylesheets, images, CSS imports) that leave ``base``'s host."""
    refs = re.findall(r'<(?:script|link|img|iframe|source)\b[^>]*?\s(?:src|href)="([^"]+)"', html)
    refs += re.findall(r'@import\s+(?:url\()?["\']?([^"\')\s;]+)', html)
    refs += re.findall(r'url\(["\']?(https?://[^"\')]+)', html)
    here = urlparse(base).hostname
    return [u for u in refs if urlparse(urljoin(base + "/", u)).hostname not in (here, None)]


@pytest.mark.parametrize("page", ["/", "/widget/"])
def test_pages_reference_nothing_outside_the_server(http, server, page):
    r = http.get(page)
    assert r.status_code == 200
    assert _external_refs(r.text, server) == []
    # nor names one for anything else to fetch: Gradio's link-preview <meta> tags (an image on
    # raw.githubusercontent.com, og:url https://gradio.app/) are taken out (ui.middleware)
    assert "og:image" not in r.text and "twitter:image" not in r.text and "raw.githubusercontent" not in r.text
    assert int(r.headers["content-length"]) == len(r.content)
    theme = http.get(page.rstrip("/") + "/theme.css")
    assert theme.status_code == 200 and _external_refs(theme.text, server) == []
    assert "fonts.googleapis" not in theme.text and "fonts.gstatic" not in theme.text


def test_frame_ancestors_lists_self_and_the_allowed_origins(http, portal_origin):
    for path in ("/", "/widget/", "/healthz"):
        policy = http.get(path).headers["content-security-policy"].split("; ")
        assert [d for d in policy if d.startswith("frame-ancestors ")] == [f"frame-ancestors 'self' {portal_origin}"]


def test_cors_allows_the_configured_origin_and_refuses_others(http, portal_origin):
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    ok = http.options("/api/ask", headers={"Origin": portal_origin, **preflight})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == portal_origin
    other = "http://127.0.0.1:1"
    refused = http.options("/api/ask", headers={"Origin": other, **preflight})
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
    simple = http.post("/api/ask", json={"question": QUESTION}, headers={"Origin": other})
    assert "access-control-allow-origin" not in simple.headers
    allowed = http.post("/api/ask", json={"question": QUESTION}, headers={"Origin": portal_origin})
    assert allowed.headers["access-control-allow-origin"] == portal_origin


def test_embed_script_inserts_the_widget_iframe(http):
    r = http.get("/embed.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert 'base + "widget/"' in r.text and "http" not in r.text.replace("https://", "").split("*/", 1)[1]


def test_default_settings_allow_only_the_servers_own_origin():
    from assistant.settings import Settings
    from ui.middleware import frame_ancestors

    assert Settings().server.allowed_origins == []
    assert frame_ancestors(Settings().server.allowed_origins) == "frame-ancestors 'self'"


@pytest.mark.unit
def test_settings_check_origins_and_root_path():
    from pydantic import ValidationError

    from assistant.settings import Settings

    s = Settings(allowed_origins=["HTTP://Portal.Intranet:8080/"], root_path="/assistant/")
    assert s.server.allowed_origins == ["http://portal.intranet:8080"] and s.server.root_path == "/assistant"
    for bad in (["*"], ["portal.intranet"], ["http://portal/page"]):
        with pytest.raises(ValidationError, match="http://host:port"):
            Settings(allowed_origins=bad)
    with pytest.raises(ValidationError, match="URL path like /assistant"):
        Settings(root_path="assistant")


@pytest.mark.unit
def test_serve_refuses_a_bad_root_path_in_one_line():
    from typer.testing import CliRunner

    from ui.cli import app

    result = CliRunner().invoke(app, ["serve", "--root-path", "assistant"])
    assert result.exit_code == 1 and "invalid setting root_path" in result.output and "Traceback" not in result.output


def test_gradio_events_answer_concurrently(assistant):
    from ui.app import build_app, build_widget

    for blocks in (build_app(assistant, concurrency=6), build_widget(assistant, concurrency=6)):
        answering = [fn for fn in blocks.fns.values() if fn.name in ("respond", "ask")]
        assert answering and all(fn.concurrency_limit == 6 and fn.concurrency_id == "answer" for fn in answering)


@pytest.fixture(scope="module")
def prefixed(assistant, settings):
    """The server with root_path /assistant, reached directly (as a proxy would reach it)."""
    from conftest import ThreadedUvicorn, free_port

    from ui.server import create_app

    app = create_app(assistant, settings.replace(root_path="/assistant"))
    with ThreadedUvicorn(app, free_port()) as running, httpx.Client(base_url=running.url, timeout=60) as client:
        yield client


@pytest.mark.parametrize("proxy_strips_prefix", [True, False])
def test_root_path_works_whether_or_not_the_proxy_strips_the_prefix(prefixed, proxy_strips_prefix):
    at = "" if proxy_strips_prefix else "/assistant"
    assert prefixed.get(at + "/healthz").json()["index_loaded"] is True
    assert prefixed.post(at + "/api/ask", json={"question": QUESTION}).status_code == 200
    assert "url: '/assistant/openapi.json'" in prefixed.get(at + "/docs").text
    for page in ("/", "/widget/"):
        html = prefixed.get(at + page).text
        assert 'href="/assistant/manifest.json"' in html and 'href="/manifest.json"' not in html
        assert '"root":"http://127.0.0.1:' in html.replace(" ", "") and f'/assistant{page.rstrip("/")}"' in html.replace(" ", "")
