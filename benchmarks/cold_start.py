"""Cold start of ``assistant ask`` as a whole process, as a ratio of ``python -c "import assistant"``.

Usage::

    python benchmarks/cold_start.py [--rounds 7] [--data-dir DIR] [--tree PATH ...]

Each round runs, one after the other in a fresh process each: ``python -c "import assistant"``
(the baseline: the interpreter, ``site`` and the package's own ``__init__``) and then, for every
``--tree`` (a checkout of this project; default: the one holding this file),
``python -m ui.cli ask QUESTION`` with ``PYTHONPATH`` set to that tree. Alternating in one run
keeps a shared, noisy machine's load the same for all of them. Printed: the median and the
minimum wall time in seconds of each command over the rounds, each ask's median as a multiple of
the baseline's median, and the median CPU time (user + system, less sensitive to other load).

The data dir (``--data-dir``, or a temporary one) is prepared first with the first tree: the
seed documents are indexed and one ``ask`` is run, which exports the embedding model to ONNX,
so the measured asks are the cold start of an installed assistant (index built, model exported).
Comparing two checkouts (``--tree /tmp/before --tree .``) needs their indexes to be compatible
(the same model and chunking); otherwise give each its own run.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Who is Japan's chief negotiator?"
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "GRADIO_ANALYTICS_ENABLED": "False"}


def _env(tree: Path, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    return {**env, **OFFLINE, "PYTHONPATH": str(tree), "ASSISTANT_DATA_DIR": str(data_dir)}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """``(wall, cpu)`` seconds of ``cmd`` (user + system CPU of the process and its children; run
    from a temp cwd, so only ``PYTHONPATH`` picks the tree); raises ``RuntimeError`` with its
    stderr if it fails."""
    cpu, start = _cpu(), time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=tempfile.gettempdir(), capture_output=True, text=True)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.strip()[-800:]}")
    return took, _cpu() - cpu


def prepare(tree: Path, data_dir: Path, question: str) -> None:
    """Index the seeds into ``data_dir`` and ask once (exports the ONNX model); prints how long it took."""
    env = _env(tree, data_dir)
    took = _run([sys.executable, "-m", "ui.cli", "index", str(tree / "seeds"), "--quiet"], env)[0]
    took += _run([sys.executable, "-m", "ui.cli", "ask", question], env)[0]
    print(f"prepared {data_dir} in {took:.1f} s (seeds indexed, model exported)", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=7, help="alternating rounds (default 7)")
    ap.add_argument("--data-dir", type=Path, help="an ASSISTANT_DATA_DIR to use (prepared if it holds no index)")
    ap.add_argument("--tree", type=Path, action="append", help="a checkout to time `ask` from (repeatable; default: this one)")
    ap.add_argument("--question", default=QUESTION)
    args = ap.parse_args(argv)
    trees = [t.resolve() for t in (args.tree or [ROOT])]
    data_dir = (args.data_dir or Path(tempfile.mkdtemp(prefix="cold-start-"))).resolve()
    if not (data_dir / "chroma").exists() and not any(data_dir.glob("**/chroma.sqlite3")):
        prepare(trees[0], data_dir, args.question)

    base_cmd = [sys.executable, "-c", "import assistant"]
    ask_cmd = [sys.executable, "-m", "ui.cli", "ask", args.question]
    times: dict[str, list[tuple[float, float]]] = {"import assistant": [], **{f"ask ({t})": [] for t in trees}}
    for _ in range(args.rounds):
        times["import assistant"].append(_run(base_cmd, _env(trees[-1], data_dir)))
        for t in trees:
            times[f"ask ({t})"].append(_run(ask_cmd, _env(t, data_dir)))

    def med(name: str, i: int) -> float:
        return statistics.median(t[i] for t in times[name])

    base = med("import assistant", 0)
    load = os.getloadavg()[0]
    print(f"{args.rounds} rounds, load average {load:.1f} at the end, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"{'command':<48} {'wall s':>7} {'min s':>6} {'x import':>8} {'cpu s':>6}")
    for name, ts in times.items():
        print(f"{name:<48} {med(name, 0):7.2f} {min(t[0] for t in ts):6.2f} {med(name, 0) / base:8.2f} {med(name, 1):6.2f}")
    if len(trees) > 1:
        first, last = (f"ask ({t})" for t in (trees[0], trees[-1]))
        print(f"ask, last tree / first tree: wall {med(last, 0) / med(first, 0):.2f}, cpu {med(last, 1) / med(first, 1):.2f}")


if __name__ == "__main__":
    main()
