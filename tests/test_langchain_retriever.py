"""The retriever plugs into LangChain chains through ``PassageRetriever.as_langchain()``, while
the answer path itself never imports LangChain (it costs a cold ``assistant ask`` about a second)."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def test_as_langchain_returns_the_passages_with_their_exact_spans(assistant):
    from langchain_core.retrievers import BaseRetriever

    retriever = assistant._current()
    wrapped = retriever.as_langchain()
    assert isinstance(wrapped, BaseRetriever)
    question = "Who is Japan's chief negotiator?"
    docs = wrapped.invoke(question)
    found = retriever.search(question)
    assert [d.id for d in docs] == [r.passage.passage_id for r in found]
    top, best = docs[0], found[0]
    assert top.page_content == best.passage.text
    assert top.metadata["doc_id"] == "japan-us-reset.txt"
    assert (top.metadata["start"], top.metadata["end"]) == (best.passage.start, best.passage.end)
    s, e = top.metadata["best_sentence"]
    assert "Akazawa" in best.passage.text[s - best.passage.start : e - best.passage.start]


def test_the_answer_path_imports_no_langchain_and_no_reader_module():
    code = (
        "import sys, assistant.core, ui.cli\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('langchain_core', 'langsmith', 'gradio', 'fastapi', 'torch', 'wcmatch')"
        " or m.startswith('index.readers'))\n"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
