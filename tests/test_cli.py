"""The `assistant` CLI through typer's CliRunner, against the real index."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from ui.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _index_built(assistant):
    """Make sure the session's index exists so CLI calls do not rebuild it."""


def test_help_is_fast_and_lazy():
    code = "import sys, ui.cli; bad = [m for m in ('torch', 'chromadb', 'gradio', 'sentence_transformers') if m in sys.modules]; print(bad)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0 and "ask" in result.output and "eval" in result.output


def test_ask_json(article):
    result = runner.invoke(app, ["ask", "Who is Japan's chief negotiator?", "--json"])
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert "Ryosei Akazawa" in d["answer"] and d["citations"][0]["n"] == 1
    assert article.text[d["citations"][0]["start"] : d["citations"][0]["end"]] == d["citations"][0]["text"]


def test_ask_text_and_stdin():
    result = runner.invoke(app, ["ask", "-"], input="Who is Japan's chief negotiator?\n")
    assert result.exit_code == 0, result.output
    assert "Ryosei Akazawa" in result.stdout and "Sources" in result.stdout and "[1]" in result.stdout


def test_ask_with_history_option():
    result = runner.invoke(app, ["ask", "What did she say about Abe?", "--history", "Who is Yuki Tatsumi?", "--json"])
    assert result.exit_code == 0, result.output
    assert "Tatsumi" in json.dumps(json.loads(result.stdout)["citations"], ensure_ascii=False)


@pytest.mark.parametrize("question, message", [("   ", "Please type a question"), ("x" * 2500, "under 2,000")])
def test_bad_questions_exit_non_zero_with_one_line(question, message):
    result = runner.invoke(app, ["ask", question])
    assert result.exit_code == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_missing_documents_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    result = runner.invoke(app, ["index", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "does not exist" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["index", str(tmp_path / "empty")])
    assert result.exit_code == 1 and "No .txt/.md/.markdown/.html/.htm/.pdf/.docx/.png/.jpg/.jpeg/.tif/.tiff documents" in result.stderr


def test_index_is_a_no_op_when_nothing_changed():
    result = runner.invoke(app, ["index"])
    assert result.exit_code == 0 and "up to date" in result.stdout


def test_ask_json_reports_a_bad_question_as_json():
    result = runner.invoke(app, ["ask", "   ", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"].startswith("Please type a question")
    assert "error: Please type a question" in result.stderr


def test_serve_on_a_busy_port_says_so_in_one_line():
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["serve", "--port", str(port)])
    assert result.exit_code == 1 and "serving" not in result.stdout
    assert result.stderr.strip().splitlines() == [
        f"error: Cannot listen on 127.0.0.1:{port} (Address already in use); choose another with --port (or ASSISTANT_PORT)."
    ]


def test_index_help_rewraps_its_paragraphs_to_the_terminal():
    import os

    out = subprocess.run(
        [sys.executable, "-m", "assistant", "index", "--help"], capture_output=True, text=True, check=True, env={**os.environ, "COLUMNS": "80"}
    ).stdout
    text = out.split("Usage:")[1].split("╭")[0].splitlines()[1:]  # the description, under the usage line
    paragraphs, current = [], []
    for line in text + [""]:
        if line.strip():
            current.append(line.strip())
        elif current:
            paragraphs.append(current)
            current = []
    for lines in (p for p in paragraphs if len(p) > 1):
        for line, after in zip(lines, lines[1:]):  # a line ends only where the next word would not fit
            assert len(line) + 1 + len(after.split()[0]) > 78, (line, after)
    assert "documents indexed earlier from other paths are kept" in " ".join(" ".join(p) for p in paragraphs)
