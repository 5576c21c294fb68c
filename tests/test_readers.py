"""Readers on real files: the 19-page report, an OCR'd book, an image-only page, an encrypted
PDF (tests/data, see its README), PDFs written by PDFium, and .docx files made with python-docx."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from conftest import ROOT
from pdfmaker import make_pdf, report_pages

from index import ChunkingConfig, chunk_document
from index.chunking import split_sentences
from index.loader import load_all, load_document
from index.readers import READERS, Unreadable, read

DATA = ROOT / "tests" / "data"
REPORT = DATA / "GeoBase_NHNC1_Data_Model_UML_EN.pdf"
BOOK = DATA / "Seige_of_Vicksburg_Sample_OCR-crazyones-merged.pdf"
LRS = (
    "The Linear Reference System (LRS) is considered the most viable approach for managing and distributing "
    "geospatial information when several distinct organizations are involved (distributed approach)."
)


@pytest.fixture(scope="module")
def report():
    return load_document(REPORT)


@pytest.mark.unit
def test_every_format_has_a_reader():
    assert {".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".png", ".jpg", ".tif"} <= set(READERS)


def test_report_keeps_its_19_pages_and_the_sentence_lies_on_page_6(report):
    assert report.format == "pdf" and len(report.pages) == 19
    starts = [s for s, _ in report.pages]
    assert starts == sorted(starts) and all(s <= e for s, e in report.pages)
    at = report.text.index(LRS)  # reflowed: the two PDF lines are one sentence
    assert report.page_of(at) == 6 and report.page_of(at + len(LRS) - 1) == 6
    page7 = report.text[slice(*report.pages[6])]
    assert page7.startswith("2.1 LRS model") and "Four packages constitute the NHNC1" in page7


def test_report_running_headers_and_page_numbers_are_dropped(report):
    assert "Edition 1.0 2004-06" not in report.text  # the header of pages 3-19
    assert "GeoBase® 6" not in report.text and "GeoBase® iii" not in report.text  # footer with page number
    assert report.text.startswith("National Hydro Network, Canada, Level 1")  # the title page's own first line stays


def test_report_passages_carry_pages_and_exact_offsets(report):
    passages = chunk_document(report, ChunkingConfig())
    assert all(report.text[p.start : p.end] == p.text for p in passages)
    hit = next(p for p in passages if LRS in p.text)
    assert (hit.page_start, hit.page_end) == (6, 6) and hit.locator() == "p. 6"
    assert {p.page_start for p in passages} >= {1, 3, 6, 7, 19}
    assert all(p.page_start <= p.page_end for p in passages)


def test_report_numbered_headings_give_the_section_path(report):
    assert report.section_of(report.text.index(LRS)) == "2 LRS"
    assert report.section_of(report.text.index("Four packages constitute")) == "2 LRS > 2.1 LRS model"
    paths = [h for _, h in report.headings]
    assert "3 Model > 3.1 LRS model > 3.1.6 Metadata > 3.1.6.2 Object Metadata" in paths
    assert not any("...." in h for h in paths)  # the table of contents is not a heading
    assert report.section_of(report.text.index("REVISION HISTORY")) is None


@pytest.mark.unit
def test_book_hyphenation_is_joined_and_ocr_running_headers_dropped():
    book = read(BOOK)
    assert "dangerous for use" in book.text and "dan-" not in book.text and "\ufffe" not in book.text
    assert "improve our quarters" in book.text
    assert "SIEGE OF VICKSBURG" not in book.text and "VICKSBUEG" not in book.text  # OCR noise in a header too
    assert len(book.pages) == 7 and "The Crazy Ones" in book.text[slice(*book.pages[1])]


@pytest.mark.unit
def test_encrypted_pdf_is_refused_in_one_line():
    with pytest.raises(Unreadable) as err:
        read(DATA / "crazyones-encrypted-256.pdf")
    assert err.value.reason == "encrypted PDF"
    assert "crazyones-encrypted-256.pdf" in str(err.value) and "password" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.unit
def test_image_only_page_with_ocr_off_says_it_needs_ocr():
    from index.readers import ReadOptions
    from index.readers.ocr import OcrOptions

    with pytest.raises(Unreadable) as err:
        read(DATA / "jpeg.pdf", ReadOptions(ocr=OcrOptions(enabled=False)))
    assert err.value.reason == "no text layer" and "OCR" in str(err.value) and "jpeg.pdf" in str(err.value)


@pytest.mark.unit
def test_corrupt_truncated_and_huge_pdfs_are_refused(tmp_path):
    (tmp_path / "junk.pdf").write_bytes(b"%PDF-1.7\n this is not really a PDF")
    (tmp_path / "half.pdf").write_bytes(REPORT.read_bytes()[: REPORT.stat().st_size // 2])
    with open(tmp_path / "huge.pdf", "wb") as fh:  # 200 MB, sparse: the size check comes before reading
        fh.truncate(200 * 1024 * 1024)
    for name, reason in (("junk.pdf", "corrupt"), ("half.pdf", "corrupt"), ("huge.pdf", "too large")):
        with pytest.raises(Unreadable) as err:
            read(tmp_path / name)
        assert err.value.reason == reason and name in str(err.value) and "\n" not in str(err.value)


@pytest.mark.unit
def test_a_page_of_50000_characters_is_left_out_and_the_rest_indexed(tmp_path):
    normal = report_pages(1, ["The vending machine on floor two takes coins and staff cards."])[0]
    dump = [("word " * 100, 10, 800 - i, 1) for i in range(110)]  # over 50,000 characters on one page
    path = make_pdf(tmp_path / "dump.pdf", [normal, dump])
    doc = read(path)
    assert "vending machine" in doc.text and "word word" not in doc.text
    assert any(n.startswith("page 2 not indexed: 5") and "characters on one page" in n for n in doc.notes), doc.notes


@pytest.mark.unit
def test_generated_report_drops_header_and_footer_and_joins_the_hyphen(tmp_path):
    body = ["Rule {page}: staff report sick leave to their manager on the first day, by phone or by e-", "mail before ten."]
    doc = read(make_pdf(tmp_path / "handbook.pdf", report_pages(4, body)))
    assert "Staff Handbook" not in doc.text and "Page 2 of 4" not in doc.text
    assert doc.text.count("by email before ten.") == 4 and len(doc.pages) == 4


def _docx(path: Path) -> Path:
    import docx

    d = docx.Document()
    d.core_properties.title = "Staff handbook"
    d.add_heading("Leave", level=1)
    d.add_paragraph("Everyone gets 25 days of annual leave.")
    d.add_heading("Sick leave", level=2)
    d.add_paragraph("Tell your manager before ten in the morning on the first day of sickness.")
    table = d.add_table(rows=2, cols=2)
    for r, (a, b) in enumerate([("Days off sick", "Note needed"), ("1-3", "no")]):
        table.rows[r].cells[0].text, table.rows[r].cells[1].text = a, b
    d.add_heading("Expenses", level=1)
    d.add_paragraph("Receipts are kept for six years.")
    d.save(str(path))
    return path


@pytest.mark.unit
def test_docx_paragraphs_headings_and_table_rows(tmp_path):
    doc = load_document(_docx(tmp_path / "handbook.docx"))
    assert doc.format == "docx" and doc.title == "Staff handbook"
    assert "Days off sick | Note needed\n1-3 | no" in doc.text
    at = doc.text.index("Tell your manager")
    assert doc.section_of(at) == "Leave > Sick leave"
    assert doc.section_of(doc.text.index("Receipts")) == "Expenses"
    head, row = doc.rows  # each table row is one line, the first a header row of labels
    assert head.header and doc.text[head.start : head.end] == "Days off sick | Note needed"
    assert doc.text[row.start : row.end] == "1-3 | no" and row.cells == (("Days off sick", "1-3"), ("Note needed", "no"))
    passages = chunk_document(doc, ChunkingConfig(max_chars=100))
    assert all(doc.text[p.start : p.end] == p.text for p in passages)
    assert next(p for p in passages if "Tell your manager" in p.text).section == "Leave > Sick leave"


@pytest.mark.unit
def test_a_docx_that_is_another_zip_is_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "fake.docx", "w") as z:
        z.writestr("data.csv", "a,b\n1,2\n")
    (tmp_path / "text.docx").write_text("not a zip at all", encoding="utf-8")
    for name in ("fake.docx", "text.docx"):
        with pytest.raises(Unreadable) as err:
            read(tmp_path / name)
        assert name in str(err.value) and "Word" in str(err.value) and "\n" not in str(err.value)


MARKDOWN = """# Handbook

