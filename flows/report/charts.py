"""The impact report's charts, drawn with matplotlib's Agg canvas (object API, no pyplot state, no network).

Each `chart_*` function takes the report's shaped frames and returns PNG bytes. Imported only when a chart must be
drawn: flows.report.cache reuses a chart whose inputs have not changed since the last report (its cache), so a
daily run whose new day moves no chart pays neither the matplotlib import nor the drawing.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from itertools import pairwise
from typing import Any

import polars as pl
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import Formatter

from flows.report.style import CATEGORY_MARKERS, DPI, group_colour, group_order
from transforms import report_data as rd


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white")  # constrained layout: no second (tight) draw
    return buf.getvalue()


class _PercentFormatter(Formatter):
    """Signed percentages with as many decimals as the tick spacing needs (values already in percent)."""

    _ticks: tuple[float, ...] = ()

    def set_locs(self, locs: Any) -> None:
        self._ticks = tuple(locs)

    def __call__(self, x: float, pos: int | None = None) -> str:
        step = min((abs(b - a) for a, b in pairwise(self._ticks) if b != a), default=1.0)
        digits = 0 if step >= 1 else 1 if step >= 0.1 else 2
        text = f"{x:+.{digits}f}%"
        return "0%" if float(text[:-1]) == 0 else text


def _pct_axis(ax: Any, axis: str = "y") -> None:
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(_PercentFormatter())


def chart_car_paths(bands: pl.DataFrame, dates: pl.DataFrame, title: str) -> bytes:
    """Small multiples, one panel per group: mean CAR (%) per rel_day with the ±1.96·SE band."""
    groups = group_order(bands["group"].unique().to_list())
    ncols = min(4, len(groups))
    nrows = -(-len(groups) // ncols)
    width, height = 3.7 * ncols + 0.9, 3.3 * nrows + 1.3
    fig = Figure(figsize=(width, height))  # fixed margins (inches): constrained layout costs a second a chart
    fig.subplots_adjust(
        left=0.85 / width, right=1 - 0.3 / width, top=1 - 0.7 / height, bottom=1.2 / height, hspace=0.6, wspace=0.08
    )
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    day_dates = {r: d for r, d in dates.iter_rows()}
    ticks = [t for t in (-10, -5, 0, 5, 10) if t in day_dates]
    for i, ax in enumerate(axes.flat):
        if i >= len(groups):
            ax.set_visible(False)
            continue
        g = groups[i]
        part = bands.filter(pl.col("group") == g).sort("rel_day")
        colour = group_colour(g)
        x = part["rel_day"].to_list()
        ax.axhline(0, color="#444", lw=0.8)
        ax.axvline(0, color="#444", lw=0.8, ls=":")
        if part["se"].drop_nulls().len() > 0:
            lo = [None if v is None else v * 100 for v in part["lower"].to_list()]
            hi = [None if v is None else v * 100 for v in part["upper"].to_list()]
            ax.fill_between(x, lo, hi, color=colour, alpha=0.2, lw=0)
        ax.plot(x, (part["mean_car"] * 100).to_list(), color=colour, lw=2, marker="o", ms=3)
        n = max(part["n"].to_list(), default=0)
        ax.set_title(f"{g} (n={n}{', no band' if n < 2 else ''})", fontsize=10, color=colour, fontweight="bold")
        ax.grid(alpha=0.3)
        _pct_axis(ax)
        ax.set_xticks(ticks, [f"{t:+d}\n{day_dates[t]:%d %b}" if t else f"0\n{day_dates[t]:%d %b}" for t in ticks])
        if i % ncols == 0:
            ax.set_ylabel("CAR since day −10 (%)")
        if i + ncols >= len(groups):  # no panel below: this one carries the x axis
            ax.tick_params(labelbottom=True)
            ax.set_xlabel("trading day vs day 0, and date")
    handles = [
        Line2D([], [], color="#333", lw=2, marker="o", ms=3, label="mean CAR across the group's tickers"),
        Patch(color="#333", alpha=0.2, label="95% band: mean ± 1.96 × cross-sectional standard error"),
    ]
    fig.legend(handles=handles, loc="lower center", ncols=2, frameon=False)
    fig.suptitle(title, fontsize=13, fontweight="bold")
    return _png(fig)


def chart_day0(moves: pl.DataFrame, title: str) -> bytes:
    """Horizontal bars: day-0 abnormal return (%) per ticker, most negative on top, coloured by group."""
    n = moves.height
    fig = Figure(figsize=(9, 0.32 * n + 1.8), layout="constrained")
    ax = fig.subplots()
    rows = list(moves.iter_rows(named=True))
    y = list(range(n))
    values = [r["car"] * 100 for r in rows]
    ax.barh(y, values, color=[group_colour(r["group"]) for r in rows], edgecolor="white")
    ax.set_yticks(y, [r["ticker"] for r in rows])
    ax.invert_yaxis()
    ax.axvline(0, color="#444", lw=0.8)
    span = max((abs(v) for v in values), default=1.0) or 1.0
    for yi, v in zip(y, values, strict=True):
        ax.text(
            v + (0.01 * span if v >= 0 else -0.01 * span),
            yi,
            f"{v:+.1f}%",
            va="center",
            ha="left" if v >= 0 else "right",
            fontsize=8,
        )
    ax.set_xlim(min(min(values, default=0), 0) - 0.18 * span, max(max(values, default=0), 0) + 0.18 * span)
    _pct_axis(ax, "x")
    ax.set_xlabel("day-0 abnormal return, market model (%)")
    ax.set_ylabel("ticker")
    ax.grid(axis="x", alpha=0.3)
    groups = group_order(moves["group"].unique().to_list())
    ax.legend(
        handles=[Patch(color=group_colour(g), label=g) for g in groups],
        title="group",
        loc="best",
        fontsize=8,
        title_fontsize=9,
    )
    ax.set_title(title, fontsize=12, fontweight="bold")
    return _png(fig)


def chart_timeline(tl: pl.DataFrame, group: str, window: tuple[int, int], highlight: Sequence[str]) -> bytes:
    """Every catalog event on a date axis with the group's window CAAR (%) as a stem, marker by category."""
    fig = Figure(figsize=(13, 5.2), layout="constrained")
    ax = fig.subplots()
    colour = group_colour(group)
    data = tl.filter(pl.col("caar").is_not_null())
    ax.axhline(0, color="#444", lw=0.8)
    held = set(data.filter(pl.col("confounded_by").is_not_null())["event_id"]) if "confounded_by" in data else set()
    for r in data.iter_rows(named=True):
        v = r["caar"] * 100
        ax.vlines(r["event_date"], 0, v, color=colour, alpha=0.6, lw=1.5)
        ax.plot(
            r["event_date"],
            v,
            marker=CATEGORY_MARKERS.get(r["category"], "D"),
            color=colour,
            mfc="white" if r["event_id"] in held else colour,  # hollow: the window holds another event
            ms=8,
            mec="black",
            mew=0.6,
            ls="",
        )
    labelled = set(data.sort(pl.col("caar").abs(), descending=True).head(8)["event_id"].to_list())
    labelled |= set(highlight) & set(rd.ALWAYS_EVENTS)
    last: date | None = None
    level = 0
    for r in data.filter(pl.col("event_id").is_in(sorted(labelled))).sort("event_date").iter_rows(named=True):
        v = r["caar"] * 100
        # labels of events within 40 days of each other step away from the marker so they do not overlap
        level = level + 1 if last is not None and (r["event_date"] - last).days < 40 else 0
        last = r["event_date"]
        dx, ha = ((0, "center"), (14, "left"), (-14, "right"))[level % 3]
        dy = 8 if level == 0 else 16 + 12 * (level // 3)
        ax.annotate(
            r["event_id"] + (f" (window holds {r['confounded_by']})" if r["event_id"] in held else ""),
            (r["event_date"], v),
            xytext=(dx, dy if v >= 0 else -dy),
            textcoords="offset points",
            ha=ha,
            va="bottom" if v >= 0 else "top",
            fontsize=8,
            arrowprops={"arrowstyle": "-", "color": "#555", "lw": 0.6} if level else None,
        )
    missing = tl.filter(pl.col("caar").is_null())
    if missing.height:
        ax.plot(missing["event_date"].to_list(), [0] * missing.height, marker="x", color="#777", ls="", ms=7)
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    _pct_axis(ax)
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo))
    ax.margins(x=0.05)
    ax.set_xlabel("event date")
    ax.set_ylabel(f"{group} CAAR [{window[0]},{window[1]:+d}] (%)")
    ax.grid(alpha=0.3)
    handles = [
        Line2D([], [], marker=m, color=colour, mec="black", mew=0.6, ls="", ms=8, label=f"{c} event")
        for c, m in CATEGORY_MARKERS.items()
    ]
    if held:
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                color=colour,
                mfc="white",
                mec="black",
                mew=0.6,
                ls="",
                ms=8,
                label="window holds another catalogued event",
            )
        )
    if missing.height:
        handles.append(Line2D([], [], marker="x", color="#777", ls="", ms=7, label="no results (not in the chart)"))
    ax.legend(handles=handles, loc="best", fontsize=9)
    ax.set_title(
        f"All catalog events: {group} CAAR over trading days [{window[0]},{window[1]:+d}] (market model); "
        "the 8 largest labelled",
        fontsize=12,
        fontweight="bold",
    )
    return _png(fig)


