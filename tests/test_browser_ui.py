"""What a person meets around the answers, in a real browser (Debian's chromium via Playwright,
every non-local request blocked and recorded): citation popovers on hover and keyboard focus,
each answer's own sources, a document's hostile markup shown as text, a removed document's
popover, the widget laid out for a side panel (640 x 400, 400 x 640, 360 px wide), the eval
report's layout, and axe-core (its script read from the axe-playwright-python wheel on disk)
finding no serious or critical violation on the chat, the widget, the source view and the eval
report. Screenshots go to artifacts/ (see docs/development.md, "Screenshots")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT, ThreadedUvicorn, assistant_over, free_port
from test_browser import ANSWER_WAIT_MS, ARTIFACTS, CHROMIUM, Offline, ask_in, browser, expect  # noqa: F401  (browser: fixture)

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: apt-get install -y chromium (as .ci/run does)")]

HOSTILE = '<img src=x onerror=alert(1)> [help](javascript:alert(1)) ![logo](http://203.0.113.9/logo.png) <script>alert(2)</script>'
"""Markup a document may hold; it must reach the reader as these characters and fetch nothing."""

POLICY = f"""# Visitor policy

## Badges

Every visitor signs the register at reception. Visitors wear a red badge at all times, marked {HOSTILE} by the printer.
Badges are returned to reception before leaving.

## Parking

| Area | Rule |
| --- | --- |
| Car park B | visitors only |

Visitors park in car park B, which is next to the loading bay.
"""

CANTEEN = "Canteen\n\nThe canteen opens at 11:30 and closes at 14:00 on weekdays.\n"

BADGE_Q = "What colour badge do visitors wear?"
PARK_Q = "Where do visitors park?"
CANTEEN_Q = "When does the canteen open?"


@pytest.fixture(scope="module")
def site(tmp_path_factory, embedder):
    """An assistant over a visitor policy (Markdown with hostile markup) and a canteen note,
    served on a free port; yields ``(url, assistant, docs folder)``."""
    from ui.server import create_app

    tmp = tmp_path_factory.mktemp("ui")
    a = assistant_over(tmp, embedder, {"policy.md": POLICY, "canteen.txt": CANTEEN})
    settings = a.settings.replace(allowed_origins=[PORTAL.format(port=PORTAL_PORT)])
    with ThreadedUvicorn(create_app(a, settings), free_port()) as running:
        yield running.url, a, tmp / "docs"


PORTAL_PORT = free_port()
PORTAL = "http://127.0.0.1:{port}"
"""The portal page's origin, allowed to frame the widget of :func:`site`."""


@pytest.fixture
def ctx(browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1100, "height": 900}, device_scale_factor=1)
    context.offline = Offline(context)
    yield context
    context.close()


def new_page(context):
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    return page


try:
    import axe_playwright_python

    AXE: Path | None = Path(axe_playwright_python.__file__).parent / "axe.min.js"
    """axe-core's script as the axe-playwright-python wheel ships it (test extra), read from disk."""
except ImportError:
    AXE = None


