"""Structure decided at ingest (issue 33): sentence kinds, table rows with their headers,
list items, notes, numbered headings and true titles, for every reader, and bad tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import assistant_over
from index.chunking import ChunkingConfig, chunk_document
from index.loader import load_all, load_document
from index.records import passage_from, passage_meta
from index.structure import looks_like_title, meaningful_metadata_title, name_in_words
from index.types import SENTENCE_KINDS, Passage, row_text

DOCUMENTS = Path(__file__).resolve().parents[2] / "shared" / "documents"


def _kinds(doc, config=ChunkingConfig()) -> dict[str, tuple[str, tuple]]:
    """``{sentence text: (kind, cells)}`` of a chunked document; checks every span is exact."""
    out = {}
    for p in chunk_document(doc, config):
        assert doc.text[p.start : p.end] == p.text and len(p.kinds) == len(p.cells) == len(p.sentences)
        assert set(p.kinds) <= set(SENTENCE_KINDS)
        for (s, e), k, c in zip(p.sentences, p.kinds, p.cells):
            out[doc.text[s:e]] = (k, c)
    return out


@pytest.mark.unit
def test_passage_defaults_and_unit_texts():
    p = Passage("id", "d", "a | b\nplain", 0, 11, 1, 2, sentences=((0, 5), (6, 11)))
    assert p.kinds == ("text", "text") and p.cells == ((), ())  # an old store: all text, no cells
    row = Passage("id", "d", "a | b\nplain", 0, 11, 1, 2, sentences=((0, 5), (6, 11)), kinds=("row", "text"),
                  cells=((("Printer", "a"), ("Floor", "b")), ()))
    assert row.unit_texts() == ["Printer: a · Floor: b", "plain"] and row.sentence_texts() == ["a | b", "plain"]
    assert row_text((("", "no header"), ("Floor", ""), ("Same", "Same"))) == "no header · Same"
    with pytest.raises(ValueError):
        Passage("id", "d", "x", 0, 1, 1, 1, sentences=((0, 1),), kinds=("answer",))


@pytest.mark.unit
def test_kinds_and_cells_survive_the_store_and_old_records_read_as_text():
    p = Passage("id", "d", "a | b", 0, 5, 1, 1, sentences=((0, 5),), kinds=("row",), cells=((("H", "a"), ("", "b")),))
    meta = passage_meta(p, 0)
    assert json.loads(meta["kinds"]) == ["row"]
    back = passage_from("id", "a | b", meta)
    assert back == p and back.unit_texts() == ["H: a · b"]
    old = {k: v for k, v in meta.items() if k not in ("kinds", "cells")}
    assert passage_from("id", "a | b", old).kinds == ("text",)


MARKDOWN = """# Leave policy

Everyone gets 25 days.

| Leave | Notice | Paid |
| --- | --- | --- |
| Parental | 8 weeks | Yes |
| Sick | none |
| Shared | 8 weeks | Partly | extra |

| | |
|---|---|
| no header | here |

| layout |
| --- |
| Just a line of text |

1. Press and hold the reset button.
2. Release the button and wait about three minutes.

> **Warning:** all settings are erased.
"""


@pytest.mark.unit
def test_markdown_tables_items_notes_and_title(tmp_path):
    (tmp_path / "leave.md").write_text(MARKDOWN, encoding="utf-8")
    doc = load_document(tmp_path / "leave.md")
    assert doc.title == "Leave policy"
    k = _kinds(doc)
    assert k["# Leave policy"][0] == "title" and k["Everyone gets 25 days."][0] == "text"
    assert k["| Leave | Notice | Paid |"][0] == "header" and k["| --- | --- | --- |"][0] == "header"
    assert k["| Parental | 8 weeks | Yes |"] == ("row", (("Leave", "Parental"), ("Notice", "8 weeks"), ("Paid", "Yes")))
    assert k["| Sick | none |"][1][:2] == (("Leave", "Sick"), ("Notice", "none"))  # ragged: short row
    assert "extra" in doc.text and k["| Shared | 8 weeks | Partly | extra |"][0] == "row"  # ragged: long row kept whole
    assert k["| no header | here |"] == ("row", (("", "no header"), ("", "here")))  # empty header row: no labels
    assert k["| Just a line of text |"][0] == "text" and k["| --- |"][0] == "header"  # one column: layout
    assert k["1. Press and hold the reset button."][0] == "item"
    assert k["> **Warning:** all settings are erased."][0] == "note"
    table = [p for p in chunk_document(doc) if "Parental" in p.text][0]
    assert "| Leave |" in table.text and "| Shared |" in table.text  # a table that fits is one passage


FAQ = """Router FAQ

