"""A build never blocks a reader, and the index fails safe: real `python -m assistant`
processes against the embedded store and a real `chroma run` server. An indexer is frozen
(SIGSTOP) in the middle of its build, holding its lock or lease, while other processes ask,
serve and index; read-only and full file systems are real mounts (skipped if mounting fails)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from assistant.settings import Settings
from index import ChromaStore, build_index
from index.locks import ServerLease
from conftest import free_port, stop_process, wait_for_http
from test_safety import FACT, _big_corpus

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "How many seals did Odile Varga count?"


def _env(data_dir: Path, url: str | None = None, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update({"ASSISTANT_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT), **extra})
    if url:
        env["ASSISTANT_CHROMA_URL"] = url
    return env


def _cli(*args: str, env: dict, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


def _settings(tmp_path: Path, url: str | None) -> Settings:
    if url:  # an empty server for each test
        store = ChromaStore(url=url)
        for col in store.client.list_collections():
            store.client.delete_collection(col.name if hasattr(col, "name") else str(col))
    return Settings(data_dir=tmp_path / "data", chroma_url=url, index_check_seconds=0)


def _small_index(tmp_path: Path, settings: Settings, embedder) -> Path:
    """The last complete build: one document about seals. Returns its folder."""
    folder = tmp_path / "small"
    folder.mkdir()
    (folder / "seals.txt").write_text("Seal survey\n\n" + FACT, encoding="utf-8")
    build_index([folder], settings.open_store(), embedder, progress=False)
    return folder


@contextmanager
def _frozen_indexer(folder: Path, env: dict):
    """`assistant index FOLDER` stopped (SIGSTOP) in the middle of its build (its embedding has
    begun), holding the writer lock or lease; yields the process and resumes it on exit."""
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "index", str(folder)], stderr=subprocess.PIPE, stdout=subprocess.PIPE,
                            env=env, cwd=ROOT)
    seen = b""
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            seen += os.read(proc.stderr.fileno(), 4096)
            if re.search(rb"embedding:\s+\d+%\|[^|]*\| (\d+)/(\d+)", seen):
                break
        assert proc.poll() is None, f"the indexer ended before it could be frozen: {seen[-400:]!r}"
        proc.send_signal(signal.SIGSTOP)
        proc.seen = seen
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)


def _finish(proc: subprocess.Popen, timeout: float = 240) -> tuple[int, str]:
    proc.send_signal(signal.SIGCONT)
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, (proc.seen + err).decode(errors="replace")


def _serve_and_ask(env: dict, question: str) -> dict:
    """Start `assistant serve` (a real process), ask ``question`` over HTTP, stop it; the answer JSON."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    try:
        why = wait_for_http(f"http://127.0.0.1:{port}/healthz", proc, 180)
        if why:
            out = proc.stdout.read().decode(errors="replace") if proc.poll() is not None else ""
            pytest.fail(f"serve did not come up ({why}): {out[-1500:]}")
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/ask", data=json.dumps({"question": question}).encode(),
                                     headers={"Content-Type": "application/json"})
        return json.loads(urllib.request.urlopen(req, timeout=60).read())
    finally:
        stop_process(proc)


@pytest.mark.parametrize("kind", ["embedded", "server"])
def test_ask_and_serve_answer_from_the_last_build_while_an_index_runs(kind, tmp_path, embedder, request):
    url = request.getfixturevalue("chroma_server") if kind == "server" else None
    settings = _settings(tmp_path, url)
    _small_index(tmp_path, settings, embedder)
    big = tmp_path / "big"
    _big_corpus(big, n_docs=8, paragraphs=4)
    env = _env(settings.index.data_dir, url, ASSISTANT_INDEX_LEASE_SECONDS="600")
    # A replica configured with the documents being indexed never writes an existing index
    # (only `assistant index` does): it neither waits for the indexer nor fails.
    replica = {**env, "ASSISTANT_DOCUMENTS": str(big)}
    with _frozen_indexer(big, env) as indexer:
        for environ in (env, replica):
            r = _cli("ask", QUESTION, "--json", env=environ)
            assert r.returncode == 0, r.stderr[-1500:]
            answer = json.loads(r.stdout)
            assert not answer["abstained"] and answer["citations"][0]["doc_id"] == "seals.txt"
            assert "pid" not in r.stderr, r.stderr[-800:]  # it did not even try the writer lock
        served = _serve_and_ask(replica, QUESTION)
        assert not served["abstained"] and served["citations"][0]["doc_id"] == "seals.txt"
        code, err = _finish(indexer)
    assert code == 0, err[-1500:]
    after = settings.open_store().active_build()
    assert "seals.txt" in after.documents and "doc000.txt" in after.documents


