"""End-to-end answers from the real model and store: right sentence first, schema, bad input."""

from __future__ import annotations

import json
import re

import pytest
from conftest import assistant_over as _assistant_over

from assistant.answering.answerer import ABSTAIN_TEXT
from assistant.errors import QuestionError

FIVE = [
    ("Who is Japan's chief negotiator?", "Near-weekly visits to Washington by Japan’s chief negotiator, Ryosei Akazawa", "Ryosei Akazawa"),
    ("When are the upper house elections?", "It could lose its majority in the upper house after elections on July 20.", "July 20"),
    ("Who is Yuki Tatsumi?", "according to Yuki Tatsumi, director of the Japan programme", "Stimson Center"),
    ("What did Trump say in his 1987 interview with Larry King?", "In a now famous 1987 interview with Larry King", "ripping off"),
    ("What share of the Japanese public supports the alliance?", "Green points to polls showing that 90 per cent", "90 per cent"),
]


@pytest.mark.parametrize("question, sentence, phrase", FIVE)
def test_cites_the_right_sentence_first(assistant, article, question, sentence, phrase):
    answer = assistant.ask(question)
    assert not answer.abstained
    first = answer.citations[0]
    start = article.text.index(sentence)
    # The first citation's passage contains the sentence and highlights it.
    assert first.passage.start <= start < first.passage.end
    assert any(s <= start < e for s, e in first.highlights)
    assert phrase.lower() in answer.text.lower()
    assert answer.text.index("[1]") > 0


def test_json_schema_and_markers(assistant, article):
    d = assistant.ask("Who is Japan's chief negotiator?").to_dict()
    json.dumps(d)  # JSON-able
    assert set(d) >= {"question", "answer", "abstained", "citations", "timings_ms"}
    assert isinstance(d["abstained"], bool) and d["timings_ms"]["total"] > 0
    markers = sorted({int(n) for n in re.findall(r"\[(\d+)\]", d["answer"])})
    assert markers == [c["n"] for c in d["citations"]] == list(range(1, len(d["citations"]) + 1))
    for c in d["citations"]:
        assert set(c) == {"n", "doc_id", "title", "start", "end", "line_start", "line_end", "page_start", "page_end", "section", "text", "highlights", "score"}
        assert c["page_start"] is None and c["section"] is None  # a .txt file has neither
        assert article.text[c["start"] : c["end"]] == c["text"]
        lines = article.text.splitlines()
        assert lines[c["line_start"] - 1] in c["text"] and lines[c["line_end"] - 1] in c["text"]
        for s, e in c["highlights"]:
            assert c["start"] <= s < e <= c["end"]
        assert 0.0 < c["score"] < 5.0


def test_abstains_on_an_unrelated_question(assistant):
    answer = assistant.ask("What is a good recipe for banana bread?")
    assert answer.abstained and answer.text == "The documents don't mention recipe or banana bread."
    assert answer.abstain_detail and "abstain_below" in answer.abstain_detail, "the score and threshold are in the detail"
    assert answer.citations == () and "[" not in answer.text


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_gets_a_hint(assistant, question):
    with pytest.raises(QuestionError, match="Please type a question"):
        assistant.ask(question)


def test_over_long_question_is_refused(assistant):
    with pytest.raises(QuestionError, match="under 2,000"):
        assistant.ask("why " * 600)


@pytest.mark.parametrize(
    "question",
    ["<img src=x onerror=alert(1)> Who is Japan's chief negotiator?", "Who is Japan’s chief negotiator?\u200b\u0000", "日本の首席交渉官は誰ですか?"],
)
def test_odd_input_is_answered_or_abstained_without_error(assistant, question):
    answer = assistant.ask(question)
    assert isinstance(answer.abstained, bool)


def test_html_or_a_capitalised_question_word_is_not_taken_for_a_name(assistant):
    # "the documents never mention How" was the answer to both, before function words were dropped from names
    for question in ["<b>Who is</b> Japan's <i>chief negotiator</i>?", "Quick question, Who is Japan's chief negotiator?"]:
        answer = assistant.ask(question)
        assert not answer.abstained, answer.abstain_reason
        assert "Ryosei Akazawa" in answer.text


