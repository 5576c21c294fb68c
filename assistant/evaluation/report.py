"""Human-readable eval output: a rich table in the terminal and a self-contained HTML page."""

from __future__ import annotations

import html
import json

from assistant.evaluation import HIGHER_IS_BETTER, EvalReport, compare
from assistant.evaluation.metrics import abstention_tradeoff
from index.types import Document

_SHOWN = [
    "hit@1", "hit@3", "mrr", "quote@1", "quote_precision", "evidence_recall", "citation_precision", "answer_match",
    "abstention_accuracy", "false_abstention", "cited_chars@3",
]
_OVERVIEW = ["hit@1", "hit@3", "mrr", "quote@1", "quote_precision", "answer_match", "false_abstention", "abstention_accuracy", "cited_chars@3", "latency_p50_ms"]


def _fmt(v) -> str:
    """A metric for a table: 3 decimals (whole numbers from 10 up), "–" where it does not apply."""
    if v is None or (isinstance(v, float) and v != v):  # None or NaN: the metric does not apply
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 10 else f"{v:.0f}"
    return str(v)


def _verdict(value, name: str, floors: dict, ceilings: dict) -> str:
    """``"pass"``/``"FAIL"`` against the metric's limit, ``""`` without one."""
    if name in floors:
        return "pass" if value is not None and value >= floors[name] else "FAIL"
    if name in ceilings:
        return "pass" if value is not None and value <= ceilings[name] else "FAIL"
    return ""


def print_report(report: EvalReport, floors: dict, ceilings: dict, baseline: dict | None = None, per_question: bool = True) -> None:
    """Print one set: per-question rows (misses first), the summary with thresholds, tags,
    skipped questions and baseline deltas."""
    from rich.table import Table

    from assistant.terminal import stdout_console

    console = stdout_console()
    if per_question:
        t = Table(title="Questions (misses first)", show_lines=False)
        for col in ("id", "ok", "tags", "question", "hit@1", "mrr", "prec", "abst", "answer"):
            t.add_column(col, overflow="fold")
        for r in sorted(report.results, key=lambda r: (r.passed, r.question.id)):
            m = r.metrics
            t.add_row(
                r.question.id,
                "✓" if r.passed else "✗",
                ",".join(r.question.tags),
                r.question.question[:70],
                _fmt(m.get("hit@1")),
                _fmt(m.get("mrr")),
                _fmt(m.get("citation_precision")),
                "yes" if m.get("abstained") else "",
                (r.error or (r.answer.text if r.answer else ""))[:90],
            )
        console.print(t)
    s = Table(title=f"{report.name}: summary ({report.summary['n_questions']} questions, {report.summary['n_answerable']} answerable)")
    for col in ("metric", "value", "threshold", ""):
        s.add_column(col)
    for name in HIGHER_IS_BETTER:
        limit = f">= {floors[name]}" if name in floors else (f"<= {ceilings[name]}" if name in ceilings else "")
        value = report.summary.get(name)
        s.add_row(name, _fmt(value), limit, _verdict(value, name, floors, ceilings))
    console.print(s)
    if report.skipped:
        console.print(f"{report.name}: {len(report.skipped)} question(s) skipped, their gold answer does not match its context:")
        for line in report.skipped[:20]:
            console.print(f"  {line}", markup=False)
    tags = Table(title=f"{report.name}: by tag")
    tags.add_column("tag")
    tags.add_column("n")
    for name in _SHOWN:
        tags.add_column(name)
    for tag, summ in report.by_tag.items():
        tags.add_row(tag, str(summ["n_questions"]), *(_fmt(summ.get(n)) for n in _SHOWN))
    console.print(tags)
    if baseline:
        b = Table(title=f"{report.name}: against baseline")
        for col in ("metric", "baseline", "now", "change"):
            b.add_column(col)
        for name, old, new, delta, improved in compare(report.summary, baseline):
            colour = "green" if improved else ("red" if delta else "")
            b.add_row(name, _fmt(old), _fmt(new), f"[{colour}]{delta:+.3f}[/{colour}]" if colour else f"{delta:+.3f}")
        console.print(b)


def print_overview(reports: list[EvalReport]) -> None:
    """Print one row per question set: the main metrics side by side (the by-corpus summary)."""
    from rich.table import Table

    from assistant.terminal import stdout_console

    t = Table(title="All question sets")
    for col in ("set", "questions", *_OVERVIEW, "gate"):
        t.add_column(col)
    for r in reports:
        failed = any(_verdict(r.summary.get(m), m, *_split(r.limits)) == "FAIL" for m in r.limits)
        t.add_row(r.name, str(r.summary["n_questions"]), *(_fmt(r.summary.get(m)) for m in _OVERVIEW), "FAIL" if failed else "pass")
    stdout_console().print(t)


