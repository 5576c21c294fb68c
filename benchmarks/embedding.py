"""Embedding throughput of every backend and precision, in one process, on the same texts.

Usage::

    python benchmarks/embedding.py [--passages 300] [--rounds 2]

Texts: the passages of the scale benchmark's synthetic corpus (``benchmarks/scale.py``,
~440 characters each) and their sentences, embedded in one call per configuration, as
indexing does. Reports, per configuration: passages per second *with their sentences* (the
work of indexing one passage), the ratio to float32 PyTorch (the baseline, same run, best of
``--rounds``), and the cosine of its vectors to float32 PyTorch's (min / mean). Configurations
are interleaved round by round, so a noisy neighbour hits them alike.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    from scale import make_corpus

    from index.chunking import ChunkingConfig, chunk_document
    from index.embedder import OnnxEmbedder, SentenceTransformerEmbedder, cpu_has_native_bfloat16
    from index.loader import load_document

    with tempfile.TemporaryDirectory(prefix="embedding-bench-") as tmp:
        corpus = Path(tmp) / "corpus"
        make_corpus(corpus, args.passages)
        fp32 = SentenceTransformerEmbedder(precision="float32", batch_size=64)
        docs = [load_document(p) for p in sorted(corpus.iterdir())]
        passages = [p for d in docs for p in chunk_document(d, ChunkingConfig(max_tokens=fp32.max_tokens), fp32.count_tokens)]
        texts = [t for p in passages for t in p.sentence_texts()] + [p.text for p in passages]
        configs = {"torch float32 (batch 64)": fp32}
        if cpu_has_native_bfloat16():
            for batch in (32, 64, 128):
                configs[f"torch bfloat16 (batch {batch})"] = SentenceTransformerEmbedder(precision="bfloat16", batch_size=batch)
        else:
            print("this CPU has no native bfloat16: bfloat16 rows skipped", file=sys.stderr)
        configs["onnx float32"] = OnnxEmbedder(cache_dir=Path(tmp) / "models", quantized=False)
        configs["onnx int8"] = OnnxEmbedder(cache_dir=Path(tmp) / "models", quantized=True)
        for e in configs.values():
            e.embed(texts[:64])  # load / export outside the timings
        best = {name: float("inf") for name in configs}
        vectors = {}
        for _ in range(args.rounds):
            for name, e in configs.items():
                t = time.perf_counter()
                vectors[name] = e.embed(texts)
                best[name] = min(best[name], time.perf_counter() - t)
    base = best["torch float32 (batch 64)"]
    print(f"{len(passages)} passages, {len(texts) - len(passages)} sentences; best of {args.rounds} rounds\n")
    print("| configuration | passages/s (with sentences) | vs float32 | cosine to float32 min / mean |")
    print("|---|---:|---:|---|")
    ref = vectors["torch float32 (batch 64)"]
    for name, seconds in best.items():
        cos = (vectors[name] * ref).sum(axis=1)
        print(f"| {name} | {len(passages) / seconds:.1f} | {base / seconds:.2f}x | {cos.min():.5f} / {cos.mean():.5f} |")


if __name__ == "__main__":
    main()
