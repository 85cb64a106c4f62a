"""Small PNG charts for the reports, drawn with matplotlib's object API (no pyplot state).

The style is set once at import; each chart is a fresh ``Figure`` (cheap, thread-safe) saved at a
modest resolution so that a PDF stays small and fast to build.
"""

from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from .formatting import fmt_num, period_short  # noqa: E402

BLUE = "#1f4e79"
RED = "#b03a2e"
GOLD = "#c9a227"
GREY = "#8c8c8c"
DPI = 130

matplotlib.rcParams.update(
    {
        "font.family": "DejaVu Sans",
        "font.size": 7.5,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "#555555",
        "axes.grid": True,
        "grid.color": "#dddddd",
        "grid.linewidth": 0.5,
        "axes.axisbelow": True,
        "legend.frameon": False,
        "savefig.dpi": DPI,
    }
)

_pct_axis = FuncFormatter(lambda v, _: f"{fmt_num(v, 0)}%")
_num_axis = FuncFormatter(lambda v, _: fmt_num(v, 1))


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", pad_inches=0.04)
    return buf.getvalue()


def _nan(v) -> float:
    return float("nan") if v is None else float(v)


def trend_chart(trend, period: str) -> bytes:
    """Followed-up share (bars, left axis) and mean rating (line, right axis) per period."""
    fig = Figure(figsize=(6.6, 2.3))
    ax = fig.add_subplot()
    labels = [period_short(period, d) for d in trend["period_start"]]
    x = list(range(len(labels)))
    pct = [_nan(v) for v in trend["followed_up_pct"]]
    ax.bar(
        x,
        [0 if math.isnan(v) else v for v in pct],
        color=BLUE,
        width=0.6,
        label="% ditindaklanjuti",
    )
    ax.set_ylim(0, 100)
    ax.yaxis.set_major_formatter(_pct_axis)
    ax.set_xticks(x, labels)
    ax2 = ax.twinx()
    ax2.plot(
        x,
        [_nan(v) for v in trend["rating_avg"]],
        color=GOLD,
        marker="o",
        markersize=3,
        linewidth=1.6,
        label="Rating rata-rata",
    )
    ax2.set_ylim(0, 5.2)
    ax2.grid(False)
    ax2.spines["right"].set_visible(True)
    ax2.yaxis.set_major_formatter(_num_axis)
    ax2.set_ylabel("rating (1-5)")
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(
        handles,
        [h.get_label() for h in handles],
        loc="lower left",
        ncols=2,
        bbox_to_anchor=(0, 1.0),
    )
    return _png(fig)


def rating_histogram(ratings) -> bytes:
    """Distribution of institutions' mean rating, bins of 0.25 stars."""
    fig = Figure(figsize=(6.6, 2.2))
    ax = fig.add_subplot()
    values = [float(v) for v in ratings if v is not None and not math.isnan(float(v))]
    bins = [1 + 0.25 * i for i in range(17)]
    ax.hist(values, bins=bins, color=BLUE, edgecolor="white", linewidth=0.6)
    ax.set_xlim(1, 5)
    ax.xaxis.set_major_formatter(_num_axis)
    ax.set_xlabel("Rating rata-rata instansi")
    ax.set_ylabel("Jumlah instansi")
    return _png(fig)


def province_bars(names, values) -> bytes:
    """Horizontal bars of the followed-up share per province, best at the top."""
    pairs = sorted(
        ((n, _nan(v)) for n, v in zip(names, values, strict=True)),
        key=lambda p: -1 if math.isnan(p[1]) else p[1],
    )
    fig = Figure(figsize=(6.6, max(1.5, 0.16 * len(pairs) + 0.6)))
    ax = fig.add_subplot()
    y = list(range(len(pairs)))
    vals = [0 if math.isnan(v) else v for _, v in pairs]
    ax.barh(y, vals, color=[BLUE if v >= 90 else RED for v in vals], height=0.7)
    ax.set_yticks(y, [n for n, _ in pairs], fontsize=6)
    ax.set_xlim(0, 100)
    ax.xaxis.set_major_formatter(_pct_axis)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("% ditindaklanjuti")
    return _png(fig)