def _split(limits: dict[str, float]) -> tuple[dict, dict]:
    """``(floors, ceilings)`` of a report's ``limits`` (see :data:`HIGHER_IS_BETTER`)."""
    floors = {m: v for m, v in limits.items() if HIGHER_IS_BETTER.get(m, True)}
    return floors, {m: v for m, v in limits.items() if m not in floors}


def _bar_chart(report: EvalReport) -> str:
    """Inline SVG: hit@1, MRR, quote@1 and citation precision per tag (abstention accuracy for
    unanswerable tags), with a y axis from 0 to 1 labelled every 0.25 and a legend of all five
    colours (``<g class="legend">``; the chart is widened to hold it)."""
    metrics = ["hit@1", "mrr", "quote@1", "citation_precision", "abstention_accuracy"]
    colours = ["#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1"]
    tags = list(report.by_tag)
    bw, gap, h = 12, 18, 160
    legend_x = [40]  # each legend entry: a 10 px swatch, its label (about 7 px a character at 11 px), 24 px apart
    for m in metrics:
        legend_x.append(legend_x[-1] + 14 + 7 * len(m) + 24)
    width = max(400, len(tags) * (len(metrics) * bw + gap) + 60, legend_x[-1])
    # the tag names are written at 30 degrees (about 6 px a character at 10 px, so sin 30 x 6 = 3 px down a character): the legend goes below the longest
    legend_y = h + 14 + max((3 * len(t) for t in tags), default=0) + 14
    height = legend_y + 16
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="metrics by tag">']
    parts.append(f'<line x1="30" y1="{h}" x2="{width}" y2="{h}" stroke="#888"/><line x1="30" y1="0" x2="30" y2="{h}" stroke="#888"/>')
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = h - tick * (h - 10)
        parts.append(
            f'<line x1="26" y1="{y:.1f}" x2="{width}" y2="{y:.1f}" stroke="#eee"/>'
            f'<text x="2" y="{y + 3:.1f}" font-size="9">{tick:.2f}</text>'
        )
    for i, tag in enumerate(tags):
        x0 = 40 + i * (len(metrics) * bw + gap)
        for j, m in enumerate(metrics):
            v = report.by_tag[tag].get(m)
            if v is None or v != v:  # None or NaN: not applicable to this tag
                continue
            bh = max(1, v * (h - 10))
            parts.append(
                f'<rect x="{x0 + j * bw}" y="{h - bh:.1f}" width="{bw - 2}" height="{bh:.1f}" fill="{colours[j]}"><title>{html.escape(tag)} {m} = {v:.3f}</title></rect>'
            )
        parts.append(f'<text x="{x0}" y="{h + 14}" font-size="10" transform="rotate(30 {x0} {h + 14})">{html.escape(tag)}</text>')
    parts.append('<g class="legend">')
    for j, m in enumerate(metrics):
        x = legend_x[j]
        parts.append(f'<rect x="{x}" y="{legend_y}" width="10" height="10" fill="{colours[j]}"/><text x="{x + 14}" y="{legend_y + 9}" font-size="11">{m}</text>')
    parts.append("</g></svg>")
    return "".join(parts)


TRADEOFF_STEPS = 50
"""The abstention trade-off is priced at thresholds 0, 1/50, ..., 1 (probability)."""


