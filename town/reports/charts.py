"""PNG charts with Japanese labels: matplotlib on the Agg backend, with IPAexGothic passed as a
FontProperties to every text (japanize-matplotlib is never imported, so nothing is patched globally)."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402 - the backend is chosen first
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from town.pdf import font_path  # noqa: E402

BLUE = "#0B3D91"


def _font(size: float = 11) -> font_manager.FontProperties:
    return font_manager.FontProperties(fname=str(font_path()), size=size)


def _finish(fig, ax, title: str, xlabel: str, ylabel: str, path: Path) -> Path:
    ax.set_title(title, fontproperties=_font(14))
    ax.set_xlabel(xlabel, fontproperties=_font())
    ax.set_ylabel(ylabel, fontproperties=_font())
    for label in ax.get_xticklabels() + ax.get_yticklabels():
        label.set_fontproperties(_font(9))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def line(days: list[date], values: list[float], title: str, ylabel: str, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(days, values, color=BLUE, linewidth=2)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m/%d"))
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _p: f"{v:,.0f}"))
    return _finish(fig, ax, title, "日付", ylabel, path)


def bars_by_day(days: list[date], values: list[float], title: str, ylabel: str, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.bar(days, values, color=BLUE, width=0.8)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m/%d"))
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _p: f"{v:,.0f}"))
    return _finish(fig, ax, title, "日付", ylabel, path)


def bars(labels: list[str], values: list[float], title: str, ylabel: str, path: Path, xlabel: str = "") -> Path:
    fig, ax = plt.subplots(figsize=(9, 4.5))
    ax.bar(range(len(labels)), values, color=BLUE)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=30 if len(labels) > 6 else 0, ha="right" if len(labels) > 6 else "center")
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _p: f"{v:,.0f}"))
    return _finish(fig, ax, title, xlabel, ylabel, path)
