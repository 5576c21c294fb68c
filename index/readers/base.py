"""What every reader returns, and the error for a file that cannot be indexed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from index.errors import DocumentsError
from index.readers.ocr import OcrOptions
from index.types import Heading, Mark, Span, TableRow

MAX_FILE_BYTES = 100 * 1024 * 1024
"""Files larger than this are not read (bytes; 100 MiB): a handbook or report is a few MB,
and reading a file of hundreds of MB would hold its whole text in memory for one document."""


@dataclass(frozen=True)
class Extracted:
    """A file's text as a reader made it, with its locators (all offsets in characters of ``text``).

    Attributes:
        text: The text to store, chunk and cite.
        title: The document's own title (see each reader: PDF meaningful metadata title or
            largest text on page 1, DOCX core properties or first Title/Heading 1, HTML
            ``<title>``/``<h1>``, Markdown ``# heading``), or None: the loader then takes the
            first line if it looks like a title, else the file name in words.
        format: The reader's name: ``"text"``, ``"markdown"``, ``"html"``, ``"pdf"``, ``"docx"``, ``"image"``.
        pages: PDF and image files: the span of each page, page 1 first. headings: ``(offset, section path)``
            in order. blocks: spans kept whole (code blocks).
        rows: Table rows (:class:`~index.types.TableRow`) in text order, each one line.
        marks: Structure spans (:data:`~index.types.Mark`) the format marks: list items,
            notes, headings' lines. Text without marked structure (``.txt``, PDF) gets its
            marks from :func:`index.structure.text_marks` in the loader (``plain=True``).
        plain: True when the format marks no list items or headings (``.txt``, PDF, images):
            the loader then finds them by the text rules of :mod:`index.structure`.
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
    rows: tuple[TableRow, ...] = ()
    marks: tuple[Mark, ...] = ()
    plain: bool = False


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