How do I connect to the staff network?

Choose the network on the label and sign in.

4.2 Resetting to factory settings

3 eggs are needed for the demo.

1. Is the light amber?
"""


@pytest.mark.unit
def test_a_documents_own_questions_and_unmarked_section_headings_get_their_kinds_at_ingest(tmp_path):
    (tmp_path / "faq.txt").write_text(FAQ, encoding="utf-8")
    k = _kinds(load_document(tmp_path / "faq.txt"))
    assert k["How do I connect to the staff network?"][0] == "question"  # an FAQ's question gives way to its answer
    assert k["Choose the network on the label and sign in."][0] == "text"
    assert k["4.2 Resetting to factory settings"][0] == "heading"
    assert k["3 eggs are needed for the demo."][0] == "text"  # a number and a sentence: not a heading
    assert k["1. Is the light amber?"][0] == "item"  # a list item stays an item (procedures read runs of items)


@pytest.mark.unit
def test_an_enormous_cell_is_cut_but_nothing_is_lost(tmp_path):
    big = " ".join(f"word{i}" for i in range(400))
    (tmp_path / "big.md").write_text(f"| A | B |\n| --- | --- |\n| small | {big} |\n| next | row |\n", encoding="utf-8")
    doc = load_document(tmp_path / "big.md")
    passages = chunk_document(doc, ChunkingConfig(max_chars=300, max_sentence_chars=300))
    words = " ".join(p.text for p in passages).split()
    assert all(f"word{i}" in words for i in range(400))
    kinds = {doc.text[s:e]: k for p in passages for (s, e), k in zip(p.sentences, p.kinds)}
    assert kinds["| next | row |"] == "row" and set(kinds.values()) <= {"header", "row", "text"}


@pytest.mark.unit
def test_a_table_longer_than_a_passage_keeps_its_headers_on_every_row(tmp_path):
    rows = "".join(f"| Room {i} | Floor {i % 4} |\n" for i in range(30))
    (tmp_path / "rooms.md").write_text(f"| Room | Floor |\n| --- | --- |\n{rows}", encoding="utf-8")
    passages = chunk_document(load_document(tmp_path / "rooms.md"), ChunkingConfig(max_chars=200))
    assert len(passages) > 3
    data = [(t, c) for p in passages for t, k, c in zip(p.unit_texts(), p.kinds, p.cells) if k == "row"]
    assert len(data) == 30 and all(t.startswith("Room: Room ") and " · Floor: Floor " in t for t, _ in data)


def test_a_row_whose_labelled_text_is_over_the_model_limit_is_embedded_as_its_own_text(tmp_path, embedder):
    long_header = " ".join(f"heading{i}" for i in range(60))
    (tmp_path / "wide.md").write_text(f"| {long_header} | B |\n| --- | --- |\n| {'cell ' * 120}| x |\n| small | y |\n", encoding="utf-8")
    doc = load_document(tmp_path / "wide.md")
    passages = chunk_document(doc, ChunkingConfig(), embedder.count_tokens)
    units = [u for p in passages for u in p.unit_texts()]
    assert max(embedder.count_tokens(units)) <= ChunkingConfig().max_tokens  # nothing embedded truncated
    rows = {p.sentence_texts()[j]: p.cells[j] for p in passages for j, k in enumerate(p.kinds) if k == "row"}
    assert rows["| small | y |"] == ((long_header, "small"), ("B", "y"))


PRINTERS = """<html><head><title>Printers</title></head><body><h1>Printers</h1>
<p>Every office has shared printers. Ask the service desk for toner.</p>
<table><tr><th>Printer</th><th>Floor</th><th>Model</th><th>Colour</th></tr>
<tr><td>LEEDS-PR-01</td><td>Ground floor</td><td>HP LaserJet M404</td><td>No</td></tr>
<tr><td>LEEDS-PR-02</td><td>First floor</td><td>HP LaserJet M507</td><td>No</td></tr>
<tr><td>LEEDS-PR-03</td><td colspan="2">Second floor, Canon imageRUNNER</td><td>Yes</td></tr>
<tr><td>YORK-PR-01</td></tr></table>
<table><tr><td>Layout text in one column.</td></tr></table>
<table><tr><td>alpha</td><td>beta</td></tr><tr><td>gamma</td><td>delta</td></tr></table>
<ol><li>Open <b>Settings</b>.</li><li>Choose Printers.<ul><li>Pick the nearest one.</li></ul></li></ol>
<div class="admonition warning"><p>Never move a printer yourself.</p></div>
</body></html>"""


@pytest.mark.unit
def test_html_tables_lists_and_notes(tmp_path):
    (tmp_path / "printers.html").write_text(PRINTERS, encoding="utf-8")
    doc = load_document(tmp_path / "printers.html")
    k = _kinds(doc)
    assert k["Printer | Floor | Model | Colour"][0] == "header"
    row = k["LEEDS-PR-02 | First floor | HP LaserJet M507 | No"]
    assert row[0] == "row" and row[1][:2] == (("Printer", "LEEDS-PR-02"), ("Floor", "First floor"))
    assert k["LEEDS-PR-03 | Second floor, Canon imageRUNNER | Yes"][1][1] == ("Floor / Model", "Second floor, Canon imageRUNNER")
    assert k["YORK-PR-01"] == ("row", (("Printer", "YORK-PR-01"),))  # ragged
    assert k["Layout text in one column."][0] == "text"  # a one-column table is text
    assert k["alpha | beta"] == ("row", (("", "alpha"), ("", "beta")))  # no <th>: no header labels
    assert k["1. Open Settings."][0] == "item" and k["+ Pick the nearest one."][0] == "item"
    assert k["Never move a printer yourself."][0] == "note"


def _docx(path: Path) -> Path:
    import docx

    d = docx.Document()
    d.core_properties.title = "Microsoft Word - travel.doc"  # not meaningful: the Title paragraph wins
    d.add_paragraph("Travel policy", style="Title")
    d.add_paragraph("Book travel through the portal.")
    d.add_paragraph("Book at least two weeks ahead.", style="List Number")
    d.add_paragraph("Keep every receipt.", style="List Bullet")
    t = d.add_table(rows=3, cols=3)
    for r, vals in enumerate([["Item", "Limit", "Notes"], ["Hotel", "£120 a night", "London £160"], ["Meals", "x", "y"]]):
        for c, v in enumerate(vals):
            t.cell(r, c).text = v
    merged = t.cell(2, 1).merge(t.cell(2, 2))
    merged.text = "£30 a day, any meal"
    loose = d.add_table(rows=2, cols=2)  # no header row: the first row is data (sentences)
    for r, vals in enumerate([["Trains are booked in standard class.", "Always."], ["First class needs approval.", "Rarely."]]):
        for c, v in enumerate(vals):
            loose.cell(r, c).text = v
    layout = d.add_table(rows=2, cols=1)
    layout.cell(0, 0).text, layout.cell(1, 0).text = "Layout line one.", "Layout line two."
    d.add_paragraph("Warning: trips that were not approved are not refunded.")
    d.save(str(path))
    return path


@pytest.mark.unit
def test_docx_tables_lists_notes_and_title(tmp_path):
    doc = load_document(_docx(tmp_path / "travel.docx"))
    assert doc.title == "Travel policy"
    k = _kinds(doc)
    assert k["Travel policy"][0] == "title" and k["Book travel through the portal."][0] == "text"
    assert k["Book at least two weeks ahead."][0] == "item" and k["Keep every receipt."][0] == "item"
    assert k["Item | Limit | Notes"][0] == "header"
    assert k["Meals | £30 a day, any meal"] == ("row", (("Item", "Meals"), ("Limit / Notes", "£30 a day, any meal")))
    assert k["Trains are booked in standard class. | Always."] == ("row", (("", "Trains are booked in standard class."), ("", "Always.")))
    assert k["Layout line one."][0] == "text" and "Layout line two." in doc.text
    assert k["Warning: trips that were not approved are not refunded."][0] == "note"


MANUAL = """HomeRouter X200 user manual

