"""OCR of scanned pages with Tesseract through ``tesserocr``, keeping each word's box.

**Why tesserocr.** Measured with ``python benchmarks/ocr.py --parts libraries`` (numbers in
``benchmarks/RESULTS.md``): tesserocr reads a page faster than pytesseract with the same LSTM
English data, at the same word agreement against the text layer. pytesseract writes each image to a temporary file and starts
a ``tesseract`` process per page; tesserocr calls libtesseract in-process and releases the
GIL while it recognises, so threads read pages in parallel. OCRmyPDF runs the same engine to
write a new PDF (and needs Ghostscript and qpdf): more work and dependencies, no better
reading. tesserocr's wheel carries the engine; the language data (``eng.traineddata``, ...)
comes from Debian's ``tesseract-ocr-eng`` (``apt-get install tesseract-ocr tesseract-ocr-eng``).

**What a page gives.** :class:`OcrPage`: its words in Tesseract's reading order, each with
its box in fractions of the page image (left, top, right, bottom from the top-left corner)
and the line it belongs to (see :data:`MIN_WORD_CONFIDENCE`). A page with no word (blank, a
photo) gives no text and says so in :attr:`OcrPage.problem`.

**Cost.** :func:`ocr_pages` reads pages in parallel, one Tesseract per thread, up to
:attr:`OcrOptions.workers` (default: the cores), with at most two pages per worker rendered
and waiting, so a 500-page scan is never held in memory whole. Each page's result is
stored in a :mod:`diskcache` cache under the page's content key (:func:`page_key`) as soon
as it is read: re-reading the file, or reading it again after Ctrl-C, runs OCR only on the
pages not read yet.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DPI = 300
"""Resolution pages are rendered at for OCR (dots per inch): Tesseract's documentation
("Improving the quality of the output") asks for at least 300 dpi; 150-dpi scans of the
report's and the book's pages, rendered again at 300, read at 0.961-0.982 agreement."""

MIN_WORD_CONFIDENCE = 0.0
"""Words Tesseract gives a confidence below this (0-100) are dropped; 0 keeps every word, as
Tesseract's own text output does. A threshold buys little and costs true words: on seven
test pages (report pp. 2, 6, 7, 8; book pp. 1, 3, 5) word agreement moved by at most 0.007
between 0 and 30, but among the words under 30 were "phenomenon", "LR_Element" and the
section number "2.1" (scored 7 to 54 by the resolution it was rendered at), without which
"2.1 LRS model" is no section heading. No photo or blank test page gave a word at all."""

NOT_CACHED = "its OCR results are not cached"
"""Why pages are left unread with ``cache_only`` (the page view looks for it in the notes)."""

OCR_FORMAT = 2
"""Version of what is cached for a page; part of every cache key (2: every word, whatever its confidence)."""

TESSDATA_DIRS = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
    "/opt/homebrew/share/tessdata",
)
"""Where Tesseract's language data is looked for (Debian/Ubuntu 5 and 4, Fedora, source builds, Homebrew)."""


@dataclass(frozen=True)
class OcrOptions:
    """How scanned pages are read.

    Attributes:
        enabled: Run OCR at all; off, scanned pages are left out and named (as before OCR).
        languages: Tesseract language packs, e.g. ``("eng",)`` or ``("eng", "deu")``.
        cache_dir: Folder of the per-page cache (None: no cache, every read runs OCR).
        workers: Pages read at once (0: one per core).
        dpi: Render resolution of PDF pages for OCR (dots per inch).
        cache_only: Never run OCR, only read the cache (the page view); a page not cached
            is left unread, as when Tesseract is missing.
        progress: Show a progress bar per file (pages) on stderr.
    """

    enabled: bool = True
    languages: tuple[str, ...] = ("eng",)
    cache_dir: Path | None = None
    workers: int = 0
    dpi: int = DPI
    cache_only: bool = False
    progress: bool = False

    def worker_count(self) -> int:
        """:attr:`workers`, or the cores this process may use when it is 0."""
        if self.workers > 0:
            return self.workers
        try:
            return max(len(os.sched_getaffinity(0)), 1)
        except AttributeError:  # not Linux
            return os.cpu_count() or 1


@dataclass(frozen=True)
class Word:
    """One word read by OCR: ``box`` is ``(left, top, right, bottom)`` in fractions of the
    page image's width and height from its top-left corner; ``line`` numbers the page's lines."""

    text: str
    box: tuple[float, float, float, float]
    line: int


@dataclass(frozen=True)
class OcrPage:
    """What OCR read on one page: its words in reading order, the seconds it took (0.0 when
    it came from the cache) and, when no text came out, why (``problem``)."""

    words: tuple[Word, ...] = ()
    seconds: float = 0.0
    problem: str | None = None
    cached: bool = False


