"""Documents -> cleaned :class:`~index.types.Document` objects.

``.txt`` and ``.md``: cleaning never rewrites text: it only cuts a trailing block of page
boilerplate, so the stored text is a prefix of the file and every character offset and line
number of the stored text is also one of the source file.

``.html``/``.htm``: the page is reduced to plain text by ``inscriptis`` (a maintained HTML to
text converter that keeps the layout: paragraphs, list items, table cells; scripts, styles
and markup dropped). That reduced text is what is stored, chunked and cited, so a citation's
offsets and line numbers index into the stored text (``assistant docs`` lists it, and the
store returns it), not into the HTML source.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from index.errors import DocumentsError
from index.types import Document

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm")
"""File types read as documents. Other files in a folder are ignored."""

HTML_SUFFIXES = (".html", ".htm")

_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)

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


def html_to_text(html: str) -> tuple[str, str | None]:
    """Reduce an HTML page to ``(text, title)``.

    ``text`` is inscriptis' rendering with trailing spaces removed from each line and runs of
    blank lines folded to one; ``title`` is the ``<title>`` (or first ``<h1>``), whitespace
    folded, or None if the page has neither.
    """
    from inscriptis import get_text
    from inscriptis.css_profiles import CSS_PROFILES
    from inscriptis.model.config import ParserConfig

    if not html.strip():
        return "", None
    config = ParserConfig(css=CSS_PROFILES["strict"], display_images=False, display_links=False)
    rendered = get_text(html, config)
    lines = [line.rstrip() for line in rendered.splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    title = None
    try:
        import lxml.html

        root = lxml.html.document_fromstring(html)
        for node in (root.find(".//title"), root.find(".//h1")):
            if node is not None and " ".join(node.text_content().split()):
                title = " ".join(node.text_content().split())[:200]
                break
    except Exception:  # lxml raises on empty or odd input; the title then comes from the text
        pass
    return text, title


def _decode_html(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    m = _META_CHARSET.search(data[:4096])
    if m:
        try:
            return data.decode(m.group(1).decode("ascii"))
        except (LookupError, UnicodeDecodeError):
            pass
    raise DocumentsError(f"{path} is neither UTF-8 nor in a charset its <meta charset> names; re-save it as UTF-8.")


def load_document(path: Path, doc_id: str | None = None) -> Document:
    """Read one ``.txt``/``.md`` (UTF-8) or ``.html``/``.htm`` file into a cleaned :class:`Document`.

    Args:
        path: The file.
        doc_id: Id to give it; defaults to the file name.

    Returns:
        The document; for HTML, ``text`` is the reduced text (see the module docstring) and
        ``title`` the page's ``<title>``.

    Raises:
        DocumentsError: the file cannot be read or is not valid UTF-8 (HTML: nor its declared charset).
    """
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DocumentsError(f"Cannot read {path}: {err.strerror}.") from None
    title = None
    if path.suffix.lower() in HTML_SUFFIXES:
        raw, title = html_to_text(_decode_html(data, path).removeprefix("\ufeff"))
    else:
        try:
            raw = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise DocumentsError(f"{path} is not UTF-8 text ({err.reason} at byte {err.start}); re-save it as UTF-8.") from None
        raw = raw.removeprefix("\ufeff")  # a BOM is an encoding mark, not text
    text = strip_trailing_widget(raw)
    return Document(
        doc_id=doc_id or path.name,
        title=title or title_of(text, fallback=path.stem),
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
            if root.suffix.lower() not in SUPPORTED_SUFFIXES:
                raise DocumentsError(f"{root} is not a {'/'.join(SUPPORTED_SUFFIXES)} file; convert it to text or HTML first.")
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
