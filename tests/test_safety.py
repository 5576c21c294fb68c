"""Safety of the index: killed builds, locked and corrupt stores, other settings, concurrent
indexers, and the model's token limit. Processes are real (`python -m assistant`)."""

from __future__ import annotations

import fcntl
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ui.cli import app
from assistant.core import Assistant
from assistant.errors import StoreError
from assistant.settings import Settings
from index import ChunkingConfig, build_index, chunk_document
from index.loader import load_document

ROOT = Path(__file__).resolve().parent.parent
FACT = "Marine biologist Odile Varga counted 41 seals on the northern sandbank in 2023.\n"


def _cli(*args: str, data_dir: Path, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    environ.update({"ASSISTANT_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT), **env})
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True, timeout=timeout, env=environ, cwd=ROOT)


def _small_index(tmp_path: Path, embedder) -> tuple[Settings, Path]:
    folder = tmp_path / "small"
    folder.mkdir()
    (folder / "seals.txt").write_text("Seal survey\n\n" + FACT, encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data", index_check_seconds=0)
    build_index([folder], settings.open_store(), embedder, progress=False)
    return settings, folder


def _big_corpus(folder: Path, n_docs: int = 30, paragraphs: int = 12) -> None:
    """About 30 x 12 passages of shuffled seed sentences (deterministic)."""
    from index.chunking import split_sentences

    text = (ROOT / "seeds" / "japan-us-reset.txt").read_text(encoding="utf-8")
    sentences = [text[s:e] for s, e in split_sentences(text) if e - s > 40]
    rng = random.Random(7)
    folder.mkdir()
    for d in range(n_docs):
        paras = [" ".join(rng.sample(sentences, 3)) for _ in range(paragraphs)]
        (folder / f"doc{d:03d}.txt").write_text(f"Document {d}\n\n" + "\n\n".join(paras) + "\n", encoding="utf-8")


def test_killing_the_indexer_mid_build_leaves_the_previous_index_serving(tmp_path, embedder):
    settings, small = _small_index(tmp_path, embedder)
    before = settings.open_store().active_build()
    big = tmp_path / "big"
    _big_corpus(big)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    environ.update({"ASSISTANT_DATA_DIR": str(settings.index.data_dir), "PYTHONPATH": str(ROOT)})
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "index", str(big)], stderr=subprocess.PIPE, env=environ, cwd=ROOT)
    seen = b""
    deadline = time.monotonic() + 240
    try:
        # Kill once the progress bar shows passages written but not all of them.
        while time.monotonic() < deadline:
            seen += os.read(proc.stderr.fileno(), 4096)
            done = [(int(a), int(b)) for a, b in re.findall(rb"embedding:\s+\d+%\|[^|]*\| (\d+)/(\d+)", seen)]
            if any(0 < a < b for a, b in done) or proc.poll() is not None:
                break
        assert proc.poll() is None, f"indexer ended before it could be killed: {seen[-300:]!r}"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL

    store = settings.open_store()
    builds = store.builds()
    assert any(not done for _, done in builds), "the killed build should be on disk, incomplete"
    assert store.active_build().build_id == before.build_id
    a = Assistant(settings, store, embedder)
    answer = a.ask("How many seals did Odile Varga count?")
    assert not answer.abstained and answer.citations[0].passage.doc_id == "seals.txt"
    # The next index run completes and removes the dead build.
    (small / "more.txt").write_text("More\n\nThe survey boat is called Petrel.\n", encoding="utf-8")
    report = a.index([small], progress=False)
    assert report.rebuilt and all(done for _, done in settings.open_store().builds())


def test_corrupt_store_is_one_clear_line(tmp_path):
    store = tmp_path / "data" / "chroma"
    store.mkdir(parents=True)
    (store / "chroma.sqlite3").write_bytes(os.urandom(4096) * 8)
    for args in (["docs"], ["ask", "Who counted the seals?"]):
        r = _cli(*args, data_dir=tmp_path / "data")
        assert r.returncode == 1, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "corrupt" in lines[0] and "Traceback" not in r.stderr, r.stderr


def test_an_emptied_store_is_reported_not_silently_replaced(tmp_path):
    """A 0-byte chroma.sqlite3 would otherwise open as a new, empty store and get the seed
    article indexed into it, hiding the user's lost index."""
    store = tmp_path / "data" / "chroma"
    store.mkdir(parents=True)
    (store / "chroma.sqlite3").write_bytes(b"")
    r = _cli("ask", "Who counted the seals?", data_dir=tmp_path / "data")
    assert r.returncode == 1 and "damaged" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert (store / "chroma.sqlite3").stat().st_size == 0  # nothing was written over it


def test_an_unusable_data_dir_says_so_and_docs_creates_nothing(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder", encoding="utf-8")
    r = _cli("ask", "Who counted the seals?", data_dir=a_file)
    assert r.returncode == 1 and r.stderr.strip().splitlines() == [
        f"error: Cannot create the store folder {a_file / 'chroma'} (Not a directory); set ASSISTANT_DATA_DIR to a folder you can write to."
    ]
    missing = tmp_path / "missing"
    r = _cli("docs", data_dir=missing)
    assert r.returncode == 1 and "No index in" in r.stderr and not missing.exists()


def test_locked_store_is_one_clear_line(tmp_path, embedder):
    settings, _ = _small_index(tmp_path, embedder)
    holder = sqlite3.connect(settings.index.store_path / "chroma.sqlite3", isolation_level=None, timeout=1)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        t = time.monotonic()
        r = _cli("docs", data_dir=settings.index.data_dir, ASSISTANT_STORE_LOCK_TIMEOUT="0.5")
        assert time.monotonic() - t < 60
    finally:
        holder.rollback()
        holder.close()
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "locked by another process" in lines[0] and "Traceback" not in r.stderr
    ok = _cli("docs", data_dir=settings.index.data_dir)  # and works once the lock is gone
    assert ok.returncode == 0 and "seals.txt" in ok.stdout


def test_a_second_indexer_is_refused_while_one_runs(tmp_path, embedder, monkeypatch):
    settings, small = _small_index(tmp_path, embedder)
    lock = settings.index.store_path / "index.lock"
    with open(lock, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fh.write("4242")
        fh.flush()
        monkeypatch.setenv("ASSISTANT_DATA_DIR", str(settings.index.data_dir))
        result = CliRunner().invoke(app, ["index", str(small), "--rebuild", "-q"])
    assert result.exit_code == 1
    assert "Another `assistant index` (pid 4242)" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_index_built_with_other_settings_is_refused_then_rebuilt(tmp_path, embedder):
    settings, small = _small_index(tmp_path, embedder)
    other = settings.replace(chunk_max_chars=300)
    refused = Assistant(other, other.open_store(), embedder)
    with pytest.raises(StoreError, match=r"cannot be queried with these settings: .*max_chars.*--rebuild"):
        refused.ask("How many seals did Odile Varga count?")
    report = refused.index([small], progress=False)
    assert report.rebuilt and "max_chars" in report.reason
    assert not refused.ask("How many seals did Odile Varga count?").abstained


def test_a_running_assistant_sees_a_build_made_by_another_process(tmp_path, embedder):
    settings, _ = _small_index(tmp_path, embedder)
    serving = Assistant(settings, settings.open_store(), embedder)
    assert serving.ask("How many seals did Odile Varga count?").citations
    first = serving.build.build_id
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "ferry.txt").write_text("Ferry timetable\n\nThe island ferry Corran Star leaves the pier at 7.15 every morning.\n")
    r = _cli("index", str(extra), "-q", data_dir=settings.index.data_dir)
    assert r.returncode == 0, r.stderr
    answer = serving.ask("What time does the island ferry leave the pier?")
    assert serving.build.build_id != first
    assert answer.citations and answer.citations[0].passage.doc_id == "ferry.txt"


def test_a_600_word_paragraph_is_split_by_tokens_and_its_end_retrieved(tmp_path, embedder):
    rng = random.Random(3)
    syllables = ["kor", "vex", "tal", "min", "dra", "sub", "quo", "plen", "zar", "ith"]
    tail = "and at the very end the lighthouse keeper Orla Fennimore painted the old tower bright green"
    words = ["".join(rng.choice(syllables) for _ in range(3)) + str(rng.randint(10, 99)) for _ in range(600 - len(tail.split()))]
    paragraph = " ".join(words) + " " + tail  # 600 words, no sentence break
    assert len(paragraph.split()) == 600 and "." not in paragraph
    folder = tmp_path / "long"
    folder.mkdir()
    (folder / "long.txt").write_text("Long paragraph\n\n" + paragraph + "\n", encoding="utf-8")
    doc = load_document(folder / "long.txt")
    limit = embedder.max_tokens
    # Without the token limit, pieces cut at 900 characters would exceed the model's window.
    plain = chunk_document(doc, ChunkingConfig())
    assert max(embedder.count_tokens([p.text for p in plain])) > limit
    passages = chunk_document(doc, ChunkingConfig(), embedder.count_tokens)
    assert max(embedder.count_tokens([p.text for p in passages])) <= limit
    sentences = [t for p in passages for t in p.sentence_texts()]
    assert max(embedder.count_tokens(sentences)) <= limit
    assert all(doc.text[p.start : p.end] == p.text for p in passages)
    assert " ".join(" ".join(p.text for p in passages).split()) == " ".join(doc.text.split())  # nothing lost
    settings = Settings(data_dir=tmp_path / "data")
    a = Assistant(settings, settings.open_store(), embedder)
    a.index([folder], progress=False)
    retrieved = a.retriever.search("Who painted the old lighthouse tower green?")
    assert "Orla Fennimore painted the old tower bright green" in retrieved[0].passage.text
