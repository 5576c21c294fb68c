"""The widget, the chat and the API in a real browser: Debian's chromium driven by Playwright.

Every test runs with all requests that do not go to this machine blocked and recorded. Skips
with a reason when python playwright or /usr/bin/chromium is missing (`.ci/run` installs both).
"""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import ROOT, ThreadedUvicorn, free_port

CHROMIUM = Path("/usr/bin/chromium")
EXAMPLE = ROOT / "ui" / "embed" / "example.html"
ARTIFACTS = ROOT / "artifacts"
EXAMPLE_SERVER = "http://127.0.0.1:7860"
"""The assistant's address written in ``ui/embed/example.html``; tests put their server's instead."""
QUESTION = "Who is Japan's chief negotiator?"
XSS = "<img src=x onerror=alert(1)>"
ANSWER_WAIT_MS = 60_000

playwright_api = pytest.importorskip("playwright.sync_api", reason="python playwright is not installed: pip install -e '.[test]'")
expect = playwright_api.expect
expect.set_options(timeout=20_000)  # the machine is shared; the default 5 s is tight for a page's first render
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: install Debian's chromium (apt-get install -y chromium, as .ci/run does)"),
]

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def is_local(url: str) -> bool:
    """True for URLs that stay on this machine (loopback) or never touch the network (data:, blob:, about:)."""
    parsed = urlparse(url)
    if parsed.scheme in ("data", "blob", "about", "chrome-error"):
        return True
    return parsed.hostname in LOCAL_HOSTS


def test_is_local_tells_loopback_from_the_internet():
    assert (
        is_local("http://127.0.0.1:7860/widget/") and is_local("http://localhost/x.js") and is_local("data:image/png;base64,AA")
    )
    assert not is_local("https://fonts.googleapis.com/css2?family=Inter") and not is_local("https://cdn.jsdelivr.net/x.js")


class StaticSite:
    """A plain local HTTP server (another origin) serving ``directory`` in a thread."""

    def __init__(self, directory: Path, port: int) -> None:
        handler = functools.partial(SimpleHTTPRequestHandler, directory=str(directory))
        handler.log_message = lambda *a: None
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.url = f"http://127.0.0.1:{port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def frame_page(server: str) -> str:
    """A portal page that frames the widget with a bare iframe and calls /api/ask with fetch."""
    return f"""<!doctype html><meta charset="utf-8"><title>portal</title>
<iframe id="w" src="{server}/widget/" title="Ask the documents" style="width:400px;height:600px;border:0"></iframe>
<script>
window.apiResult = fetch("{server}/api/ask", {{method: "POST", headers: {{"Content-Type": "application/json"}},
  body: JSON.stringify({{question: "{QUESTION}"}})}})
  .then(r => r.json()).then(d => "ok: " + d.answer, e => "refused: " + e);
</script>"""


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory, server):
    """The example page with our server's address, and a page that frames the widget directly."""
    d = tmp_path_factory.mktemp("portal")
    example = EXAMPLE.read_text(encoding="utf-8")
    assert EXAMPLE_SERVER + "/embed.js" in example
    (d / "example.html").write_text(example.replace(EXAMPLE_SERVER, server), encoding="utf-8")
    (d / "frame.html").write_text(frame_page(server), encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def portal(site_dir, portal_origin):
    """The intranet portal: an origin listed in ``allowed_origins``."""
    site = StaticSite(site_dir, urlparse(portal_origin).port)
    yield site.url
    site.close()


@pytest.fixture(scope="module")
def stranger(site_dir):
    """Another local origin, not listed in ``allowed_origins``, serving the same pages."""
    site = StaticSite(site_dir, free_port())
    yield site.url
    site.close()


@pytest.fixture(scope="module")
def browser():
    pw = playwright_api.sync_playwright().start()
    try:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
    except Exception as err:
        pw.stop()
        pytest.skip(f"chromium at {CHROMIUM} does not start under Playwright: {err}")
    yield browser
    browser.close()
    pw.stop()


class Offline:
    """Routes every request of a browser context: loopback ones go through and are listed in
    ``allowed``, all others are aborted and listed in ``blocked``."""

    def __init__(self, context) -> None:
        self.allowed: list[str] = []
        self.blocked: list[str] = []
        context.route("**/*", self._route)

    def _route(self, route) -> None:
        url = route.request.url
        if is_local(url):
            self.allowed.append(url)
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("blockedbyclient")


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1100, "height": 900})
    ctx.offline = Offline(ctx)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    return page


