"""What ``assistant eval`` does around the question sets: each set's limits, a baseline report,
the JSON and HTML reports, and the exit code (see :func:`ui.cli.eval_`)."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def _limits(settings, path: Path, name: str, overrides: dict[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    """``(floors, ceilings)`` of one set: the seed set's from ``fail_under``/``fail_over``, a
    public set's from ``set_limits`` (by file stem), then the command line's overrides."""
    from assistant import HIGHER_IS_BETTER

    if Path(path).resolve() == Path(settings.eval.questions).resolve():
        floors, ceilings = dict(settings.eval.fail_under), dict(settings.eval.fail_over)
    else:
        limits = settings.eval.set_limits.get(name, {})
        floors = {m: v for m, v in limits.items() if HIGHER_IS_BETTER.get(m, True)}
        ceilings = {m: v for m, v in limits.items() if not HIGHER_IS_BETTER.get(m, True)}
    for metric, value in overrides.items():
        (floors if HIGHER_IS_BETTER[metric] else ceilings)[metric] = value
    return floors, ceilings


def _baseline_summaries(path: Path) -> dict[str, dict]:
    """Set name -> summary of an earlier JSON report (one written before sets existed counts as the seed set's)."""
    from assistant import EvalError

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if "sets" in data:
            return {name: r["summary"] for name, r in data["sets"].items()}
        return {"questions": data["summary"]}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise EvalError(f"Cannot read baseline report {path}: {err}") from None


def write_reports(reports: list, report: Path | None, html: Path | None) -> None:
    """Write the JSON report (``{"sets": {name: report}}``) and the self-contained HTML page, when asked."""
    from assistant import write_html

    if report:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps({"sets": {r.name: r.to_dict() for r in reports}}, ensure_ascii=False, indent=1), encoding="utf-8")
        typer.echo(f"wrote the JSON report to {report}")
    if html:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(write_html(reports), encoding="utf-8")
        typer.echo(f"wrote the HTML report to {html}")


def finish(reports: list, failures: list[str]) -> None:
    """Print each failed limit and exit 1, or say that the sets passed (or that no limit was set)."""
    if failures:
        for f in failures:
            typer.secho(f"FAIL {f}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    if any(r.limits for r in reports):
        typer.secho("eval passed all thresholds", fg=typer.colors.GREEN)
    else:
        typer.echo("eval checked no thresholds: none are set for these question sets")
