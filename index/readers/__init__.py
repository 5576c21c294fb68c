"""Readers: one small module per file format, behind one seam (after ragna's ``DOCUMENT_HANDLERS``).

A reader is a function ``read(path, options=None) -> Extracted`` (``options``: a
:class:`ReadOptions`, e.g. OCR settings; readers that need none ignore it): the document's text plus its locators
(page spans for PDFs, section headings where the format has them, blocks kept whole); it
raises :class:`Unreadable` with a one-line reason for a file that cannot be indexed.
:data:`READERS` maps a lower-case file suffix to its reader; adding a format is adding a
module and one entry.

| suffix | reader | library |
| --- | --- | --- |
| ``.txt`` | :func:`index.readers.text.read_text` | (UTF-8) |
| ``.md``, ``.markdown`` | :func:`index.readers.markdown.read_markdown` | ``markdown-it-py`` |
| ``.html``, ``.htm`` | :func:`index.readers.text.read_html` | ``inscriptis`` + ``lxml`` |
| ``.pdf`` | :func:`index.readers.pdf.read_pdf` | ``pypdfium2`` |
| ``.docx`` | :func:`index.readers.docx.read_docx` | ``python-docx`` |
| ``.png``, ``.jpg``, ``.jpeg``, ``.tif``, ``.tiff`` | :func:`index.readers.image.read_image_file` | ``Pillow`` + ``tesserocr`` (OCR) |

Scanned PDF pages are read by OCR too (:mod:`index.readers.ocr`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from index.readers.base import MAX_FILE_BYTES, Extracted, ReadOptions, Unreadable

Reader = Callable[..., Extracted]
"""``reader(path, options: ReadOptions | None = None) -> Extracted``."""


def _pdf(path: Path, options: ReadOptions | None = None) -> Extracted:
    from index.readers.pdf import read_pdf

    return read_pdf(path, (options or ReadOptions()).ocr)


def _image(path: Path, options: ReadOptions | None = None) -> Extracted:
    from index.readers.image import read_image_file

    return read_image_file(path, (options or ReadOptions()).ocr)


def _docx(path: Path, options: ReadOptions | None = None) -> Extracted:
    from index.readers.docx import read_docx

    return read_docx(path)


def _markdown(path: Path, options: ReadOptions | None = None) -> Extracted:
    from index.readers.markdown import read_markdown

    return read_markdown(path)


def _text(path: Path, options: ReadOptions | None = None) -> Extracted:
    from index.readers.text import read_text

    return read_text(path)


def _html(path: Path, options: ReadOptions | None = None) -> Extracted:
    from index.readers.text import read_html

    return read_html(path)


READERS: dict[str, Reader] = {
    ".txt": _text,
    ".md": _markdown,
    ".markdown": _markdown,
    ".html": _html,
    ".htm": _html,
    ".pdf": _pdf,
    ".docx": _docx,
    ".png": _image,
    ".jpg": _image,
    ".jpeg": _image,
    ".tif": _image,
    ".tiff": _image,
}
"""Suffix (lower case, with the dot) -> reader. Libraries are imported on first use."""

SUPPORTED_SUFFIXES = tuple(READERS)


def reader_for(path: Path) -> Reader:
    """The reader of ``path``'s suffix.

    Raises:
        Unreadable: no reader for that suffix (``reason`` ``"unsupported type"``).
    """
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        kinds = "/".join(SUPPORTED_SUFFIXES)
        what = f"a {path.suffix} file" if path.suffix else "a file without a suffix"
        raise Unreadable(path, "unsupported type", f"{what} is not read; convert it to one of {kinds}")
    return reader


def read(path: Path, options: ReadOptions | None = None) -> Extracted:
    """Read ``path`` with the reader of its suffix (see :data:`READERS`) and ``options`` (default :class:`ReadOptions`).

    Raises:
        Unreadable: unsupported type, or the file cannot be indexed (the message says why and what to do).
        DocumentsError: the file cannot be read at all (permissions, I/O).
    """
    return reader_for(path)(path, options)


__all__ = ["Extracted", "MAX_FILE_BYTES", "READERS", "ReadOptions", "Reader", "SUPPORTED_SUFFIXES", "Unreadable", "read", "reader_for"]