def ask_in(frame, question: str, turn: int = 1) -> None:
    """Type ``question`` into a widget or chat (a Page or FrameLocator) and wait for answer number ``turn``."""
    box = frame.locator("#question textarea")
    box.fill(question)
    frame.locator("#ask").click()
    expect(box).to_have_value("", timeout=ANSWER_WAIT_MS)  # the answer's update also clears the box
    expect(frame.locator("#chat .message-row.bot-row")).to_have_count(turn, timeout=ANSWER_WAIT_MS)


def test_example_page_widget_answers_with_citation_and_sources(page, portal):
    page.goto(portal + "/example.html", wait_until="load")
    widget = page.frame_locator("iframe.cited-assistant-widget")
    ask_in(widget, QUESTION)
    answer = widget.locator("#chat .message-row").nth(1)
    expect(answer).to_contain_text("Ryosei Akazawa")
    expect(answer).to_contain_text("[1]")
    sources = answer.locator("details.answer-sources")  # the answer's own sources, folded under it
    expect(sources.locator("summary")).to_contain_text("[1]")
    sources.locator("summary").click()
    expect(sources.locator("mark").first).to_be_visible()
    expect(sources.locator("mark").first).to_contain_text("Ryosei Akazawa")


def test_html_in_a_question_is_shown_as_text_and_runs_nothing(page, portal):
    page.goto(portal + "/example.html", wait_until="load")
    widget = page.frame_locator("iframe.cited-assistant-widget")
    ask_in(widget, f"{XSS} {QUESTION}")
    question = widget.locator("#chat .message-row").nth(0)
    expect(question).to_contain_text(XSS)
    assert widget.locator("#chat img[src='x']").count() == 0
    assert page.dialogs == []


def test_everything_loads_and_answers_with_the_internet_blocked(context, page, portal, server):
    page.goto(portal + "/example.html", wait_until="load")
    ask_in(page.frame_locator("iframe.cited-assistant-widget"), QUESTION)
    page.goto(server + "/", wait_until="load")
    ask_in(page, QUESTION)
    expect(page.locator("#sources mark").first).to_be_visible()
    page.get_by_text("Use via API").click()
    expect(page.get_by_text("API documentation")).to_be_visible()
    expect(page.get_by_text('api_name="/ask"')).to_be_visible()
    page.goto(server + "/docs", wait_until="load")
    expect(page.locator(".swagger-ui")).to_contain_text("/api/ask", timeout=30_000)
    offline = context.offline
    assert any("/widget/" in u for u in offline.allowed) and any(u.endswith(".js") for u in offline.allowed)
    assert offline.blocked == []


def test_widget_reads_well_at_400px_and_a_screenshot_is_saved(browser, portal):
    ctx = browser.new_context(viewport={"width": 400, "height": 900}, device_scale_factor=1)
    offline = Offline(ctx)
    try:
        page = ctx.new_page()
        page.goto(portal + "/example.html", wait_until="load")
        frame_el = page.locator("iframe.cited-assistant-widget")
        widget = page.frame_locator("iframe.cited-assistant-widget")
        ask_in(widget, QUESTION)
        widget.locator("#chat .answer-sources summary").first.click()
        expect(widget.locator("#chat .answer-sources mark").first).to_be_visible()
        box = frame_el.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 400
        frame = frame_el.element_handle().content_frame()
        no_overflow = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        assert page.evaluate(no_overflow) and frame.evaluate(no_overflow)
        frame_el.scroll_into_view_if_needed()
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "widget-400px.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        assert offline.blocked == []
    finally:
        ctx.close()


def test_an_allowed_origin_may_frame_and_call_the_api_and_another_may_not(page, portal, stranger, portal_origin):
    page.goto(portal + "/frame.html", wait_until="load")
    expect(page.frame_locator("#w").locator("#question textarea")).to_be_visible(timeout=30_000)
    assert page.evaluate("window.apiResult").startswith("ok: ") and "Ryosei Akazawa" in page.evaluate("window.apiResult")

    with page.expect_console_message(lambda m: "frame-ancestors" in m.text) as refusal:
        page.goto(stranger + "/frame.html", wait_until="load")
    assert "violates" in refusal.value.text and portal_origin in refusal.value.text
    assert page.evaluate("window.apiResult").startswith("refused: ")
    framed = next(f for f in page.frames if f != page.main_frame)
    assert framed.url.startswith("chrome-error://")
    assert framed.locator("#question").count() == 0


