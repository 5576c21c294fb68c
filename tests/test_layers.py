"""The one-way flow of the folders (documents -> index/ -> store -> assistant/ -> ui/), checked
on the source: what each package may import, and the one answer schema everything writes."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from assistant import AnswerOut
import assistant as assistant_package

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """``(module, names)`` of every import in a file (``names`` empty for ``import module``)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
    return out


def _files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.unit
def test_index_imports_neither_assistant_nor_ui():
    bad = [(f.name, m) for f in _files("index") for m, _ in _imports(f) if m.split(".")[0] in ("assistant", "ui")]
    assert bad == []


@pytest.mark.unit
def test_assistant_never_imports_ui_except_its_command_line_launcher():
    bad = [(f.name, m) for f in _files("assistant") if f.name != "__main__.py" for m, _ in _imports(f) if m.split(".")[0] == "ui"]
    assert bad == []


@pytest.mark.unit
def test_ui_uses_only_the_names_assistant_exports():
    bad = []
    for f in _files("ui"):
        for module, names in _imports(f):
            if module.startswith("assistant."):
                bad.append((f.name, module))
            elif module == "assistant":
                bad += [(f.name, n) for n in names if n not in assistant_package.__all__]
    assert bad == []


@pytest.mark.unit
def test_ui_uses_only_the_names_index_exports():
    import index as index_package

    bad = []
    for f in _files("ui"):
        for module, names in _imports(f):
            if module.startswith("index."):
                bad.append((f.name, module))
            elif module == "index":
                bad += [(f.name, n) for n in names if n not in index_package.__all__]
    assert bad == []


@pytest.mark.unit
def test_the_documented_example_is_the_answer_schema():
    page = (ROOT / "docs" / "serving.md").read_text(encoding="utf-8")
    block = re.search(r"## What an answer is\n.*?```json\n(.*?)\n```", page, re.S)
    assert block, "the answer example of docs/serving.md moved: update this test"
    example = json.loads(block.group(1))
    parsed = AnswerOut.model_validate(example)  # extra="forbid": a renamed or missing field fails here
    assert set(example) == set(AnswerOut.model_fields)
    assert set(example["citations"][0]) == set(parsed.citations[0].model_fields)


def test_every_answer_serialises_through_the_schema(assistant):
    for question in ("Who is Japan's chief negotiator?", "How do I make a proper spaghetti carbonara?"):
        d = assistant.ask(question).to_dict()
        assert AnswerOut.model_validate(d).model_dump(mode="json") == d


@pytest.mark.parametrize("name", ["AnswerOut", "CitationOut"])
def test_the_openapi_page_documents_the_schema(server, name):
    import httpx

    spec = httpx.get(f"{server}/openapi.json", timeout=30).json()
    assert name in spec["components"]["schemas"]
    ok = spec["paths"]["/api/ask"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/AnswerOut"}
