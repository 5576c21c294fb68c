"""Settings take what people type: a list setting is one value, a comma-separated list or JSON;
any bad setting is one line naming the variable and what it takes, from the CLI and `serve`;
a setting that was removed or never existed is refused, not silently ignored."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ui.cli import app
from assistant.settings import FLAT, GROUPS, IndexSettings, Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "value",
    ["http://portal:8080", " http://portal:8080 , https://intranet.example.org ", '["http://portal:8080", "https://intranet.example.org"]'],
)
def test_allowed_origins_take_one_value_a_comma_list_or_json(monkeypatch, value):
    monkeypatch.setenv("ASSISTANT_ALLOWED_ORIGINS", value)
    got = Settings().server.allowed_origins
    assert got[0] == "http://portal:8080" and got[1:] in ([], ["https://intranet.example.org"])
    assert len(got) == (1 if value == "http://portal:8080" else 2)


def test_documents_take_one_path_a_comma_list_or_json(monkeypatch, tmp_path):
    for value, want in (
        (str(tmp_path / "a"), [tmp_path / "a"]),
        (f"{tmp_path / 'a'},{tmp_path / 'b.md'}", [tmp_path / "a", tmp_path / "b.md"]),
        (f'["{tmp_path / "a"}"]', [tmp_path / "a"]),
    ):
        monkeypatch.setenv("ASSISTANT_DOCUMENTS", value)
        assert Settings().index.documents == want
    monkeypatch.setenv("ASSISTANT_DOCUMENTS", "")
    assert Settings().index.documents == IndexSettings.model_fields["documents"].default_factory()  # empty: the default


def _serve(env: dict) -> subprocess.CompletedProcess:
    """`assistant serve` on a port this test holds, so that good settings fail fast too (on the port)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    environ.update({"PYTHONPATH": str(ROOT), **env})
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = str(held.getsockname()[1])
        return subprocess.run([sys.executable, "-m", "assistant", "serve", "--port", port], capture_output=True, text=True,
                              timeout=60, env=environ, cwd=ROOT)


@pytest.mark.parametrize(
    "variable, value, says",
    [
        ("ASSISTANT_ALLOWED_ORIGINS", "portal:8080", "ASSISTANT_ALLOWED_ORIGINS"),
        ("ASSISTANT_ALLOWED_ORIGINS", '["http://portal:8080"', "ASSISTANT_ALLOWED_ORIGINS"),
        ("ASSISTANT_PORT", "seventy", "ASSISTANT_PORT"),
        ("ASSISTANT_EVAL__FAIL_UNDER", "hit@1=0.9", "ASSISTANT_EVAL__FAIL_UNDER"),
        ("ASSISTANT_FUSION", "rrf", "ASSISTANT_FUSION"),
        ("ASSISTANT_TOPK", "3", "ASSISTANT_TOP_K"),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable(tmp_path, variable, value, says):
    r = _serve({"ASSISTANT_DATA_DIR": str(tmp_path), variable: value})
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 1 and len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines[0].startswith("error: ") and says in lines[0], lines[0]


def test_a_bad_setting_message_says_what_the_variable_takes(monkeypatch):
    monkeypatch.setenv("ASSISTANT_ALLOWED_ORIGINS", "portal:8080")
    result = CliRunner().invoke(app, ["docs"])
    line = result.stderr.strip()
    assert result.exit_code == 1 and "\n" not in line
    assert "http://host:port" in line and "comma-separated" in line and "JSON" in line, line


def test_fusion_is_no_longer_a_setting_and_says_why(monkeypatch):
    monkeypatch.setenv("ASSISTANT_FUSION", "rrf")
    result = CliRunner().invoke(app, ["docs"])
    assert result.exit_code == 1 and "ASSISTANT_FUSION" in result.stderr and "abstain" in result.stderr, result.stderr
    assert "fusion" not in Settings.model_fields


def test_settings_are_grouped_and_read_by_grouped_or_flat_names(monkeypatch):
    monkeypatch.setenv("ASSISTANT_TOP_K", "7")  # the flat name settings had before the groups
    monkeypatch.setenv("ASSISTANT_RETRIEVAL__BM25_WEIGHT", "2.5")
    monkeypatch.setenv("ASSISTANT_LLM", "ollama:llama3.1")  # flat name of llm.model, beside the llm group
    monkeypatch.setenv("ASSISTANT_LLM__TIMEOUT", "5")
    s = Settings()
    assert (s.retrieval.top_k, s.retrieval.bm25_weight, s.llm.model, s.llm.timeout) == (7, 2.5, "ollama:llama3.1", 5.0)
    monkeypatch.setenv("ASSISTANT_RETRIEVAL__TOP_K", "4")
    assert Settings().retrieval.top_k == 4  # the grouped name wins over the flat one
    # keyword arguments take flat names or groups, and win over the environment field by field
    s = Settings(top_k=3, llm=None, server={"port": 9000})
    assert (s.retrieval.top_k, s.retrieval.bm25_weight, s.llm.model, s.llm.timeout, s.server.port) == (3, 2.5, None, 5.0, 9000)


def test_every_flat_name_is_unique_and_names_a_grouped_field():
    assert len(FLAT) == len(set(FLAT.values()))
    for flat, (group, name) in FLAT.items():
        assert name in GROUPS[group].model_fields, flat
    assert {g for g, _ in FLAT.values()} == set(GROUPS) - {"eval"}


def test_replace_validates_and_keeps_what_it_does_not_change(monkeypatch):
    s = Settings(top_k=3, llm_timeout=7.0)
    monkeypatch.setenv("ASSISTANT_CANDIDATE_SENTENCES", "99")  # not read again by replace
    r = s.replace(chunk_max_chars=300, llm={"model": "ollama:x"})
    assert (r.index.chunk_max_chars, r.retrieval.top_k, r.retrieval.candidate_sentences) == (300, 3, 30)
    assert (r.llm.model, r.llm.timeout) == ("ollama:x", 7.0) and s.index.chunk_max_chars == 500
    with pytest.raises(ValueError):
        s.replace(top_k=0)


def test_an_unknown_grouped_variable_is_refused_with_the_closest_name():
    with pytest.raises(Exception, match="ASSISTANT_RETRIEVAL__TOPK is not a setting .did you mean ASSISTANT_RETRIEVAL__TOP_K"):
        load_settings({"ASSISTANT_RETRIEVAL__TOPK": "3"})


def test_a_group_wins_over_a_flat_name_and_assignments_are_validated(monkeypatch):
    s = Settings(top_k=3, retrieval={"top_k": 4})  # as ASSISTANT_RETRIEVAL__TOP_K wins over ASSISTANT_TOP_K
    assert s.retrieval.top_k == 4 and s.replace(top_k=6, retrieval={"bm25_weight": 2.0}).retrieval.top_k == 6
    with pytest.raises(ValueError):
        s.retrieval.top_k = 0
    monkeypatch.setenv("ASSISTANT_PORT", "")
    with pytest.raises(Exception, match=r"invalid setting port .*\(got ''\)"):
        load_settings()


def test_the_default_documents_are_the_seed_documents_without_the_question_set():
    """A plain first start indexes the shipped seeds/ and reports no skipped file: the question
    set beside the article (seeds/questions.jsonl) is not passed to the indexer."""
    from assistant.settings import Settings
    from index.loader import load_all

    documents = Settings().index.documents
    assert documents and all(p.parent.name == "seeds" for p in documents)
    assert "questions.jsonl" not in {p.name for p in documents}
    loaded, skipped = load_all(documents)
    assert loaded and skipped == []
