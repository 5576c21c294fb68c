"""Who may read which document: the access file, read at indexing, labels each document with groups.

The access file is plain text, one rule a line, ``pattern: group, group``::

    # HR cases and salary bands
    hr/**: hr
    board/**: board, executives
    **: everyone

- ``pattern`` is a glob over document ids (the path relative to the indexed folder, ``/``
  separated, as ``assistant docs`` lists them), matched with ``wcmatch`` (``GLOBSTAR``):
  ``*`` and ``?`` stay within one folder, ``**`` spans any number of folders (``hr/**`` is
  everything under ``hr/``; ``**`` alone is every document).
- Groups are names of letters, digits and ``._-`` (at most :data:`MAX_GROUP_CHARS` characters),
  separated by commas. ``everyone`` (:data:`EVERYONE`) is the group every signed-in reader has.
- The **first** rule whose pattern matches decides (as in a firewall): put specific folders
  before ``**``. A document no rule matches gets no group and is readable by nobody (access
  fails closed); indexing names it.
- ``#`` starts a comment line; blank lines are ignored.

Without an access file every document is labelled ``everyone``. The labels are stored with each
document in the store (``groups`` in its metadata, see :mod:`index.store`); changing the file and
running ``assistant index`` again writes a new build with the new labels, copying the vectors
(nothing is embedded again).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from wcmatch.glob import DOTGLOB, GLOBSTAR, globmatch

from index.errors import DocumentsError

EVERYONE = "everyone"
"""The group of every signed-in reader, and the label of every document when there is no access file."""

MAX_GROUP_CHARS = 64
"""Longest group name (characters)."""

GROUP_NAME = re.compile(r"[A-Za-z0-9._-]{1,%d}" % MAX_GROUP_CHARS)
"""What a group name may be: letters, digits, ``.``, ``_`` and ``-`` (1 to :data:`MAX_GROUP_CHARS` characters)."""

_FLAGS = GLOBSTAR | DOTGLOB


class AccessFileError(DocumentsError):
    """The access file cannot be read or has a malformed line; the message names the file and the line."""


@dataclass(frozen=True)
class AccessRule:
    """One line of the access file: documents matching ``pattern`` are readable by ``groups``."""

    pattern: str
    groups: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class AccessRules:
    """The parsed access file (:func:`load_access_rules`), or the default (no file: everything ``everyone``)."""

    rules: tuple[AccessRule, ...] = (AccessRule("**", (EVERYONE,), 0),)
    source: str = "(no access file: every document is readable by everyone)"

    def groups_for(self, doc_id: str) -> tuple[str, ...]:
        """The groups that may read document ``doc_id``: those of the first matching rule, or ``()`` (nobody)."""
        for rule in self.rules:
            if globmatch(doc_id, rule.pattern, flags=_FLAGS):
                return rule.groups
        return ()


def parse_access_rules(text: str, source: str = "the access file") -> AccessRules:
    """Parse the access file's ``text`` (format in the module docstring).

    Raises:
        AccessFileError: one line naming ``source``, the line number and what is wrong with it.
    """
    rules = []
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pattern, sep, rest = line.rpartition(":")
        pattern = pattern.strip()

        def bad(why: str) -> AccessFileError:
            shown = line if len(line) <= 80 else line[:77] + "..."
            return AccessFileError(
                f"{source}, line {n} ({shown!r}): {why}; write `pattern: group, group` (e.g. `hr/**: hr`). "
                "Nothing was re-labelled: the index keeps the previous rules' labels."
            )

        if not sep or not pattern:
            raise bad("no `pattern: groups`")
        groups = tuple(g.strip() for g in rest.split(","))
        if not any(groups):
            raise bad("no group after the colon")
        for g in groups:
            if not GROUP_NAME.fullmatch(g):
                raise bad(f"{g[:40]!r} is not a group name (letters, digits, . _ -, at most {MAX_GROUP_CHARS} characters)")
        if pattern.startswith("/") or any(part == ".." for part in pattern.split("/")):
            raise bad("a pattern is a path relative to the indexed folder (no leading / or ..)")
        rules.append(AccessRule(pattern, tuple(dict.fromkeys(groups)), n))
    if not rules:
        raise AccessFileError(f"{source} has no rule, so nobody could read anything; add lines such as `**: everyone`.")
    return AccessRules(tuple(rules), source)


def load_access_rules(path: Path | None) -> AccessRules:
    """The rules of the access file at ``path`` (None: the default, everything ``everyone``).

    Raises:
        AccessFileError: the file cannot be read, or a line is malformed (one line naming it).
    """
    if path is None:
        return AccessRules()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise AccessFileError(f"Cannot read the access file {path} ({getattr(err, 'strerror', None) or err}).") from None
    return parse_access_rules(text, f"access file {path}")
