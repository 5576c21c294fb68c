"""Our assistant vs the standard LangChain tutorial RAG retrieval, on the same question set, in one run.

(b) is the LangChain tutorial pipeline: RecursiveCharacterTextSplitter(chunk_size=1000,
chunk_overlap=200), HuggingFaceEmbeddings on the same packaged all-MiniLM-L6-v2, a Chroma
vector store, ``similarity_search(k=4)``; its top chunk is its answer, its 4 chunks are its
citations in rank order, and it never abstains. Both are scored by ``assistant.evaluation``.

Usage::

    pip install -e '.[bench]'
    python benchmarks/compare_langchain.py [--questions seeds/questions.jsonl]

Prints both metric tables and the ratios ours / LangChain for hit@1, MRR, citation
precision, cited characters and query latency (p50). Both run in this process, so machine
noise affects both alike.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


class LangChainTutorialPipeline:
    """The tutorial pipeline behind the same ``ask(question, history) -> Answer`` interface."""

    def __init__(self, documents, model_dir: Path, persist_dir: str, k: int = 4) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma
        from langchain_core.documents import Document as LCDocument
        from langchain_huggingface import HuggingFaceEmbeddings
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from assistant.settings import Settings

        self.settings = Settings(top_k=k)
        self.k = k
        self.docs = {d.doc_id: d for d in documents}
        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True)
        chunks = splitter.split_documents(
            [LCDocument(page_content=d.text, metadata={"doc_id": d.doc_id, "title": d.title}) for d in documents]
        )
        embeddings = HuggingFaceEmbeddings(model_name=str(model_dir), model_kwargs={"device": "cpu"})
        client = chromadb.PersistentClient(path=persist_dir, settings=ChromaSettings(anonymized_telemetry=False))
        self.store = Chroma.from_documents(chunks, embeddings, client=client, collection_name="tutorial")

    def ask(self, question: str, history=()):
        from assistant.types import Answer, Citation
        from index.types import Passage

        hits = self.store.similarity_search(question, k=self.k)
        cites = []
        for n, h in enumerate(hits, start=1):
            start = h.metadata["start_index"]
            doc = self.docs[h.metadata["doc_id"]]
            p = Passage(f"lc{n}", doc.doc_id, h.page_content, start, start + len(h.page_content), doc.line_of(start), doc.line_of(start + len(h.page_content) - 1), title=doc.title)
            cites.append(Citation(n, p, ((p.start, p.end),), 0.0))
        return Answer(question, (hits[0].page_content + " [1]") if hits else "", tuple(cites), False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=None)
    args = parser.parse_args()

    from rich.console import Console
    from rich.table import Table

    from assistant.core import Assistant
    from assistant.evaluation import load_questions, run_eval
    from assistant.settings import Settings
    from index.embedder import packaged_model_path

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "ours")
        ours = Assistant.from_settings(settings, progress=False)
        questions = load_questions(args.questions or settings.eval.questions, ours.documents())
        t0 = time.perf_counter()
        lc = LangChainTutorialPipeline(ours.documents(), packaged_model_path(), str(Path(tmp) / "lc"))
        lc_build = time.perf_counter() - t0
        for q in questions[:3]:  # warm both up
            ours.ask(q.question, q.history)
            lc.ask(q.question)
        results = {"ours": run_eval(ours, questions), "langchain": run_eval(lc, questions)}

    names = ["hit@1", "hit@3", "mrr", "evidence_recall", "citation_precision", "answer_match", "abstention_accuracy",
             "false_abstention", "cited_chars@3", "latency_p50_ms", "latency_p95_ms"]
    table = Table(title=f"{len(questions)} questions (LangChain index built in {lc_build:.1f} s)")
    table.add_column("metric")
    for label in results:
        table.add_column(label)
    for name in names:
        table.add_row(name, *(f"{r.summary[name]:.3f}" for r in results.values()))
    console = Console()
    console.print(table)
    ratios = Table(title="ours / langchain")
    ratios.add_column("metric")
    ratios.add_column("ratio")
    for name in ["hit@1", "mrr", "citation_precision", "cited_chars@3", "latency_p50_ms"]:
        a, b = results["ours"].summary[name], results["langchain"].summary[name]
        ratios.add_row(name, f"{a / b:.2f}" if b else "inf")
    console.print(ratios)


if __name__ == "__main__":
    main()