@dataclass(frozen=True)
class PageJob:
    """One page to read: its number (1-based), its content key (:func:`page_key`) and a
    function that renders it (a PIL image, called in a worker thread)."""

    number: int
    key: str
    image: Callable[[], object] = field(compare=False)


class OcrUnavailable(Exception):
    """Tesseract or its language data is missing; ``str`` is one line that says how to install it."""


def page_key(content: bytes | str, options: OcrOptions) -> str:
    """Cache key of a page: SHA-256 of its content digest (``content``: what the page is made
    of, see the readers) with everything that changes what OCR reads (languages, dpi, engine
    version, :data:`OCR_FORMAT`). Hex string of 64 characters."""
    if isinstance(content, str):
        content = content.encode()
    digest = hashlib.sha256(content)
    digest.update(json.dumps([OCR_FORMAT, list(options.languages), options.dpi, engine_version()]).encode())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def engine_version() -> str:
    """Tesseract's version as tesserocr reports it (first line), or ``"none"`` when tesserocr is missing."""
    try:
        import tesserocr
    except ImportError:
        return "none"
    return tesserocr.tesseract_version().split("\n", 1)[0].strip()


def install_hint(languages: Iterable[str]) -> str:
    """The one-line command that installs Tesseract with these languages on Debian/Ubuntu."""
    packages = ["tesseract-ocr", *(f"tesseract-ocr-{lang.lower().replace('_', '-')}" for lang in languages)]
    return f"`apt-get install {' '.join(packages)}`"


@lru_cache(maxsize=8)
def tessdata_dir(languages: tuple[str, ...]) -> str:
    """The folder of Tesseract language data holding every one of ``languages``.

    Raises:
        OcrUnavailable: tesserocr is not installed, or no known folder has all the languages.
    """
    try:
        import tesserocr
    except ImportError:
        raise OcrUnavailable(f"OCR needs tesserocr (pip install tesserocr) and Tesseract's data: {install_hint(languages)}") from None
    default, _ = tesserocr.get_languages()  # the library's built-in folder ("./" in the PyPI wheel: not used)
    for folder in (default if default and Path(default).is_absolute() else None, *TESSDATA_DIRS):
        if folder and all((Path(folder) / f"{lang}.traineddata").is_file() for lang in languages):
            return str(folder)
    raise OcrUnavailable(f"Tesseract's {'+'.join(languages)} language data is not installed; install it with {install_hint(languages)}")


_local = threading.local()


def _api(languages: tuple[str, ...]):
    """This thread's Tesseract (one per thread: an engine is not thread-safe)."""
    import tesserocr

    api = getattr(_local, "api", None)
    if api is None or getattr(_local, "languages", None) != languages:
        api = tesserocr.PyTessBaseAPI(path=tessdata_dir(languages), lang="+".join(languages))
        _local.api, _local.languages = api, languages
    return api


def read_image(image, languages: tuple[str, ...] = ("eng",)) -> OcrPage:
    """OCR one page image (a PIL image of any mode): its words with boxes (see the module docstring).

    Raises:
        OcrUnavailable: Tesseract's data for ``languages`` is missing.
    """
    t0 = time.perf_counter()
    gray = image.convert("L") if image.mode not in ("L", "1") else image
    api = _api(tuple(languages))
    api.SetImage(gray)
    api.Recognize()
    tsv = api.GetTSVText(0)
    api.Clear()
    words = parse_tsv(tsv, gray.width, gray.height)
    problem = None if words else "OCR found no words on it (a blank page or a picture)"
    return OcrPage(tuple(words), time.perf_counter() - t0, problem)


def parse_tsv(tsv: str, width: int, height: int) -> list[Word]:
    """Words of Tesseract's TSV output (``level page block par line word left top width height
    conf text`` rows; level 5 = word) with confidence at least :data:`MIN_WORD_CONFIDENCE`,
    boxes as fractions of ``width`` x ``height`` pixels, lines numbered in reading order."""
    words: list[Word] = []
    lines: dict[tuple[str, str, str], int] = {}
    for row in tsv.splitlines():
        parts = row.split("\t")
        if len(parts) < 12 or parts[0] != "5":
            continue
        text = parts[11].strip()
        try:
            left, top, w, h = (int(v) for v in parts[6:10])
            conf = float(parts[10])
        except ValueError:
            continue
        if not text or conf < MIN_WORD_CONFIDENCE:
            continue
        line = lines.setdefault((parts[2], parts[3], parts[4]), len(lines))
        words.append(Word(text, (left / width, top / height, (left + w) / width, (top + h) / height), line))
    return words


def _to_json(page: OcrPage) -> str:
    return json.dumps({"words": [[w.text, *w.box, w.line] for w in page.words], "seconds": page.seconds, "problem": page.problem})