def _tradeoff_chart(report: EvalReport) -> str:
    """Inline SVG: abstention on unanswerable (y) against false abstention on answerable
    questions (x) over answerability thresholds (:func:`~assistant.evaluation.metrics.abstention_tradeoff`),
    the threshold in use marked; "" for a set without both kinds or without probabilities."""
    answers = [(r.question.answerable, r.answer) for r in report.results if r.answer is not None]
    if report.answerable_below is None or not any(a.answerable_probability is not None for _, a in answers):
        return ""
    if all(ok for ok, _ in answers) or not any(ok for ok, _ in answers):
        return ""
    used = report.answerable_below
    points = abstention_tradeoff(answers, used, [i / TRADEOFF_STEPS for i in range(TRADEOFF_STEPS + 1)])
    (_, un_used, fa_used), = abstention_tradeoff(answers, used, [used])
    w, h, left, bottom, top, right = 520, 340, 56, 44, 28, 40
    fa_max = max(0.1, max(fa for _, _, fa in points))
    x = lambda fa: left + fa / fa_max * (w - left - right)  # noqa: E731
    y = lambda un: h - bottom - un * (h - bottom - top)  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" font-size="12" '
             f'aria-label="abstention against false abstention over answerability thresholds">']
    parts.append(f'<line x1="{left}" y1="{h - bottom}" x2="{w - right}" y2="{h - bottom}" stroke="#888"/>'
                 f'<line x1="{left}" y1="{top}" x2="{left}" y2="{h - bottom}" stroke="#888"/>')
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line x1="{left}" y1="{y(tick):.1f}" x2="{w - right}" y2="{y(tick):.1f}" stroke="#eee"/>'
                     f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:.2f}</text>'
                     f'<text x="{x(tick * fa_max):.1f}" y="{h - bottom + 16}" text-anchor="middle">{tick * fa_max:.2f}</text>')
    parts.append(f'<text x="{(left + w - right) / 2:.0f}" y="{h - 6}" text-anchor="middle">false abstention (answerable questions)</text>'
                 f'<text x="{left}" y="{top - 10}">abstention (unanswerable questions)</text>')
    line = " ".join(f"{x(fa):.1f},{y(un):.1f}" for _, un, fa in points)
    parts.append(f'<polyline points="{line}" fill="none" stroke="#4e79a7" stroke-width="1.5"/>')
    labelled: list[tuple[float, float]] = []
    for t, un, fa in points[:: TRADEOFF_STEPS // 10]:
        parts.append(f'<circle cx="{x(fa):.1f}" cy="{y(un):.1f}" r="3" fill="#4e79a7"><title>threshold {t:.2f}: '
                     f'abstention {un:.3f}, false abstention {fa:.3f}</title></circle>')
        if all(abs(x(fa) - a) + abs(y(un) - b) > 18 for a, b in labelled):  # a label only where it does not overlap another
            labelled.append((x(fa), y(un)))
            parts.append(f'<text x="{x(fa) + 5:.1f}" y="{y(un) + 14:.1f}" font-size="10" fill="#4e79a7">{t:.1f}</text>')
    parts.append(f'<circle cx="{x(fa_used):.1f}" cy="{y(un_used):.1f}" r="6" fill="none" stroke="#e15759" stroke-width="2">'
                 f'<title>in use: {used:.2f}</title></circle>'
                 f'<text x="{x(fa_used) + 9:.1f}" y="{y(un_used) - 6:.1f}" fill="#e15759">in use ({used:.2f})</text>')
    parts.append("</svg>")
    return "".join(parts)


def _context(doc: Document, spans: list[tuple[int, int, str]], pad: int = 240) -> str:
    """Escaped document text around ``spans`` (start, end, css class), each wrapped in a span."""
    if not spans:
        return ""
    lo = max(0, min(s for s, _, _ in spans) - pad)
    hi = min(len(doc.text), max(e for _, e, _ in spans) + pad)
    marks = [0] * (hi - lo)
    for s, e, cls in spans:
        bit = 1 if cls == "cite" else 2
        for i in range(max(s, lo), min(e, hi)):
            marks[i - lo] |= bit
    out, i = [], lo
    names = {0: None, 1: "cite", 2: "evid", 3: "cite evid"}
    while i < hi:
        j = i
        while j < hi and marks[j - lo] == marks[i - lo]:
            j += 1
        chunk = html.escape(doc.text[i:j])
        cls = names[marks[i - lo]]
        out.append(f'<span class="{cls}">{chunk}</span>' if cls else chunk)
        i = j
    return ("…" if lo > 0 else "") + "".join(out) + ("…" if hi < len(doc.text) else "")


def _set_section(report: EvalReport) -> str:
    """One question set's section: summary with limits and pass/fail, chart, skipped questions,
    and every question (misses first) with its cited spans in context, collapsed."""
    floors, ceilings = _split(report.limits)
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{_fmt(v)}</td><td>{_limit(k, floors, ceilings)}</td>"
        f'<td class="{_verdict(v, k, floors, ceilings).lower()}">{_verdict(v, k, floors, ceilings)}</td></tr>'
        for k, v in report.summary.items()
    )
    cards = []
    for r in sorted(report.results, key=lambda r: (r.passed, r.question.id)):
        q, a = r.question, r.answer
        by_doc: dict[str, list] = {}
        for c in a.citations if a else ():
            by_doc.setdefault(c.passage.doc_id, []).append((c.passage.start, c.passage.end, "cite"))
        for e in q.evidence:
            by_doc.setdefault(e.doc_id, []).append((e.start, e.end, "evid"))
        ctx = "".join(
            f'<details><summary>{html.escape(d)}</summary><div class="ctx">{_context(report.documents[d], spans)}</div></details>'
            for d, spans in by_doc.items()
            if d in report.documents
        )
        metrics = ", ".join(f"{k}={_fmt(v)}" for k, v in r.metrics.items() if v is not None)
        expected = " | ".join(q.expected) or ("(abstain)" if not q.answerable else "")
        cards.append(
            f'<section class="q {"pass" if r.passed else "miss"}"><h4>{html.escape(q.id)} {"✓" if r.passed else "✗ miss"} '
            f'<small>{html.escape(", ".join(q.tags))}</small></h4>'
            f"<p><b>Q:</b> {html.escape(q.question)}</p>"
            + (f"<p><b>History:</b> {html.escape(' / '.join(q.history))}</p>" if q.history else "")
            + f"<p><b>A:</b> {html.escape(r.error or (a.text if a else ''))}</p>"
            f"<p><b>Expected:</b> {html.escape(expected)}</p>"
            f'<p class="m">{html.escape(metrics)}</p>{ctx}</section>'
        )
    skipped = "".join(f"<li>{html.escape(line)}</li>" for line in report.skipped)
    name = html.escape(report.name)
    chart = _tradeoff_chart(report)
    return (
        f'<h2 id="set-{name}">{name}</h2><h3>Summary</h3><table><tr><th>metric</th><th>value</th><th>limit</th><th></th></tr>{rows}</table>'
        + (f"<h3>Skipped ({len(report.skipped)})</h3><ul>{skipped}</ul>" if skipped else "")
        + f"<h3>By tag</h3>{_bar_chart(report)}"
        + (f"<h3>Abstention trade-off</h3><p>Abstention on unanswerable against false abstention on answerable questions "
           f"over answerability thresholds (blue labels); the red ring is the threshold in use.</p>{chart}"
           if chart else "")
        + f'<script type="application/json" class="by-tag">{html.escape(json.dumps(report.by_tag))}</script>'
        f"<details><summary>Questions ({len(report.results)}, misses first)</summary>{''.join(cards)}</details>"
    )


