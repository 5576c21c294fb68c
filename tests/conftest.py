"""Shared fixtures: a real model, a real Chroma store in a temp dir, built once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
ARTICLE = SEEDS / "japan-us-reset.txt"


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("assistant-data")


@pytest.fixture(autouse=True)
def _isolated_env(data_dir, monkeypatch):
    """Every test sees the session's temp data dir and no stray ASSISTANT_* variables."""
    for key in list(os.environ):
        if key.startswith("ASSISTANT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(data_dir))


@pytest.fixture(scope="session")
def settings(data_dir):
    from assistant.settings import Settings

    return Settings(data_dir=data_dir)


@pytest.fixture(scope="session")
def assistant(settings):
    """The real assistant over the seed article (index built once per session)."""
    from assistant.core import Assistant

    return Assistant.from_settings(settings, progress=False)


@pytest.fixture(scope="session")
def article():
    from index.loader import load_document

    return load_document(ARTICLE, "japan-us-reset.txt")


@pytest.fixture(scope="session")
def embedder(assistant):
    """The session's embedder (the default backend), loaded once."""
    return assistant.embedder


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real `chroma run` server on a free loopback port; yields its URL. Skips (with the
    reason) only when the `chroma` program shipped with chromadb cannot be started."""
    import shutil
    import subprocess
    import sys
    import time
    import urllib.request

    exe = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    if not Path(exe).exists():
        pytest.skip("the `chroma` program (installed with chromadb) is not on PATH")
    port = _free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    log = (path / "server.log").open("wb")
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen([exe, "run", "--path", str(path / "db"), "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=log, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                tail = (path / "server.log").read_text(errors="replace")[-500:]
                pytest.skip(f"`chroma run` did not start (exit {proc.poll()}): {tail}")
            time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
