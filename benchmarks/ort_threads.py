"""ONNX Runtime's thread settings for the model that embeds questions: CPU and wall time per warm question.

Usage::

    python benchmarks/ort_threads.py [--passes 2]

On the index of the usual settings (``ASSISTANT_DATA_DIR``), one process answers every question
of ``seeds/questions.jsonl`` ``--passes`` times with the question model's session made with each
setting in turn (ONNX Runtime's default, then intra-op threads 1 or 2, spinning on or off), after
an untimed warm-up pass, and prints per setting the process's CPU time and the wall time per
question. The defaults run twice (first and last), since the machine may be shared. The answers'
CPU includes everything else ``ask`` does; only the session changes between settings.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

QUESTIONS = Path(__file__).resolve().parent.parent / "seeds" / "questions.jsonl"

SETTINGS = [(0, "1"), (1, "1"), (1, "0"), (2, "0"), (0, "1")]
"""(intra-op threads, allow spinning) pairs; 0 threads: ONNX Runtime's default (one per core)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=2, help="timed passes over the questions per setting")
    args = parser.parse_args()

    import onnxruntime as ort

    from assistant.core import Assistant
    from assistant.settings import Settings

    questions = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    assistant = Assistant.from_settings(Settings(), ensure_index=False, progress=False)
    assistant.warm_up()
    embedder = getattr(assistant.embedder, "few", assistant.embedder)  # the torch backend embeds questions with .few
    for threads, spinning in SETTINGS:
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", spinning)
        embedder.__dict__["session"] = ort.InferenceSession(str(embedder.model_file), options, providers=["CPUExecutionProvider"])
        for q in questions:
            assistant.ask(q["question"], q.get("history", []))
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(args.passes):
            for q in questions:
                assistant.ask(q["question"], q.get("history", []))
        n = args.passes * len(questions)
        cpu, wall = (time.process_time() - cpu) * 1000 / n, (time.perf_counter() - wall) * 1000 / n
        print(f"intra-op threads {threads or 'default'}, spinning {'on' if spinning == '1' else 'off'}: CPU {cpu:5.1f} ms, wall {wall:5.1f} ms per question")


if __name__ == "__main__":
    main()
