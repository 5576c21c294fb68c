"""Citations with pages and sections on a folder of mixed formats, the source view over HTTP,
`assistant index` reporting skips, and document footnote numbers in answers. Real model,
real store, real server."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import pytest
from conftest import ROOT, ThreadedUvicorn, free_port
from test_readers import LRS, _docx
from typer.testing import CliRunner

from ui.cli import app
from assistant.markers import ANSWER_MARKER

DATA = ROOT / "tests" / "data"
REPORT = "GeoBase_NHNC1_Data_Model_UML_EN.pdf"
FOOTNOTED = """# Lighthouse notes

## History

The lighthouse at Skerry Point was first lit in 1858 [3] and automated in 1989 [4].
Its keepers' cottage is now a museum [1].
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("mixed")
    (d / REPORT).write_bytes((DATA / REPORT).read_bytes())
    (d / "crazyones-encrypted-256.pdf").write_bytes((DATA / "crazyones-encrypted-256.pdf").read_bytes())
    _docx(d / "handbook.docx")
    (d / "lighthouse.md").write_text(FOOTNOTED, encoding="utf-8")
    (d / "notes.txt").write_text("Notes\n\nThe boiler is serviced every May by Calloway Heating.\n", encoding="utf-8")
    (d / "markup.txt").write_text('Markup\n\nType <img src=x onerror=alert(1)> to test the form.\n', encoding="utf-8")
    (d / "page.html").write_text("<title>Canteen</title><h1>Canteen</h1><p>The canteen opens at half past eleven.</p>", encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def mixed(folder, tmp_path_factory, embedder):
    from assistant.core import Assistant
    from assistant.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("mixed-data"))
    a = Assistant(settings, settings.open_store(), embedder)
    a.report = a.index([folder], progress=False)
    return a


def test_a_mixed_folder_is_indexed_in_one_call_with_its_skips(mixed):
    report = mixed.report
    assert sorted(report.added) == [REPORT, "handbook.docx", "lighthouse.md", "markup.txt", "notes.txt", "page.html"]
    text = report.describe()
    assert "crazyones-encrypted-256.pdf: encrypted PDF" in text and "1 file not indexed" in text


def test_pdf_answer_cites_page_6_with_the_exact_span(mixed):
    answer = mixed.ask("What is the Linear Reference System considered?")
    cite = answer.citations[0]
    doc = {d.doc_id: d for d in mixed.documents()}[REPORT]
    assert cite.passage.doc_id == REPORT and (cite.passage.page_start, cite.passage.page_end) == (6, 6)
    assert doc.text[cite.passage.start : cite.passage.end] == cite.passage.text
    (s, e), = cite.highlights
    assert doc.text[s:e] == LRS and LRS in answer.text
    out = cite.to_dict()
    assert out["page_start"] == 6 and out["page_end"] == 6 and out["section"] == "2 LRS"


def test_pdf_answer_on_page_7(mixed):
    answer = mixed.ask("Which four packages constitute the NHNC1?")
    cite = answer.citations[0]
    assert cite.passage.page_start == 7 and "Four packages constitute the NHNC1" in cite.passage.text
    assert cite.passage.section == "2 LRS > 2.1 LRS model"


def test_docx_answer_cites_its_section(mixed):
    answer = mixed.ask("When should I tell my manager that I am sick?")
    cite = answer.citations[0]
    assert cite.passage.doc_id == "handbook.docx" and cite.passage.section == "Leave > Sick leave"
    assert cite.to_dict()["section"] == "Leave > Sick leave" and cite.to_dict()["page_start"] is None


def test_document_footnote_numbers_never_read_as_citation_markers(mixed):
    answer = mixed.ask("When was the lighthouse at Skerry Point first lit?")
    assert "1858 ⁽³⁾" in answer.text and "[3]" not in answer.text and "[4]" not in answer.text
    numbers = {c.n for c in answer.citations}
    assert {int(n) for n in ANSWER_MARKER.findall(answer.text)} == numbers
    cite = answer.citations[0]
    assert "[3]" in cite.passage.text  # the citation keeps the document's exact text


def test_index_command_lists_skips_and_strict_fails(folder, tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "cli-data"))
    runner = CliRunner()
    ok = runner.invoke(app, ["index", str(folder), "-q"])
    assert ok.exit_code == 0, ok.output
    assert "skipped crazyones-encrypted-256.pdf: encrypted PDF; it needs a password" in ok.stdout
    strict = runner.invoke(app, ["index", str(folder), "-q", "--strict"])
    assert strict.exit_code == 1 and "index up to date" in strict.stdout and "--strict" in strict.stderr


