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
from assistant.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "value",
    ["http://portal:8080", " http://portal:8080 , https://intranet.example.org ", '["http://portal:8080", "https://intranet.example.org"]'],
)
def test_allowed_origins_take_one_value_a_comma_list_or_json(monkeypatch, value):
    monkeypatch.setenv("ASSISTANT_ALLOWED_ORIGINS", value)
    got = Settings().allowed_origins
    assert got[0] == "http://portal:8080" and got[1:] in ([], ["https://intranet.example.org"])
    assert len(got) == (1 if value == "http://portal:8080" else 2)


def test_documents_take_one_path_a_comma_list_or_json(monkeypatch, tmp_path):
    for value, want in (
        (str(tmp_path / "a"), [tmp_path / "a"]),
        (f"{tmp_path / 'a'},{tmp_path / 'b.md'}", [tmp_path / "a", tmp_path / "b.md"]),
        (f'["{tmp_path / "a"}"]', [tmp_path / "a"]),
    ):
        monkeypatch.setenv("ASSISTANT_DOCUMENTS", value)
        assert Settings().documents == want
    monkeypatch.setenv("ASSISTANT_DOCUMENTS", "")
    assert Settings().documents == Settings.model_fields["documents"].default_factory()  # empty: the default


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
