"""Scanned pages read by OCR (Tesseract through tesserocr), on scans made here: pages of the
report and the book in tests/data rendered to grey images by PDFium, put into an image-only
PDF by Pillow (and one saved as a PNG "fax"). Word agreement with the text layer they were
rendered from, the per-page cache (a second read runs no OCR; an interrupted read resumes),
the one-line notes when OCR is off or Tesseract's data is missing, and answers from the
scanned pages that cite the page and box the quoted words where the words are on the page.

OCR costs about 1 s a page here: the scans are few and small (150 dpi), read once per module
into a shared cache."""

from __future__ import annotations

import pytest
from conftest import ROOT
from pdfmaker import image_pdf, make_pdf, render_pages
from PIL import Image

from index.readers import ReadOptions, Unreadable, read
from index.readers.ocr import OcrOptions, tessdata_dir
from index.readers.ocr_measure import word_agreement

DATA = ROOT / "tests" / "data"
REPORT = DATA / "GeoBase_NHNC1_Data_Model_UML_EN.pdf"
BOOK = DATA / "Seige_of_Vicksburg_Sample_OCR-crazyones-merged.pdf"
SCANNED = [(REPORT, 7), (BOOK, 3)]
"""The pages of scanned.pdf (then a blank page): prose, a list of names, a dated diary entry."""

try:
    tessdata_dir(("eng",))
    NO_TESSERACT = None
except Exception as err:  # OcrUnavailable: say why the OCR tests skip
    NO_TESSERACT = str(err)
needs_tesseract = pytest.mark.skipif(NO_TESSERACT is not None, reason=f"{NO_TESSERACT} (as .ci/run does)")


def _text_layer(pdf, number: int) -> str:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        return doc[number - 1].get_textpage().get_text_range()
    finally:
        doc.close()


@pytest.fixture(scope="module")
def scans(tmp_path_factory):
    d = tmp_path_factory.mktemp("scans")
    images = [render_pages(pdf, [n])[0] for pdf, n in SCANNED]
    images.append(Image.new("L", images[0].size, 255))  # a blank page
    image_pdf(d / "scanned.pdf", images)
    render_pages(REPORT, [6])[0].save(d / "fax.png")
    return d


@pytest.fixture(scope="module")
def reading(tmp_path_factory) -> ReadOptions:
    return ReadOptions(ocr=OcrOptions(cache_dir=tmp_path_factory.mktemp("ocr-cache")))


@pytest.fixture(scope="module")
def scanned(scans, reading):
    return read(scans / "scanned.pdf", reading)


@needs_tesseract
def test_scanned_pages_are_read_like_their_text_layer_and_a_blank_page_is_named(scanned):
    assert scanned.format == "pdf" and len(scanned.pages) == 3
    for (pdf, n), (start, end) in zip(SCANNED, scanned.pages):
        agreement = word_agreement(_text_layer(pdf, n), scanned.text[start:end])
        assert agreement >= 0.95, (pdf.name, n, agreement)  # the floor
    assert "Four packages constitute the NHNC1" in scanned.text
    assert (scanned.pages[0][0] + scanned.text[slice(*scanned.pages[0])].index("2.1 LRS model"), "2.1 LRS model") in scanned.headings
    assert "the thirteen dollars a month" in scanned.text
    assert scanned.pages[2][0] == scanned.pages[2][1]  # the blank page has no text...
    assert scanned.notes == ("page 3 not indexed: OCR found no words on it (a blank page or a picture)",)  # ...and is named


@needs_tesseract
def test_a_second_read_runs_no_ocr(scans, reading, scanned, monkeypatch):
    import index.readers.ocr as ocr

    def no_ocr(*args, **kwargs):
        raise AssertionError("OCR ran on a cached page")

    monkeypatch.setattr(ocr, "read_image", no_ocr)
    again = read(scans / "scanned.pdf", reading)
    assert again.text == scanned.text and again.pages == scanned.pages


@needs_tesseract
def test_an_interrupted_scan_resumes_from_its_cache(tmp_path, monkeypatch):
    import index.readers.ocr as ocr

    pages = render_pages(BOOK, [1], dpi=100) + [Image.new("L", (400, 560), 255)] * 2
    path = image_pdf(tmp_path / "long.pdf", pages, dpi=100)
    options = ReadOptions(ocr=OcrOptions(cache_dir=tmp_path / "cache", workers=1, dpi=100))
    real, calls = ocr.read_image, []

    def ctrl_c_on_page_2(image, languages=("eng",)):
        calls.append(image.size)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(image, languages)

    monkeypatch.setattr(ocr, "read_image", ctrl_c_on_page_2)
    with pytest.raises(KeyboardInterrupt):
        read(path, options)
    second: list = []  # a new list: a page already started when Ctrl-C came may still finish in its thread
    monkeypatch.setattr(ocr, "read_image", lambda image, languages=("eng",): second.append(image.size) or real(image, languages))
    doc = read(path, options)
    assert len(second) == 2, second  # pages 2 and 3: page 1 came from the cache
    assert "Vicksburg" in doc.text or "VICKSBURG" in doc.text


