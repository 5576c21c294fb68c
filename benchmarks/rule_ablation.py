"""Each hand-written answer rule switched off in turn, against the default, in one run.

    python benchmarks/rule_ablation.py [--sets seeds/questions.jsonl benchmarks/data/gate-*.json]

Rules (``assistant/answering/answerer.py``, ``assistant/answering/abstention.py``, ``assistant/retrieval/retriever.py``):

* ``answer_type``: abstain when the question asks for a number/date/age/rate/name the quoted sentences lack;
* ``names``: abstain when the question names someone/a role no document mentions;
* ``task``: abstain on "write ...", "ignore ..." requests.

* ``support_head``: the support head choosing the quotes (``assistant/answering/support.py``); without it,
  the fused-score ratio rule it replaced (the best sentence, then those within
  ``second_sentence_ratio`` of it);
* ``head_first``: the head choosing the first quote (without: the best by fused score first);
* ``followup_first``: a follow-up keeping its best by fused score first (without: the head
  chooses for follow-ups too);
* ``structure``: the rules that read ingest's kinds (whole procedures, a lead-in giving way to
  its row or item, other rows only when matching as well, a lead-in never a further quote);
* ``labels``: the rules that read the question against a candidate's words
  (``assistant/answering/sentences.py``, :func:`quotable`): a label that only restates the
  question ("LRS Linear Reference System") is never the quote, and "What does NID stand for?"
  quotes the line that spells NID out first.

* ``speaker``: the follow-up speaker bonus/penalty in retrieval (no metric of any set moves
  without it, but tests/test_answers.py's "What did she say about Abe?" after "Who is Yuki
  Tatsumi?" then quotes another speaker: kept until the reader reads the conversation).

Measured once more (this script, before they were deleted): ``lead_with_type`` (the quoted
sentence with an asked-for number leads) and ``quote_pairing`` (a reported claim quoted with
the direct quotation after it) changed no metric of any set except gate-squad11 hit@1 +0.008
without ``lead_with_type``; they are gone.

Each SQuAD-layout set is indexed once; every configuration answers the same questions from
the same index. Prints one line per set and configuration: hit@1, MRR, quote@1, answer match,
false abstention, abstention accuracy.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
METRICS = ("hit@1", "mrr", "quote@1", "quote_precision", "answer_match", "false_abstention", "abstention_accuracy")


@contextlib.contextmanager
def without(rule: str):
    """The answer path with ``rule`` switched off (module attributes patched, restored after)."""
    import assistant.answering.abstention as abstention
    import assistant.answering.answerer as answerer
    import assistant.retrieval.followup as followup

    none = lambda *a, **k: None  # noqa: E731
    order = answerer.ExtractiveAnswerer._order

    def ratio_rule(self, ev, ranked, keep_first=False):
        return ranked, [c.fused >= self.second_ratio * ev.candidates[0].fused for c in ev.candidates[1:]]

    patches = {
        "support_head": [(answerer.ExtractiveAnswerer, "_order", ratio_rule)],
        "head_first": [(answerer.ExtractiveAnswerer, "_order", lambda self, ev, ranked, keep_first=False: order(self, ev, ranked, True))],
        "followup_first": [(answerer.ExtractiveAnswerer, "_order", lambda self, ev, ranked, keep_first=False: order(self, ev, ranked, False))],
        "structure": [(answerer, "whole_procedure", lambda *a: []), (answerer, "lead_in_gives_way", lambda ranked: ranked),
                      (answerer, "_another_row", lambda *a: False), (answerer, "leads_in", none)],
        "labels": [(answerer, "quotable", lambda question, ranked, lexicon: (ranked, False))],
        "answer_type": [(abstention, "type_mismatch", none)],  # the checks call them through the module
        "names": [(abstention, "unknown_names", none), (abstention, "unknown_role", none)],
        "task": [(abstention, "is_task", none)],
        "speaker": [(followup, "SPEAKER_WEIGHT", 0.0)],  # read by SpeakerSignal at each question
        "default": [],
    }[rule]
    saved = [(obj, name, getattr(obj, name)) for obj, name, _ in patches]
    try:
        for obj, name, value in patches:
            setattr(obj, name, value)
        yield
    finally:
        for obj, name, value in saved:
            setattr(obj, name, value)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_sets = [ROOT / "seeds" / "questions.jsonl", *sorted((ROOT / "benchmarks" / "data").glob("gate-*.json")),
                    ROOT / "benchmarks" / "data" / "structured" / "questions.jsonl"]
    ap.add_argument("--sets", type=Path, nargs="*", default=default_sets)
    ap.add_argument("--rules", nargs="*", default=["default", "support_head", "head_first", "followup_first", "structure", "labels",
                                                    "answer_type", "names", "task", "speaker"])
    args = ap.parse_args()
    from assistant.core import Assistant
    from assistant.evaluation import load_questions, run_eval
    from assistant.evaluation.question_sets import index_documents, index_folder, is_squad_file, load_squad, own_documents
    from assistant.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        base = Assistant.from_settings(Settings(data_dir=Path(tmp) / "seed", answer_model="rules"), progress=False)
        for path in args.sets:
            if is_squad_file(path):
                squad = load_squad(path)
                target, questions = index_documents(squad.documents, Path(tmp) / squad.name, base), squad.questions
            elif (folder := own_documents(path)) is not None:  # a JSONL set with its own documents
                target = index_folder(folder, Path(tmp) / path.parent.name, base)
                questions = load_questions(path, target.documents())
            else:
                target, questions = base, load_questions(path, base.documents())
            for rule in args.rules:
                with without(rule):
                    s = run_eval(target, questions, name=path.stem).summary
                name = path.parent.name if own_documents(path) and not is_squad_file(path) else path.stem
                print(f"{name:16s} {'-' + rule if rule != 'default' else 'default':16s} " + " ".join(f"{m} {_fmt(s.get(m))}" for m in METRICS), flush=True)
    return 0


def _fmt(value) -> str:
    """A metric to 3 decimals; "–" where it does not apply (None: no question of that kind)."""
    return "–" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    raise SystemExit(main())
