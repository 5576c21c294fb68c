"""Shared fixtures: a real model, a real Chroma store in a temp dir, built once per session."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.error
import urllib.request
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


def assistant_over(tmp_path: Path, embedder, files: dict[str, str]):
    """A real assistant over ``files`` (name -> text) only, in a data dir of its own under ``tmp_path``."""
    from assistant.core import Assistant
    from assistant.settings import Settings

    (tmp_path / "docs").mkdir()
    for name, text in files.items():
        (tmp_path / "docs" / name).write_text(text, encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data")
    a = Assistant(settings, settings.open_store(), embedder)
    a.index([tmp_path / "docs"], progress=False)
    return a


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, proc: subprocess.Popen, seconds: float, interval: float = 0.3) -> str | None:
    """Poll ``url`` until it answers (any HTTP status counts); None then, else why not: the
    process exited (``"exited N"``) or ``seconds`` passed (``"no answer in S s"``)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return None
        except urllib.error.HTTPError:
            return None
        except OSError:
            if proc.poll() is not None:
                return f"exited {proc.returncode}"
            if time.monotonic() > deadline:
                return f"no answer in {seconds:.0f} s"
            time.sleep(interval)


def stop_process(proc: subprocess.Popen, seconds: float = 20) -> None:
    """Terminate ``proc`` and wait up to ``seconds`` for it; kill it if it is still running."""
    proc.terminate()
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class ThreadedUvicorn:
    """Run an ASGI app with uvicorn in a daemon thread on 127.0.0.1:``port`` (a context manager)."""

    def __init__(self, app, port: int) -> None:
        import uvicorn

        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))

    def __enter__(self):
        import threading
        import time

        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on port {self.port}")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def portal_origin() -> str:
    """Origin of the pretend intranet portal (a second local HTTP server) allowed to embed the widget."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(scope="session")
def server_settings(settings, portal_origin):
    return settings.replace(allowed_origins=[portal_origin])


@pytest.fixture(scope="session")
def server(assistant, server_settings):
    """The real one-process server (FastAPI + Gradio chat and widget) on a free port; yields its base URL."""
    from ui.server import create_app

    with ThreadedUvicorn(create_app(assistant, server_settings), free_port()) as running:
        yield running.url

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
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    log = (path / "server.log").open("wb")
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen([exe, "run", "--path", str(path / "db"), "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=log, env=env)
    url = f"http://127.0.0.1:{port}"
    why = wait_for_http(f"{url}/api/v2/heartbeat", proc, 60, interval=0.2)
    if why:
        proc.kill()
        tail = (path / "server.log").read_text(errors="replace")[-500:]
        pytest.skip(f"`chroma run` did not start ({why}): {tail}")
    yield url
    stop_process(proc, 10)
    log.close()


# -- tiers ----------------------------------------------------------------------------------
TIERS = ("unit", "integration", "browser")
"""Every test has exactly one: ``unit`` and ``browser`` are marked in the test files (a module's
``pytestmark`` or a test's decorator); a test marked neither is ``integration`` (the real model
and Chroma), which is what most tests here are."""

UNIT_MAY_NOT_USE = {
    "assistant", "embedder", "server", "server_settings", "chroma_server", "portal_origin",
}
"""Session fixtures that load the model, build a store or start a server: a unit test using one
is a collection error."""


def pytest_ignore_collect(collection_path, config):
    """With ``-m unit``, a test module that marks no test unit is not even imported (some import
    LangChain, Gradio or Playwright at the top, seconds of the tier's minute)."""
    if config.getoption("markexpr", "") == "unit" and collection_path.suffix == ".py" and collection_path.name.startswith("test_"):
        return "pytest.mark.unit" not in collection_path.read_text(encoding="utf-8") or None
    return None


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by these marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        tiers = [t for t in TIERS if item.get_closest_marker(t)]
        if not tiers:
            item.add_marker(pytest.mark.integration)
        elif len(tiers) > 1:
            raise pytest.UsageError(f"{item.nodeid} is marked {' and '.join(tiers)}: give it one tier")
        elif tiers == ["unit"] and (heavy := UNIT_MAY_NOT_USE & set(item.fixturenames)):
            raise pytest.UsageError(f"{item.nodeid} is marked unit but uses {sorted(heavy)} (a model, a store or a server)")
        if "browser" in item.fixturenames and not item.get_closest_marker("browser"):
            raise pytest.UsageError(f"{item.nodeid} drives Chromium (the browser fixture) but is not marked browser")


@pytest.fixture(autouse=True)
def _unit_tests_open_no_model_and_no_store(request, monkeypatch):
    """In a ``unit`` test, loading the embedding model or opening a Chroma store raises (so the
    tier stays model-free as tests change)."""
    if request.node.get_closest_marker("unit") is None:
        return

    def refuse(*_args, **_kwargs):
        raise RuntimeError(f"{request.node.nodeid} is a unit test: it may not load the embedding model or open a store")

    monkeypatch.setattr("index.embedder.make_embedder", refuse)
    monkeypatch.setattr("index.store.ChromaStore.client", property(refuse))