def chart_demand(part: pl.DataFrame, event_id: str, event_date: date, order: Sequence[str] | None = None) -> bytes:
    """One panel per region: daily demand (GWh/day) around the event and the same days a year earlier."""
    present = set(part["region"].to_list())
    regions = [r for r in (order or [r[0] for r in rd.DEMAND_REGIONS]) if r in present]
    fig = Figure(figsize=(11, 2.6 * len(regions) + 0.8), layout="constrained")
    axes = fig.subplots(len(regions), 1, sharex=True, squeeze=False)[:, 0]
    for ax, region in zip(axes, regions, strict=True):
        p = part.filter(pl.col("region") == region).sort("date_local")
        ax.plot(
            p["date_local"].to_list(), (p["value_mwh"] / 1000).to_list(), color="#222", lw=1.6, label="daily demand"
        )
        ax.plot(
            p["date_local"].to_list(),
            (p["prev_year_mwh"] / 1000).to_list(),
            color="#888",
            lw=1.2,
            ls="--",
            label="same day a year earlier (365 days)",
        )
        ax.axvline(event_date, color="black", lw=1.4, ls=":", label=f"event date ({event_id})")
        ax.set_ylabel(f"{region}\nGWh per day")
        ax.grid(alpha=0.3)
    locator = AutoDateLocator()
    axes[-1].xaxis.set_major_locator(locator)
    axes[-1].xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes[-1].set_xlabel("local date")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper center", fontsize=9, ncols=3, frameon=False)
    fig.suptitle(f"Daily electricity demand (EIA-930) around {event_id} ({event_date})", fontsize=12, fontweight="bold")
    return _png(fig)


