"""Ingest and query at scale: 1,000 / 5,000 / 20,000 passages, embedded store and Chroma server.

Usage::

    python benchmarks/scale.py [--sizes 1000 5000 20000] [--modes embedded server] [--questions 60]

The corpus is synthetic and deterministic (seeded): documents of paragraphs that mix shuffled
sentences of ``seeds/japan-us-reset.txt`` with generated sentences ("The harbour authority of
Kessling approved 412 new berths in 2019."), about 450 characters per passage, generated
until the real chunker yields the wanted number of passages.

Each (size, mode) runs in a fresh process (so peak RSS is its own) that:

* builds the index with the default settings (``assistant index``'s code path, progress bar
  on stderr), and reports **ingest** passages per second (wall time of ``build_index``:
  loading, chunking, embedding passages and sentences, writing);
* reports **disk** size of the store folder (the embedded store, or the server's ``--path``);
* reports **peak RSS** of the indexing process (and of the ``chroma run`` server in server mode);
* asks the shipped questions (``--questions`` of them) and reports **query** p50/p95 of
  ``Assistant.ask`` in ms, with the query embedding alone as the same-process baseline.

Backends are named ``torch/<precision>`` or ``onnx-int8``; the rows use ``--backend``
(default ``torch/auto``, the default settings: bfloat16 on a CPU with native bfloat16).
Baselines for ingest, measured in the same run on the smallest corpus, embedded store:
``--baselines`` (default: plain float32 PyTorch, ``torch/float32``, the first one being the
reference the table's ratios divide by, and ``onnx-int8``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_WORDS = {
    "org": ["harbour authority", "water board", "rail company", "city council", "port trust", "energy agency", "school district"],
    "place": ["Kessling", "Marrow Bay", "Tollen", "Vardø Point", "Ashcombe", "Brinley", "Castor Ridge", "Elmsford"],
    "verb": ["approved", "rejected", "postponed", "financed", "inspected", "expanded", "audited"],
    "thing": ["berths", "kilometres of track", "classrooms", "wind turbines", "bridges", "flood barriers", "bus routes"],
}


def _generated_sentence(rng: random.Random) -> str:
    w = {k: rng.choice(v) for k, v in _WORDS.items()}
    forms = [
        f"The {w['org']} of {w['place']} {w['verb']} {rng.randint(2, 900)} new {w['thing']} in {rng.randint(1990, 2025)}.",
        f"According to officials in {w['place']}, the {w['org']} has {w['verb']} plans for {rng.randint(2, 90)} {w['thing']}.",
        f"Residents of {w['place']} said the {w['thing']} were {w['verb']} after a review that took {rng.randint(2, 30)} months.",
    ]
    return rng.choice(forms)


def make_corpus(folder: Path, n_passages: int, seed: int = 20250701) -> int:
    """Write documents under ``folder`` until they chunk into at least ``n_passages`` passages;
    returns the exact passage count (deterministic for a given seed)."""
    from index.chunking import ChunkingConfig, chunk_document, split_sentences
    from index.loader import load_document

    text = (ROOT / "seeds" / "japan-us-reset.txt").read_text(encoding="utf-8")
    seed_sentences = [
        " ".join(text[s:e].split())
        for s, e in split_sentences(text)
        if e - s > 30 and text[s:e].count("“") == text[s:e].count("”")  # no quotation left open across sentences
    ]
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    total, d = 0, 0
    while total < n_passages:
        paras = []
        for _ in range(20):
            para, size = [], 0
            while size < 400:
                s = rng.choice(seed_sentences) if rng.random() < 0.5 else _generated_sentence(rng)
                if para and size + len(s) > 490:
                    continue
                para.append(s)
                size += len(s) + 1
            paras.append(" ".join(para))
        path = folder / f"doc{d:05d}.txt"
        path.write_text(f"Report {d}\n\n" + "\n\n".join(paras) + "\n", encoding="utf-8")
        n = len(chunk_document(load_document(path), ChunkingConfig()))
        while total + n > n_passages and len(paras) > 1:  # trim the last document to land on the size
            paras = paras[:-1]
            path.write_text(f"Report {d}\n\n" + "\n\n".join(paras) + "\n", encoding="utf-8")
            n = len(chunk_document(load_document(path), ChunkingConfig()))
        total += n
        d += 1
    return total


def _disk_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _hwm_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def run_one(size: int, mode: str, corpus: Path, n_questions: int, backend: str, skip_queries: bool) -> dict:
    """Index ``corpus`` into a fresh store and measure (runs in its own process)."""
    from assistant.core import Assistant
    from assistant.settings import Settings
    from index import make_embedder

    work = Path(tempfile.mkdtemp(prefix=f"scale-{size}-{mode}-"))
    server = None
    try:
        name, _, precision = backend.partition("/")
        env = {"data_dir": work / "data", "embedding_backend": name, "embedding_precision": precision or "auto", "index_check_seconds": 3600}
        if mode == "server":
            exe = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            server = subprocess.Popen(
                [exe, "run", "--path", str(work / "server"), "--host", "127.0.0.1", "--port", str(port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            url = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            env["chroma_url"] = url
        settings = Settings(**env)
        models = Path(os.environ.get("SCALE_MODEL_CACHE", work / "data" / "models"))
        a = Assistant(settings, settings.open_store(), make_embedder(name, None, models, settings.index.embedding_precision))
        a.embedder.embed_documents(["warm up"] * 64)  # model load / export is not ingest
        t = time.perf_counter()
        report = a.index([corpus], progress=True)
        ingest_s = time.perf_counter() - t
        out = {
            "size": size,
            "mode": mode,
            "backend": backend,
            "passages": report.build.n_passages,
            "ingest_s": ingest_s,
            "ingest_pps": report.build.n_passages / ingest_s,
            "disk_mb": _disk_bytes(work / ("server" if mode == "server" else "data/chroma")) / 1e6,
        }
        if not skip_queries:
            questions = [json.loads(line)["question"] for line in settings.eval.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
            questions = (questions * 3)[:n_questions]
            for q in questions[:5]:
                a.ask(q)
            asks, embeds = [], []
            for q in questions:
                t = time.perf_counter()
                a.embedder.embed_query([q])
                embeds.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                a.ask(q)
                asks.append((time.perf_counter() - t) * 1000)
            out.update(
                query_p50_ms=_pct(asks, 50), query_p95_ms=_pct(asks, 95), embed_p50_ms=_pct(embeds, 50), n_queries=len(asks)
            )
        out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if server is not None:
            out["server_peak_rss_mb"] = _hwm_kb(server.pid) / 1024
        return out
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--modes", nargs="+", default=["embedded", "server"], choices=["embedded", "server"])
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--backend", default="torch/auto", help="Backend of the rows: torch/<auto|bfloat16|float32> or onnx-int8.")
    parser.add_argument("--baselines", nargs="*", default=["torch/float32", "onnx-int8"], help="Backends measured on the smallest corpus; the first is the ratios' reference.")
    parser.add_argument("--no-baseline", action="store_true", help="Skip the baselines.")
    parser.add_argument("--one", nargs=4, metavar=("SIZE", "MODE", "CORPUS", "BACKEND"), help=argparse.SUPPRESS)
    parser.add_argument("--skip-queries", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

    if args.one:
        size, mode, corpus, backend = args.one
        print(json.dumps(run_one(int(size), mode, Path(corpus), args.questions, backend, args.skip_queries)))
        return

    def child(size: int, mode: str, corpus: Path, backend: str, skip_queries: bool = False) -> dict:
        cmd = [sys.executable, __file__, "--one", str(size), mode, str(corpus), backend, "--questions", str(args.questions)]
        out = subprocess.run(cmd + (["--skip-queries"] if skip_queries else []), stdout=subprocess.PIPE, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    with tempfile.TemporaryDirectory(prefix="scale-corpus-") as tmp:
        os.environ["SCALE_MODEL_CACHE"] = str(Path(tmp) / "models")  # export the ONNX model once, outside the timings
        corpora = {}
        for size in args.sizes:
            corpora[size] = Path(tmp) / str(size)
            n = make_corpus(corpora[size], size)
            chars = sum(len(p.read_text(encoding="utf-8")) for p in corpora[size].iterdir())
            print(f"corpus {size}: {n} passages, {len(list(corpora[size].iterdir()))} documents, {chars / n:.0f} characters per passage", file=sys.stderr)
        rows, baselines = [], []
        if not args.no_baseline:
            size0 = min(args.sizes)
            for backend in args.baselines:
                baselines.append(child(size0, "embedded", corpora[size0], backend, skip_queries=True))
                print(f"baseline ({backend}, embedded, {size0}): {baselines[-1]['ingest_pps']:.1f} passages/s", file=sys.stderr, flush=True)
        base = baselines[0] if baselines else None
        for size in args.sizes:
            for mode in args.modes:
                rows.append(child(size, mode, corpora[size], args.backend))
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)

    print(f"\nrows: {args.backend}")
    print(f"\n| passages | mode | ingest passages/s | vs {base['backend'] if base else 'baseline'} | disk MB | peak RSS MB (server) | query p50 ms | query p95 ms | embed-only p50 ms |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        ratio = f"{r['ingest_pps'] / base['ingest_pps']:.2f}x" if base else "-"
        server = f" ({r['server_peak_rss_mb']:.0f})" if "server_peak_rss_mb" in r else ""
        print(
            f"| {r['passages']:,} | {r['mode']} | {r['ingest_pps']:.1f} | {ratio} | {r['disk_mb']:.0f} | {r['peak_rss_mb']:.0f}{server} | "
            f"{r['query_p50_ms']:.1f} | {r['query_p95_ms']:.1f} | {r['embed_p50_ms']:.1f} |"
        )
    for b in baselines:
        ratio = f" ({b['ingest_pps'] / base['ingest_pps']:.2f}x)" if b is not base else " (reference)"
        print(f"\nbaseline {b['backend']}, embedded, {b['passages']:,} passages: {b['ingest_pps']:.1f} passages/s{ratio}")


if __name__ == "__main__":
    main()