@pytest.fixture(scope="module")
def mixed_server(mixed, settings):
    from ui.server import create_app

    with ThreadedUvicorn(create_app(mixed, settings), free_port()) as running:
        yield running.url


def _get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read(), r.headers.get("content-type", "")
    except urllib.error.HTTPError as err:
        return err.code, err.read(), err.headers.get("content-type", "")


def test_source_view_highlights_the_span_of_a_text_document(mixed, mixed_server):
    doc = {d.doc_id: d for d in mixed.documents()}["notes.txt"]
    start = doc.text.index("The boiler")
    status, body, kind = _get(f"{mixed_server}/sources/notes.txt?start={start}&end={len(doc.text)}")
    page = body.decode()
    assert status == 200 and kind.startswith("text/html")
    assert '<mark class="passage" id="cited">The boiler is serviced every May by Calloway Heating.</mark>' in page
    assert "characters" not in page.split("</header>")[0] and "line 3" in page.split("</header>")[0]  # the reader's words
    assert "http" not in re.sub(r"<a [^>]*>", "", page.split("</style>")[0])  # nothing loaded from elsewhere


def test_source_view_escapes_the_document_text(mixed_server):
    status, body, _ = _get(f"{mixed_server}/sources/markup.txt?start=8")
    page = body.decode()
    assert status == 200 and "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_source_view_of_a_pdf_shows_the_rendered_page_with_boxes(mixed, mixed_server):
    doc = {d.doc_id: d for d in mixed.documents()}[REPORT]
    start = doc.text.index(LRS)
    status, body, _ = _get(f"{mixed_server}/sources/{REPORT}?start={start}&end={start + len(LRS)}")
    page = body.decode()
    assert status == 200 and 'data-page="6"' in page and f'src="/source-pages/6/{REPORT}"' in page
    boxes = re.findall(r'class="box"[^>]*style="left:([\d.]+)%;top:([\d.]+)%;width:([\d.]+)%;height:([\d.]+)%"', page)
    assert len(boxes) == 2  # the sentence is two lines on the page
    for left, top, width, height in map(lambda b: [float(x) for x in b], boxes):
        assert 5 < left < 20 and 60 < top < 75 and width > 60 and 0.5 < height < 3
    status, png, kind = _get(f"{mixed_server}/source-pages/6/{REPORT}")
    assert status == 200 and kind == "image/png" and png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000


@pytest.mark.parametrize(
    "path",
    [
        "/sources/not-indexed.txt",
        "/sources/..%2F..%2F..%2Fetc%2Fpasswd",
        "/sources/%2Fetc%2Fpasswd",
        "/sources/notes.txt?start=10&end=999999",
        "/source-pages/1/notes.txt",
        f"/source-pages/99/{REPORT}",
        "/source-pages/1/crazyones-encrypted-256.pdf",
    ],
)
def test_only_indexed_documents_are_served(mixed_server, path):
    status, body, _ = _get(mixed_server + path)
    assert status == 404 and b"root:" not in body


def test_escape_footnotes_rewrites_only_bracketed_numbers():
    from assistant.markers import escape_footnotes

    assert escape_footnotes("lit in 1858 [3], see [12, 14] and [2–4]") == "lit in 1858 ⁽³⁾, see ⁽¹²'¹⁴⁾ and ⁽²⁻⁴⁾"
    assert escape_footnotes("option [a] and [note] stay") == "option [a] and [note] stay"


def test_a_reversed_span_is_named_as_reversed(mixed_server):
    status, body, _ = _get(mixed_server + "/sources/notes.txt?start=50&end=10")
    assert status == 404 and "ends before it starts".encode() in body


def test_source_view_marks_the_quoted_sentences_strongly_and_the_rest_of_the_passage_lightly(mixed, mixed_server):
    doc = {d.doc_id: d for d in mixed.documents()}["notes.txt"]
    quote = doc.text.index("The boiler")
    status, body, _ = _get(f"{mixed_server}/sources/notes.txt?start=0&end={len(doc.text)}&q={quote}-{quote + 10}")
    page = body.decode()
    assert status == 200
    assert '<mark class="quote" id="cited">The boiler</mark><mark class="passage"> is serviced every May by Calloway Heating.' in page
    assert '<mark class="passage">Notes' in page
    last = doc.line_of(len(doc.text) - 1)
    q_line = doc.line_of(quote)
    # the header says where the cited passage is, as its citation does, then where the quote is
    assert f'<div class="meta">lines 1–{last} · quoted: line {q_line} · <code>notes.txt</code>' in page


