"""What an answer quotes: whole procedures, table rows with their headers, never a title or a
header row, and further sentences only when the support head says they add to the answer.

Unit tier: hand-made passages with the sentence kinds ingest stores (no model, no store).
"""

from __future__ import annotations

import json

import pytest

from assistant.answering.answerer import ExtractiveAnswerer
from assistant.answering.sentences import answerable_sentences, asked_acronym, quotable, restates_question, spells_out
from assistant.answering.procedures import whole_procedure
from assistant.errors import ModelError
from assistant.retrieval.retriever import RetrievedPassage, ScoredSentence
from assistant.answering.support import MODEL_PATH, SupportModel
from index.types import Passage


def _passage(lines: list[tuple[str, str]], cells: dict[int, tuple] | None = None, best: int = -1, title: str = "Router manual",
             same_line: frozenset[int] = frozenset()) -> RetrievedPassage:
    """A retrieved passage of ``(kind, text)`` sentences, one a line but those in ``same_line``
    (which follow the one before on its line); sentence ``best`` scores best."""
    text = "".join(("" if i == 0 else " " if i in same_line else "\n") + t for i, (_, t) in enumerate(lines))
    spans, pos = [], 0
    for _, t in lines:
        spans.append((pos, pos + len(t)))
        pos += len(t) + 1
    cells = cells or {}
    p = Passage("p1", "manual.txt", text, 0, len(text), 1, len(lines), tuple(spans), title,
                kinds=tuple(k for k, _ in lines), cells=tuple(cells.get(i, ()) for i in range(len(lines))))
    best = best % len(spans)
    scored = tuple(ScoredSentence(s, 0.9 if i == best else 0.5, 1.2 if i == best else 0.6) for i, s in enumerate(spans))
    return RetrievedPassage(p, 1, 0.5, scored)


RESET = [
    ("heading", "4. Resetting the router"),
    ("note", "Warning: a reset erases all your settings."),
    ("text", "To reset the router:"),
    ("item", "1. Press and hold the RESET button for 15 seconds."),
    ("item", "2. Release the button and wait about three minutes."),
    ("item", "3. Sign in with the default password."),
    ("text", "The router then restarts."),
]


@pytest.mark.unit
def test_a_how_question_quotes_the_whole_procedure_with_its_warning():
    r = _passage(RESET)
    step = r.sentences[4]
    quoted = [r.passage.text[s.span[0]:s.span[1]] for s, _ in whole_procedure("How do I reset the router?", step, r)]
    assert quoted == [RESET[1][1]] + [t for _, t in RESET[3:6]]  # the warning and every step; not the lead-in, heading or text after
    assert whole_procedure("What does the RESET button do?", step, r) == []  # not a how question: the step alone
    lead_in = r.sentences[2]
    assert len(whole_procedure("What are the steps to reset the router?", lead_in, r)) == 4


@pytest.mark.unit
def test_a_procedure_answer_numbers_its_steps_on_lines_of_their_own():
    r = _passage(RESET, best=4)
    answerer = ExtractiveAnswerer(abstention=False)
    draft = answerer.answer("How do I reset the router?", [r])
    lines = draft.text.split("\n")
    assert lines[0].startswith("Warning: a reset erases") and lines[1].startswith("1. Press and hold")
    assert lines[2].startswith("2. Release the button") and all(line.endswith("[1]") for line in lines)
    assert draft.citations[0].highlights == tuple(r.sentences[i].span for i in (1, 3, 4, 5))


@pytest.mark.unit
def test_a_table_row_is_quoted_with_its_headers_and_a_header_row_never():
    header = ("Printer", "Floor", "Model")
    row = ("LEEDS-PR-02", "First floor", "HP LaserJet M507")
    r = _passage([("header", "Printer  Floor  Model"), ("row", "  ".join(row))], {1: tuple(zip(header, row))})
    assert [r.passage.text[s.span[0]:s.span[1]] for s, _ in answerable_sentences([r])] == ["  ".join(row)]
    draft = ExtractiveAnswerer(abstention=False).answer("On which floor is printer LEEDS-PR-02?", [r])
    assert draft.text.startswith("Printer: LEEDS-PR-02 · Floor: First floor · Model: HP LaserJet M507 [1]")
    assert draft.citations[0].highlights == (r.sentences[1].span,)  # the exact span of the row in the document


@pytest.mark.unit
def test_a_title_line_is_never_quoted():
    r = _passage([("title", "Fastlink R7 Home Router"), ("text", "The router has four Ethernet ports.")])
    assert len(answerable_sentences([r])) == 1


@pytest.mark.unit
def test_the_support_head_is_checked_at_load(tmp_path):
    model = SupportModel.load()
    assert model.head.features and 0 < model.share <= 1
    assert model.further([0.8, 0.8 * model.share, 0.8 * model.share - 0.01]) == [True, False]
    raw = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    raw["head"]["weights"][0] += 0.5
    altered = tmp_path / "support.json"
    altered.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ModelError, match="SHA-256"):
        SupportModel.load(altered)
    with pytest.raises(ModelError, match="fit_support.py"):
        SupportModel.load(tmp_path / "missing.json")


