"""Cost of the language check (``assistant.answering.language``): the gate on every abstaining question,
the detector's one-time load, and its per-question time, in one process.

Usage::

    python benchmarks/language.py [--rounds 200]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOREIGN = [
    "Qui est le négociateur en chef du Japon ?",
    "Wer ist Japans Chefunterhändler?",
    "¿Quién es el negociador jefe de Japón?",
    "Quem é o negociador-chefe do Japão?",
    "日本の首席交渉官は誰ですか？",
    "Кто главный переговорщик Японии?",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="repetitions per question for the per-question times")
    args = parser.parse_args()
    from assistant import language

    english = [json.loads(line)["question"] for line in (ROOT / "seeds" / "questions.jsonl").read_text(encoding="utf-8").splitlines() if line]
    t = time.perf_counter()
    for _ in range(args.rounds):
        for q in english:
            language.looks_english(q)
    gate_us = (time.perf_counter() - t) / (args.rounds * len(english)) * 1e6
    t = time.perf_counter()
    language._detector()
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    for _ in range(args.rounds):
        for q in FOREIGN:
            language.detect(q)
    detect_ms = (time.perf_counter() - t) / (args.rounds * len(FOREIGN)) * 1e3
    wrong = [q for q in english if language.english_only(q)]
    found = sum(language.detect(q) is not None for q in FOREIGN)
    print(f"gate (every abstaining question): {gate_us:.1f} us; passes for {sum(not language.looks_english(q) for q in english)}/{len(english)} English questions")
    print(f"detector load (once per process, on the first non-English-looking question): {load_s:.2f} s")
    print(f"detection per question: {detect_ms:.2f} ms; foreign questions recognised {found}/{len(FOREIGN)}; English taken for another language {len(wrong)}/{len(english)}")


if __name__ == "__main__":
    main()
