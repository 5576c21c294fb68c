"""What every reader returns, and the error for a file that cannot be indexed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from index.errors import DocumentsError
from index.readers.ocr import OcrOptions
from index.types import Heading, Span

MAX_FILE_BYTES = 100 * 1024 * 1024
"""Files larger than this are not read (bytes; 100 MiB): a handbook or report is a few MB,
and reading a file of hundreds of MB would hold its whole text in memory for one document."""


@dataclass(frozen=True)
class Extracted:
    """A file's text as a reader made it, with its locators (all offsets in characters of ``text``).

    Attributes:
        text: The text to store, chunk and cite.
        title: The document's own title (HTML ``<title>``, PDF or DOCX metadata, first heading),
            or None to use the first line.
        format: The reader's name: ``"text"``, ``"markdown"``, ``"html"``, ``"pdf"``, ``"docx"``, ``"image"``.
        pages: PDF and image files: the span of each page, page 1 first. headings: ``(offset, section path)``
            in order. blocks: spans kept whole (code blocks, tables).
        notes: Parts that were left out, one line each (``"page 3 not indexed: ..."``); the
            rest of the document is indexed.
    """

    text: str
    title: str | None = None
    format: str = "text"
    pages: tuple[Span, ...] = ()
    headings: tuple[Heading, ...] = ()
    blocks: tuple[Span, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReadOptions:
    """How files are read (built from the ``index`` settings by :meth:`assistant.Settings.reading`).

    Attributes:
        ocr: OCR of scanned PDF pages and image files (:class:`~index.readers.ocr.OcrOptions`).
    """

    ocr: OcrOptions = OcrOptions()


class Unreadable(DocumentsError):
    """A file that is not indexed. ``str(err)`` is one line naming the file, what is wrong and
    what to do; ``reason`` is the short kind (``"encrypted PDF"``, ``"no text layer"``,
    ``"unsupported type"``, ``"not UTF-8"``, ``"empty"``, ``"corrupt"``, ``"too large"``)."""

    def __init__(self, path: Path | str, reason: str, hint: str) -> None:
        self.path = str(path)
        self.reason = reason
        self.hint = hint
        super().__init__(f"{self.path}: {reason}; {hint}")


def check_size(path: Path, limit: int = MAX_FILE_BYTES) -> None:
    """Raise :class:`Unreadable` (``"too large"``) if ``path`` has more than ``limit`` bytes."""
    size = path.stat().st_size
    if size > limit:
        raise Unreadable(
            path, "too large", f"it has {size / 2**20:,.0f} MB, over the {limit / 2**20:,.0f} MB limit; split it into smaller files"
        )


def read_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The file's bytes, after :func:`check_size`.

    Raises:
        Unreadable: too large. DocumentsError: it cannot be read (permissions, I/O).
    """
    try:
        check_size(path, limit)
        return path.read_bytes()
    except OSError as err:
        raise DocumentsError(f"Cannot read {path}: {err.strerror}.") from None