# -- behind a reverse proxy under /assistant -------------------------------------------------

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authenticate",
    "proxy-authorization",
}


def reverse_proxy(backend: str, prefix: str):
    """A minimal streaming reverse proxy (Starlette + httpx): ``prefix/...`` -> ``backend/...``.

    Like nginx's ``location /assistant/ { proxy_pass http://backend/; proxy_set_header Host $host; }``:
    the prefix is stripped and the client's Host header is kept.
    """
    import httpx
    from starlette.applications import Starlette
    from starlette.background import BackgroundTask
    from starlette.responses import StreamingResponse
    from starlette.routing import Route

    client = httpx.AsyncClient(base_url=backend, timeout=120)

    async def forward(request):
        headers = [(k, v) for k, v in request.headers.raw if k.decode("latin-1").lower() not in HOP_BY_HOP]
        upstream_request = client.build_request(
            request.method,
            "/" + request.path_params["path"],
            params=request.query_params,
            headers=headers,
            content=await request.body(),
        )
        upstream = await client.send(upstream_request, stream=True)
        out = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
        return StreamingResponse(
            upstream.aiter_raw(), status_code=upstream.status_code, headers=out, background=BackgroundTask(upstream.aclose)
        )

    methods = ["GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH"]
    return Starlette(routes=[Route(prefix + "/{path:path}", forward, methods=methods)])


@pytest.fixture(scope="module")
def proxied(assistant, server_settings):
    """The server started with root_path /assistant, reached only through a reverse proxy; yields the public URL."""
    from ui.server import create_app

    settings = server_settings.replace(root_path="/assistant")
    with (
        ThreadedUvicorn(create_app(assistant, settings), free_port()) as backend,
        ThreadedUvicorn(reverse_proxy(backend.url, "/assistant"), free_port()) as proxy,
    ):
        yield proxy.url + "/assistant"


def test_chat_works_under_a_root_path_behind_a_reverse_proxy(context, page, proxied):
    failed = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(proxied + "/", wait_until="load")
    ask_in(page, QUESTION)
    expect(page.locator("#chat .message-row").nth(1)).to_contain_text("Ryosei Akazawa")
    expect(page.locator("#sources mark").first).to_be_visible()
    page.goto(proxied + "/widget/", wait_until="load")
    ask_in(page, QUESTION)
    page.goto(proxied + "/docs", wait_until="load")
    expect(page.locator(".swagger-ui")).to_contain_text("/api/ask", timeout=30_000)
    assert failed == []
    # every request the pages made went through the proxy, under the prefix
    elsewhere = [u for u in context.offline.allowed if u.startswith("http") and not u.startswith(proxied + "/")]
    assert context.offline.allowed and elsewhere == [], elsewhere
    assert context.offline.blocked == []


# -- what a person sees in the widget at 400 px (issue 16) ----------------------------------


@pytest.fixture
def narrow(browser):
    """A 400 x 640 px window on the widget itself (as the default iframe of embed.js), offline."""
    ctx = browser.new_context(viewport={"width": 400, "height": 640}, device_scale_factor=1)
    ctx.offline = Offline(ctx)
    yield ctx
    assert ctx.offline.blocked == []
    ctx.close()


SCROLLERS = """(root) => [root, ...root.querySelectorAll('*')].filter(e => e.scrollHeight > e.clientHeight + 2
    && /(auto|scroll)/.test(getComputedStyle(e).overflowY)).length"""


@pytest.mark.parametrize("height", [640, 560])
def test_widget_unfolds_an_answers_sources_under_it_with_one_scroll_area(narrow, server, height):
    page = narrow.new_page()
    page.set_viewport_size({"width": 400, "height": height})
    page.goto(server + "/widget/", wait_until="load")
    ask_in(page, QUESTION)
    answer = page.locator("#chat .message-row.bot-row").last
    answer.locator(".answer-sources summary").click()
    header = answer.locator(".answer-sources .source").first.locator(".meta")
    expect(header).to_be_visible()
    assert "[1]" in header.inner_text() and "lines" in header.inner_text()
    mark = answer.locator(".answer-sources mark").first
    mark.scroll_into_view_if_needed()
    expect(mark).to_be_visible()
    chat = page.locator("#chat").bounding_box()
    assert chat["y"] - 1 <= mark.bounding_box()["y"] and mark.bounding_box()["y"] < chat["y"] + chat["height"]
    assert page.locator("#chat").evaluate(SCROLLERS) == 1  # the conversation scrolls, nothing nested inside it does
    assert page.evaluate("document.scrollingElement.scrollHeight <= document.scrollingElement.clientHeight")  # nor the page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"widget-400px-sources-{height}.png"))


