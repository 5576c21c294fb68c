"""Cold start of `assistant ask` and warm per-question latency, with a same-run baseline.

Usage::

    python benchmarks/latency.py [--rounds 3] [--cold 3]
    python benchmarks/latency.py --access 1000 [--store DIR] [--rounds 3]   # access filtering's cost
    python benchmarks/latency.py --tokens                                   # 401 of an unknown or revoked token

* cold: wall time of ``python -m assistant ask QUESTION --json`` in a fresh process (index already
  built), median of ``--cold`` runs, in seconds; its baseline is ``python -c "import torch"``
  in the same run, since importing torch dominates any cold start here.
* warm: ``Assistant.ask`` over every question of the shipped set, ``--rounds`` times, p50/p95
  in ms; its baseline is the query embedding alone (``embedder.embed_query([question])``), measured
  interleaved in the same process, so the ratio shows what retrieval and answering add.
* store round trips: Chroma calls per warm question (every call goes through
  ``ChromaStore.call``, counted here), mean and max; the rate-limited check for a newer build
  (``ASSISTANT_INDEX_CHECK_SECONDS``) is the only one expected.

* access (``--access N``): an index of ``N`` generated documents (sentences of the seed article
  mixed with generated ones, two paragraphs each, the corpus of ``benchmarks/scale.py`` cut
  small), half of them under ``restricted/`` and labelled ``restricted`` by an access file, the
  rest ``everyone``; the shipped questions asked warm, interleaved, by a reader who may read
  everything (``groups=None``, no filtering) and by a reader in ``everyone`` only (the filter
  leaves half the documents): p50/p95 in ms of each and the ratio of the p50s (the issue's floor:
  at most 1.1). ``--store DIR`` keeps the index for the next run (built once, about 3 min on 2 cores).

* tokens (``--tokens``): a server with ``auth_mode`` token on loopback (uvicorn in a thread);
  ``GET /healthz`` 200 times each with a valid token (the baseline), an unknown one, the same
  one after ``revoke``, and none: status, median and p95 round trip in ms (the floor: 401 in
  under 10 ms).

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


def access_corpus(folder, n_documents: int, seed: int = 20261206) -> None:
    """``n_documents`` documents of two paragraphs each under ``folder``: the first half in
    ``open/``, the rest in ``restricted/`` (sentences from :mod:`benchmarks.scale`'s corpus)."""
    import random
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from scale import ROOT, _generated_sentence

    from index.chunking import split_sentences

    text = (ROOT / "seeds" / "japan-us-reset.txt").read_text(encoding="utf-8")
    pool = [" ".join(text[s:e].split()) for s, e in split_sentences(text) if e - s > 30 and text[s:e].count("“") == text[s:e].count("”")]
    rng = random.Random(seed)
    for d in range(n_documents):
        paras = []
        for _ in range(2):
            para, size = [], 0
            while size < 350:
                sentence = rng.choice(pool) if rng.random() < 0.5 else _generated_sentence(rng)
                para.append(sentence)
                size += len(sentence) + 1
            paras.append(" ".join(para))
        path = Path(folder) / ("open" if d < n_documents // 2 else "restricted") / f"doc{d:05d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"Report {d}\n\n" + "\n\n".join(paras) + "\n", encoding="utf-8")


def access_latency(n_documents: int, store: str | None, rounds: int) -> None:
    """Warm p50 with and without access filtering on ``n_documents`` documents, half restricted (module docstring)."""
    import tempfile
    from pathlib import Path

    from assistant.core import Assistant
    from assistant.evaluation import percentile
    from assistant.settings import Settings

    folder = Path(store) if store else Path(tempfile.mkdtemp(prefix="access-bench-"))
    corpus, access = folder / "corpus", folder / "access.txt"
    if not corpus.is_dir():
        access_corpus(corpus, n_documents)
    access.write_text("restricted/**: restricted\n**: everyone\n", encoding="utf-8")
    settings = Settings(data_dir=folder / "data", access_file=access, documents=[corpus])
    assistant = Assistant.from_settings(settings, progress=True)
    report = assistant.index([corpus], progress=True)
    print(report.describe().splitlines()[0], file=sys.stderr)
    everyone = frozenset({"everyone"})
    n_docs, n_passages = assistant.counts()
    seen_docs, seen_passages = assistant.counts(everyone)
    print(f"index: {n_docs} documents, {n_passages} passages; a reader in 'everyone' may read {seen_docs} documents, {seen_passages} passages")
    import json

    # the shipped questions as plain JSONL (their evidence is checked against the seed article, not this corpus)
    texts = [json.loads(line) for line in Path(settings.eval.questions).read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [(t["question"], tuple(t.get("history") or ())) for t in texts]
    for q, h in questions[:5]:
        assistant.ask(q, h)
        assistant.ask(q, h, groups=everyone)
    plain, filtered = [], []
    for _ in range(rounds):
        for q, h in questions:
            plain.append(_ms(lambda: assistant.ask(q, h)))
            filtered.append(_ms(lambda: assistant.ask(q, h, groups=everyone)))
    print(f"warm ask, no filter        p50 {percentile(plain, 50):6.1f} ms  p95 {percentile(plain, 95):6.1f} ms  (n={len(plain)})")
    print(f"warm ask, 'everyone' only  p50 {percentile(filtered, 50):6.1f} ms  p95 {percentile(filtered, 95):6.1f} ms  (n={len(filtered)})")
    print(f"ratio filtered/unfiltered p50 {percentile(filtered, 50) / percentile(plain, 50):.3f} (floor: at most 1.1)")


def token_latency(n: int = 200) -> None:
    """Round trips of ``GET /healthz`` with a valid, unknown, revoked and no bearer token (module docstring)."""
    import socket
    import tempfile
    import threading

    import httpx
    import uvicorn

    from assistant.access import TokenStore
    from assistant.core import Assistant
    from assistant.settings import Settings
    from ui.server import create_app

    settings = Settings(data_dir=tempfile.mkdtemp(prefix="token-bench-"), auth_mode="token")
    assistant = Assistant.from_settings(settings, progress=False)
    tokens = TokenStore(settings.index.data_dir)
    token = tokens.add("bench", ["staff"])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(assistant, settings), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:

        def run(label: str, headers: dict) -> None:
            times, status = [], None
            for _ in range(n):
                t = time.perf_counter()
                status = http.get("/healthz", headers=headers).status_code
                times.append((time.perf_counter() - t) * 1000.0)
            times.sort()
            print(f"{label:8} {status}  median {statistics.median(times):5.2f} ms  p95 {times[int(0.95 * n)]:5.2f} ms")

        run("valid", {"Authorization": f"Bearer {token}"})
        run("unknown", {"Authorization": "Bearer cat_" + "y" * 43})
        tokens.revoke("bench")
        run("revoked", {"Authorization": f"Bearer {token}"})
        run("none", {})
    server.should_exit = True


def quoting_latency(rounds: int) -> None:
    """Warm ``Assistant.ask`` p50 over the seed questions with the support head choosing the
    quotes (``assistant/answering/support.py``) and with the fused-score ratio rule it replaced, in
    alternating rounds of one process, so the ratio compares like with like."""
    from assistant.core import Assistant
    from assistant.evaluation import load_questions, percentile
    from assistant.settings import Settings

    assistant = Assistant.from_settings(Settings(), progress=False)
    questions = load_questions(assistant.settings.eval.questions, assistant.documents())
    for q in questions[:5]:
        assistant.ask(q.question, q.history)
    times: dict[str, list[float]] = {"support": [], "ratio": []}
    for _ in range(rounds):
        for mode in times:
            assistant.quotes.further = mode
            times[mode] += [_ms(lambda: assistant.ask(q.question, q.history)) for q in questions]
    p50 = {mode: percentile(t, 50) for mode, t in times.items()}
    print(f"warm ask p50: support head {p50['support']:.1f} ms, ratio rule {p50['ratio']:.1f} ms, "
          f"ratio {p50['support'] / p50['ratio']:.3f} (n={len(times['support'])} each)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cold", type=int, default=3)
    parser.add_argument("--access", type=int, default=0, help="Measure access filtering on this many documents, half restricted.")
    parser.add_argument("--store", default=None, help="--access: folder for the corpus and index, reused by the next run.")
    parser.add_argument("--tokens", action="store_true", help="Measure the 401 of unknown and revoked bearer tokens.")
    parser.add_argument("--quoting", action="store_true",
                        help="Measure the quote selection: the support head against the fused-score ratio rule, same process.")
    args = parser.parse_args()
    if args.tokens:
        token_latency()
        return
    if args.access:
        access_latency(args.access, args.store, args.rounds)
        return
    if args.quoting:
        quoting_latency(args.rounds)
        return

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
