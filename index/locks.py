"""Who may write the index, and what a store failure means.

* :func:`file_lock`: the embedded store's writer lock, an exclusive ``flock`` on a file in the
  store folder (released by the OS if the process dies).
* :class:`ServerLease`: the writer lease of a Chroma server, shared by every machine that
  uses the server: a small collection :data:`LEASE_COLLECTION` whose metadata names the
  holder (random id, pid, host) and an expiry time, renewed while the holder writes and taken
  over by another writer once expired (a killed or frozen indexer blocks others for at most
  one lease). Creating a collection is atomic in Chroma (a second create of the same name
  fails), which is what makes one holder win.
* :func:`explain`: turns a store failure into the advice that fits it. A full disk or a
  read-only file system never gets advice to delete anything; only a file proven corrupt does
  (``ChromaStore._probe_sqlite``).
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from index.errors import DiskFullError, IndexBusyError, ReadOnlyStoreError, StoreError

LEASE_COLLECTION = "assistant-lease"
"""Name of the Chroma collection that is the writer lease (no records, only metadata)."""

_DISK_FULL = ("disk is full", "no space left", "disk full", "quota exceeded")
_READ_ONLY = ("readonly database", "read-only file system", "read only file system")


def disk_free(path: Path) -> str:
    """Free space on the file system holding ``path`` (or its nearest existing parent), e.g. ``"12 MB"``."""
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        free = shutil.disk_usage(path).free
    except OSError:
        return "unknown"
    return f"{free / 1e6:.0f} MB" if free >= 1e6 else f"{free / 1e3:.0f} kB"


def classify(err: BaseException) -> str | None:
    """``"disk full"``, ``"read-only"`` or None for an error from SQLite, Chroma or the OS."""
    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
        return "disk full"
    if isinstance(err, OSError) and err.errno == errno.EROFS:
        return "read-only"
    text = str(err).lower()
    if any(s in text for s in _DISK_FULL):
        return "disk full"
    if any(s in text for s in _READ_ONLY):
        return "read-only"
    return None


def explain(err: BaseException, where: str, path: Path | None, what: str) -> StoreError:
    """The one-line error for a failed store operation ``what`` ("open", "add records", ...).

    Returns:
        :class:`DiskFullError` (says how much is free), :class:`ReadOnlyStoreError`, or a plain
        :class:`StoreError` that suggests waiting for another writer and, if it persists,
        ``assistant index --rebuild`` (which keeps the current build until the new one is complete).
    """
    short = _short(err)
    kind = classify(err)
    if kind == "disk full":
        free = f" ({disk_free(path)} free)" if path else ""
        return DiskFullError(
            f"The disk holding the vector store at {where} is full{free}, so it could not {what}; "
            "free some space and retry (the index is intact: do not delete it)."
        )
    if kind == "read-only" and path is not None:
        return ReadOnlyStoreError(
            f"The vector store at {where} is on a read-only file system, so it could not {what}; "
            "questions can still be answered from it, but `assistant index` needs a writable ASSISTANT_DATA_DIR."
        )
    return StoreError(
        f"The vector store at {where} failed to {what}: {short}. If another process is writing it, wait and retry; "
        "if it persists, run `assistant index --rebuild` (the current index is kept until the new one is complete)."
    )


@contextmanager
def file_lock(lock: Path, where: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock`` (created if missing) for the block.

    Raises:
        IndexBusyError: another process holds it (its pid is in the message).
        ReadOnlyStoreError, DiskFullError, StoreError: the lock file cannot be created.
    """
    import fcntl

    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        fh = open(lock, "a+", encoding="utf-8")
    except OSError as err:
        raise explain(err, str(where), where, "take the writer lock") from None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            raise IndexBusyError(
                f"Another `assistant index` (pid {holder}) is updating the index at {where}; wait for it to finish, then retry."
            ) from None
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(str(os.getpid()))
            fh.flush()
        except OSError:
            pass  # the pid is only for the message; the lock is held
        try:
            yield
        finally:
            try:
                fh.seek(0)
                fh.truncate()
            except OSError:
                pass
            fcntl.flock(fh, fcntl.LOCK_UN)