def chart_shock_z(series: pl.DataFrame, candidates: pl.DataFrame, groups: Sequence[str], threshold: float) -> bytes:
    """One panel per group: the daily z of its portfolio's abnormal return (flows.report.shocks), the ±threshold
    lines, the days a catalogued event covers (black) and the shock candidates (red, dated)."""
    fig = Figure(figsize=(13, 1.9 * len(groups) + 1.2), layout="constrained")
    axes = fig.subplots(len(groups), 1, sharex=True, squeeze=False)[:, 0]
    for ax, g in zip(axes, groups, strict=True):
        part = series.filter(pl.col("group") == g).sort("date")
        ax.plot(part["date"].to_list(), part["z"].to_list(), color=group_colour(g), lw=0.6, alpha=0.8)
        for level in (threshold, -threshold):
            ax.axhline(level, color="#444", lw=0.8, ls="--")
        covered = part.filter(pl.col("covered"))
        ax.plot(covered["date"].to_list(), covered["z"].to_list(), ls="", marker="v", color="black", ms=4)
        cand = candidates.filter(pl.col("group") == g) if candidates.height else candidates
        if cand.height:
            ax.plot(cand["date"].to_list(), cand["z"].to_list(), ls="", marker="o", mfc="none", mec="#d00", ms=7)
            for r in cand.sort(pl.col("z").abs(), descending=True).head(3).iter_rows(named=True):
                ax.annotate(
                    f"{r['date']:%Y-%m-%d}",
                    (r["date"], r["z"]),
                    xytext=(4, 4 if r["z"] >= 0 else -10),
                    textcoords="offset points",
                    fontsize=7,
                    color="#a00",
                )
        ax.set_ylabel(f"{g}\nz", fontsize=9)
        ax.grid(alpha=0.3)
    locator = AutoDateLocator()
    axes[-1].xaxis.set_major_locator(locator)
    axes[-1].xaxis.set_major_formatter(ConciseDateFormatter(locator))
    handles = [
        Line2D([], [], color="#777", lw=0.8, label="z of the group's abnormal return"),
        Line2D([], [], color="#444", lw=0.8, ls="--", label=f"|z| = {threshold:g}"),
        Line2D([], [], ls="", marker="v", color="black", ms=4, label="catalogued event (day 0 or +1)"),
        Line2D([], [], ls="", marker="o", mfc="none", mec="#d00", ms=7, label="shock candidate (3 largest dated)"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=9, frameon=False)
    fig.suptitle("Daily z by group: moves the market does not explain", fontsize=12, fontweight="bold")
    return _png(fig)


def _mark_events(ax: Any, events: pl.DataFrame) -> None:
    for event_date in events["event_date"].to_list():
        ax.axvline(event_date, color="#c0392b", lw=0.8, alpha=0.6)


def chart_demand_series(daily: pl.DataFrame, events: pl.DataFrame, order: Sequence[str]) -> bytes:
    """One panel per region: every loaded day's demand (GWh/day, thin) and its 28-day mean, efficiency events
    marked (red lines): the whole series the impact windows are cut from, gaps and all."""
    regions = [r for r in order if r in set(daily["region"].to_list())]
    fig = Figure(figsize=(11, 2.2 * len(regions) + 0.8), layout="constrained")
    axes = fig.subplots(len(regions), 1, sharex=True, squeeze=False)[:, 0]
    for ax, region in zip(axes, regions, strict=True):
        p = daily.filter(pl.col("region") == region).sort("date_local")
        gwh = p["value_mwh"] / 1000
        ax.plot(p["date_local"].to_list(), gwh.to_list(), color="#bbb", lw=0.5, label="daily demand")
        rolling = gwh.rolling_mean(28, min_samples=20)
        ax.plot(p["date_local"].to_list(), rolling.to_list(), color="#222", lw=1.4, label="28-day mean")
        _mark_events(ax, events)
        ax.set_ylabel(f"{region}\nGWh per day")
        ax.grid(alpha=0.3)
    axes[0].plot([], [], color="#c0392b", lw=0.8, label="efficiency event")
    locator = AutoDateLocator()
    axes[-1].xaxis.set_major_locator(locator)
    axes[-1].xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes[0].legend(loc="upper left", fontsize=8, ncols=3, frameon=False)
    fig.suptitle("Daily electricity demand (EIA-930, local days), all loaded data", fontsize=12, fontweight="bold")
    return _png(fig)


def chart_retail_series(monthly: pl.DataFrame, events: pl.DataFrame, order: Sequence[str]) -> bytes:
    """One panel per state: monthly all-sector retail sales (TWh per month), efficiency events marked."""
    states = [s for s in order if s in set(monthly["state"].to_list())]
    fig = Figure(figsize=(11, 2.0 * len(states) + 0.8), layout="constrained")
    axes = fig.subplots(len(states), 1, sharex=True, squeeze=False)[:, 0]
    for ax, state in zip(axes, states, strict=True):
        p = monthly.filter(pl.col("state") == state).sort("month")
        ax.plot(p["month"].to_list(), (p["sales_mwh"] / 1e6).to_list(), color="#222", lw=1.2, label="retail sales")
        _mark_events(ax, events)
        ax.set_ylabel(f"{state}\nTWh per month")
        ax.grid(alpha=0.3)
    axes[0].plot([], [], color="#c0392b", lw=0.8, label="efficiency event")
    locator = AutoDateLocator()
    axes[-1].xaxis.set_major_locator(locator)
    axes[-1].xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes[0].legend(loc="upper left", fontsize=8, ncols=2, frameon=False)
    fig.suptitle("Monthly retail electricity sales, all sectors (EIA-861M / API)", fontsize=12, fontweight="bold")
    return _png(fig)