## Leave

### Sick leave

Steps to follow:

1. Call your manager. Do it early.
2. Send the form.

```bash
leave --sick --days 3
# this is a comment, not a heading. It stays in the block.
```

| days | note |
|------|------|
| 1-3  | no. Really. |
"""


@pytest.mark.unit
def test_markdown_headings_lists_code_and_tables(tmp_path):
    (tmp_path / "h.md").write_text(MARKDOWN, encoding="utf-8")
    doc = load_document(tmp_path / "h.md")
    assert doc.text == MARKDOWN.rstrip()  # a prefix of the file: offsets are the file's
    assert doc.section_of(doc.text.index("Call your")) == "Handbook > Leave > Sick leave"
    sentences = [doc.text[s:e] for s, e in split_sentences(doc.text)]
    assert "2. Send the form." in sentences and "2." not in sentences and "1. Call your manager." in sentences
    passages = chunk_document(doc, ChunkingConfig(max_chars=120))
    texts = [doc.text[s:e] for p in passages for s, e in p.sentences]
    code = MARKDOWN[MARKDOWN.index("```bash") : MARKDOWN.index("```\n\n|") + 3]
    rows = MARKDOWN[MARKDOWN.index("| days") :].rstrip().splitlines()
    assert code in texts and all(r in texts for r in rows)  # a code block is one sentence, whole; a table one per row
    kinds = {doc.text[s:e]: k for p in passages for (s, e), k in zip(p.sentences, p.kinds)}
    assert [kinds[r] for r in rows] == ["header", "header", "row"]
    assert kinds["# Handbook"] == "title" and kinds["## Leave"] == "heading" and kinds["2. Send the form."] == "item"
    assert not any(p.text.rstrip().endswith(("1.", "2.")) for p in passages)
    assert all(doc.text[p.start : p.end] == p.text for p in passages)


@pytest.mark.unit
def test_a_numbered_marker_never_ends_a_passage():
    text = "Do this first, and do it carefully. 2. Then do that other thing. 3. Finally, report back."
    sentences = [text[s:e] for s, e in split_sentences(text)]
    assert sentences == ["Do this first, and do it carefully.", "2. Then do that other thing.", "3. Finally, report back."]


@pytest.mark.unit
def test_html_headings_become_sections(tmp_path):
    page = "<html><head><title>Guide</title></head><body><h1>Setup</h1><p>Plug it in.</p><h2>Wi-Fi</h2><p>Use the guest network.</p></body></html>"
    (tmp_path / "g.html").write_text(page, encoding="utf-8")
    doc = load_document(tmp_path / "g.html")
    assert doc.section_of(doc.text.index("Use the guest")) == "Setup > Wi-Fi"
    assert doc.section_of(doc.text.index("Plug")) == "Setup"


@pytest.mark.unit
def test_a_folder_reports_every_skip_and_loads_the_rest(tmp_path):
    from index.readers import ReadOptions
    from index.readers.ocr import OcrOptions

    for name in ("crazyones-encrypted-256.pdf", "jpeg.pdf", "GeoBase_NHNC1_Data_Model_UML_EN.pdf"):
        (tmp_path / name).write_bytes((DATA / name).read_bytes())
    (tmp_path / "notes.txt").write_text("Notes\n\nThe boiler is serviced in May.\n", encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 menu".encode("latin-1"))
    (tmp_path / "empty.md").write_text("  \n", encoding="utf-8")
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n")
    _docx(tmp_path / "handbook.docx")
    docs, skipped = load_all([tmp_path], ReadOptions(ocr=OcrOptions(enabled=False)))  # OCR: tests/test_ocr.py
    assert [d.doc_id for d in docs] == ["GeoBase_NHNC1_Data_Model_UML_EN.pdf", "handbook.docx", "notes.txt"]
    reasons = {s.doc_id: s.reason for s in skipped}
    assert reasons == {
        "GeoBase_NHNC1_Data_Model_UML_EN.pdf": "partly indexed",  # its page 9 is a diagram image
        "crazyones-encrypted-256.pdf": "encrypted PDF",
        "empty.md": "empty",
        "jpeg.pdf": "no text layer",
        "latin1.txt": "not UTF-8",
        "photo.png": "corrupt",  # an image file is read by OCR; this one is six bytes of a PNG header
    }
    assert all(s.message.startswith(s.doc_id + ": ") and "\n" not in s.message for s in skipped)