@needs_tesseract
def test_an_image_file_is_a_document_with_one_page(scans, reading):
    from index.loader import load_document

    doc = load_document(scans / "fax.png", options=reading)
    assert doc.format == "image" and len(doc.pages) == 1
    assert "Linear Reference System (LRS) is considered the most viable approach" in " ".join(doc.text.split())
    assert word_agreement(_text_layer(REPORT, 6), doc.text) >= 0.95


def _half_scanned(tmp_path):
    """A PDF whose page 1 has a text layer and page 2 is a scan (built with PDFium's page import)."""
    import pypdfium2 as pdfium

    text = make_pdf(tmp_path / "text.pdf", [[("The archive room key hangs in the porter's lodge.", 72, 700, 12)]])
    scan = image_pdf(tmp_path / "scan.pdf", render_pages(BOOK, [3], dpi=72), dpi=72)
    out = pdfium.PdfDocument.new()
    for part in (text, scan):
        src = pdfium.PdfDocument(str(part))
        out.import_pages(src)
        src.close()
    out.save(str(tmp_path / "half.pdf"))
    out.close()
    return tmp_path / "half.pdf"


def test_without_ocr_or_tesseract_the_scanned_pages_are_named_in_one_line_and_the_rest_indexed(tmp_path):
    half = _half_scanned(tmp_path)
    off = read(half, ReadOptions(ocr=OcrOptions(enabled=False)))
    assert "porter's lodge" in off.text
    assert off.notes == (
        "page 2 is mostly images with little text and OCR is off (setting index.ocr); turn OCR on "
        "(ASSISTANT_INDEX__OCR=true) or run OCR first (e.g. `ocrmypdf half.pdf out.pdf`) to index their words",
    )
    missing = read(half, ReadOptions(ocr=OcrOptions(languages=("qqq",), cache_dir=tmp_path / "cache")))  # no such language data
    assert "porter's lodge" in missing.text and len(missing.notes) == 1
    note = missing.notes[0]
    assert note.startswith("page 2 is ") and "`apt-get install tesseract-ocr tesseract-ocr-qqq`" in note and "\n" not in note
    with pytest.raises(Unreadable) as err:  # nothing but scans: the file is refused, in one line
        read(tmp_path / "scan.pdf", ReadOptions(ocr=OcrOptions(languages=("qqq",))))
    assert err.value.reason == "no text layer" and "apt-get install tesseract-ocr" in str(err.value) and "\n" not in str(err.value)


@needs_tesseract
def test_jpeg_pdf_photo_is_not_text_but_its_caption_is(reading):
    doc = read(DATA / "jpeg.pdf", reading)
    assert doc.text.strip() == "A PDF with a JPEG image."


@pytest.fixture(scope="module")
def scan_assistant(scans, tmp_path_factory, embedder):
    from assistant.core import Assistant
    from assistant.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("scan-data"))
    a = Assistant(settings, settings.open_store(), embedder)
    a.report = a.index([scans], progress=False)
    return a


QUESTIONS = [
    ("Which packages constitute the NHNC1?", "scanned.pdf", 1, REPORT, 7),
    ("What is the Linear Reference System considered?", "fax.png", 1, REPORT, 6),
    ("What happened to the friend from the 96th Ohio?", "scanned.pdf", 2, BOOK, 3),
]


def _iou(a, b) -> float:
    left, top = max(a.left, b.left), max(a.top, b.top)
    right, bottom = min(a.left + a.width, b.left + b.width), min(a.top + a.height, b.top + b.height)
    inter = max(right - left, 0) * max(bottom - top, 0)
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union else 0.0