@pytest.mark.parametrize("q", ["abc", "5-2", "1-", ",".join(["1-2"] * 51)])
def test_a_malformed_quote_list_is_a_400_saying_what_it_takes(mixed_server, q):
    status, body, _ = _get(f"{mixed_server}/sources/notes.txt?start=0&end=20&q={q}")
    assert status == 400 and (b"START-END" in body or b"at most 50" in body)


def test_source_status_says_whether_a_document_is_indexed(mixed_server):
    status, body, _ = _get(f"{mixed_server}/source-status/notes.txt")
    assert status == 200 and json.loads(body) == {"indexed": True, "title": "Notes"}
    status, body, _ = _get(f"{mixed_server}/source-status/gone.txt")
    assert status == 404 and b"removed from the index" in body


def test_markdown_is_rendered_with_every_way_out_shut():
    from index.types import Document
    from ui.sources import source_page

    text = (
        "# Leave\n\n## Sick leave\n\nCall your manager <img src=x onerror=alert(1)> before 9:00. "
        "See [form](javascript:alert(1)), [intranet](http://203.0.113.9/) and ![logo](http://203.0.113.9/l.png).\n\n"
        "| Days | Pay |\n| --- | --- |\n| 1-3 | full |\n\n<script>alert(2)</script>\n"
    )
    doc = Document("leave.md", "Leave", text, "/nowhere/leave.md", "0" * 64, format="markdown", headings=((0, "Leave"), (9, "Leave > Sick leave")))
    start, end = text.index("Call"), text.index("l.png).") + 7
    page = source_page("", doc, start, end, quotes=[(start, text.index("9:00.") + 5)])
    body = page.split("<main>")[1]
    assert "<h1>Leave</h1>" in body and "<td>1-3</td>" in body  # rendered
    assert '<mark class="quote" id="cited">Call your manager &lt;img src=x onerror=alert(1)&gt; before 9:00.</mark>' in body
    assert "<img" not in body and "<script" not in body and "href=" not in body and "src=" not in body.replace("src=x", "")
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in body and "[form](javascript:alert(1))" in body
    assert '<span class="link" title="http://203.0.113.9/">' in body and "[image: logo]" in body
    assert "<header><h1>Leave</h1>" in page and "Leave &gt; Sick leave" in page.split("</header>")[0]


def test_a_popover_shows_the_quote_with_its_neighbours_escaped():
    from assistant.types import Answer, Citation
    from index.types import Passage
    from ui.render import answer_markdown

    text = "First one. Second <b>bold</b> one. Third one."
    passage = Passage("p1", "d.txt", text, 0, len(text), 1, 1, sentences=((0, 10), (11, 34), (35, 45)), title="Doc <i>", section="A > B")
    answer = Answer("Q?", "Second bold one [1].", (Citation(1, passage, ((11, 34),), 1.0),), False, ())
    html_ = answer_markdown(answer)
    pop = html_.split('class="cite-pop"')[1].split("</span></span>")[0]
    assert "First one. <mark>Second &lt;b&gt;bold&lt;/b&gt; one.</mark> Third one." in pop
    assert "Doc &lt;i&gt;" in pop and "line 1 · A &gt; B" in pop
    assert '<details class="answer-sources"><summary>Sources: [1] Doc &lt;i&gt;, line 1, A &gt; B</summary>' in html_
    assert "<b>" not in html_.replace("<b>[1]</b>", "")


def test_an_html_page_reads_as_headings_and_paragraphs_of_its_text(mixed, mixed_server):
    doc = {d.doc_id: d for d in mixed.documents()}["page.html"]
    start = doc.text.index("The canteen")
    status, body, _ = _get(f"{mixed_server}/sources/page.html?start={start}&end={len(doc.text.rstrip())}")
    page = body.decode().split("<main>")[1]
    assert status == 200 and '<article class="doc structured"><h2>Canteen</h2>' in page
    assert '<p><mark class="passage" id="cited">The canteen opens at half past eleven.</mark></p>' in page
