"""Image files as documents (``.png``, ``.jpg``/``.jpeg``, ``.tif``/``.tiff``): every frame is a
page read by OCR (:mod:`index.readers.ocr`), with Pillow (MIT-CMU) decoding the file.

A multi-page TIFF (a fax, a scanner's output) gives one page per frame. The text is made like
a scanned PDF page's (:func:`index.readers.pdf.assemble`: headers, paragraphs, hyphens), the
format is ``"image"`` and pages are cited as in a PDF. Each frame's OCR result is cached under
the file's SHA-256 and the frame number, so reading the file again runs no OCR.

**Bad input** (one line each, see :class:`~index.readers.base.Unreadable`): not an image
Pillow can open (``"corrupt"``), too large (:data:`~index.readers.base.MAX_FILE_BYTES`, or
more pixels than Pillow's decompression-bomb limit), or no text (OCR off, Tesseract
missing, or no words found: a photo).
"""

from __future__ import annotations

import hashlib
from functools import partial
from pathlib import Path

from index.readers.base import Extracted, Unreadable, check_size
from index.readers.ocr import OcrOptions, PageJob, ocr_pages, page_key


def _open(path: Path):
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(path)
        image.size  # noqa: B018  (parsed header)
        return image
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise Unreadable(path, "corrupt", f"it is not an image Pillow can read ({str(err)[:100]}); export it again as PNG or TIFF") from None
    except Image.DecompressionBombError:
        raise Unreadable(path, "too large", "it has more pixels than an image safe to decode; scale it down (300 dpi is enough for OCR)") from None


def frame(path: Path, number: int):
    """Frame ``number`` (1-based) of the image file as a PIL image, decoded (a copy, the file closed)."""
    with _open(path) as image:
        image.seek(number - 1)
        image.load()
        return image.copy()


def frame_count(path: Path) -> int:
    """Frames (pages) in the image file (1 for PNG and JPEG)."""
    with _open(path) as image:
        return getattr(image, "n_frames", 1)


def extract_image(path: Path, ocr: OcrOptions | None = None):
    """Read an image file by OCR: ``(extracted, origin, word_boxes)`` as
    :func:`index.readers.pdf.extract` gives them (every character from an OCR word).

    Raises:
        Unreadable: corrupt, too large, or no text (OCR off or unavailable, nothing read).
    """
    from index.readers.pdf import assemble, ocr_lines

    ocr = ocr if ocr is not None else OcrOptions()
    check_size(path)
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    with _open(path) as image:
        n_frames = getattr(image, "n_frames", 1)
        sizes = []
        for i in range(n_frames):
            image.seek(i)
            sizes.append(image.size)
    pages: list[tuple[list, float]] = [([], float(h)) for _, h in sizes]
    words: dict[int, tuple] = {}
    notes: list[str] = []
    unread: list[int] = []
    why = "OCR is off (setting index.ocr)"
    if ocr.enabled:
        jobs = [PageJob(n, page_key(digest.digest() + n.to_bytes(4, "big"), ocr), partial(frame, path, n)) for n in range(1, n_frames + 1)]
        run = ocr_pages(jobs, ocr, label=f"OCR {path.name}")
        why = run.unavailable or why
        for n in range(1, n_frames + 1):
            page = run.pages.get(n)
            if page is None:
                unread.append(n)
            elif page.problem:
                notes.append(f"page {n} not indexed: {page.problem}")
            else:
                width, height = sizes[n - 1]
                pages[n - 1] = (ocr_lines(page.words, float(width), float(height)), float(height))
                words[n] = tuple(w.box for w in page.words)
    else:
        unread = list(range(1, n_frames + 1))
    if not words and not unread:
        raise Unreadable(path, "empty", "OCR found no words in it (a photo or a blank page)")
    extracted, origin = assemble(path, pages, unread, why, notes, n_frames, None, format="image")
    return extracted, origin, words


def read_image_file(path: Path, ocr: OcrOptions | None = None) -> Extracted:
    """An image file's text, read by OCR with ``ocr`` (see the module docstring).

    Raises:
        Unreadable: corrupt, too large, or no text.
    """
    return extract_image(path, ocr)[0]