@needs_tesseract
@pytest.mark.parametrize("question, doc_id, page, original, original_page", QUESTIONS)
def test_answers_from_scans_cite_the_page_and_box_the_quoted_words(scan_assistant, reading, question, doc_id, page, original, original_page):
    """The boxes drawn on the scan are where the quoted words are on the page it was made
    from: each overlaps a box PDFium gives for the same words in the original's text layer."""
    from rapidfuzz import fuzz

    from index.loader import load_document
    from ui.pdf_view import span_boxes

    answer = scan_assistant.ask(question)
    assert not answer.abstained, answer.text
    cite = answer.citations[0]
    assert cite.passage.doc_id == doc_id and (cite.passage.page_start, cite.passage.page_end) == (page, page)
    doc = {d.doc_id: d for d in scan_assistant.documents()}[doc_id]
    start, end = cite.highlights[0]
    boxes = span_boxes(doc.source, doc.text, start, end, scan_assistant.settings.reading().ocr)
    assert list(boxes) == [page] and boxes[page]
    source = load_document(original, options=reading)  # where the same sentence is in the born-digital original
    lo, hi = source.pages[original_page - 1]
    found = fuzz.partial_ratio_alignment(doc.text[start:end], source.text[lo:hi])
    assert found.score >= 90
    truth = span_boxes(source.source, source.text, lo + found.dest_start, lo + found.dest_end, reading.ocr)[original_page]
    for box in boxes[page]:
        assert max(_iou(box, t) for t in truth) >= 0.5, (box, truth)


@pytest.fixture(scope="module")
def scan_served(scan_assistant):
    from conftest import ThreadedUvicorn, free_port

    from ui.server import create_app

    with ThreadedUvicorn(create_app(scan_assistant, scan_assistant.settings), free_port()) as running:
        yield running.url


@pytest.mark.browser
@needs_tesseract
def test_in_the_browser_a_scanned_page_shows_the_answer_boxed_on_its_image(scan_served):
    """Through the chat in Debian's chromium (every non-local request blocked): the answer from
    a scanned PDF cites its page, and its source view shows the page image with the quoted
    words boxed. Screenshot: artifacts/source-scan.png."""
    from test_browser import ARTIFACTS, CHROMIUM, ask_in, expect

    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: apt-get install -y chromium (as .ci/run does)")
    import playwright.sync_api as playwright_api

    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = browser.new_context(viewport={"width": 1100, "height": 900})
        blocked: list[str] = []
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(scan_served) else (blocked.append(route.request.url), route.abort())[1])
        page = context.new_page()
        page.goto(scan_served + "/", wait_until="load")
        ask_in(page, "Which packages constitute the NHNC1?")
        answer = page.locator("#chat .message-row").nth(1)
        expect(answer).to_contain_text("Hydro Network")
        expect(page.locator("#sources")).to_contain_text("p. 1")
        with context.expect_page() as opened:
            page.locator("#sources a.open").first.click()
        view = opened.value
        view.wait_for_load_state("load")
        assert view.url.startswith(scan_served + "/sources/scanned.pdf?start=")
        expect(view.locator('.page[data-page="1"] img')).to_be_visible()
        assert view.evaluate("() => document.querySelector('.page img').naturalWidth") > 1000
        expect(view.locator(".page .box#cited")).to_be_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        view.screenshot(path=str(ARTIFACTS / "source-scan.png"))
        browser.close()
    assert blocked == []


@needs_tesseract
def test_the_page_view_of_a_scan_whose_ocr_cache_is_gone_says_what_to_do(scans, reading, scanned, tmp_path):
    from ui.pdf_view import PageViewUnavailable, span_boxes

    start, end = scanned.pages[0]
    assert span_boxes(str(scans / "scanned.pdf"), scanned.text, start, end, reading.ocr)[1]
    with pytest.raises(PageViewUnavailable, match="not in the OCR cache; run `assistant index` again"):
        span_boxes(str(scans / "scanned.pdf"), scanned.text, start, end, OcrOptions(cache_dir=tmp_path / "empty-cache"))


@needs_tesseract
def test_a_multipage_tiff_is_one_page_per_frame_and_bad_images_are_refused_in_one_line(tmp_path, reading):
    fax = render_pages(BOOK, [5], dpi=100)[0]
    fax.save(tmp_path / "fax.tif", save_all=True, append_images=[Image.new("L", fax.size, 255)], compression="tiff_deflate")
    doc = read(tmp_path / "fax.tif", reading)
    assert doc.format == "image" and len(doc.pages) == 2 and "siege guns" in doc.text
    assert doc.notes == ("page 2 not indexed: OCR found no words on it (a blank page or a picture)",)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
    with pytest.raises(Unreadable) as err:
        read(tmp_path / "broken.jpg", reading)
    assert err.value.reason == "corrupt" and "broken.jpg" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(Unreadable) as err:
        read(tmp_path / "fax.tif", ReadOptions(ocr=OcrOptions(enabled=False)))
    assert err.value.reason == "no text layer" and "pages 1 and 2 are" in str(err.value) and "OCR is off" in str(err.value)