def test_full_width_and_invisible_characters_are_normalised(assistant):
    from assistant import clean_question

    assert clean_question("Ｗｈｏ ｉｓ Ａｋａｚａｗａ?", 2000) == "Who is Akazawa?"
    assert clean_question("Wh\u200bo is\u200e Akazawa?\ufeff", 2000) == "Who is Akazawa?"
    assert "Ryosei Akazawa" in assistant.ask("Ｗｈｏ ｉｓ Ｊａｐａｎ’ｓ ｃｈｉｅｆ ｎｅｇｏｔｉａｔｏｒ?").text


@pytest.mark.unit
def test_follow_up_detection():
    from assistant.retrieval.followup import is_followup

    assert is_followup("What did she say about Abe?", ["Who is Yuki Tatsumi?"])
    assert is_followup("And Merz?", ["Which country is making it work?"])
    assert not is_followup("Who is Ken Jimbo?", ["Who is Yuki Tatsumi?"])
    assert not is_followup("What did she say?", [])
    # existential "there" points at nothing: a new question, not a follow-up (issue 13's example)
    assert not is_followup("Is there a dress code?", ["How many days of annual leave do I get?"])
    assert not is_followup("Are there any parking spaces for visitors?", ["Who runs the help desk?"])
    assert is_followup("What else happened there?", ["Where did the talks take place?"])  # a place


def test_follow_up_gets_new_evidence_near_the_previous_answer(assistant):
    """'That day' is read where the previous answer was (July 7), and the answer is the next fact."""
    first = assistant.ask("When did Trump post his trade letter to Japan on social media?")
    follow_up = assistant.ask(
        "How many other countries got nearly the same letter that day?",
        history=["When did Trump post his trade letter to Japan on social media?"],
    )
    assert "July 7" in first.text
    assert "14 other countries" in follow_up.text


def test_chain_of_follow_ups_keeps_its_subject(assistant):
    history = ["Who is Ken Jimbo?", "What does he say is Japan's only viable choice?"]
    answer = assistant.ask("Which two conflicts does he imagine Trump dealing with before a big deal with China?", history)
    assert "Ukraine and Iran" in answer.text


def test_follow_up_cites_the_person_from_history(assistant):
    follow_up = assistant.ask("What did she say about Abe?", history=["Who is Yuki Tatsumi?"])
    assert not follow_up.abstained
    assert "Tatsumi" in follow_up.citations[0].passage.text  # her words first, not another speaker's quote about Abe
    assert follow_up.text.startswith("“Abe gave Trump comfort")


def test_quotes_of_other_named_speakers_do_not_answer_a_pronoun(assistant):
    from assistant.retrieval.followup import quoted_speakers

    assert quoted_speakers("“It was good,” says Yoichi Funabashi, author of a book.") == {"yoichi", "funabashi"}
    assert quoted_speakers("Michael Green said the alliance would survive.") == {"michael", "green"}
    assert quoted_speakers("The alliance will survive, officials say.") == frozenset()
    plain = assistant.ask("What did Funabashi say about Abe?")
    assert "Funabashi" in plain.citations[0].passage.text  # no pronoun, no penalty


def test_langchain_retriever_interface(assistant, article):
    docs = assistant.retriever.invoke("Who is Japan's chief negotiator?")
    assert docs and all(article.text[d.metadata["start"] : d.metadata["end"]] == d.page_content for d in docs)


def test_unusable_history_turns_are_skipped_not_fatal(assistant):
    answer = assistant.ask("Who is Japan's chief negotiator?", history=["", "x" * 5000, "Who is Yuki Tatsumi?"])
    assert "Ryosei Akazawa" in answer.text


def test_headings_are_not_quoted_as_further_sentences(tmp_path, embedder):
    from assistant.answering.sentences import is_heading

    assert is_heading("# Office Wi-Fi guide") and is_heading("Vacation policy")
    assert not is_heading("The guest password changes every Monday.")
    wifi = (
        "# Office Wi-Fi guide\n\nThe guest Wi-Fi password is tulip-42 and it changes every Monday.\n\n"
        "## Staff network\n\nIf the staff network fails, call the help desk on extension 4242.\n"
    )
    a = _assistant_over(tmp_path, embedder, {"wifi.md": wifi})
    for question in ("What is the guest Wi-Fi password?", "Who do I call if the staff network fails?"):
        answer = a.ask(question)
        assert not answer.abstained and "#" not in answer.text, answer.text
    scores = [c.score for c in a.ask("What is the guest Wi-Fi password?").citations]
    assert scores == sorted(scores, reverse=True)