def test_widget_has_no_share_button_no_footer_and_every_button_is_labelled(narrow, server):
    page = narrow.new_page()
    page.goto(server + "/widget/", wait_until="load")
    ask_in(page, QUESTION)
    labels = page.locator("#chat button").evaluate_all("bs => bs.map(b => b.getAttribute('aria-label') || b.innerText.trim())")
    assert labels and all(labels) and not any("share" in label.lower() for label in labels), labels
    assert {"Like", "Dislike"} <= set(labels)
    assert page.get_by_text("Use via API").count() == 0 and page.locator("footer").count() == 0


def test_widget_empty_chat_names_the_documents_and_abstention_says_why(narrow, server):
    page = narrow.new_page()
    page.goto(server + "/widget/", wait_until="load")
    expect(page.locator("#chat")).to_contain_text("1 document is indexed")
    expect(page.locator("#chat")).to_contain_text("Japan faces an era-defining reset with the US")
    ask_in(page, "Who is Fumio Kishida?")
    answer = page.locator("#chat .message-row.bot-row").first
    expect(answer).to_contain_text("Why: the documents never mention Fumio Kishida.")
    expect(answer).to_contain_text("Related passages")
    assert "beside" not in answer.inner_text()
    heading = answer.locator(".answer-sources.related summary", has_text="Related passages")  # named as the hint says, under it
    expect(heading).to_be_visible()
    heading.click()
    expect(answer.locator(".answer-sources.related .source").first).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "widget-400px-abstention.png"))


def test_widget_shows_a_refused_100kb_question_short_and_keeps_it(narrow, server):
    page = narrow.new_page()
    page.goto(server + "/widget/", wait_until="load")
    page.locator("#question textarea").fill("x" * 100_000)
    page.locator("#ask").click()
    expect(page.locator("#chat .message-row.bot-row")).to_have_count(1, timeout=ANSWER_WAIT_MS)
    expect(page.locator("#chat .message-row.bot-row")).to_contain_text("under 2,000")
    echoed = page.locator("#chat .message-row.user-row").first.inner_text()
    assert len(echoed) < 400 and "100,000 characters" in echoed
    assert len(page.locator("#question textarea").input_value()) == 100_000  # nothing lost


@pytest.mark.parametrize("path", ["/widget/", "/"])
def test_an_answer_is_rated_and_commented_in_the_browser(browser, server, server_settings, path):
    from assistant.feedback import open_feedback_store

    ctx = browser.new_context(viewport={"width": 400 if path == "/widget/" else 1100, "height": 800})
    offline = Offline(ctx)
    try:
        page = ctx.new_page()
        page.goto(server + path, wait_until="load")
        question = f"Who is Yuki Tatsumi? ({path})"
        ask_in(page, question)
        page.locator("#chat").get_by_label("Dislike").first.click()
        expect(page.locator("#feedback-status")).to_contain_text("saved as not helpful")
        page.locator("#chat").get_by_label("Like", exact=True).first.click()  # changing one's mind replaces the rating
        expect(page.locator("#feedback-status")).to_contain_text("saved as helpful")
        page.locator("#chat").get_by_label("Dislike").first.click()
        expect(page.locator("#feedback-status")).to_contain_text("saved as not helpful")
        comment = page.locator("#feedback-comment textarea")
        rated = page.locator("#chat .message-row.bot-row").first.bounding_box()
        assert page.locator("#chat #feedback-comment").count() == 1  # on the message it rates, not under the Ask button
        assert comment.bounding_box()["y"] > rated["y"] + rated["height"] - 1
        comment.fill("It should say where she works.")
        page.locator("#feedback-send").click()
        expect(page.locator("#feedback-status")).to_contain_text("comment was saved")
        (record,) = [r for r in open_feedback_store(server_settings).records() if r.question == question]
        assert record.verdict == "down" and record.comment == "It should say where she works."
        assert record.client == ("widget" if path == "/widget/" else "chat") and record.citations
        if path == "/widget/":
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "widget-400px-feedback.png"))
        assert offline.blocked == []
    finally:
        ctx.close()
