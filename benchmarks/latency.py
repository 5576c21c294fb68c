"""Cold start of `assistant ask` and warm per-question latency, with a same-run baseline.

Usage::

    python benchmarks/latency.py [--rounds 3] [--cold 3]

* cold: wall time of ``python -m assistant ask QUESTION --json`` in a fresh process (index already
  built), median of ``--cold`` runs, in seconds; its baseline is ``python -c "import torch"``
  in the same run, since importing torch dominates any cold start here.
* warm: ``Assistant.ask`` over every question of the shipped set, ``--rounds`` times, p50/p95
  in ms; its baseline is the query embedding alone (``embedder.embed_query([question])``), measured
  interleaved in the same process, so the ratio shows what retrieval and answering add.
* store round trips: Chroma calls per warm question (every call goes through
  ``ChromaStore.call``, counted here), mean and max; the rate-limited check for a newer build
  (``ASSISTANT_INDEX_CHECK_SECONDS``) is the only one expected.

To compare two checkouts in one run, run this file from both with ``PYTHONPATH`` set to each
(it works with code from before ``embed_query`` and ``ChromaStore.call`` existed).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def _ms(fn) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000.0


def count_store_calls() -> list[str]:
    """From now on, append what every Chroma call of any ``ChromaStore`` does to the returned list."""
    from index.store import ChromaStore

    name = "call" if hasattr(ChromaStore, "call") else "_call"
    original = getattr(ChromaStore, name)
    calls: list[str] = []

    def counting(self, what, fn, *args, **kwargs):
        calls.append(what)
        return original(self, what, fn, *args, **kwargs)

    setattr(ChromaStore, name, counting)
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cold", type=int, default=3)
    args = parser.parse_args()

    from assistant.core import Assistant
    from assistant.evaluation import load_questions, percentile
    from assistant.settings import Settings

    settings = Settings()
    assistant = Assistant.from_settings(settings, progress=False)
    questions = load_questions(settings.eval.questions, assistant.documents())
    for q in questions[:5]:
        assistant.ask(q.question, q.history)
    embed = getattr(assistant.embedder, "embed_query", None) or assistant.embedder.embed
    calls = count_store_calls()
    asks, embeds, trips = [], [], []
    for _ in range(args.rounds):
        for q in questions:
            embeds.append(_ms(lambda: embed([q.question])))
            before = len(calls)
            asks.append(_ms(lambda: assistant.ask(q.question, q.history)))
            trips.append(len(calls) - before)
    print(f"warm ask     p50 {percentile(asks, 50):6.1f} ms  p95 {percentile(asks, 95):6.1f} ms  (n={len(asks)})")
    print(f"embed only   p50 {percentile(embeds, 50):6.1f} ms  p95 {percentile(embeds, 95):6.1f} ms")
    print(f"ratio ask/embed p50 {percentile(asks, 50) / percentile(embeds, 50):.2f}")
    print(f"store round trips per question: mean {statistics.mean(trips):.2f}, max {max(trips)} ({sorted(set(calls))})")

    def run(cmd) -> float:
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        return time.perf_counter() - t

    if args.cold <= 0:
        return
    # `python -m assistant` (what the `assistant` command runs), so that PYTHONPATH picks the checkout
    cold = [run([sys.executable, "-m", "assistant", "ask", questions[0].question, "--json"]) for _ in range(args.cold)]
    torch = [run([sys.executable, "-c", "import torch"]) for _ in range(args.cold)]
    print(f"cold `assistant ask` median {statistics.median(cold):.2f} s; `import torch` median {statistics.median(torch):.2f} s; "
          f"ratio {statistics.median(cold) / statistics.median(torch):.2f}")


if __name__ == "__main__":
    main()
