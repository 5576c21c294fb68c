"""Documents -> cleaned :class:`~index.types.Document` objects.

Cleaning never rewrites text: it only cuts a trailing block of page boilerplate, so the
stored text is a prefix of the file and every character offset and line number of the stored
text is also one of the source file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from index.errors import DocumentsError
from index.types import Document

SUPPORTED_SUFFIXES = (".txt", ".md")
"""File types read as documents (UTF-8 text). Other files in a folder are ignored."""

# Lines a blog platform's comment widget appends after an article when a page is scraped
# (Blogger writes "0 comments:" and "Post a Comment", localised, e.g. Spanish "Publicar un
# comentario"). They are cut only as a trailing block, never from the middle of a text.
_WIDGET_LINE = re.compile(
    r"""^\s*(?:
        \d+\s+(?:comments?|comentarios?|commentaires?|Kommentare?)\s*:?
      | (?:no|sin)\s+(?:comments?|comentarios?)\s*:?
      | post\s+a\s+comment | publicar\s+un\s+comentario | publier\s+un\s+commentaire
      | leave\s+a\s+(?:comment|reply) | add\s+a\s+comment
      | subscribe\s+to:\s*post\s+comments.*
    )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)


def strip_trailing_widget(text: str) -> str:
    """Return ``text`` without its trailing comment-widget lines (and trailing blank lines).

    The result is always a prefix of ``text``: offsets into it are offsets into ``text``.
    Only lines matching a known widget pattern, at the very end, are removed.
    """
    end = len(text)
    while end > 0:
        body = text[:end].rstrip()
        line_start = body.rfind("\n") + 1
        if body and _WIDGET_LINE.match(body[line_start:]):
            end = line_start
            continue
        end = len(body)
        break
    return text[:end]


def title_of(text: str, fallback: str) -> str:
    """First non-empty line of ``text``, without Markdown heading marks; ``fallback`` if none."""
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:200]
    return fallback


def load_document(path: Path, doc_id: str | None = None) -> Document:
    """Read one UTF-8 ``.txt``/``.md`` file into a cleaned :class:`Document`.

    Args:
        path: The file.
        doc_id: Id to give it; defaults to the file name.

    Raises:
        DocumentsError: the file cannot be read or is not valid UTF-8.
    """
    try:
        raw = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise DocumentsError(f"{path} is not UTF-8 text ({err.reason} at byte {err.start}); re-save it as UTF-8.") from None
    except OSError as err:
        raise DocumentsError(f"Cannot read {path}: {err.strerror}.") from None
    raw = raw.removeprefix("\ufeff")  # a BOM is an encoding mark, not text
    text = strip_trailing_widget(raw)
    return Document(
        doc_id=doc_id or path.name,
        title=title_of(text, fallback=path.stem),
        text=text,
        source=str(path.resolve()),
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def discover(paths: Iterable[Path]) -> list[tuple[str, Path]]:
    """Expand files and folders into sorted ``(doc_id, file)`` pairs of supported files.

    A folder contributes every supported file below it, with ``doc_id`` its path relative to
    that folder; a file given directly gets its own name as ``doc_id``.

    Raises:
        DocumentsError: a path does not exist, or nothing supported was found at all.
    """
    found: dict[str, Path] = {}
    paths = list(paths)
    for root in paths:
        root = Path(root)
        if root.is_dir():
            for file in sorted(root.rglob("*")):
                if file.is_file() and file.suffix.lower() in SUPPORTED_SUFFIXES and not file.name.startswith("."):
                    found.setdefault(file.relative_to(root).as_posix(), file)
        elif root.is_file():
            found.setdefault(root.name, root)
        else:
            raise DocumentsError(f"{root} does not exist; pass a folder or file of {'/'.join(SUPPORTED_SUFFIXES)} documents.")
    if not found:
        where = ", ".join(str(p) for p in paths) or "(no path given)"
        raise DocumentsError(f"No {'/'.join(SUPPORTED_SUFFIXES)} documents found in {where}; add some or pass another path.")
    return sorted(found.items())


def load_documents(paths: Iterable[Path]) -> list[Document]:
    """Load every supported document under ``paths`` (files or folders), sorted by ``doc_id``.

    Documents whose cleaned text is empty are skipped; if none remain, that is an error.

    Raises:
        DocumentsError: missing paths, unreadable files, or no non-empty documents.
    """
    pairs = discover(paths)
    docs = [load_document(file, doc_id) for doc_id, file in pairs]
    docs = [d for d in docs if d.text.strip()]
    if not docs:
        raise DocumentsError("All documents found are empty; add text to them or pass another path.")
    return docs