class ServerLease:
    """The writer lease of a Chroma server (see module docstring); a context manager.

    Args:
        client: A ``chromadb`` client of the server. where: The server URL (for messages).
        seconds: How long the lease lasts without renewal (seconds); renewed every third of it.

    Attributes:
        holder: Random id of this holder. lost: Set when another writer took the lease over.
    """

    def __init__(self, client, where: str, seconds: float = 60.0) -> None:
        self.client = client
        self.where = where
        self.seconds = float(seconds)
        self.holder = uuid.uuid4().hex
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _record(self) -> dict:
        now = time.time()
        return {"holder": self.holder, "pid": os.getpid(), "host": socket.gethostname(), "acquired_at": now, "expires_at": now + self.seconds}

    def current(self) -> dict | None:
        """The lease's metadata (holder, pid, host, expires_at in Unix seconds), or None if nobody holds it."""
        try:
            return dict(self.client.get_collection(LEASE_COLLECTION, embedding_function=None).metadata or {})
        except Exception:  # chromadb raises NotFoundError/ValueError for a missing collection
            return None

    def acquire(self) -> None:
        """Take the lease (taking over an expired one) and start renewing it.

        Raises:
            IndexBusyError: another writer holds an unexpired lease.
        """
        for _ in range(5):
            try:
                self.client.create_collection(LEASE_COLLECTION, metadata=self._record(), embedding_function=None)
            except Exception:  # it exists: someone holds it, or held it and died
                other = self.current()
                if other is None:
                    continue  # released meanwhile
                if float(other.get("expires_at", 0)) > time.time():
                    raise IndexBusyError(self._busy_message(other)) from None
                again = self.current()  # expired: take it over, unless it was just renewed or taken
                if again and again.get("holder") == other.get("holder") and float(again.get("expires_at", 0)) <= time.time():
                    self._delete()
                continue
            time.sleep(0.2)  # a writer that deleted the same expired lease at the same moment shows here
            if (self.current() or {}).get("holder") == self.holder:
                self._thread = threading.Thread(target=self._renew, name="assistant-lease", daemon=True)
                self._thread.start()
                return
        other = self.current() or {}
        raise IndexBusyError(self._busy_message(other))

    def _busy_message(self, other: dict) -> str:
        until = time.strftime("%H:%M:%S", time.localtime(float(other.get("expires_at", 0))))
        return (
            f"Another `assistant index` (pid {other.get('pid', '?')} on {other.get('host', '?')}) holds the writer lease of "
            f"{self.where} (renewed while it writes, expires {until} if it stops); wait for it to finish, then retry."
        )

    def _renew(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            now = self.current()
            if not now or now.get("holder") != self.holder:
                self.lost = True
                return
            try:
                self.client.get_collection(LEASE_COLLECTION, embedding_function=None).modify(metadata={**now, "expires_at": time.time() + self.seconds})
            except Exception:
                pass  # the server is unreachable for a moment: the next round retries

    def check(self) -> None:
        """Raise :class:`IndexBusyError` if the lease is no longer ours (checked before a build is committed)."""
        now = self.current()
        if self.lost or not now or now.get("holder") != self.holder:
            self.lost = True
            raise IndexBusyError(
                f"This `assistant index` lost the writer lease of {self.where} to pid {(now or {}).get('pid', '?')} on "
                f"{(now or {}).get('host', '?')} (it was stopped longer than the lease); its build was discarded, run it again."
            )

    def release(self) -> None:
        """Stop renewing and delete the lease if it is still ours."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if (self.current() or {}).get("holder") == self.holder:
            self._delete()

    def _delete(self) -> None:
        try:
            self.client.delete_collection(LEASE_COLLECTION)
        except Exception:
            pass

    def __enter__(self) -> ServerLease:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def read_only_copy(path: Path) -> Path:
    """A copy of the store folder ``path`` in the temporary folder, to open instead of it (Chroma
    cannot open a store it may not write to); returns the copy's path.

    The copy is named after the store's path and its ``chroma.sqlite3`` size and modification
    time, so processes reading the same store share one copy and a restart reuses it (a server
    stopped by a signal may not run clean-up code); a newer index gets a new copy. It is made
    under a temporary name and renamed when complete, so a reader never opens a half copy.
    The copy is writable by its owner whatever the store's permission bits (a store made
    read-only by ``chmod`` would otherwise give a read-only copy), and a cached copy that is
    not (an older version's, or one with files missing) is replaced, never reused.

    Raises:
        DiskFullError, StoreError: the copy cannot be made.
    """
    import hashlib
    import tempfile

    db = (path / "chroma.sqlite3").stat()
    key = hashlib.sha256(f"{path.resolve()}:{db.st_size}:{db.st_mtime_ns}".encode()).hexdigest()[:16]
    final = Path(tempfile.gettempdir()) / f"assistant-readonly-{key}"
    if (final / "complete").is_file():
        if _usable_copy(path, final / "chroma"):
            return final / "chroma"
        _discard(final)  # broken (read-only bits, files missing): never reused
    part = Path(tempfile.mkdtemp(prefix=f"assistant-readonly-{key}-part-"))
    try:
        shutil.copytree(path, part / "chroma", ignore=shutil.ignore_patterns("index.lock"), copy_function=shutil.copyfile)
        _owner_writable(part / "chroma")
        (part / "complete").touch()
    except (OSError, shutil.Error) as err:
        _discard(part)
        first = err.args[0][0][2] if isinstance(err, shutil.Error) and err.args and err.args[0] else err
        raise explain(first if isinstance(first, BaseException) else OSError(str(first)), str(path), part.parent, "copy the read-only store") from None
    try:
        os.rename(part, final)  # atomic; fails if another process finished its copy first
    except OSError:
        _discard(part)
    return final / "chroma"


def _owner_writable(root: Path) -> None:
    """Give the owner read and write permission on every file under ``root`` and full
    permission on every folder (``copytree`` copies a folder's read-only bits)."""
    import stat

    for folder, _, files in os.walk(root):
        os.chmod(folder, os.stat(folder).st_mode | stat.S_IRWXU)
        for name in files:
            file = os.path.join(folder, name)
            os.chmod(file, os.stat(file).st_mode | stat.S_IRUSR | stat.S_IWUSR)


def _usable_copy(source: Path, copy: Path) -> bool:
    """Whether ``copy`` holds every file and folder of ``source`` (but the lock file), each
    writable by its owner and by this process."""
    import stat

    for folder, dirs, files in os.walk(source):
        rel = Path(folder).relative_to(source)
        for name in [*dirs, *files, "."]:
            if name == "index.lock":
                continue
            target = copy / rel / name
            try:
                mode = target.stat().st_mode
            except OSError:
                return False
            if not mode & stat.S_IWUSR or not os.access(target, os.W_OK):
                return False
    return True


def _discard(folder: Path) -> None:
    """Delete ``folder`` (a temporary copy), read-only bits and all; ignores failures."""
    try:
        _owner_writable(folder)
    except OSError:
        pass
    shutil.rmtree(folder, ignore_errors=True)


def writable(path: Path) -> bool:
    """Whether files may be created in ``path`` (an existing folder): False on a read-only file
    system, and False when its permission bits let nobody write (``chmod a-w``), even for root,
    who could but should not."""
    import stat

    try:
        no_write_bits = not os.stat(path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    except OSError:
        return False
    return os.access(path, os.W_OK) and not no_write_bits


def _short(err: BaseException) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text[:200]