@pytest.mark.unit
def test_a_lead_in_gives_way_to_the_row_that_holds_the_data_and_other_rows_stay_out():
    header = ("Leave type", "Days per year")
    rows = [("Annual leave", "27 days"), ("Volunteering leave", "2 days")]
    lines = [("text", "The table below lists each kind of paid leave and how many days it gives."),
             ("header", "| Leave type | Days per year |"), ("header", "| --- | --- |")]
    lines += [("row", f"| {a} | {b} |") for a, b in rows]
    r = _passage(lines, {3 + i: tuple(zip(header, row)) for i, row in enumerate(rows)}, best=0)
    scores = [(1.5, 0.33, 0.56), (0, 0, 0), (0, 0, 0), (1.4, 0.60, 0.30), (1.5, 0.64, 0.34)]
    r = RetrievedPassage(r.passage, 1, 1.5, tuple(ScoredSentence(s.span, sim, fused, cov)
                                                  for s, (fused, sim, cov) in zip(r.sentences, scores)))
    draft = ExtractiveAnswerer(abstention=False).answer("How many volunteering days do employees get?", [r])
    assert draft.text.startswith("Leave type: Volunteering leave · Days per year: 2 days [1]")
    assert "Annual leave" not in draft.text  # another row that matches the question less well


@pytest.mark.unit
def test_a_sentence_before_a_list_that_holds_the_asked_for_date_does_not_give_way():
    """Release notes: "Released on 2 August 2026." stands right before the version's list of
    changes. Asked when, it answers itself; asked what changed, a change (an item) leads."""
    r = _passage([("heading", "Version 2.1"), ("text", "Released on 2 August 2026."),
                  ("item", "* Added support for multiple currencies."), ("item", "* The dashboard loads twice as fast.")], best=1)
    assert ExtractiveAnswerer(abstention=False).answer("When was version 2.1 released?", [r]).text.startswith("Released on 2 August 2026.")
    assert ExtractiveAnswerer(abstention=False).answer("What changed in version 2.1?", [r]).text.startswith("Added support")


@pytest.mark.unit
def test_steps_keep_the_numbers_the_document_gives_them():
    """A procedure that starts at the document's step 2 is never renumbered from 1 (the answer
    would no longer be the cited text), and an item quoted alone keeps its number; a list whose
    numbers are not in the text (bullets) is numbered in order."""
    r = _passage([("text", "To load paper:"), ("item", "2. Open the tray."), ("item", "3. Insert the paper.")], best=1)
    text = ExtractiveAnswerer(abstention=False).answer("How do I load paper?", [r]).text
    assert text.split("\n") == ["2. Open the tray. [1]", "3. Insert the paper. [1]"], text
    alone = _passage([("text", "Before you start, read this."), ("item", "5. Connect to the staff Wi-Fi.")], best=1)
    assert ExtractiveAnswerer(abstention=False).answer("Which network do I join?", [alone]).text.startswith("5. Connect to the staff Wi-Fi.")
    bullets = _passage([("text", "To load paper:"), ("item", "- Open the tray."), ("item", "- Insert the paper.")], best=1)
    text = ExtractiveAnswerer(abstention=False).answer("How do I load paper?", [bullets]).text
    assert text.split("\n") == ["1. Open the tray. [1]", "2. Insert the paper. [1]"], text


@pytest.mark.unit
def test_the_steps_of_one_item_share_its_number():
    r = _passage([("text", "To submit a request:"), ("item", "1. Open the portal."), ("item", "2. Submit it."),
                  ("item", "Your manager replies within five days."), ("item", "3. Check your email.")], best=1,
                 same_line=frozenset({3}))
    text = ExtractiveAnswerer(abstention=False).answer("How do I submit a request?", [r]).text
    assert text.split("\n")[1] == "2. Submit it. [1] Your manager replies within five days. [1]"



@pytest.mark.unit
def test_a_quoted_row_shows_as_a_small_table_in_the_chat_escaped():
    from assistant.types import Answer
    from ui.render import answer_markdown

    header = ("Printer", "Floor")
    row = ("<b>LEEDS-PR-02</b>", "First floor")
    r = _passage([("header", "Printer  Floor"), ("row", "  ".join(row))], {1: tuple(zip(header, row))})
    draft = ExtractiveAnswerer(abstention=False).answer("On which floor is printer LEEDS-PR-02?", [r])
    html = answer_markdown(Answer("q", draft.text, draft.citations, False))
    assert '<table class="answer-table"><caption>Quoted from [1]</caption>' in html
    assert '<th scope="col">Floor</th>' in html and "<td>&lt;b&gt;LEEDS-PR-02&lt;/b&gt;</td><td>First floor</td>" in html