def _limit(name: str, floors: dict, ceilings: dict) -> str:
    return f"&ge; {floors[name]}" if name in floors else (f"&le; {ceilings[name]}" if name in ceilings else "")


def write_html(reports: list[EvalReport]) -> str:
    """A self-contained page (no external resources): a by-corpus summary with each set's gate
    (pass/FAIL, last column; the table fits 1,400 px, long metric names wrap at ``_``), then one
    section per question set (see :func:`_set_section`)."""
    head = "".join(f"<th>{html.escape(m).replace('_', '_<wbr>')}</th>" for m in _OVERVIEW)

    def gate(r: EvalReport) -> str:
        failed = any(_verdict(r.summary.get(m), m, *_split(r.limits)) == "FAIL" for m in r.limits)
        return f'<td class="{"fail" if failed else "pass"}"><b>{"FAIL" if failed else "pass"}</b></td>'

    overview = "".join(
        f'<tr><td><a href="#set-{html.escape(r.name)}">{html.escape(r.name)}</a></td><td>{r.summary["n_questions"]}</td>'
        + "".join(
            f'<td class="{_verdict(r.summary.get(m), m, *_split(r.limits)).lower()}">{_fmt(r.summary.get(m))}</td>' for m in _OVERVIEW
        )
        + gate(r)
        + "</tr>"
        for r in reports
    )
    sections = "".join(_set_section(r) for r in reports)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Evaluation report</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:auto;padding:1em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 8px}}.fail{{background:#fdd}}.pass{{background:#efe}}
.wide{{overflow-x:auto}}table.overview{{font-size:.9em}}table.overview th{{vertical-align:bottom;max-width:7.5em}}
table.overview td{{text-align:right;white-space:nowrap}}table.overview td:first-child{{text-align:left}}svg{{max-width:100%;height:auto}}
.q{{border:1px solid #ddd;border-radius:6px;padding:6px 12px;margin:10px 0}}.miss{{border-color:#d33}}
.ctx{{white-space:pre-wrap;background:#fafafa;padding:6px;font-size:.9em}}
.cite{{background:#ffe58a}}.evid{{text-decoration:underline 2px #2a7}}.m{{font-size:.8em;color:#555}}</style></head><body>
<h1>Evaluation report</h1><p>Cited spans are <span class="cite">highlighted</span>; expected evidence is <span class="evid">underlined</span>.
Cells are green when they meet the gate's limit, red when they do not.</p>
<h2>All question sets</h2><div class="wide"><table class="overview"><tr><th>set</th><th>questions</th>{head}<th>gate</th></tr>{overview}</table></div>
{sections}</body></html>"""
