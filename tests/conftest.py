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