def test_one_writer_at_a_time_on_a_chroma_server_by_lease(tmp_path, embedder, chroma_server):
    settings = _settings(tmp_path, chroma_server)
    _small_index(tmp_path, settings, embedder)  # takes and releases the lease in this process
    big, other = tmp_path / "big", tmp_path / "other"
    _big_corpus(big, n_docs=8, paragraphs=4)
    other.mkdir()
    (other / "ferry.txt").write_text("Ferry timetable\n\nThe island ferry Corran Star leaves the pier at 7.15 every morning.\n")
    env = _env(settings.index.data_dir, chroma_server)
    with _frozen_indexer(big, {**env, "ASSISTANT_INDEX_LEASE_SECONDS": "30"}) as first:
        refused = _cli("index", str(other), "-q", env=env)
        lines = refused.stderr.strip().splitlines()
        assert refused.returncode == 1 and len(lines) == 1, refused.stderr
        assert "holds the writer lease" in lines[0] and f"pid {first.pid} on " in lines[0], lines[0]
        lease = ServerLease(ChromaStore(url=chroma_server).client, chroma_server)
        deadline = time.monotonic() + 60
        while float((lease.current() or {}).get("expires_at", 0)) > time.time() - 0.5:  # the frozen holder cannot renew
            assert time.monotonic() < deadline, "the frozen holder's lease never expired"
            time.sleep(0.5)
        second = _cli("index", str(other), "-q", env=env)
        assert second.returncode == 0, second.stderr
        code, err = _finish(first)
    assert code == 1 and "lost the writer lease" in err and "Traceback" not in err, err[-1500:]
    store = settings.open_store()
    assert all(done for _, done in store.builds()), "the build of the writer that lost its lease is deleted"
    assert set(store.active_build().documents) == {"seals.txt", "ferry.txt"}
    assert "assistant-lease" not in [c.name for c in store.client.list_collections()]  # released


@contextmanager
def _mounted(kind: str, **opts):
    """A real mount for the test (root only): ``bind-ro`` of ``opts["source"]``, or a ``tmpfs`` of ``opts["size"]``."""
    target = Path(opts["target"])
    target.mkdir(parents=True, exist_ok=True)
    if kind == "bind-ro":
        steps = [["mount", "--bind", str(opts["source"]), str(target)], ["mount", "-o", "remount,ro,bind", str(target)]]
    else:
        steps = [["mount", "-t", "tmpfs", "-o", f"size={opts['size']}", "tmpfs", str(target)]]
    done = 0
    try:
        for step in steps:
            r = subprocess.run(step, capture_output=True, text=True)
            if r.returncode != 0:
                pytest.skip(f"cannot mount here ({' '.join(step[:3])}: {r.stderr.strip()}); needs root")
            done += 1
        yield target
    finally:
        if done:
            subprocess.run(["umount", "-l", str(target)], capture_output=True)


def _with_models(data_dir: Path, embedder) -> None:
    """Give ``data_dir`` the exported question model (hard links to the session's export)."""
    embedder.embed_query(["warm up"])  # exports it once per session if needed
    models = Path(embedder.few.model_file).parent if hasattr(embedder, "few") else Path(embedder.model_file).parent
    shutil.copytree(models, data_dir / "models", copy_function=os.link, dirs_exist_ok=True)


