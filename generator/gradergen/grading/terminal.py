"""What `gradergen grade` shows a person: a progress bar while it runs, a summary when it ends."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, TextIO

from .pipeline import Tally
from .summary import Comparison, Summary

BAR_WIDTH = 40


def number(value: float | None) -> str:
    """A figure as a summary prints it: up to four significant decimals, no trailing zeros."""
    if value is None:
        return "-"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return (
        f"{value:.4g}" if abs(value) < 1e-3 or abs(value) >= 1e6 else f"{value:.4f}".rstrip("0").rstrip(".")
    )


def count(value: int) -> str:
    return f"{value:,}"


class ProgressBar:
    """A rich progress bar on standard error: how far through the data, rows, rows/s, the time left,
    rows flagged so far and model tokens spent."""

    def __init__(self, total: int | None, unit: str, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = Console(file=stream, highlight=False)
        self.progress = Progress(
            TextColumn("grading"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rows]} rows · {task.fields[rate]} rows/s"),
            TimeElapsedColumn(),
            TextColumn("elapsed ·"),
            TimeRemainingColumn(),
            TextColumn("left"),
            TextColumn("· {task.fields[problems]} flagged · {task.fields[tokens]} tokens"),
            console=self.console,
            refresh_per_second=4,
        )
        self.task = self.progress.add_task(
            "grading", total=total, rows="0", rate="-", problems="0", tokens="0"
        )
        self.unit = unit
        self.started = time.monotonic()
        self.progress.start()

    def __call__(self, tally: Tally) -> None:
        elapsed = max(1e-9, time.monotonic() - self.started)
        fresh = tally.rows - tally.resumed
        rate = f"{fresh / elapsed:,.0f}" if fresh else "-"
        self.progress.update(
            self.task,
            total=tally.total,  # known once the file is open
            completed=tally.position if self.unit == "bytes" else tally.rows,
            rows=count(tally.rows),
            rate=rate,
            problems=count(tally.problems),
            tokens=count(tally.tokens),
        )
        if tally.finished:
            self.stop()

    def stop(self) -> None:
        self.progress.stop()


def histogram_lines(edges: list[float], counts: list[int], width: int = BAR_WIDTH) -> list[str]:
    """A histogram as text: one line a bin, its range, a bar and its count."""
    if len(counts) == 1:
        return [f"  {number(edges[0])}  {'█' * width}  {count(counts[0])}"]
    labels = [
        f"[{number(edges[i])}, {number(edges[i + 1])}{']' if i == len(counts) - 1 else ')'}"
        for i in range(len(counts))
    ]
    label_width = max(map(len, labels))
    most = max(counts) or 1
    lines = []
    for label, n in zip(labels, counts, strict=True):
        bar = "█" * round(n / most * width) if n else ""
        if n and not bar:
            bar = "▏"
        lines.append(f"  {label.ljust(label_width)}  {bar.ljust(width)}  {count(n)}")
    return lines


def _reward_line(data: Mapping[str, Any]) -> str:
    reward = data["reward"]
    return (
        f"reward: mean {number(reward['mean'])} · median {number(reward['median'])} · "
        f"p10 {number(reward['p10'])} · p90 {number(reward['p90'])} · "
        f"min {number(reward['min'])} · max {number(reward['max'])}"
    )


def _rows_line(data: Mapping[str, Any]) -> str:
    line = f"{count(data['rows'])} rows: {count(data['graded'])} graded"
    if data["unreadable"]:
        line += f", {count(data['unreadable'])} could not be graded (no reward, an error in their row)"
    return line


def _row_name(entry: Mapping[str, Any]) -> str:
    return f"row {entry['index']}" + (f" (id {entry['id']})" if entry.get("id") is not None else "")


def summary_lines(summary: Summary, name: str = "") -> list[str]:
    data = summary.as_dict()
    lines = [_rows_line(data)]
    if not data["graded"]:
        lines.extend(f"  {e}" for e in data["unreadable_examples"])
        return lines
    lines.append(_reward_line(data))
    lines.extend(histogram_lines(data["reward"]["histogram"]["edges"], data["reward"]["histogram"]["counts"]))
    if data["flags"]:
        lines.append(f"error flags ({count(data['flagged_rows'])} rows set one or more):")
        width = max(map(len, data["flags"]))
        lines.extend(f"  {flag.ljust(width)}  {count(n)}" for flag, n in data["flags"].items())
    else:
        lines.append("error flags: none")
    if data["sub_rewards"]:
        lines.append("sub-graders (mean reward):")
        width = max(map(len, data["sub_rewards"]))
        lines.extend(f"  {key.ljust(width)}  {number(s['mean'])}" for key, s in data["sub_rewards"].items())
    if data["tokens"]:
        total = sum(u.get("total_tokens", 0) for u in data["tokens"].values())
        lines.append(f"model tokens: {count(total)}")
        for model, usage in data["tokens"].items():
            lines.append(
                f"  {model}: {count(usage.get('prompt_tokens', 0))} prompt, "
                f"{count(usage.get('completion_tokens', 0))} completion, "
                f"{count(usage.get('cached_tokens', 0))} cached"
            )
    if data["slowest"]:
        lines.append("slowest rows:")
        lines.extend(f"  {_row_name(e)}  {e['seconds']:.2f} s" for e in data["slowest"])
    if data["unreadable_examples"]:
        lines.append("rows that could not be graded (the first):")
        lines.extend(f"  {e}" for e in data["unreadable_examples"])
    return lines


def comparison_lines(comparison: Comparison, names: tuple[str, str]) -> list[str]:
    data = comparison.as_dict()
    lines = [_rows_line(data["new"])]
    for label, side, grader in (("old", data["old"], names[0]), ("new", data["new"], names[1])):
        if side["graded"]:
            lines.append(f"{label} ({grader}) {_reward_line(side)}")
    if not data["pairs"]:
        return lines
    share = data["equal"] / data["pairs"]
    lines.append(
        f"same reward on {count(data['equal'])} of {count(data['pairs'])} rows ({share:.1%}); "
        f"mean difference (new - old) {number(data['mean_difference'])}, "
        f"mean absolute difference {number(data['mean_absolute_difference'])}, "
        f"correlation {number(data['correlation'])}"
    )
    for label, side in (("old", data["old"]), ("new", data["new"])):
        if side["flags"]:
            flags = ", ".join(f"{flag} {count(n)}" for flag, n in side["flags"].items())
            lines.append(f"{label} error flags: {flags}")
    if data["disagreements"]:
        lines.append("biggest disagreements:")
        lines.extend(
            f"  {_row_name(e)}  old {number(e['old'])} → new {number(e['new'])}"
            for e in data["disagreements"][:10]
        )
    return lines


def write_lines(lines: list[str], stream: TextIO) -> None:
    for line in lines:
        stream.write(line + "\n")
    stream.flush()
