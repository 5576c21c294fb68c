"""Write the document split of the public question sets: ``benchmarks/data/split.json``.

Every document (a Wikipedia article or a privacy policy) of each set in ``../shared/datasets/``
goes, as a whole, either to ``fit`` (about two thirds: every weight, threshold, rule and trained
model is chosen on these) or to ``report`` (the rest: only measured). Splitting by document, not
by question, keeps the questions of one article, which share its wording, on one side.

The assignment is a seeded shuffle of the sorted titles (seed 2026), so re-running this script
gives the committed file byte for byte::

    python benchmarks/make_split.py [--datasets ../shared/datasets]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = 2026
SETS = {
    # file name -> how its questions are asked: of the whole index, or of their own document only
    "squad2-dev-25-articles.json": "all",
    "squad11-dev-13-articles.json": "all",
    "policyqa-dev.json": "document",
}


def split(titles: list[str], seed: int = SEED) -> tuple[list[str], list[str]]:
    """``(fit, report)``: a seeded shuffle of ``titles``, the first round(2/3 n) to ``fit``."""
    order = sorted(titles)
    random.Random(seed).shuffle(order)
    n_fit = round(len(order) * 2 / 3)
    return sorted(order[:n_fit]), sorted(order[n_fit:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "data" / "split.json")
    args = ap.parse_args()
    manifest = {"seed": SEED, "sets": {}}
    for name, scope in SETS.items():
        data = json.loads((args.datasets / name).read_text(encoding="utf-8"))["data"]
        fit, report = split([a["title"] for a in data])
        manifest["sets"][name] = {"scope": scope, "fit": fit, "report": report}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    for name, s in manifest["sets"].items():
        print(f"{name}: {len(s['fit'])} fit, {len(s['report'])} report")


if __name__ == "__main__":
    main()