def test_a_read_only_data_dir_answers_and_index_says_so_in_one_line(tmp_path, embedder):
    settings = _settings(tmp_path, None)
    folder = _small_index(tmp_path, settings, embedder)
    _with_models(settings.index.data_dir, embedder)
    copies_before = set(Path(tempfile.gettempdir()).glob("assistant-readonly-*"))
    with _mounted("bind-ro", source=settings.index.data_dir, target=tmp_path / "ro") as ro:
        assert subprocess.run(["touch", str(ro / "probe")], capture_output=True).returncode != 0  # really read-only
        env = _env(ro)
        r = _cli("ask", QUESTION, "--json", env=env)
        assert r.returncode == 0, r.stderr[-1500:]
        assert json.loads(r.stdout)["citations"][0]["doc_id"] == "seals.txt"
        served = _serve_and_ask(env, QUESTION)
        assert served["citations"][0]["doc_id"] == "seals.txt"
        (folder / "more.txt").write_text("More\n\nThe survey boat is called Petrel.\n", encoding="utf-8")
        r = _cli("index", str(folder), "-q", env=env)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 1 and len(lines) == 1 and "read-only" in lines[0] and "Traceback" not in r.stderr, r.stderr
    made = sorted(set(Path(tempfile.gettempdir()).glob("assistant-readonly-*")) - copies_before)
    assert len(made) == 1 and (made[0] / "complete").is_file(), made  # ask, serve and index shared one complete copy


def test_a_full_disk_says_so_and_never_advises_deleting(tmp_path, embedder):
    settings = _settings(tmp_path, None)
    folder = _small_index(tmp_path, settings, embedder)
    (folder / "more.txt").write_text("More\n\nThe survey boat is called Petrel.\n", encoding="utf-8")
    with _mounted("tmpfs", size="16m", target=tmp_path / "full") as full:
        shutil.copytree(settings.index.data_dir, full / "data")
        with open(full / "filler", "wb") as fh:  # fill the file system to the last block
            try:
                while True:
                    fh.write(b"\0" * 65536)
                    fh.flush()
            except OSError:
                pass
        env = _env(full / "data")
        for args in (["docs"], ["ask", QUESTION], ["index", str(folder), "-q"]):
            r = _cli(*args, env=env)
            lines = r.stderr.strip().splitlines()
            assert r.returncode == 1 and len(lines) == 1 and "Traceback" not in r.stderr, (args, r.stderr[-1500:])
            assert "full" in lines[0] and "delete" not in lines[0].replace("do not delete", ""), (args, lines[0])
        (full / "filler").unlink()
        r = _cli("docs", env=env)  # space freed: the same store works, nothing was lost
        assert r.returncode == 0 and "seals.txt" in r.stdout, r.stderr


def _chmod_tree(root: Path, writable: bool) -> None:
    """``chmod -R a-w`` (or ``u+w`` back) on ``root``: read-only by permissions, not by mount."""
    mode = "u+w" if writable else "a-w"
    subprocess.run(["chmod", "-R", mode, str(root)], check=True)


def test_a_data_dir_read_only_by_permissions_answers_through_a_writable_copy(tmp_path, embedder, monkeypatch):
    import stat

    from index.locks import read_only_copy

    settings = _settings(tmp_path, None)
    _small_index(tmp_path, settings, embedder)
    _with_models(settings.index.data_dir, embedder)
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))  # copies go here, not into the machine's /tmp
    store = settings.index.data_dir / "chroma"
    _chmod_tree(settings.index.data_dir, writable=False)
    try:
        copy = read_only_copy(store)
        modes = [p.stat().st_mode for p in [copy, *copy.rglob("*")]]
        assert all(m & stat.S_IWUSR for m in modes)  # the store's read-only bits are not copied
        # a broken cached copy (an older version copied the bits) is replaced, never reused
        _chmod_tree(copy, writable=False)
        again = read_only_copy(store)
        assert again == copy and all(p.stat().st_mode & stat.S_IWUSR for p in [again, *again.rglob("*")])
        env = _env(settings.index.data_dir, TMPDIR=str(temp))
        r = _cli("ask", QUESTION, "--json", env=env)
        assert r.returncode == 0, r.stderr[-1500:]
        assert json.loads(r.stdout)["citations"][0]["doc_id"] == "seals.txt"
        assert _serve_and_ask(env, QUESTION)["citations"][0]["doc_id"] == "seals.txt"
        (tmp_path / "small" / "more.txt").write_text("More\n\nThe survey boat is called Petrel.\n", encoding="utf-8")
        r = _cli("index", str(tmp_path / "small"), "-q", env=env)
        assert r.returncode == 1 and "read-only" in r.stderr and "Traceback" not in r.stderr, r.stderr
        copies = sorted(p.name for p in temp.glob("assistant-readonly-*"))
        assert copies == [copy.parent.name]  # ask, serve and index shared one copy, no leftovers
    finally:
        _chmod_tree(settings.index.data_dir, writable=True)
