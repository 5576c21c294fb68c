"""Answering from a large index, and `assistant index` of the seed article: wall time, peak RSS,
store round trips. Made to compare two checkouts in one run over the *same* store.

Usage::

    python benchmarks/query_scale.py build --size 20000 --store DIR     # once: the synthetic corpus of
                                                                        # benchmarks/scale.py, indexed by `assistant index`
    python benchmarks/query_scale.py query --store DIR [--questions 60] # warm p50/p95 (ms), load time (s), round trips, peak RSS
    python benchmarks/query_scale.py index-seed [--runs 3]              # `assistant index seeds/` in fresh data dirs

To compare a checkout ``OLD`` with this one, copy this file and ``latency.py`` into ``OLD/benchmarks/`` and run it
there with ``PYTHONPATH=OLD`` (it works with the code from before ``ChromaStore.call`` and
``embed_query`` existed), alternating with runs from here.

* query: an ``Assistant`` on ``DIR`` without indexing; the first question's wall time is the
  build's load (passages, BM25 indexes and, since issue 17, the vectors); then the shipped
  questions (``--questions``, repeated to that count), p50/p95 in ms, with the query embedding
  alone measured interleaved as the same-process baseline; Chroma calls per warm question
  (every call goes through ``ChromaStore.call``); peak RSS of the process in MB (what a
  serving process holds, without Gradio).
* index-seed: ``python -m assistant index seeds -q`` in a fresh data dir, wall seconds and the
  child's peak RSS in MB, median of ``--runs``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def _cli(args: list[str], data_dir: Path) -> tuple[float, float]:
    """Run ``python -m assistant ARGS`` with ``data_dir``: ``(wall seconds, peak RSS MB of the child)``."""
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    code = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        f"subprocess.run([sys.executable, '-m', 'assistant', *{args!r}], check=True, stdout=subprocess.DEVNULL); "
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1])


def build(size: int, store: Path) -> None:
    from scale import make_corpus

    corpus = store / "corpus"
    n = make_corpus(corpus, size)
    seconds, rss = _cli(["index", str(corpus), "-q"], store / "data")
    print(json.dumps({"passages": n, "index_seconds": round(seconds, 1), "index_peak_rss_mb": round(rss)}))


def query(store: Path, n_questions: int) -> None:
    from assistant.core import Assistant
    from assistant.settings import Settings
    from latency import count_store_calls

    settings = Settings(data_dir=store / "data", index_check_seconds=2.0)
    assistant = Assistant.from_settings(settings, ensure_index=False)  # the same call before and after issue 17
    embed = getattr(assistant.embedder, "embed_query", None) or assistant.embedder.embed
    questions = [json.loads(line)["question"] for line in settings.eval.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = (questions * 10)[:n_questions]
    embed(["warm up"])
    t = time.perf_counter()
    assistant.ask(questions[0])
    load_s = time.perf_counter() - t
    for q in questions[:5]:
        assistant.ask(q)
    calls = count_store_calls()  # benchmarks/latency.py
    asks, embeds, trips = [], [], []
    for q in questions:
        t = time.perf_counter()
        embed([q])
        embeds.append((time.perf_counter() - t) * 1000)
        before = len(calls)
        t = time.perf_counter()
        assistant.ask(q)
        asks.append((time.perf_counter() - t) * 1000)
        trips.append(len(calls) - before)
    q50, e50 = statistics.median(asks), statistics.median(embeds)
    print(json.dumps({
        "passages": len(assistant.retriever._passages), "first_question_s": round(load_s, 2),
        "query_p50_ms": round(q50, 1), "query_p95_ms": round(sorted(asks)[int(0.95 * (len(asks) - 1))], 1),
        "embed_p50_ms": round(e50, 1), "ratio_p50": round(q50 / e50, 2),
        "round_trips_mean": round(statistics.mean(trips), 2), "round_trips_max": max(trips),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }))


def index_seed(runs: int) -> None:
    results = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="index-seed-") as tmp:
            results.append(_cli(["index", str(ROOT / "seeds"), "-q"], Path(tmp)))
    print(json.dumps({
        "index_seed_seconds_median": round(statistics.median(s for s, _ in results), 2),
        "index_seed_peak_rss_mb_median": round(statistics.median(r for _, r in results)),
        "runs": [[round(s, 2), round(r)] for s, r in results],
    }))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["build", "query", "index-seed"])
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--store", type=Path)
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.what == "build":
        build(args.size, args.store)
    elif args.what == "query":
        query(args.store, args.questions)
    else:
        index_seed(args.runs)


if __name__ == "__main__":
    main()
