"""A small chart of a patient's pain scores, drawn headless with matplotlib (Agg, no display)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PainPoint:
    """One check-in's score and the short date label under it."""

    label: str
    pain: int


def pain_chart_png(points: Sequence[PainPoint], title: str) -> bytes:
    """A PNG line chart of the scores, 0-10 upwards, one labelled point per check-in.

    Uses the object-oriented API with its own Figure and Agg canvas (never pyplot), so
    nothing global is touched and charts can be drawn in worker threads at the same time.
    """
    # Imported here: matplotlib takes a moment to load and only /pain and the API need it.
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    figure = Figure(figsize=(6, 3.6), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    xs = list(range(len(points)))
    scores = [point.pain for point in points]
    axes.plot(xs, scores, marker="o", markersize=8, linewidth=2.5, color="#1f5fa8")
    for x, score in zip(xs, scores, strict=True):
        axes.annotate(str(score), (x, score), textcoords="offset points", xytext=(0, 9), ha="center")
    axes.set_ylim(-0.5, 11)
    axes.set_yticks(range(0, 11, 2))
    axes.set_xticks(xs, [point.label for point in points])
    axes.set_xlim(-0.5, max(len(points) - 0.5, 0.5))
    axes.grid(axis="y", alpha=0.3)
    axes.set_title(title, fontsize=11)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    # No creation-time metadata: the same scores always give the same bytes.
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