def axe_violations(page_or_frame) -> list[dict]:
    """Serious and critical axe-core violations of the page (axe's script injected from the
    axe-playwright-python wheel on disk, never a CDN): ``[{id, impact, help, nodes}]``."""
    if AXE is None:
        pytest.skip("axe-playwright-python is not installed: pip install -e '.[test]'")
    page_or_frame.add_script_tag(path=str(AXE))
    result = page_or_frame.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["html"][:160] for n in v["nodes"][:3]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_popover_on_hover_and_focus_and_each_answer_opens_its_own_sources(ctx, site):
    url, _, _ = site
    page = new_page(ctx)
    page.goto(url + "/", wait_until="load")
    ask_in(page, BADGE_Q)
    # the second question from the keyboard only: type, Tab to the Ask button, Enter
    page.locator("#question textarea").focus()
    page.keyboard.type(PARK_Q)
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "ask"
    page.keyboard.press("Enter")
    expect(page.locator("#chat .message-row.bot-row")).to_have_count(2, timeout=ANSWER_WAIT_MS)
    first, second = page.locator("#chat .message-row.bot-row").nth(0), page.locator("#chat .message-row.bot-row").nth(1)
    expect(first).to_contain_text("red badge")
    expect(second).to_contain_text("car park B")
    # hover: title, page or lines, section, the quoted sentence marked with its neighbours
    marker = first.locator("a.cite").first
    pop = first.locator(".cite-pop").first
    expect(pop).to_be_hidden()
    marker.hover()
    expect(pop).to_be_visible()
    expect(pop.locator(".pop-head")).to_have_text("Visitor policy")
    expect(pop.locator(".pop-where")).to_contain_text("Visitor policy > Badges")
    expect(pop.locator("mark")).to_contain_text("Visitors wear a red badge at all times")
    expect(pop).to_contain_text("signs the register")  # the sentence before
    box = pop.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1100
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat-popover.png"))
    page.mouse.move(0, 0)
    expect(pop).to_be_hidden()
    # keyboard: focus shows the popover, Enter opens the FIRST answer's own sources at its card
    marker.focus()
    expect(pop).to_be_visible()
    assert marker.get_attribute("aria-describedby") == pop.get_attribute("id")
    page.keyboard.press("Enter")
    card = page.locator("#" + marker.get_attribute("href").lstrip("#"))
    expect(card).to_be_visible()
    expect(card).to_contain_text("policy.md")
    assert first.locator("details.answer-sources").evaluate("d => d.open")
    assert second.locator("details.answer-sources").evaluate("d => !d.open")  # the other answer keeps its own, folded
    assert page.evaluate("() => document.activeElement.classList.contains('source')")
    expect(second.locator("details.answer-sources summary")).to_contain_text("Parking")
    # the sources summary works from the keyboard too
    second.locator("details.answer-sources summary").focus()
    page.keyboard.press("Enter")
    expect(second.locator("details.answer-sources .source").first).to_be_visible()
    # screen readers get the message's words, never its markup
    labels = page.locator("#chat [aria-label]").evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
    assert any("red badge" in label for label in labels)
    assert not any("<" in label and "class=" in label for label in labels), labels
    page.screenshot(path=str(ARTIFACTS / "chat-answer.png"))
    # rating from the keyboard: focus the thumb, Enter; the comment box opens on that message
    page.locator("#chat").get_by_label("Dislike").first.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#feedback-status")).to_contain_text("not helpful")
    assert page.locator("#chat #feedback-comment").count() == 1
    assert ctx.offline.blocked == [] and page.dialogs == []


def test_a_documents_markup_is_text_in_the_popover_the_card_and_the_source_view(ctx, site):
    url, _, _ = site
    page = new_page(ctx)
    page.goto(url + "/", wait_until="load")
    ask_in(page, BADGE_Q)
    answer = page.locator("#chat .message-row.bot-row").first
    answer.locator("a.cite").first.hover()
    pop = answer.locator(".cite-pop").first
    for text in ("<img src=x onerror=alert(1)>", "[help](javascript:alert(1))", "![logo](http://203.0.113.9/logo.png)", "<script>alert(2)</script>"):
        expect(pop).to_contain_text(text)
    page.mouse.move(0, 0)
    expect(pop).to_be_hidden()
    answer.locator("details.answer-sources summary").click()
    expect(answer.locator(".answer-sources .passage").first).to_contain_text("<img src=x onerror=alert(1)>")
    assert page.locator("#chat img[src='x'], #chat a[href^='javascript'], #chat script, #chat img[src*='203.0.113']").count() == 0
    with ctx.expect_page() as opened:
        answer.locator(".answer-sources a.open").first.click()
    view = opened.value
    view.wait_for_load_state("load")
    assert "&q=" in view.url
    header = view.locator("header .meta").inner_text()
    assert "Visitor policy > Badges" in header and "line" in header and "characters" not in header
    doc = view.locator("article.doc")
    expect(doc.locator("h1")).to_have_text("Visitor policy")  # Markdown rendered
    expect(doc.locator("table td").first).to_have_text("Car park B")
    quote = view.locator("mark.quote#cited")
    expect(quote).to_contain_text("Visitors wear a red badge at all times")
    expect(doc.locator("mark.passage", has_text="signs the register")).to_have_count(1)  # the rest of the passage, lightly
    expect(doc).to_contain_text("<img src=x onerror=alert(1)>")
    expect(doc).to_contain_text("<script>alert(2)</script>")
    expect(doc).to_contain_text("[help](javascript:alert(1))")  # markdown-it refuses the javascript: link: its text stays
    expect(doc.locator(".image")).to_have_text("[image: logo]")  # an image is named, never fetched
    assert view.locator("img, script, iframe, a[href]").count() == 0
    assert view.evaluate("() => document.querySelectorAll('[onerror], [onclick]').length") == 0
    ARTIFACTS.mkdir(exist_ok=True)
    view.screenshot(path=str(ARTIFACTS / "source-markdown.png"))
    violations = axe_violations(view)
    assert violations == [], json.dumps(violations, indent=1)
    assert ctx.offline.blocked == [] and page.dialogs == []


