"""On-topic gaps: the documents are on the question's topic, but the fact is not in them.

A small HR policy and a router manual (written for this test, not the seed article), asked the
new-user trial's questions: the facts they ask for are absent, so the assistant says what the
documents lack in plain words, keeps the closest passages as related reading, and puts the
scores in ``abstain_detail``; the facts that are there are still answered.
"""

from __future__ import annotations

import pytest

from conftest import assistant_over

HR_POLICY = """# Leave policy

## Annual leave
Every employee receives 25 days of annual leave per calendar year.
Annual leave must be requested in the HR portal at least two weeks in advance.

## Sick leave
Employees who are ill report their absence to their manager before 10:00 on the first day.
A doctor's certificate is needed from the fourth calendar day of sick leave.
Sick leave is paid at full salary for up to 20 working days per year.

## Parental leave
Parents may take up to 16 weeks of parental leave after the birth or adoption of a child.
Parental leave must be announced to HR eight weeks before it starts.
"""

ROUTER_MANUAL = """HomeRouter X200 user manual

Setting up
Connect the router to the wall socket and to your modem with the supplied cable.
The router starts in about two minutes; the power light then turns solid green.

Lights
A blinking amber light means the router is installing a firmware update: do not unplug it.
A solid red light means there is no internet connection; check the cable to your modem.

Resetting
Press and hold the reset button on the back for ten seconds to restore the factory settings.
All your settings, including the Wi-Fi password, are erased by a factory reset.
"""


@pytest.fixture(scope="module")
def office(tmp_path_factory, embedder):
    return assistant_over(tmp_path_factory.mktemp("gaps"), embedder, {"hr-policy.md": HR_POLICY, "router-manual.txt": ROUTER_MANUAL})


@pytest.mark.parametrize(
    ("question", "says"),
    [
        ("Who is the CEO of Northwind?", "The documents don't mention CEO or Northwind."),
        ("How do I make a spaghetti carbonara?", "The documents don't mention spaghetti carbonara."),
    ],
)
def test_a_refusal_says_what_the_documents_lack_in_plain_words(office, question, says):
    answer = office.ask(question)
    assert answer.abstained and not answer.citations and answer.text == says
    assert answer.related, "the closest passages stay listed as related reading"
    assert not any(ch.isdigit() for ch in answer.text + answer.abstain_reason), "no scores in what a person reads"


def test_scores_and_thresholds_go_in_the_detail(office):
    data = office.ask("How do I make a spaghetti carbonara?", documents=["router-manual.txt"]).to_dict()
    assert data["abstained"] and data["abstain_reason"] == "nothing in the documents is close to the question"
    assert "abstain_below" in data["abstain_detail"] and any(ch.isdigit() for ch in data["abstain_detail"])


def test_the_refusal_sentence_names_the_missing_words_from_the_question():
    from assistant.answering.answerability import evidence
    from assistant.retrieval.lexical import SentenceLexicon
    from assistant.answering.refusal import GENERIC, refusal

    sentences = ["Every employee receives 25 days of annual leave.", "Sick leave is paid for up to 20 days."]
    lexicon = SentenceLexicon(sentences, sentences)

    def said(question):
        return refusal(question, evidence(question, lexicon.content_terms(question), lexicon.document_frequencies, lexicon.size, []), lexicon)

    assert said("How many days of bereavement leave do I get?") == "The documents don't mention bereavement leave."
    assert said("What is a good recipe for banana bread?") == "The documents don't mention good recipe or banana bread."
    assert said("Which days of annual leave are paid?") == (
        "The documents mention days, annual leave and paid, but none of their sentences answers this question."
    )
    assert said("What is it?") == GENERIC


@pytest.mark.parametrize(
    ("question", "quoted"),
    [
        ("How many days of annual leave does an employee receive?", "25 days of annual leave"),
        ("When is a doctor's certificate needed?", "fourth calendar day"),
        ("What does a blinking amber light mean?", "firmware update"),
        ("How do I restore the factory settings?", "reset button"),
    ],
)
def test_facts_that_are_there_are_still_answered(office, question, quoted):
    answer = office.ask(question)
    assert not answer.abstained and quoted in answer.text, answer.text
    assert answer.answerable_probability is not None and 0.0 <= answer.answerable_probability <= 1.0


@pytest.mark.parametrize("question", ["???", "... !!!", "¿¡"])
def test_a_question_of_punctuation_is_refused_with_one_clear_line(office, question):
    from assistant.errors import QuestionError

    with pytest.raises(QuestionError, match="no words"):
        office.ask(question)


@pytest.mark.parametrize("question", ["What is it?", "Who are they?", "the of and"])
def test_a_question_of_function_words_alone_is_refused_never_answered(office, question):
    answer = office.ask(question)
    assert answer.abstained and not answer.citations
    assert "nothing to look for" in answer.abstain_reason


LEAVE_TABLE = """# Leave entitlements

| Leave type | Days per year | Notice required |
| --- | --- | --- |
| Annual leave | 27 days | 4 weeks |
| Sick leave | 12 days | None |
| Parental leave | 90 days | 8 weeks |
"""


def test_a_kind_the_table_does_not_list_is_refused_and_the_listed_ones_answered(tmp_path, embedder):
    a = assistant_over(tmp_path, embedder, {"leave.md": LEAVE_TABLE})
    gap = a.ask("How many days of bereavement leave do I get?")
    assert gap.abstained and gap.text == "The documents don't mention bereavement leave.", gap.text
    assert "Annual leave" in gap.abstain_reason and "bereavement leave" in gap.abstain_reason
    listed = a.ask("How many days of parental leave do I get?")
    assert not listed.abstained and "90 days" in listed.text, listed.text


def test_a_kind_the_policys_sections_do_not_list_is_refused(office):
    """The new-user trial's question: the policy has a section per kind of leave (annual, sick,
    parental); bereavement leave is in none of them and in no document."""
    gap = office.ask("How many days of bereavement leave do I get?")
    assert gap.abstained and gap.text == "The documents don't mention bereavement leave.", gap.text
    assert gap.abstain_reason.startswith("the documents list ") and "Sick leave" in gap.abstain_reason
    assert not office.ask("How many days of sick leave are paid?").abstained


def test_a_model_code_the_documents_do_not_hold_is_refused_in_its_own_words(office):
    """The manual is for the HomeRouter X200; the X300 is another model it does not cover."""
    other = office.ask("How do I restore the factory settings of the X300?")
    assert other.abstained and other.text == "The documents don't mention X300.", other.text
    own = office.ask("How do I restore the factory settings of the X200?")
    assert not own.abstained and "reset button" in own.text, own.text