def _from_json(text: str) -> OcrPage:
    data = json.loads(text)
    words = tuple(Word(t, (l, tp, r, b), int(line)) for t, l, tp, r, b, line in data["words"])
    return OcrPage(words, 0.0, data.get("problem"), cached=True)


_caches: dict[str, object] = {}
_caches_lock = threading.Lock()


def _cache(options: OcrOptions):
    """The :class:`diskcache.Cache` in ``options.cache_dir`` (one per folder and process), or None."""
    if options.cache_dir is None:
        return None
    import diskcache

    folder = str(options.cache_dir)
    with _caches_lock:
        if folder not in _caches:
            _caches[folder] = diskcache.Cache(folder, eviction_policy="none", size_limit=2**40)
        return _caches[folder]


def cached_page(key: str, options: OcrOptions) -> OcrPage | None:
    """The cached result of the page with ``key``, or None."""
    cache = _cache(options)
    if cache is None:
        return None
    text = cache.get(key)
    if text is None:
        return None
    try:
        return _from_json(text)
    except (ValueError, KeyError, TypeError):  # a damaged entry: read the page again
        return None


@dataclass
class OcrRun:
    """Outcome of :func:`ocr_pages`: each page's result by number, how many pages OCR ran on
    (the rest came from the cache) and, when OCR could not run, why (one line)."""

    pages: dict[int, OcrPage] = field(default_factory=dict)
    ran: int = 0
    unavailable: str | None = None


def ocr_pages(jobs: list[PageJob], options: OcrOptions, label: str = "OCR") -> OcrRun:
    """Read ``jobs`` (see the module docstring): cached pages from the cache, the rest in
    parallel, each stored in the cache as soon as it is read.

    Returns:
        An :class:`OcrRun`; when Tesseract is missing (or ``options.cache_only``), the
        uncached pages are not in ``pages`` and ``unavailable`` says why (how to install it).

    Raises:
        KeyboardInterrupt: passed on after the pages still waiting are cancelled and the ones
            being read have finished, so no OCR thread outlives the call (those
            already read are in the cache).
    """
    run = OcrRun()
    todo = []
    for job in jobs:
        hit = cached_page(job.key, options)
        if hit is not None:
            run.pages[job.number] = hit
        else:
            todo.append(job)
    if not todo:
        return run
    if options.cache_only:  # the page view: those pages read as when OCR could not run
        run.unavailable = NOT_CACHED
        return run
    try:
        tessdata_dir(tuple(options.languages))
    except OcrUnavailable as err:
        run.unavailable = str(err)
        return run
    _read_in_parallel(todo, options, label, run)
    return run


def _read_in_parallel(todo: list[PageJob], options: OcrOptions, label: str, run: OcrRun) -> None:
    """Read ``todo`` on ``options.worker_count()`` threads into ``run``, caching each page as
    soon as it is read (see :func:`ocr_pages`, which says what it raises)."""
    cache = _cache(options)
    from tqdm.auto import tqdm

    workers = min(options.worker_count(), len(todo))
    pool = ThreadPoolExecutor(workers, thread_name_prefix="ocr")
    bar = tqdm(total=len(todo), desc=label, unit="page", disable=not options.progress, leave=False)
    pending: dict[Future, PageJob] = {}
    queue = iter(todo)
    try:
        while True:
            while len(pending) < 2 * workers:  # bounded: a few page images alive at a time
                job = next(queue, None)
                if job is None:
                    break
                pending[pool.submit(_read_job, job, tuple(options.languages))] = job
            if not pending:
                break
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            failed = None
            for future in sorted(done, key=lambda f: pending[f].number):  # every page read is cached before an error goes on
                job = pending.pop(future)
                try:
                    page, keep = future.result()
                except BaseException as err:  # KeyboardInterrupt, or a bug
                    failed = failed or err
                    continue
                run.pages[job.number] = page
                run.ran += 1
                if cache is not None and keep:
                    cache.set(job.key, _to_json(page))
                bar.update(1)
            if failed is not None:
                raise failed
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)  # no OCR thread outlives the call: at most a page per worker to finish
        raise
    finally:
        bar.close()
    pool.shutdown(wait=True)


def _read_job(job: PageJob, languages: tuple[str, ...]) -> tuple[OcrPage, bool]:
    """``(result, cacheable)``: a page that failed (cannot be rendered, Tesseract error) is
    named in ``problem`` and not cached, so the next run tries it again."""
    try:
        image = job.image()
    except Exception as err:  # a page PDFium or Pillow cannot render: named, the rest goes on
        return OcrPage(problem=f"it cannot be rendered for OCR ({_first_line(err)})"), False
    try:
        return read_image(image, languages), True
    except Exception as err:
        return OcrPage(problem=f"OCR failed on it ({_first_line(err)})"), False
    finally:
        close = getattr(image, "close", None)
        if close:
            close()


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:120] if text else type(err).__name__
