"""Training and evaluation pairs for the reader, from the public question sets (see
``/work/shared/datasets/README.md`` or ``--datasets``) and the committed split
``benchmarks/data/split.json``.

A document is built as the evaluation builds it: ``title.replace("_", " ") + "\\n\\n" +
"\\n\\n".join(paragraph contexts)``, so a gold answer at ``answer_start`` of a paragraph is at
that paragraph's offset + ``answer_start`` in the document. Sentences come from
:func:`index.chunking.chunk_document` with the embedding model's token counter: exactly the
sentences the assistant indexes.

For each question the candidates are the sentences of its document ranked highest by BM25
(``bm25s``) and by the bi-encoder's cosine (all-MiniLM-L6-v2), a few random ones, and the
sentences holding a gold answer (label 1) or, for SQuAD 2.0's unanswerable questions, the
``plausible_answers`` (label 0: the hard negatives). A sentence that holds only part of a
gold answer is left out (neither label fits).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.chunking import ChunkingConfig, chunk_document
from index.types import Document

ROOT = Path(__file__).resolve().parent.parent
SPLIT = ROOT / "benchmarks" / "data" / "split.json"


@dataclass
class Doc:
    set_name: str
    title: str
    text: str
    sentences: list[tuple[int, int]]


@dataclass
class Question:
    qid: str
    set_name: str
    doc: int
    question: str
    gold: list[tuple[int, int]]  # answer spans (document offsets); plausible ones when impossible
    impossible: bool
    candidates: list[int] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)


def build_document(article: dict) -> tuple[str, str, list[int]]:
    """``(title, text, paragraph offsets)`` of a SQuAD-layout article."""
    title = article["title"].replace("_", " ")
    text, offsets = title + "\n\n", []
    for i, p in enumerate(article["paragraphs"]):
        if i:
            text += "\n\n"
        offsets.append(len(text))
        text += p["context"]
    return title, text, offsets


def load(datasets: Path, part: str, count_tokens) -> tuple[list[Doc], list[Question]]:
    """Documents and questions of the ``part`` ("fit" or "report") documents of every set."""
    split = json.loads(SPLIT.read_text())
    docs: list[Doc] = []
    questions: list[Question] = []
    for set_name, entry in split["sets"].items():
        wanted = set(entry[part])
        data = json.loads((datasets / set_name).read_text())["data"]
        for article in data:
            if article["title"] not in wanted:
                continue
            title, text, offsets = build_document(article)
            passages = chunk_document(Document(article["title"], title, text, "", ""), ChunkingConfig(), count_tokens)
            sentences = [s for p in passages for s in p.sentences]
            docs.append(Doc(set_name, title, text, sentences))
            for p, off in zip(article["paragraphs"], offsets):
                for qa in p["qas"]:
                    impossible = bool(qa.get("is_impossible"))
                    answers = qa.get("plausible_answers", []) if impossible else qa["answers"]
                    gold = sorted({(off + a["answer_start"], off + a["answer_start"] + len(a["text"])) for a in answers})
                    if not impossible and not gold:
                        continue
                    questions.append(Question(qa["id"], set_name, len(docs) - 1, qa["question"], gold, impossible))
    return docs, questions


def label(sentence: tuple[int, int], gold: list[tuple[int, int]]) -> int | None:
    """1 if the sentence holds a whole gold span, None if it holds only part of one, else 0."""
    s, e = sentence
    if any(s <= gs and ge <= e for gs, ge in gold):
        return 1
    if any(gs < e and s < ge for gs, ge in gold):
        return None
    return 0


def add_candidates(docs: list[Doc], questions: list[Question], embed, k_lexical: int = 5, k_dense: int = 5, n_random: int = 1, seed: int = 0) -> None:
    """Fill ``candidates``/``labels`` of every question (see the module docstring)."""
    import bm25s

    rng = random.Random(seed)
    by_doc: dict[int, list[Question]] = {}
    for q in questions:
        by_doc.setdefault(q.doc, []).append(q)
    for d, qs in by_doc.items():
        doc = docs[d]
        texts = [doc.text[s:e] for s, e in doc.sentences]
        retriever = bm25s.BM25()
        retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
        lexical = np.zeros((len(qs), len(texts)), dtype=np.float32)
        for i, q in enumerate(qs):
            lexical[i] = retriever.get_scores(bm25s.tokenize(q.question, stopwords="en", show_progress=False, return_ids=False)[0])
        dense = embed([q.question for q in qs]) @ embed(texts).T
        for i, q in enumerate(qs):
            labels = [label(s, q.gold) for s in doc.sentences]
            chosen = list(np.argsort(-lexical[i])[:k_lexical]) + list(np.argsort(-dense[i])[:k_dense])
            chosen += [j for j, lab in enumerate(labels) if lab == 1 or (q.impossible and label(doc.sentences[j], q.gold) is None)]
            chosen += rng.sample(range(len(texts)), min(n_random, len(texts)))
            seen = []
            for j in map(int, chosen):
                if j not in seen:
                    seen.append(j)
            # For unanswerable questions the plausible answer is not an answer: every candidate is 0.
            pairs = [(j, 0 if q.impossible else labels[j]) for j in seen]
            pairs = [(j, lab) for j, lab in pairs if lab is not None]
            q.candidates = [j for j, _ in pairs]
            q.labels = [lab for _, lab in pairs]


def encode(encoder, docs: list[Doc], questions: list[Question]) -> list[list[tuple[list[int], list[int], int]]]:
    """Per question, its candidates' reader inputs ``(input_ids, token_type_ids, label)`` (first window of each)."""
    out = []
    titles = {d: encoder.pieces([doc.title])[0] for d, doc in enumerate(docs)}
    sentence_ids = {d: encoder.pieces([doc.text[s:e] for s, e in doc.sentences]) for d, doc in enumerate(docs)}
    for q in questions:
        qi = encoder.pieces([q.question])[0]
        rows = []
        for j, lab in zip(q.candidates, q.labels):
            context = sentence_ids[q.doc][j - 1] if j > 0 else []
            ids, types = encoder.encode_pair(qi, sentence_ids[q.doc][j], titles[q.doc], context)[0]
            rows.append((ids, types, lab))
        out.append(rows)
    return out
