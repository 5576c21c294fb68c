"""Sentence splitting and passages: exact offsets, full coverage, quotes kept with their speaker."""

from __future__ import annotations

import re

import pytest

from index.chunking import ChunkingConfig, chunk_document, group_units, split_sentences
from index.loader import load_document, strip_trailing_widget
from index.types import Document


@pytest.fixture(scope="module")
def passages(article):
    return chunk_document(article)


def test_every_passage_is_an_exact_span(article, passages):
    for p in passages:
        assert article.text[p.start : p.end] == p.text
        assert p.line_start == article.text.count("\n", 0, p.start) + 1
        assert p.line_end == article.text.count("\n", 0, p.end - 1) + 1
        for s, e in p.sentences:
            assert p.start <= s < e <= p.end


def test_passages_cover_every_sentence_of_the_body(article, passages):
    covered = [(p.start, p.end) for p in passages]
    body_lines = [line for line in article.text.splitlines() if line.strip()]
    assert len(body_lines) == 97  # 99 lines minus the two widget lines
    pos = 0
    for line in body_lines:
        start = article.text.index(line, pos)
        pos = start + len(line)
        assert any(s <= start and pos <= e for s, e in covered), f"line not covered: {line[:60]}"
    # Passages do not overlap and are in order.
    assert all(a.end <= b.start for a, b in zip(passages, passages[1:]))


def test_comment_widget_is_never_indexed(article, passages):
    assert article.text.endswith("or Plan B.”")
    for p in passages:
        assert "0 comments" not in p.text and "Publicar un comentario" not in p.text


def test_quotes_stay_with_their_attribution(passages):
    def passage_with(fragment):
        return next(p for p in passages if fragment in p.text)

    assert "Trump told a television interviewer" in passage_with("Dear Mr Japan").text
    assert "“I could send [a letter] to Japan." in passage_with("Dear Mr Japan").text
    # A quote continuing in its own paragraph stays with the paragraph naming the speaker.
    assert "says Tatsumi" in passage_with("Trump never felt vulnerable when he was with Abe").text
    assert "says Christopher Johnstone" in passage_with("nothing is sacred and everything is transactional").text
    assert "Beeman recalls" in passage_with("Abe was a factor in [avoiding] that").text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Dear Mr. Japan, here is the story. Then he left.", 2),
        ("The U.S. economy grew. The US economy shrank.", 2),
        ("Colby called on Japan to spend 3.5 per cent of GDP. It was more.", 2),
        ("‘Dear Mr Japan, here’s the story . . . ’,” Trump told a television interviewer.", 1),
        ("“I like the Japanese very much . . . I like them very much but they laugh at us,” said Trump.", 1),
    ],
)
@pytest.mark.unit
def test_sentence_boundaries(text, expected):
    spans = split_sentences(text)
    assert len(spans) == expected, [text[s:e] for s, e in spans]
    assert all(text[s:e] == text[s:e].strip() for s, e in spans)


@pytest.mark.unit
def test_multi_line_quote_is_one_unit():
    text = "“I could send [a letter] to Japan.\n‘Dear Mr Japan, here’s the story . . . ’,” Trump told a reporter.\nNext line."
    units = group_units(text, split_sentences(text))
    assert len(units) == 2
    assert text[units[0][0][0] : units[0][-1][1]].endswith("Trump told a reporter.")


def _doc(text: str, doc_id: str = "d.txt") -> Document:
    import hashlib

    return Document(doc_id, "t", text, "/x", hashlib.sha256(text.encode()).hexdigest())


@pytest.mark.unit
def test_ids_are_stable_and_repeats_are_distinct():
    para = "The same paragraph appears twice in this document, word for word."
    text = f"{para}\nFiller {'text ' * 40}ends here.\n{para}"
    config = ChunkingConfig(max_chars=120)
    first, second = chunk_document(_doc(text), config), chunk_document(_doc(text), config)
    assert [p.passage_id for p in first] == [p.passage_id for p in second]
    repeats = [p for p in first if p.text == para]
    assert len(repeats) == 2 and repeats[0].passage_id != repeats[1].passage_id
    assert [text[p.start : p.end] for p in repeats] == [para, para]


@pytest.mark.unit
def test_a_paragraph_without_sentence_breaks_is_cut_not_truncated():
    words = [f"word{i}" for i in range(600)]
    text = " ".join(words) + " and the final clause mentions zebras."
    passages = chunk_document(_doc(text))
    assert len(passages) > 1
    assert all(len(p.text) <= ChunkingConfig().max_sentence_chars for p in passages)
    assert "zebras" in passages[-1].text
    assert "".join(re.sub(r"\s", "", p.text) for p in passages) == re.sub(r"\s", "", text)


@pytest.mark.unit
def test_widget_strip_keeps_a_prefix():
    raw = "Title\nBody line.\n0 comments:\nPublicar un comentario\n"
    assert strip_trailing_widget(raw) == "Title\nBody line."
    assert strip_trailing_widget("No widget here.\n") == "No widget here."
    assert strip_trailing_widget("Post a Comment\nis the title\nbody") == "Post a Comment\nis the title\nbody"


def test_loader_titles_and_ids(tmp_path, article):
    assert article.title == "Japan faces an era-defining reset with the US"
    (tmp_path / "notes.md").write_text("# My notes\nSome text.", encoding="utf-8")
    doc = load_document(tmp_path / "notes.md")
    assert doc.doc_id == "notes.md" and doc.title == "My notes"


@pytest.mark.unit
def test_a_full_stop_inside_a_token_ends_no_sentence():
    text = "The release tag format is v<major>.<minor>, for example v3.2. Mirrors live at files.example.org. Tags are signed."
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "The release tag format is v<major>.<minor>, for example v3.2.",
        "Mirrors live at files.example.org.",
        "Tags are signed.",
    ]
    japanese = "今日は晴れ。明日は雨。"  # no space after 。 by rule: still two sentences
    assert len(split_sentences(japanese, language="ja")) == 2
