"""Choose ``assistant.answering.generative.SUPPORT_THRESHOLD``: when does a passage support a claim?

Usage::

    python benchmarks/support_threshold.py

On the indexed documents (the seed article by default), every sentence of six words or more
becomes a claim, degraded the way a model rewords: every third word dropped. It is scored
(``SupportScorer.best``: mean of embedding cosine and content-word overlap with the passage's
best-matching sentence) against

* its own passage: a **supported** claim; and
* the best *other* passage for it by the retriever (same topic, different passage): a hard
  **unsupported** claim.

It prints, per threshold, the share of supported claims accepted and of unsupported ones
wrongly accepted; the threshold is the lowest that keeps wrong acceptances under 10 %.
"""

from __future__ import annotations


def main() -> None:
    import numpy as np

    from assistant.core import Assistant
    from assistant.answering.generative import SUPPORT_THRESHOLD, SupportScorer
    from assistant.settings import Settings

    assistant = Assistant.from_settings(Settings(), progress=False)
    scorer = SupportScorer(assistant.embedder)
    retriever = assistant.retriever
    retriever.refresh()
    own, other = [], []
    for p in assistant.store.passages():
        for start, end in p.sentences:
            words = p.text[start - p.start : end - p.start].split()
            if len(words) < 6:
                continue
            claim = " ".join(w for i, w in enumerate(words) if i % 3 != 2)
            emb = scorer.embed([claim])[0]
            retrieved = retriever.search(claim)
            mine = next((r for r in retrieved if r.passage.passage_id == p.passage_id), None)
            rival = next((r for r in retrieved if r.passage.passage_id != p.passage_id), None)
            for r, bucket in ((mine, own), (rival, other)):
                if r is not None:
                    embs = scorer.embed([r.passage.text[s - r.passage.start : e - r.passage.start] for s, e in r.passage.sentences])
                    bucket.append(scorer.best(claim, emb, r, embs)[0])
    own_a, other_a = np.array(own), np.array(other)
    print(f"{len(own_a)} supported and {len(other_a)} unsupported claims")
    print(f"supported:   min {own_a.min():.2f}  p5 {np.percentile(own_a, 5):.2f}  median {np.median(own_a):.2f}")
    print(f"unsupported: median {np.median(other_a):.2f}  p90 {np.percentile(other_a, 90):.2f}  max {other_a.max():.2f}")
    print("\n| threshold | supported accepted | unsupported accepted |\n|---|---|---|")
    for t in (0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65):
        mark = " (current)" if abs(t - SUPPORT_THRESHOLD) < 1e-9 else ""
        print(f"| {t:.2f}{mark} | {(own_a >= t).mean():.3f} | {(other_a >= t).mean():.3f} |")
    chosen = next((t for t in np.arange(0.30, 0.90, 0.01) if (other_a >= t).mean() < 0.10), None)
    print(f"\nlowest threshold with < 10 % unsupported accepted: {chosen:.2f}")


if __name__ == "__main__":
    main()
