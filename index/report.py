"""What a build did: :class:`IndexReport`, returned by :func:`index.build_index` and printed by
``assistant index``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from index.records import BuildInfo

if TYPE_CHECKING:  # a type only: importing the loader would import every reader on the answer path
    from index.loader import Skip


@dataclass(frozen=True)
class IndexReport:
    """Outcome of :func:`build_index`.

    Attributes:
        build: The build now active. rebuilt: Whether a new build was written.
        reason: One line on why it was (or was not) rebuilt.
        seconds: Wall time of the call, in seconds.
        added, changed, removed, unchanged: Document ids by what happened to them
            (``unchanged`` includes documents kept from earlier runs).
        missing: Indexed documents whose source file no longer exists, kept because
            ``prune`` was not asked for.
        embedded_passages: Passages run through the model in this call (the rest were copied).
        skipped: Files under the given paths that were not indexed (or only partly), each
            with its one-line reason (see :class:`index.loader.Skip`).
        read_seconds: Wall time spent reading files with the readers (seconds; part of ``seconds``).
        relabelled: Documents copied with new access groups (the access file changed).
        unreadable: Documents of the build no access rule matches: readable by nobody.
    """

    build: BuildInfo
    rebuilt: bool
    reason: str
    seconds: float
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    embedded_passages: int = 0
    skipped: tuple[Skip, ...] = ()
    read_seconds: float = 0.0
    relabelled: tuple[str, ...] = ()
    unreadable: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for people, e.g. ``index up to date: 1 document, 39 passages in 0.0 s``;
        then a line naming documents whose file is gone, and one line per skipped file."""
        n = len(self.build.documents)
        state = f"built ({self.reason})" if self.rebuilt else "up to date"
        line = f"index {state}: {_plural(n, 'document')}, {_plural(self.build.n_passages, 'passage')} in {self.seconds:.1f} s"
        if self.rebuilt:
            reused = self.build.n_passages - self.embedded_passages
            line += f" ({_plural(self.embedded_passages, 'passage')} embedded, {reused} reused)"
        if self.missing:
            names = ", ".join(self.missing[:5]) + (", ..." if len(self.missing) > 5 else "")
            line += f"\n{len(self.missing)} indexed document(s) no longer exist on disk ({names}); `assistant index --prune` removes them"
        not_indexed = [s for s in self.skipped if s.reason != "partly indexed"]
        if self.skipped:
            line += f"\n{_plural(len(not_indexed), 'file')} not indexed" + (
                f", {len(self.skipped) - len(not_indexed)} partly" if len(not_indexed) < len(self.skipped) else ""
            ) + ":"
            line += "".join(f"\n  skipped {s.message}" if s.reason != "partly indexed" else f"\n  partly {s.message}" for s in self.skipped)
        if self.relabelled:
            line += f"\n{_plural(len(self.relabelled), 'document')} re-labelled from the access file (nothing embedded again)"
        if self.unreadable:
            names = ", ".join(self.unreadable[:10]) + (f" and {len(self.unreadable) - 10} more" if len(self.unreadable) > 10 else "")
            line += f"\n{_plural(len(self.unreadable), 'document')} readable by nobody (no access rule matches): {names}"
        return line


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
