"""Our assistant vs the LangChain tutorial RAG pipeline, on the same documents and questions, in one run.

The peer is the LangChain tutorial pipeline: ``RecursiveCharacterTextSplitter`` (at
1000/200 and at 500/100 characters, ``add_start_index=True``), ``HuggingFaceEmbeddings`` on
the same packaged all-MiniLM-L6-v2, a Chroma vector store, ``similarity_search(k=4)``
(with a ``doc_id`` filter for scoped questions). Its top chunk is its answer, its 4 chunks
are its citations in rank order, and it never abstains. Everything is scored by
``assistant.evaluation``, the same definitions as ``assistant eval``.

Question sets: the seed set, and the *report* documents of each public set (from
``benchmarks/data/split.json`` and ``../shared/datasets/``; PolicyQA scoped to each
question's policy). Without ``../shared`` the committed gate samples are used instead.

Usage::

    pip install -e '.[bench]'
    python benchmarks/compare_langchain.py [--questions FILE ...] [--datasets ../shared/datasets] [--max-questions N]

Prints one table, system x corpus x metric. All systems run in this process, so machine
noise affects them alike.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

METRICS = ["hit@1", "hit@3", "mrr", "quote@1", "answer_match", "false_abstention", "abstention_accuracy", "cited_chars@3", "latency_p50_ms"]


class LangChainTutorialPipeline:
    """The tutorial pipeline behind the ``ask(question, history, documents) -> Answer`` interface
    that :func:`assistant.evaluation.run_eval` calls."""

    def __init__(self, documents, embeddings, persist_dir: str, chunk_size: int, chunk_overlap: int, k: int = 4) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma
        from langchain_core.documents import Document as LCDocument
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from assistant.settings import Settings

        self.settings = Settings(top_k=k)
        self.k = k
        self.docs = {d.doc_id: d for d in documents}
        splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap, add_start_index=True)
        chunks = splitter.split_documents(
            [LCDocument(page_content=d.text, metadata={"doc_id": d.doc_id, "title": d.title}) for d in documents]
        )
        client = chromadb.PersistentClient(path=persist_dir, settings=ChromaSettings(anonymized_telemetry=False))
        self.store = Chroma.from_documents(chunks, embeddings, client=client, collection_name=f"tutorial-{chunk_size}")

    def documents(self):
        return list(self.docs.values())

    def ask(self, question: str, history=(), documents=None):
        from assistant.types import Answer, Citation
        from index.types import Passage

        where = None
        if documents:
            where = {"doc_id": documents[0]} if len(documents) == 1 else {"doc_id": {"$in": list(documents)}}
        hits = self.store.similarity_search(question, k=self.k, filter=where)
        cites = []
        for n, h in enumerate(hits, start=1):
            start = h.metadata["start_index"]
            doc = self.docs[h.metadata["doc_id"]]
            end = start + len(h.page_content)
            p = Passage(f"lc{n}", doc.doc_id, h.page_content, start, end, doc.line_of(start), doc.line_of(end - 1), title=doc.title)
            cites.append(Citation(n, p, ((p.start, p.end),), 0.0))
        return Answer(question, (hits[0].page_content + " [1]") if hits else "", tuple(cites), False)


def report_sets(datasets: Path, out: Path) -> list[Path]:
    """The report side of each public set as a SQuAD-layout file in ``out`` (from the split manifest)."""
    from make_split import subset

    manifest = json.loads((ROOT / "benchmarks" / "data" / "split.json").read_text(encoding="utf-8"))
    paths = []
    for name, side in manifest["sets"].items():
        raw = json.loads((datasets / name).read_text(encoding="utf-8"))
        path = out / f"{name.removesuffix('.json')}-report.json"
        path.write_text(json.dumps(subset(raw, side["report"], side["scope"])), encoding="utf-8")
        paths.append(path)
    return paths


def load_set(path: Path, ours, max_questions: int | None):
    """``(name, documents, questions, skipped)`` of a JSONL or SQuAD-layout file."""
    from assistant.evaluation import load_questions
    from assistant.evaluation.question_sets import is_squad_file, load_squad
    from index.types import Document

    if not is_squad_file(path):
        return path.stem, ours.documents(), load_questions(path, ours.documents())[:max_questions], []
    s = load_squad(path)
    docs = [Document(d.doc_id, d.title, d.text, d.doc_id, hashlib.sha256(d.text.encode()).hexdigest()) for d in s.documents]
    return s.name, docs, s.questions[:max_questions], s.skipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, nargs="*", default=None, help="Question sets (default: seed + report sides).")
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--max-questions", type=int, default=None, help="Ask at most this many questions of each set.")
    parser.add_argument("--json", type=Path, help="Also write the table as JSON here.")
    args = parser.parse_args()

    from langchain_huggingface import HuggingFaceEmbeddings
    from rich.console import Console
    from rich.table import Table

    from assistant.core import Assistant
    from assistant.evaluation import run_eval
    from assistant.evaluation.question_sets import index_documents
    from assistant.settings import GATE_SETS, Settings
    from index.packaged_model import packaged_model_path

    rows: dict[tuple[str, str], dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        seed = Assistant.from_settings(Settings(data_dir=tmp / "ours"), progress=False)
        if args.questions:
            paths = args.questions
        elif args.datasets.is_dir():
            paths = [seed.settings.eval.questions, *report_sets(args.datasets, tmp)]
        else:
            paths = [seed.settings.eval.questions, *GATE_SETS]
        embeddings = HuggingFaceEmbeddings(model_name=str(packaged_model_path()), model_kwargs={"device": "cpu"})
        for i, path in enumerate(paths):
            name, docs, questions, skipped = load_set(Path(path), seed, args.max_questions)
            ours = seed if name == Path(seed.settings.eval.questions).stem else None
            if ours is None:
                from assistant.evaluation.question_sets import SetDocument

                ours = index_documents([SetDocument(d.doc_id, d.title, d.text) for d in docs], tmp / f"set{i}", seed)
            systems = {"ours (default)": ours}
            for size, overlap in ((1000, 200), (500, 100)):
                t0 = time.perf_counter()
                systems[f"langchain {size}/{overlap}"] = LangChainTutorialPipeline(docs, embeddings, str(tmp / f"lc{i}-{size}"), size, overlap)
                print(f"{name}: langchain {size}/{overlap} index built in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
            for label, system in systems.items():
                rows[(name, label)] = run_eval(system, questions, name=name).summary
                print(f"{name}: {label} done ({len(questions)} questions, {len(skipped)} skipped)", file=sys.stderr)

    table = Table(title="system x corpus x metric (report documents; same run)")
    for col in ("corpus", "system", "n", *METRICS):
        table.add_column(col)
    for (name, label), s in rows.items():
        table.add_row(name, label, str(s["n_questions"]), *(_fmt(s.get(m)) for m in METRICS))
    Console(width=250).print(table)
    if args.json:
        args.json.write_text(json.dumps({f"{n} | {label}": s for (n, label), s in rows.items()}, indent=1), encoding="utf-8")


def _fmt(v) -> str:
    if v is None or v != v:
        return "–"
    return f"{v:.3f}" if abs(v) < 10 else f"{v:.0f}"


if __name__ == "__main__":
    main()
