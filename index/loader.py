"""Files -> cleaned :class:`~index.types.Document` objects, through the readers of :mod:`index.readers`.

Each file is read by the reader of its suffix (``.txt``, ``.md``, ``.html``/``.htm``,
``.pdf``, ``.docx``), which gives its text and locators (pages, section headings, blocks).
``.txt`` and ``.md``: the stored text is a prefix of the file (only a trailing block of
comment-widget lines is cut), so offsets and line numbers are the file's. HTML, PDF and
DOCX: the stored text is what the reader made of the file (see each reader), and offsets
and lines refer to that stored text (``assistant docs`` lists it, the store returns it).

A file that cannot be indexed is not an error for the folder: :func:`load_all` returns it as
a :class:`Skip` with a one-line reason, and the other files are indexed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from index.errors import DocumentsError
from index.readers import SUPPORTED_SUFFIXES, ReadOptions, Unreadable, read, reader_for
from index.readers.text import html_to_text, strip_trailing_widget, title_of
from index.structure import first_title_line, heading_marks, label_notes, locate_title, name_in_words, numbered_sections, text_marks
from index.types import Document, TableRow

HTML_SUFFIXES = (".html", ".htm")

__all__ = [
    "SUPPORTED_SUFFIXES",
    "Skip",
    "discover",
    "html_to_text",
    "load_all",
    "load_document",
    "load_documents",
    "strip_trailing_widget",
    "title_of",
]

_KINDS = "/".join(SUPPORTED_SUFFIXES)


@dataclass(frozen=True)
class Skip:
    """A file (or part of one) that was not indexed.

    Attributes:
        doc_id: The id it would have had. path: The file.
        reason: Short kind: ``"unsupported type"``, ``"encrypted PDF"``, ``"no text layer"``,
            ``"not UTF-8"``, ``"empty"``, ``"corrupt"``, ``"too large"``, ``"not a Word
            document"``, ``"link outside the folder"`` (a symbolic link to a file outside the
            indexed folder), or ``"partly indexed"`` (the document is indexed without some pages).
        message: One line for people: the file, what is wrong, what to do.
    """

    doc_id: str
    path: str
    reason: str
    message: str


def load_document(path: Path, doc_id: str | None = None, options: ReadOptions | None = None) -> Document:
    """Read one file into a cleaned :class:`Document` with its reader (see :mod:`index.readers`).

    Args:
        path: The file.
        doc_id: Id to give it; defaults to the file name.
        options: How to read it (OCR; default :class:`~index.readers.ReadOptions`).

    Returns:
        The document; ``text`` is the stored text, ``format``/``pages``/``headings``/``blocks``
        its locators; ``title`` the document's own title or its first line.

    Raises:
        Unreadable: the file cannot be indexed (unsupported type, encrypted, not UTF-8, ...).
        DocumentsError: it cannot be read at all.
    """
    return _document(path, doc_id or path.name, read(path, options))


def _document(path: Path, doc_id: str, extracted) -> Document:
    """The document of a reader's output: its title (the reader's, else the first line if it
    looks like a title, else the file name in words; see :mod:`index.structure`), the title's
    span in the text, and its structure marks (the reader's, heading lines, note labels and,
    for plain formats, list items and numbered headings)."""
    text = extracted.text
    title = " ".join((extracted.title or "").split())[:200] or first_title_line(text) or name_in_words(path)
    headings = tuple(h for h in extracted.headings if h[0] < len(text))
    marks = {m for m in extracted.marks if m[1] <= len(text)}
    marks.update(heading_marks(text, headings))
    marks.update(label_notes(text))
    if extracted.plain:
        marks.update(text_marks(text))
        if not headings:  # a .txt manual's "4. Resetting the router": sections, so passages break there
            headings = numbered_sections(text, sorted(marks))
    return Document(
        doc_id=doc_id,
        title=title,
        text=text,
        source=str(path.resolve()),
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        format=extracted.format,
        pages=extracted.pages,
        headings=headings,
        blocks=tuple(b for b in extracted.blocks if b[1] <= len(text)),
        rows=_trimmed_rows(text, extracted.rows),
        marks=tuple(sorted(marks)),
        title_span=locate_title(text, title),
    )


def _trimmed_rows(text: str, rows) -> tuple[TableRow, ...]:
    """Rows within ``text``, their spans trimmed of surrounding whitespace (as sentences are);
    an all-blank row is left out."""
    out = []
    for r in rows:
        if r.end > len(text):
            continue
        body = text[r.start : r.end]
        start = r.start + len(body) - len(body.lstrip())
        end = r.start + len(body.rstrip())
        if end > start:
            out.append(replace(r, start=start, end=end))
    return tuple(out)


def _files(paths: list[Path], follow_links: bool = True, outside: list[Skip] | None = None) -> list[tuple[str, Path]]:
    """``(doc_id, file)`` of every file under ``paths``. Unless ``follow_links``, a file of a
    folder that resolves outside that folder (a symbolic link to ``/etc/passwd``, say) is left
    out and, if ``outside`` is given, appended to it as a :class:`Skip` naming its target."""
    found: dict[str, Path] = {}
    for root in paths:
        root = Path(root)
        if root.is_dir():
            real_root = root.resolve()
            for file in sorted(root.rglob("*")):
                if file.is_file() and not any(part.startswith(".") for part in file.relative_to(root).parts):
                    doc_id = file.relative_to(root).as_posix()
                    target = file.resolve()
                    if not follow_links and not target.is_relative_to(real_root):
                        if outside is not None and doc_id not in found:
                            message = (
                                f"{doc_id}: a link to {target}, outside {root}; not indexed "
                                "(set ASSISTANT_FOLLOW_SYMLINKS=true to index such links)"
                            )
                            outside.append(Skip(doc_id, str(file), "link outside the folder", message))
                        continue
                    found.setdefault(doc_id, file)
        elif root.is_file():
            found.setdefault(root.name, root)
        else:
            raise DocumentsError(f"{root} does not exist; pass a folder or file of {_KINDS} documents.")
    return sorted(found.items())


def discover(paths: Iterable[Path], follow_links: bool = False) -> list[tuple[str, Path]]:
    """Expand files and folders into sorted ``(doc_id, file)`` pairs of supported files.

    A folder contributes every supported file below it (hidden files and folders left out),
    with ``doc_id`` its path relative to that folder; a file given directly gets its own
    name. Files of other types, and (unless ``follow_links``) links in a folder to files
    outside it, are left out here (:func:`load_all` reports them).

    Raises:
        DocumentsError: a path does not exist.
    """
    return [(i, f) for i, f in _files(list(paths), follow_links) if f.suffix.lower() in SUPPORTED_SUFFIXES]


def load_all(paths: Iterable[Path], options: ReadOptions | None = None, follow_links: bool = False) -> tuple[list[Document], list[Skip]]:
    """Load every file under ``paths`` with ``options`` (OCR; default
    :class:`~index.readers.ReadOptions`): ``(documents, skipped)``, both sorted by ``doc_id``.

    Every file that is not indexed is in ``skipped`` with its reason: an unsupported type, a
    file its reader refuses (encrypted PDF, no text layer, not UTF-8, ...), an empty text, or
    (unless ``follow_links``) a symbolic link in a folder that points outside that folder.
    A document indexed without some of its pages is in both lists (reason ``"partly indexed"``).

    Raises:
        DocumentsError: a path does not exist, or no file could be indexed at all (the
            message lists the skipped files' reasons).
    """
    paths = list(paths)
    documents: list[Document] = []
    skipped: list[Skip] = []
    for doc_id, file in _files(paths, follow_links, skipped):
        try:
            extracted = reader_for(file)(file, options)
        except Unreadable as err:
            skipped.append(Skip(doc_id, str(file), err.reason, f"{doc_id}: {err.reason}; {err.hint}"))
            continue
        except DocumentsError as err:
            skipped.append(Skip(doc_id, str(file), "unreadable", f"{doc_id}: {err}"))
            continue
        if not extracted.text.strip():
            skipped.append(Skip(doc_id, str(file), "empty", f"{doc_id}: empty; it has no text to index"))
            continue
        documents.append(_document(file, doc_id, extracted))
        skipped.extend(Skip(doc_id, str(file), "partly indexed", f"{doc_id}: {note}") for note in extracted.notes)
    skipped.sort(key=lambda s: s.doc_id)
    if not documents:
        where = ", ".join(str(p) for p in paths) or "(no path given)"
        if not skipped:
            raise DocumentsError(f"No {_KINDS} documents found in {where}; add some or pass another path.")
        lines = "; ".join(s.message for s in skipped[:5]) + ("; ..." if len(skipped) > 5 else "")
        raise DocumentsError(f"No document could be indexed from {where} ({lines}).")
    return documents, skipped


def load_documents(paths: Iterable[Path]) -> list[Document]:
    """The documents of :func:`load_all` (skipped files left out silently; use :func:`load_all` to see them).

    Raises:
        DocumentsError: missing paths, or no document could be indexed.
    """
    return load_all(paths)[0]