def test_a_popover_says_when_its_document_was_removed(ctx, site):
    url, a, docs = site
    page = new_page(ctx)
    page.goto(url + "/", wait_until="load")
    ask_in(page, CANTEEN_Q)
    answer = page.locator("#chat .message-row.bot-row").first
    expect(answer).to_contain_text("11:30")
    (docs / "canteen.txt").unlink()
    try:
        a.index([docs], prune=True, progress=False)
        answer.locator("a.cite").first.hover()
        pop = answer.locator(".cite-pop").first
        expect(pop.locator(".pop-gone")).to_contain_text("removed from the index")
        expect(pop).to_contain_text("11:30")  # the quote as it was, and the page still works
        ask_in(page, BADGE_Q, turn=2)
    finally:
        (docs / "canteen.txt").write_text(CANTEEN, encoding="utf-8")
        a.index([docs], progress=False)
    assert ctx.offline.blocked == [] and page.dialogs == []


VISIBLE = """(el) => { const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth; }"""


@pytest.mark.parametrize("width,height", [(400, 640), (640, 400), (360, 640)])
def test_widget_shows_the_latest_answer_its_markers_and_the_input_without_scrolling(browser, site, width, height):  # noqa: F811
    url, _, _ = site
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1)
    offline = Offline(context)
    try:
        page = new_page(context)
        page.goto(url + "/widget/?documents=policy.md", wait_until="load")
        ask_in(page, BADGE_Q)
        ask_in(page, PARK_Q, turn=2)
        page.wait_for_timeout(300)  # the page script scrolls the latest question into view on the next mutation
        latest = page.locator("#chat .message-row.bot-row").last
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"widget-{width}x{height}.png"))
        for element in (latest.locator(".answer-text"), latest.locator("a.cite").first, page.locator("#question textarea"), page.locator("#ask")):
            assert element.evaluate(VISIBLE), f"not in view at {width}x{height}: {element}"
        assert page.evaluate("document.scrollingElement.scrollHeight <= document.scrollingElement.clientHeight + 1")  # the page does not scroll
        ask = page.locator("#ask").bounding_box()
        assert ask["y"] + ask["height"] >= height - 40  # the conversation takes the height: the question box sits at the bottom
        marker = latest.locator("a.cite").first
        marker.hover()
        pop = latest.locator(".cite-pop").first
        expect(pop).to_be_visible()
        assert pop.evaluate(VISIBLE), f"popover cut off at {width}x{height}"  # whole, inside the window
        page.mouse.move(0, 0)
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")  # nor sideways
        # the sources fold out under the answer
        latest.locator("details.answer-sources summary").click()
        expect(latest.locator(".answer-sources .source").first).to_be_visible()
        link = page.locator("a.fullscreen")
        expect(link).to_be_visible()
        if (width, height) == (400, 640):
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "widget-400x640-sources.png"))
        with context.expect_page() as opened:
            link.click()
        full = opened.value
        full.wait_for_load_state("load")
        assert full.url == url + "/?documents=policy.md"
        ask_in(full, CANTEEN_Q)  # the full chat keeps the widget's scope: the canteen note is out of it
        assert "11:30" not in full.locator("#chat .message-row.bot-row").first.inner_text()
        assert offline.blocked == [] and page.dialogs == []
    finally:
        context.close()


