"""Write the document split of the public question sets: ``benchmarks/data/split.json``.

Every document (a Wikipedia article or a privacy policy) of each set in ``../shared/datasets/``
goes, as a whole, either to ``fit`` (about two thirds: every weight, threshold, rule and trained
model is chosen on these) or to ``report`` (the rest: only measured). Splitting by document, not
by question, keeps the questions of one article, which share its wording, on one side.

The assignment is a seeded shuffle of the sorted titles (seed 2026), so re-running this script
gives the committed file byte for byte::

    python benchmarks/make_split.py [--datasets ../shared/datasets]

It also writes each side of each set as a question file of its own, for
``assistant eval --questions`` (SQuAD layout, with the set's ``scope``), and the CI gate's
files (a seeded sample of questions from a few report documents, committed with their licence
note in ``benchmarks/data/README.md``)::

    python benchmarks/make_split.py --parts /tmp/parts     # /tmp/parts/policyqa-dev-report.json, ...
    python benchmarks/make_split.py --gate                 # benchmarks/data/gate-*.json
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


GATE = {
    # set -> (report documents used, questions sampled per document); sized to keep CI short
    "squad2-dev-25-articles.json": ("gate-squad2", 3, 80),
    "squad11-dev-13-articles.json": ("gate-squad11", 2, 60),
    "policyqa-dev.json": ("gate-policyqa", 4, 40),
}


def subset(raw: dict, titles: list[str], scope: str, per_document: int | None = None, seed: int = SEED) -> dict:
    """The SQuAD-layout file of the articles ``titles`` (all their paragraphs, so offsets hold),
    keeping ``per_document`` questions of each (a seeded sample; None keeps all)."""
    rng = random.Random(seed)
    data = []
    for article in raw["data"]:
        if article["title"] not in titles:
            continue
        keep = None
        if per_document is not None:
            ids = [qa["id"] for p in article["paragraphs"] for qa in p["qas"]]
            keep = set(rng.sample(ids, min(per_document, len(ids))))
        paragraphs = [
            {**p, "qas": [qa for qa in p["qas"] if keep is None or qa["id"] in keep]} for p in article["paragraphs"]
        ]
        data.append({"title": article["title"], "paragraphs": paragraphs})
    return {"version": raw.get("version", ""), "scope": scope, "data": data}


def _write(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False) + "\n", encoding="utf-8")
    n = sum(len(p["qas"]) for a in obj["data"] for p in a["paragraphs"])
    print(f"wrote {path} ({len(obj['data'])} documents, {n} questions)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "data" / "split.json")
    ap.add_argument("--parts", type=Path, help="Also write SET-fit.json and SET-report.json into this folder.")
    ap.add_argument("--gate", action="store_true", help="Also write the CI gate's files into benchmarks/data/.")
    args = ap.parse_args()
    manifest = {"seed": SEED, "sets": {}}
    for name, scope in SETS.items():
        data = json.loads((args.datasets / name).read_text(encoding="utf-8"))["data"]
        fit, report = split([a["title"] for a in data])
        manifest["sets"][name] = {"scope": scope, "fit": fit, "report": report}
        raw = json.loads((args.datasets / name).read_text(encoding="utf-8"))
        stem = name.removesuffix(".json")
        if args.parts:
            _write(args.parts / f"{stem}-fit.json", subset(raw, fit, scope))
            _write(args.parts / f"{stem}-report.json", subset(raw, report, scope))
        if args.gate:
            gate_name, n_docs, per_doc = GATE[name]
            _write(args.out.parent / f"{gate_name}.json", subset(raw, report[:n_docs], scope, per_doc))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    for name, s in manifest["sets"].items():
        print(f"{name}: {len(s['fit'])} fit, {len(s['report'])} report")


if __name__ == "__main__":
    main()
