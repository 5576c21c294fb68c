"""Who is asking: readers' groups, and the bearer tokens of ``auth_mode`` token.

A *reader* is known by a set of groups (:func:`reader_groups`); every signed-in reader also has
the group ``everyone`` (:data:`index.access.EVERYONE`). What a group may read is decided at
indexing by the access file (:mod:`index.access`); :meth:`assistant.Assistant.ask` and friends
take the groups and search only those documents.

:class:`TokenStore` keeps the bearer tokens of ``auth_mode`` token in ``tokens.json`` in the
data dir: for each token its name, its groups, when it was made and the **SHA-256 of the token**;
the token itself is shown once, by ``assistant token add``, and stored nowhere. Writes take a
``filelock`` lock and replace the file atomically; readers cache it until its modification time
changes, so checking a token is one ``stat`` and one dictionary look-up.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from index.access import EVERYONE, GROUP_NAME, MAX_GROUP_CHARS

from assistant.errors import AssistantError

TOKEN_FILE = "tokens.json"
"""Name of the token file inside ``Settings.index.data_dir``."""

TOKEN_PREFIX = "cat_"
"""Start of every token (so a leaked one is recognisable in a secret scanner); 32 random bytes follow, URL-safe base64."""

MAX_HEADER_CHARS = 8192
"""Longest groups header read (characters); nginx's default header buffer is 8 KB too."""


class AccessError(AssistantError):
    """A reader's identity cannot be used: a groups header that is too long or has odd
    characters, or a token operation on a name that does not exist. The message is one line."""


def reader_groups(groups: Iterable[str]) -> frozenset[str]:
    """The groups of a signed-in reader: ``groups`` and ``everyone``."""
    return frozenset(groups) | {EVERYONE}


def parse_groups_header(value: str, max_groups: int) -> frozenset[str]:
    """The groups of a proxy's groups header (``"hr, staff"``; commas or spaces separate them),
    with ``everyone`` added.

    Raises:
        AccessError: over :data:`MAX_HEADER_CHARS` characters, more than ``max_groups`` groups,
            or a group that is not a group name (letters, digits, ``._-``, at most 64 characters).
    """
    if len(value) > MAX_HEADER_CHARS:
        raise AccessError(f"The groups header is {len(value):,} characters long; at most {MAX_HEADER_CHARS:,} are read.")
    names = [g for g in value.replace(",", " ").split() if g]
    if len(names) > max_groups:
        raise AccessError(f"The groups header names {len(names):,} groups; at most {max_groups:,} are accepted (ASSISTANT_MAX_GROUPS).")
    for g in names:
        if not GROUP_NAME.fullmatch(g):
            raise AccessError(
                f"The groups header has {g[:40]!r}, which is not a group name (letters, digits, . _ -, at most {MAX_GROUP_CHARS} characters)."
            )
    return reader_groups(names)


def token_hash(token: str) -> str:
    """Hex SHA-256 of ``token`` (what the token file stores)."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class TokenRecord:
    """One token as stored: ``name`` (unique), ``groups``, ``sha256`` of the token, ``created_at`` (Unix seconds)."""

    name: str
    groups: tuple[str, ...]
    sha256: str
    created_at: float

    def public(self) -> dict:
        """What ``assistant token list`` shows: everything but the hash (its first 8 hex digits, to tell tokens apart)."""
        return {"name": self.name, "groups": list(self.groups), "created_at": self.created_at, "hash_prefix": self.sha256[:8]}


class TokenStore:
    """The bearer tokens in ``folder / tokens.json`` (see the module docstring).

    Raises (every method):
        AccessError: the file cannot be read or written (the message says which and why).
    """

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / TOKEN_FILE
        self._seen: tuple[int, int] | None = None
        self._by_hash: dict[str, TokenRecord] = {}

    def _lock(self):
        from filelock import FileLock

        return FileLock(str(self.path) + ".lock", timeout=10)

    def records(self) -> list[TokenRecord]:
        """Every token record, oldest first."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as err:
            raise AccessError(f"Cannot read the token file {self.path} ({getattr(err, 'strerror', None) or err}).") from None
        return [TokenRecord(t["name"], tuple(t["groups"]), t["sha256"], float(t["created_at"])) for t in data.get("tokens", [])]

    def _write(self, records: list[TokenRecord]) -> None:
        tmp = self.path.with_suffix(".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({"tokens": [asdict(r) for r in records]}, indent=1), encoding="utf-8")
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except OSError as err:
            raise AccessError(f"Cannot write the token file {self.path} ({err.strerror or err}).") from None

    def add(self, name: str, groups: Iterable[str]) -> str:
        """Make a token named ``name`` for ``groups`` and return it (the only time it is seen).

        Raises:
            AccessError: the name is taken or empty, or a group is not a group name.
        """
        name = name.strip()
        groups = tuple(dict.fromkeys(g.strip() for g in groups if g.strip()))
        if not name or len(name) > 100 or any(c.isspace() for c in name):
            raise AccessError(f"A token name is 1 to 100 characters without spaces, got {name!r}.")
        for g in groups:
            if not GROUP_NAME.fullmatch(g):
                raise AccessError(f"{g!r} is not a group name (letters, digits, . _ -, at most {MAX_GROUP_CHARS} characters).")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._lock():
            records = self.records()
            if any(r.name == name for r in records):
                raise AccessError(f"A token named {name!r} exists already; revoke it first or choose another name.")
            self._write([*records, TokenRecord(name, groups, token_hash(token), time.time())])
        return token

    def revoke(self, name: str) -> TokenRecord:
        """Delete the token named ``name``; from then on it gets 401.

        Raises:
            AccessError: no token has that name.
        """
        with self._lock():
            records = self.records()
            gone = [r for r in records if r.name == name]
            if not gone:
                names = ", ".join(r.name for r in records) or "none"
                raise AccessError(f"No token is named {name!r} (tokens: {names}).")
            self._write([r for r in records if r.name != name])
        return gone[0]

    def lookup(self, token: str) -> TokenRecord | None:
        """The record of ``token``, or None for an unknown or revoked one. Re-reads the file only
        when its modification time or size changed (one ``stat`` otherwise)."""
        try:
            st = self.path.stat()
            seen = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            seen = (0, 0)
        if seen != self._seen:
            self._by_hash = {r.sha256: r for r in self.records()} if seen != (0, 0) else {}
            self._seen = seen
        return self._by_hash.get(token_hash(token))
