"""What reading PDFs costs `assistant index`: throughput on the 19-page report, reader time vs total.

In one process, on fresh data dirs, with the real embedder (the default backend):

1. the report PDF (tests/data/GeoBase_NHNC1_Data_Model_UML_EN.pdf) indexed through its reader;
2. the same stored text saved as a .txt and indexed (the baseline: the text reader costs ~0).

Prints pages/s and passages/s of the whole `build_index` call, the reader's seconds (the
``read_seconds`` of the report) and its share of the total, the reader alone, repeated
(median of 5), and chunking and embedding timed on their own. Usage: ``python benchmarks/readers.py``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REPORT = ROOT / "tests" / "data" / "GeoBase_NHNC1_Data_Model_UML_EN.pdf"


def index_once(path: Path, embedder) -> tuple[float, float, int]:
    from index import ChromaStore, build_index

    with tempfile.TemporaryDirectory() as data:
        report = build_index([path], ChromaStore(path=Path(data) / "chroma"), embedder, progress=False)
    return report.seconds, report.read_seconds, report.build.n_passages


def main() -> None:
    from assistant.settings import Settings
    from index import make_embedder
    from index.readers import read

    settings = Settings()
    embedder = make_embedder(settings.index.embedding_backend, settings.index.model_path, Path(tempfile.mkdtemp()) / "models", settings.index.embedding_precision)
    embedder.embed_documents(["warm up the model"] * 8)
    reads = []
    for _ in range(5):
        t0 = time.perf_counter()
        doc = read(REPORT)
        reads.append(time.perf_counter() - t0)
    pages = len(doc.pages)
    from index import ChunkingConfig, chunk_document
    from index.loader import load_document

    t0 = time.perf_counter()
    chunks = chunk_document(load_document(REPORT), ChunkingConfig(max_tokens=embedder.max_tokens), embedder.count_tokens)
    t1 = time.perf_counter()
    embedder.embed_documents([t for p in chunks for t in p.sentence_texts()] + [p.text for p in chunks])
    t2 = time.perf_counter()
    total, reader, passages = index_once(REPORT, embedder)
    with tempfile.TemporaryDirectory() as d:
        txt = Path(d) / "report.txt"
        txt.write_text(doc.text, encoding="utf-8")
        base_total, base_reader, base_passages = index_once(txt, embedder)
    print(f"report: {pages} pages, {len(doc.text):,} characters, {passages} passages")
    print(f"reader alone (median of 5): {statistics.median(reads) * 1000:.0f} ms = {pages / statistics.median(reads):.0f} pages/s")
    print(f"assistant index, PDF: {total:.2f} s total = {pages / total:.1f} pages/s, {passages / total:.1f} passages/s; "
          f"reading {reader:.2f} s ({reader / total:.1%} of the total)")
    print(f"measured apart: chunking {t1 - t0:.2f} s, embedding {t2 - t1:.2f} s (the model alone, {len(chunks) / (t2 - t1):.1f} passages/s)")
    print(f"assistant index, same text as .txt (baseline): {base_total:.2f} s total, reading {base_reader:.3f} s; "
          f"{base_passages} passages; PDF/txt total time ratio {total / base_total:.2f}")


if __name__ == "__main__":
    main()
