"""`gradergen grade --report FILE.html`: one self-contained page (inline SVG and CSS, no script, nothing
fetched) with the reward histogram, each sub-grader's distribution, the error flags, and the
worst-scoring and slowest rows; for two graders, both histograms, their rewards against each other and
the rows where they disagree most. Every value shown goes through `html.escape`."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from .results import ResumeRefused
from .summary import Comparison, Summary
from .terminal import number

BAR_COLOUR = "#2f6fdf"
NEW_COLOUR = "#e0782f"
WIDTH, HEIGHT, MARGIN = 560, 220, 36

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 980px; color: #1d2330; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.8em; border-bottom: 1px solid #d6dbe4; }
table { border-collapse: collapse; margin: .5em 0; } td, th { padding: .2em .8em; text-align: left; }
th { background: #eef1f6; } tr:nth-child(even) td { background: #f7f8fb; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.figures { display: flex; flex-wrap: wrap; gap: 1.5em; } figure { margin: 0; }
figcaption { font-weight: 600; margin-bottom: .3em; }
svg text { font: 11px system-ui, sans-serif; fill: #444; }
.muted { color: #6b7280; }
"""


def _histogram_svg(
    edges: Sequence[float], counts: Sequence[int], colour: str, label: str, width: int = WIDTH
) -> str:
    """Bars over the bins, the count's scale on the left, the bins' edges below."""
    plot_w, plot_h = width - 2 * MARGIN, HEIGHT - 2 * MARGIN
    most = max(counts) if counts else 0
    bins = len(counts)
    bar_w = plot_w / max(1, bins)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="histogram" role="img" width="{width}" '
        f'height="{HEIGHT}" viewBox="0 0 {width} {HEIGHT}" aria-label="{escape(label)}">',
        f'<line x1="{MARGIN}" y1="{MARGIN + plot_h}" x2="{MARGIN + plot_w}" y2="{MARGIN + plot_h}" '
        'stroke="#888"/>',
        f'<text x="{MARGIN - 4}" y="{MARGIN + 4}" text-anchor="end">{most:,}</text>',
        f'<text x="{MARGIN - 4}" y="{MARGIN + plot_h}" text-anchor="end">0</text>',
    ]
    for i, n in enumerate(counts):
        h = 0.0 if not most else plot_h * n / most
        if n and h < 1:
            h = 1.0
        x = MARGIN + i * bar_w
        low = edges[i] if i < len(edges) else 0.0
        high = edges[i + 1] if i + 1 < len(edges) else low
        parts.append(
            f'<rect class="bar" x="{x + 1:.1f}" y="{MARGIN + plot_h - h:.1f}" '
            f'width="{max(1.0, bar_w - 2):.1f}" height="{h:.1f}" fill="{colour}">'
            f"<title>{escape(number(low))} to {escape(number(high))}: {n:,} rows</title></rect>"
        )
    step = max(1, bins // 5) if bins > 6 else 1
    for i, edge in enumerate(edges):
        if i % step and i != len(edges) - 1:
            continue
        x = MARGIN + i * bar_w
        parts.append(
            f'<text x="{x:.1f}" y="{MARGIN + plot_h + 14}" text-anchor="middle">{escape(number(edge))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _scatter_svg(joint: Sequence[Sequence[float]], label: str) -> str:
    """Each (old, new) pair of rewards a dot, its area by how many rows have it; the diagonal is agreement."""
    size = HEIGHT + 60
    plot = size - 2 * MARGIN
    xs = [p[0] for p in joint] + [p[1] for p in joint]
    low, high = (min(xs), max(xs)) if xs else (0.0, 1.0)
    if 0.0 <= low and high <= 1.0:
        low, high = 0.0, 1.0
    span = (high - low) or 1.0
    most = max((p[2] for p in joint), default=1)

    def at(v: float, flip: bool) -> float:
        offset = plot * (v - low) / span
        return MARGIN + (plot - offset if flip else offset)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="scatter" role="img" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}" aria-label="{escape(label)}">',
        f'<rect x="{MARGIN}" y="{MARGIN}" width="{plot}" height="{plot}" fill="none" stroke="#888"/>',
        f'<line x1="{MARGIN}" y1="{MARGIN + plot}" x2="{MARGIN + plot}" y2="{MARGIN}" stroke="#bbb" '
        'stroke-dasharray="4 3"/>',
        f'<text x="{MARGIN + plot / 2}" y="{size - 6}" text-anchor="middle">old reward</text>',
        f'<text x="12" y="{MARGIN + plot / 2}" transform="rotate(-90 12 {MARGIN + plot / 2})" '
        'text-anchor="middle">new reward</text>',
        f'<text x="{MARGIN}" y="{MARGIN + plot + 14}" text-anchor="middle">{escape(number(low))}</text>',
        f'<text x="{MARGIN + plot}" y="{MARGIN + plot + 14}" text-anchor="middle">'
        f"{escape(number(high))}</text>",
    ]
    for x, y, n in joint:
        radius = 2 + 10 * (n / most) ** 0.5
        parts.append(
            f'<circle class="pair" cx="{at(x, False):.1f}" cy="{at(y, True):.1f}" r="{radius:.1f}" '
            f'fill="{BAR_COLOUR}" fill-opacity="0.55"><title>old {escape(number(x))}, new '
            f"{escape(number(y))}: {int(n):,} rows</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Sequence[bool]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="n">{escape(_cell(v))}</td>' if is_number else f"<td>{escape(_cell(v))}</td>"
            for v, is_number in zip(row, numeric, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return number(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) or "-"
    return str(value)


def _figures(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    reward = data["reward"]
    return [
        ("rows", data["rows"]),
        ("graded", data["graded"]),
        ("could not be graded", data["unreadable"]),
        ("rows with an error flag", data["flagged_rows"]),
        ("mean", reward["mean"]),
        ("median", reward["median"]),
        ("p10", reward["p10"]),
        ("p90", reward["p90"]),
        ("min", reward["min"]),
        ("max", reward["max"]),
    ]


def _summary_section(data: Mapping[str, Any], colour: str, title: str) -> list[str]:
    out = [_table(["figure", "value"], _figures(data), [False, True])]
    histogram = data["reward"]["histogram"]
    out.append(
        f'<figure id="{escape(title)}-histogram"><figcaption>Rewards</figcaption>'
        + _histogram_svg(histogram["edges"], histogram["counts"], colour, f"{title} reward histogram")
        + "</figure>"
    )
    if data["sub_rewards"]:
        out.append("<h2>Sub-graders</h2><div class='figures'>")
        for key, sub in data["sub_rewards"].items():
            hist = sub["histogram"]
            caption = f"{key} (mean {number(sub['mean'])})"
            out.append(
                f'<figure class="sub-grader"><figcaption>{escape(caption)}</figcaption>'
                + _histogram_svg(hist["edges"], hist["counts"], colour, f"{key} reward histogram", 300)
                + "</figure>"
            )
        out.append("</div>")
    out.append("<h2>Error flags</h2>")
    if data["flags"]:
        out.append(_table(["flag", "rows"], list(data["flags"].items()), [False, True]))
    else:
        out.append("<p class='muted'>No row set an error flag.</p>")
    if data["tokens"]:
        out.append("<h2>Model tokens</h2>")
        rows = [
            (m, u.get("prompt_tokens", 0), u.get("completion_tokens", 0), u.get("total_tokens", 0))
            for m, u in data["tokens"].items()
        ]
        out.append(_table(["model", "prompt", "completion", "total"], rows, [False, True, True, True]))
    if data["unreadable_examples"]:
        out.append("<h2>Rows that could not be graded (the first)</h2><ul>")
        out.extend(f"<li>{escape(e)}</li>" for e in data["unreadable_examples"])
        out.append("</ul>")
    return out


def _rows_table(entries: Sequence[Mapping[str, Any]], extra: str | None = None) -> str:
    headers = ["index", "id", "reward", "error flags"] + ([extra] if extra else [])
    rows = [
        [e["index"], e.get("id"), e.get("reward"), e.get("flags")] + ([e.get(extra)] if extra else [])
        for e in entries
    ]
    return _table(headers, rows, [True, False, True, False] + ([True] if extra else []))


def render(summary: Summary | Comparison, names: Sequence[str], data_name: str) -> str:
    """The report's HTML."""
    body: list[str] = []
    if isinstance(summary, Comparison):
        data = summary.as_dict()
        title = f"gradergen grade: {names[0]} against {names[1]}"
        body.append(f"<h1>{escape(title)}</h1><p class='muted'>data: {escape(data_name)}</p>")
        figures = [
            ("rows graded by both", data["pairs"]),
            ("same reward", data["equal"]),
            ("mean difference (new - old)", data["mean_difference"]),
            ("mean absolute difference", data["mean_absolute_difference"]),
            ("correlation", data["correlation"]),
        ]
        body.append(_table(["figure", "value"], figures, [False, True]))
        body.append("<div class='figures'>")
        for label, side, colour, name in (
            ("old", data["old"], BAR_COLOUR, names[0]),
            ("new", data["new"], NEW_COLOUR, names[1]),
        ):
            hist = side["reward"]["histogram"]
            caption = f"{label}: {name} (mean {number(side['reward']['mean'])})"
            body.append(
                f'<figure id="{label}-histogram"><figcaption>{escape(caption)}</figcaption>'
                + _histogram_svg(hist["edges"], hist["counts"], colour, f"{label} reward histogram", 440)
                + "</figure>"
            )
        body.append("</div>")
        if data["joint"] is not None:
            body.append(
                "<h2>New reward against old</h2><figure id='joint'>"
                + _scatter_svg(data["joint"], "new reward against old reward")
                + "</figure>"
            )
        body.append("<h2>Where they disagree most</h2>")
        if data["disagreements"]:
            rows = [
                (e["index"], e.get("id"), e["old"], e["new"], e["new"] - e["old"])
                for e in data["disagreements"]
            ]
            body.append(
                _table(["index", "id", "old", "new", "new - old"], rows, [True, False, True, True, True])
            )
        else:
            body.append("<p class='muted'>The two graders gave every row the same reward.</p>")
        for label, side in (("old", data["old"]), ("new", data["new"])):
            if side["flags"]:
                body.append(f"<h2>Error flags of {escape(label)}</h2>")
                body.append(_table(["flag", "rows"], list(side["flags"].items()), [False, True]))
    else:
        data = summary.as_dict()
        title = f"gradergen grade: {names[0]}"
        body.append(f"<h1>{escape(title)}</h1><p class='muted'>data: {escape(data_name)}</p>")
        body.extend(_summary_section(data, BAR_COLOUR, "reward"))
        body.append("<h2>Worst-scoring rows</h2>")
        body.append(
            _rows_table(data["worst"]) if data["worst"] else "<p class='muted'>No row was graded.</p>"
        )
        if data["slowest"]:
            body.append("<h2>Slowest rows</h2>")
            body.append(_rows_table(data["slowest"], "seconds"))
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' "
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def write_report(path: Path, summary: Summary | Comparison, names: Sequence[str], data_name: str) -> None:
    """Write the report to `path` (whole or not at all)."""
    text = render(summary, names, data_name)
    temporary = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        raise ResumeRefused(f"{path}: cannot write the report: {exc.strerror or exc}") from None