def test_widget_on_a_portal_page_and_axe_finds_nothing_serious_in_the_chat_and_the_widget(browser, site, tmp_path):  # noqa: F811
    from test_browser import StaticSite

    url, _, _ = site
    example = (ROOT / "ui" / "embed" / "example.html").read_text(encoding="utf-8").replace("http://127.0.0.1:7860", url)
    (tmp_path / "example.html").write_text(example, encoding="utf-8")
    portal = StaticSite(tmp_path, PORTAL_PORT)
    context = browser.new_context(viewport={"width": 1000, "height": 800}, device_scale_factor=1)
    offline = Offline(context)
    try:
        page = new_page(context)
        page.goto(url + "/", wait_until="load")
        ask_in(page, BADGE_Q)
        violations = axe_violations(page)
        assert violations == [], json.dumps(violations, indent=1)
        # the widget (framed by another origin: the portal) answers; its page is checked on its own
        page.goto(portal.url + "/example.html", wait_until="load")
        widget = page.frame_locator("iframe.cited-assistant-widget")
        ask_in(widget, BADGE_Q)
        widget.locator("#chat a.cite").first.hover()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "widget-on-portal.png"))
        widget_page = new_page(context)
        widget_page.set_viewport_size({"width": 400, "height": 640})
        widget_page.goto(url + "/widget/", wait_until="load")
        ask_in(widget_page, BADGE_Q)
        violations = axe_violations(widget_page)
        assert violations == [], json.dumps(violations, indent=1)
        assert offline.blocked == []
    finally:
        context.close()
        portal.close()


@pytest.fixture(scope="module")
def eval_page(assistant, tmp_path_factory):
    """The HTML eval report of 12 seed questions (answerable and not) over the seed index."""
    from assistant.evaluation.report import write_html
    from assistant.evaluation import load_questions, run_eval

    questions = load_questions(ROOT / "seeds" / "questions.jsonl", assistant.documents())
    picked = [q for q in questions if q.evidence][:8] + [q for q in questions if not q.evidence][:4]
    report = run_eval(assistant, picked, name="questions")
    path = tmp_path_factory.mktemp("eval") / "eval.html"
    path.write_text(write_html([report]), encoding="utf-8")
    return path


def test_eval_report_fits_1400px_with_its_gate_column_and_every_legend_colour(browser, eval_page):  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 900}, device_scale_factor=1)
    offline = Offline(context)
    try:
        page = new_page(context)
        page.set_content(eval_page.read_text(encoding="utf-8"), wait_until="load")  # a file: the router passes no file:// URL
        gate = page.locator("table.overview th", has_text="gate")
        expect(gate).to_be_visible()
        assert gate.evaluate(VISIBLE)
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        svg = page.locator("svg[aria-label='metrics by tag']").first
        legend = svg.locator("g.legend text").all_text_contents()
        assert legend == ["hit@1", "mrr", "quote@1", "citation_precision", "abstention_accuracy"]
        width = svg.bounding_box()["width"]
        for rect in svg.locator("g.legend rect").all():
            b, s = rect.bounding_box(), svg.bounding_box()
            assert b["x"] + b["width"] <= s["x"] + width
        for text in svg.locator("g.legend text").all():
            b, s = text.bounding_box(), svg.bounding_box()
            assert b["x"] + b["width"] <= s["x"] + width + 1, text.text_content()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "eval-report.png"), full_page=True)
        violations = axe_violations(page)
        assert violations == [], json.dumps(violations, indent=1)
        assert offline.blocked == []
    finally:
        context.close()