4. Resetting the router
To reset the router, follow these steps.
1. Press and hold the reset button for 15 seconds.
2) Release the button and wait about three minutes.
Step 3: Log in again with the default password.
- Keep the sticker with the password.
Note: all settings are erased.
WARNING
Do not unplug the router while it restarts.
"""


@pytest.mark.unit
def test_plain_text_items_numbered_headings_notes_and_title(tmp_path):
    (tmp_path / "router-manual.txt").write_text(MANUAL, encoding="utf-8")
    doc = load_document(tmp_path / "router-manual.txt")
    assert doc.title == "HomeRouter X200 user manual"
    k = _kinds(doc)
    assert k["HomeRouter X200 user manual"][0] == "title"
    assert k["4. Resetting the router"][0] == "heading"  # short, no full stop, a paragraph follows
    assert k["To reset the router, follow these steps."][0] == "text"
    for step in ("1. Press and hold the reset button for 15 seconds.", "2) Release the button and wait about three minutes.",
                 "Step 3: Log in again with the default password.", "- Keep the sticker with the password."):
        assert k[step][0] == "item", step
    assert k["Note: all settings are erased."][0] == "note"
    assert k["WARNING"][0] == "note" and k["Do not unplug the router while it restarts."][0] == "note"


@pytest.mark.unit
def test_titles_are_never_body_sentences(tmp_path):
    body = "however, did not last long; it became too conspicuous and dangerous for use."
    assert not looks_like_title(body) and not looks_like_title("Every employee receives 25 days of paid leave.")
    assert not looks_like_title("however the plan failed") and looks_like_title("ticketmaster.com")  # one word may start lower case
    (tmp_path / "router-manual.txt").write_text("Every employee receives 25 days of paid leave.\nMore.\n", encoding="utf-8")
    assert load_document(tmp_path / "router-manual.txt").title == "Router manual"
    assert name_in_words("staff_handbook.v2.md") == "Staff handbook v2"
    for junk in ("", "Microsoft Word - policy.doc", "untitled", "scan0001.pdf", "Writer"):
        assert meaningful_metadata_title(junk, generators=["Writer"]) is None, junk
    assert meaningful_metadata_title("  Annual   report 2024 ") == "Annual report 2024"
    seed = load_document(Path(__file__).resolve().parents[1] / "seeds" / "japan-us-reset.txt")
    assert seed.title == "Japan faces an era-defining reset with the US" and seed.title_span == (0, len(seed.title))


EXPECTED_PDF_TITLES = {
    # checked by reading page 1 of each file (pypdfium2 text and font sizes)
    "GeoBase_NHNC1_Data_Model_UML_EN.pdf": "National Hydro Network, Canada, Level 1 Data Model",  # 18 pt lines on page 1
    "Seige_of_Vicksburg_Sample_OCR-crazyones-merged.pdf": "THE SIEGE OF VICKSBURG",  # the running header, page number dropped
    "jpeg.pdf": "Jpeg",  # its one line is a sentence ("A PDF with a JPEG image."): the file name
}


@pytest.mark.skipif(not DOCUMENTS.is_dir(), reason="../shared/documents is not checked out")
def test_every_pdf_in_shared_documents_has_a_real_title():
    docs, _ = load_all([DOCUMENTS])
    titles = {d.doc_id: d.title for d in docs if d.format == "pdf"}
    assert titles == EXPECTED_PDF_TITLES
    for title in titles.values():
        assert looks_like_title(title) and not title[0].islower() and not title.endswith(".") and len(title) <= 150


def test_a_row_is_found_by_its_column_header(tmp_path, embedder):
    a = assistant_over(tmp_path, embedder, {"printers.html": PRINTERS})
    top = a.retriever.search("Which floor is printer LEEDS-PR-02 on?")[0]
    best = top.best
    assert top.passage.text[best.span[0] - top.passage.start : best.span[1] - top.passage.start].startswith("LEEDS-PR-02 |")
    j = top.passage.sentences.index(best.span)
    assert top.passage.kinds[j] == "row" and ("Floor", "First floor") in top.passage.cells[j]


@pytest.mark.unit
@pytest.mark.skipif(not DOCUMENTS.is_dir(), reason="../shared/documents is not checked out")
def test_a_pdf_line_in_its_pages_largest_font_is_a_heading():
    from index.readers.pdf import extract

    extracted, _, _ = extract(DOCUMENTS / "Seige_of_Vicksburg_Sample_OCR-crazyones-merged.pdf")
    headings = [extracted.text[a:b] for a, b, kind in extracted.marks if kind == "heading"]
    assert headings == ["The Crazy Ones"]  # 14.3 pt over 9 pt text; its 12 pt date line is not a heading


@pytest.mark.unit
def test_font_headings_need_a_step_over_the_body_font(tmp_path):
    from index.readers.pdf import extract
    from pdfmaker import make_pdf

    body = [(f"Body line {i} of the report says something plain.", 72, 700 - 14 * i, 10) for i in range(8)]
    big = make_pdf(tmp_path / "big.pdf", [[("Results of the survey", 72, 760, 16), *body]])
    flat = make_pdf(tmp_path / "flat.pdf", [[("Results of the survey", 72, 760, 11), *body]])
    marks = lambda path: [extract(path)[0].text[a:b] for a, b, k in extract(path)[0].marks if k == "heading"]  # noqa: E731
    assert marks(big) == ["Results of the survey"] and marks(flat) == []


@pytest.mark.unit
def test_a_procedure_is_one_passage_and_a_numbered_heading_starts_a_section(tmp_path):
    from index.chunking import chunk_document
    from index.loader import load_document

    steps = "\n".join(f"{i}. Step {i} of the reset: hold the button, wait for the light and check the screen before you go on." for i in range(1, 6))
    manual = (
        "Charger manual\n\n3. Indicator lights\n\nGreen means charged. Amber means charging. Red means a fault.\n\n"
        f"4. Resetting the charger\n\nWarning: a reset erases the charging profiles.\n{steps}\n\n5. Cleaning\n\nWipe it with a dry cloth.\n"
    )
    (tmp_path / "charger.txt").write_text(manual, encoding="utf-8")
    doc = load_document(tmp_path / "charger.txt")
    assert [path for _, path in doc.headings] == ["3. Indicator lights", "4. Resetting the charger", "5. Cleaning"]
    passages = chunk_document(doc)
    holding = [p for p in passages if "Step 1 of" in p.text]
    assert len(holding) == 1 and all(f"Step {i} of" in holding[0].text for i in range(1, 6)) and "Warning:" in holding[0].text
    assert len(holding[0].text) > 500  # over a passage's 500 characters: the list is one unit
    assert holding[0].section == "4. Resetting the charger" and "Green means" not in holding[0].text


@pytest.mark.unit
def test_a_procedures_unnumbered_heading_or_lead_in_stays_with_its_steps(tmp_path):
    from index.chunking import chunk_document
    from index.loader import load_document

    long_steps = "\n".join(f"{i}. Feed the form into tray {i}, align it against the guide and wait for the green light." for i in range(1, 5))
    guide = (
        "Franking machine guide\n\nThe franking machine is in the post room.\n\n"
        f"How to load a new label roll\n{long_steps}\n\n"
        "To empty the ink sump:\n1. Switch the machine off.\n2. Lift the sump out and empty it.\n\n"
        "Postage is charged to your department each month.\n"
    )
    (tmp_path / "franking.txt").write_text(guide, encoding="utf-8")
    passages = chunk_document(load_document(tmp_path / "franking.txt"))
    for lead, first in (("How to load a new label roll", "1. Feed the form into tray 1"), ("To empty the ink sump:", "1. Switch the machine off.")):
        holding = [p for p in passages if lead in p.text]
        assert len(holding) == 1 and first in holding[0].text  # the heading is never left behind in the passage before
        i = next(k for k, (a, b) in enumerate(holding[0].sentences) if holding[0].text[a - holding[0].start : b - holding[0].start] == lead)
        assert holding[0].kinds[i + 1] == "item"


LEAVE_TABLE = [["Leave type", "Days per year", "Notice"], ["Sick leave", "12 days", "None"], ["Annual leave", "25 days", "2 weeks"],
               ["Study leave", "5 days", "6 weeks"]]


@pytest.mark.unit
def test_a_ruled_pdf_table_is_read_as_rows_with_their_headers(tmp_path):
    from pdfmaker import make_pdf, ruled_table

    lines, rules = ruled_table(LEAVE_TABLE, 72, 700, [150, 120, 120])
    body = [("Leave policy", 72, 780, 16), ("Employees may take the leave listed in the table below.", 72, 740, 11), *lines,
            ("Requests go through the HR portal.", 72, 600, 11)]
    doc = load_document(make_pdf(tmp_path / "leave.pdf", [body], rules=[rules]))
    k = _kinds(doc)
    assert k["Leave type Days per year Notice"][0] == "header"
    assert k["Annual leave 25 days 2 weeks"] == ("row", (("Leave type", "Annual leave"), ("Days per year", "25 days"), ("Notice", "2 weeks")))
    assert row_text(k["Sick leave 12 days None"][1]) == "Leave type: Sick leave · Days per year: 12 days · Notice: None"
    assert k["Employees may take the leave listed in the table below."][0] == "text"
    assert k["Requests go through the HR portal."][0] == "text"


@pytest.mark.unit
def test_pdf_text_without_a_ruled_grid_or_in_a_one_column_box_has_no_rows(tmp_path):
    from pdfmaker import make_pdf, ruled_table

    lines, _ = ruled_table(LEAVE_TABLE, 72, 700, [150, 120, 120])
    plain = load_document(make_pdf(tmp_path / "plain.pdf", [lines]))  # the same text, no lines drawn
    box_lines, box_rules = ruled_table([["Remember"], ["Lock your screen when you leave your desk."]], 72, 700, [400])
    boxed = load_document(make_pdf(tmp_path / "boxed.pdf", [box_lines], rules=[box_rules]))
    assert plain.rows == () and boxed.rows == ()
    assert "Sick leave 12 days None" in plain.text and "Lock your screen" in boxed.text


@pytest.mark.skipif(not DOCUMENTS.is_dir(), reason="../shared/documents is not checked out")
def test_the_shared_pdfs_ruled_revision_table_has_rows_with_headers():
    from index.readers.pdf import extract

    extracted, _, _ = extract(DOCUMENTS / "GeoBase_NHNC1_Data_Model_UML_EN.pdf")
    rows = [row_text(r.cells) for r in extracted.rows if not r.header]
    assert "Date: September 2002 · Version: Draft 01 · Description: First draft for discussion with Nova Scotia" in rows
    for r in extracted.rows:  # every row is an exact span of the text
        assert extracted.text[r.start : r.end].strip() == extracted.text[r.start : r.end]