MANUAL = """HomeRouter X200 - User Manual

4.1 Status lights

If the status LED is blinking red, the router cannot reach the internet.

4.2 Resetting to factory settings

To reset the router, press and hold the recessed reset button for 15 seconds with a paperclip.
"""


def test_section_headings_and_the_title_line_are_never_quoted(tmp_path, embedder):
    first = "Every employee receives 25 days of paid leave."  # a plain-text file's first line is its title
    a = _assistant_over(tmp_path, embedder, {"manual.txt": MANUAL})
    reset = a.ask("How do I reset the router to factory settings?")
    assert not reset.abstained and "press and hold" in reset.text and "4.2" not in reset.text, reset.text
    # the title line is decided at ingest (a "title" kind), never guessed again when answering
    manual = next(p for p in a.retriever._passages if p.doc_id == "manual.txt")
    assert manual.kinds[0] == "title" and "User Manual" in manual.text[: manual.sentences[0][1] - manual.start]
    warranty = a.ask("What is the warranty period of the HomeRouter X200?")  # only the title line mentions it
    assert "User Manual" not in warranty.text, warranty.text
    (tmp_path / "leave").mkdir()
    leave = _assistant_over(tmp_path / "leave", embedder, {"leave.txt": first + "\nSick leave is paid for 20 days.\n"})
    assert "25 days" in leave.ask("How many days of paid leave does an employee get?").text


def test_list_items_are_quoted_without_their_bullet(tmp_path, embedder):
    shed = (
        "<html><body><h1>Tool shed</h1><p>The society keeps its tools in the shed on plot 42.</p>"
        "<ul><li>Spades: twelve</li><li>Rotavators: two</li><li>Wheelbarrows: five</li></ul></body></html>"
    )
    a = _assistant_over(tmp_path, embedder, {"shed.html": shed})
    answer = a.ask("How many spades does the society own?")
    assert answer.text.startswith("Spades: twelve [1]"), answer.text
    c = answer.citations[0]
    text = a.store.read_documents(a.build, [c.passage.doc_id])[0].text
    assert any("Spades: twelve" in text[start:end] for start, end in c.highlights)  # the exact span, bullet included


FAQ = """IT help desk FAQ

How do I connect to the VPN?
Open the Lattice client, choose the Amsterdam gateway and sign in with your badge number.

How do I reset my password?
Go to the self-service portal at id.example.internal and pick "Forgot password"; the link expires after 15 minutes.

Who do I call when my laptop is stolen?
Call the security desk on extension 4410 first, then file a report with facilities.
"""


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("How do I connect to the VPN?", "Lattice client"),
        ("How do I reset my password?", "self-service portal"),
        ("Who do I call when my laptop is stolen?", "extension 4410"),
    ],
)
def test_a_documents_own_question_is_never_the_answer_the_line_after_it_is(tmp_path, embedder, question, answer):
    a = _assistant_over(tmp_path, embedder, {"faq.txt": FAQ})
    got = a.ask(question)
    assert not got.abstained, got.abstain_reason
    assert answer in got.text and question not in got.text, got.text
    c = got.citations[0]
    s, e = c.highlights[0]
    assert answer in c.passage.text[s - c.passage.start : e - c.passage.start]  # the highlighted sentence is the answer


def test_the_answer_quotes_a_version_pattern_whole(tmp_path, embedder):
    release = "Releases\n\nThe release tag format is v<major>.<minor>, for example v3.2. Tags are signed by the release manager.\n"
    a = _assistant_over(tmp_path, embedder, {"release.md": release})
    answer = a.ask("What is the release tag format?")
    assert "The release tag format is v<major>.<minor>, for example v3.2." in answer.text, answer.text
