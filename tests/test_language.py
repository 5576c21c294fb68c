"""A question in another language is told, in English and in its own language, that the
assistant reads English, instead of "the documents do not answer"; English questions are
never taken for another language and never load the detector."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.answering.language import NOTICES, english_only, looks_english

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "question, code",
    [
        ("Qui est le négociateur en chef du Japon ?", "fr"),
        ("Wer ist Japans Chefunterhändler?", "de"),
        ("¿Quién es el negociador jefe de Japón?", "es"),
        ("日本の首席交渉官は誰ですか？", "ja"),
        ("Кто главный переговорщик Японии?", "ru"),
    ],
)
def test_a_question_in_another_language_is_told_the_assistant_reads_english(assistant, question, code):
    answer = assistant.ask(question)
    name, notice = NOTICES[code]
    assert answer.abstained and not answer.citations
    assert "reads English" in answer.abstain_reason and name in answer.abstain_reason
    assert answer.text.startswith("This assistant reads English only") and notice in answer.text
    d = answer.to_dict()
    assert d["abstain_reason"] == answer.abstain_reason and "do not answer" not in d["answer"]


def test_english_questions_are_never_taken_for_another_language(assistant):
    questions = [json.loads(line)["question"] for line in (ROOT / "seeds" / "questions.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    questions += ["Who is Fumio Kishida?", "Akazawa?", "Tell me about Abe", "What is the treasurer's name?"]
    assert [q for q in questions if english_only(q)] == []
    assert sum(looks_english(q) for q in questions) >= 0.95 * len(questions)  # the detector seldom even runs
    unanswerable = assistant.ask("Who is Fumio Kishida?")
    assert unanswerable.abstained and "reads English" not in (unanswerable.abstain_reason or "")


def test_an_english_question_does_not_load_the_detector(assistant, data_dir):
    code = (
        "import sys; from assistant import Assistant, Settings; "
        "a = Assistant.from_settings(Settings(), progress=False); a.ask(\"Who is Japan's chief negotiator?\"); "
        "a.ask('Who is Fumio Kishida?'); print('py3langid' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update({"ASSISTANT_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)})
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180, env=env, cwd=ROOT)
    assert r.returncode == 0 and r.stdout.strip().splitlines()[-1] == "False", r.stderr[-1500:]