@pytest.mark.unit
def test_the_cli_prints_quoted_rows_under_their_column_headers(capsys):
    from assistant.types import Answer, Citation
    from ui.cli import _print_answer

    lines = [("text", "Every office has shared printers."), ("header", "Printer | Floor | Colour"),
             ("row", "LEEDS-PR-01 | Ground floor | Yes"), ("row", "LEEDS-PR-03 | Second floor | Yes")]
    cells = {2: (("Printer", "LEEDS-PR-01"), ("Floor", "Ground floor"), ("Colour", "Yes")),
             3: (("Printer", "LEEDS-PR-03"), ("Floor", "Second floor"), ("Colour", "Yes"))}
    p = _passage(lines, cells).passage
    answer = Answer("Which printers print in colour?", "… [1]", (Citation(1, p, (p.sentences[0], p.sentences[2], p.sentences[3]), 2.0),), False)
    _print_answer(answer)
    out = [line.rstrip() for line in capsys.readouterr().out.splitlines()]
    at = out.index("    Every office has shared printers.")
    assert out[at + 1].split() == ["Printer", "Floor", "Colour"]  # the header once, above both rows
    assert out[at + 2].split() == ["LEEDS-PR-01", "Ground", "floor", "Yes"] and out[at + 3].split() == ["LEEDS-PR-03", "Second", "floor", "Yes"]
    assert "|" not in "\n".join(out[at:])


@pytest.mark.unit
def test_a_popover_keeps_the_documents_line_breaks_between_rows_and_runs_prose_on():
    from assistant.types import Citation
    from ui.render import popover_html

    rows = [("text", "Every office has shared printers."), ("header", "Printer | Floor | Colour"),
            ("row", "LEEDS-PR-01 | Ground floor | Yes"), ("row", "LEEDS-PR-02 | First floor | No <b>"), ("row", "LEEDS-PR-03 | Second floor | Yes")]
    p = _passage(rows).passage
    pop = popover_html(Citation(1, p, (p.sentences[2], p.sentences[4]), 1.0), "pop-1")
    assert ("Printer | Floor | Colour<br><mark>LEEDS-PR-01 | Ground floor | Yes</mark><br>LEEDS-PR-02 | First floor | No &lt;b&gt;<br>"
            "<mark>LEEDS-PR-03 | Second floor | Yes</mark>") in pop
    prose = _passage([("text", "One sentence."), ("text", "Two sentence."), ("text", "Three.")], same_line=frozenset({1, 2})).passage
    assert "One sentence. <mark>Two sentence.</mark> Three." in popover_html(Citation(1, prose, (prose.sentences[1],), 1.0), "pop-2")


@pytest.mark.unit
def test_a_related_passage_never_highlights_a_header_row():
    from assistant.answering.compose import _shown

    lines = [("header", "| Claim | Limit |"), ("header", "| --- | --- |"), ("row", "| Taxi | 40 euros |")]
    r = _passage(lines, {2: (("Claim", "Taxi"), ("Limit", "40 euros"))}, best=1)
    assert r.best.span == r.passage.sentences[1] and _shown(r).span == r.passage.sentences[2]


ABBREVIATIONS = [
    ("text", "LRS Linear Reference System"),
    ("text", "NID National Identifier"),
    ("text", "This method makes it possible to divide a spatial object into two parts."),
]


@pytest.mark.unit
def test_a_label_that_only_restates_the_question_is_never_the_quote():
    q = "What does the Linear Reference System make it possible to do?"
    assert restates_question(q, "LRS Linear Reference System", None)  # the acronym counts as the words it spells
    assert not restates_question(q, "NID National Identifier", None)  # words the question lacks
    assert not restates_question("Does the policy cover contractors?", "The policy cover contractors.", None)  # a sentence answers
    r = _passage(ABBREVIATIONS, best=0)
    kept, fixed = quotable(q, answerable_sentences([r]), None)
    assert [r.passage.text[s.span[0]:s.span[1]] for s, _ in kept] == [t for _, t in ABBREVIATIONS[1:]] and not fixed
    only = _passage(ABBREVIATIONS[:1])
    assert len(quotable(q, answerable_sentences([only]), None)[0]) == 1  # when every candidate is one, none is dropped
    text = ExtractiveAnswerer(abstention=False).answer(q, [r]).text
    assert not text.startswith("LRS")


@pytest.mark.unit
def test_a_question_asking_what_an_acronym_stands_for_quotes_the_line_that_spells_it_out():
    assert asked_acronym("What does NID stand for in the data model?") == "NID"
    assert asked_acronym('What is the full form of "GDPR"?') == "GDPR"
    assert asked_acronym("What does it mean?") is None and asked_acronym("What did Obama mean?") is None
    assert spells_out("NID", "the National Identifier (NID)") and spells_out("NRCan", "NRCan Natural Resources Canada")
    assert not spells_out("NID", "NID Network Data")
    r = _passage(ABBREVIATIONS, best=2)
    kept, fixed = quotable("What does NID stand for?", answerable_sentences([r]), None)
    assert fixed and r.passage.text[kept[0][0].span[0]:kept[0][0].span[1]] == "NID National Identifier"
    assert ExtractiveAnswerer(abstention=False).answer("What does NID stand for?", [r]).text.startswith("NID National Identifier [1]")

