"""The weather section's chart (matplotlib's Agg canvas, object API), imported only when it must be drawn."""

from __future__ import annotations

import polars as pl
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from flows.report.charts import _png


def chart_weather_normal(normalised: pl.DataFrame, marks: pl.DataFrame) -> bytes:
    """One panel per (region, metric): actual monthly demand, demand at normal weather and the model's
    weather-expected demand (GWh per day), the events in `marks` (event_id, event_date) as dotted lines."""
    series = normalised.select("region", "metric").unique(maintain_order=True).rows()
    fig = Figure(figsize=(11, 2.4 * len(series) + 0.8), layout="constrained")
    axes = fig.subplots(len(series), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (region, metric) in zip(axes, series, strict=True):
        p = normalised.filter((pl.col("region") == region) & (pl.col("metric") == metric)).sort("month")
        months = p["month"].to_list()
        ax.plot(months, (p["actual_mwh_per_day"] / 1000).to_list(), color="#222", lw=1.4, label="actual")
        ax.plot(
            months,
            (p["normal_weather_mwh_per_day"] / 1000).to_list(),
            color="#1f77b4",
            lw=2.0,
            label="at normal weather (1991-2020 degree days)",
        )
        ax.plot(
            months,
            (p["weather_expected_mwh_per_day"] / 1000).to_list(),
            color="#888",
            lw=1.0,
            ls="--",
            label="model at the month's weather",
        )
        first, last = p["month"].min(), p["month"].max()
        for event_id, day in marks.iter_rows():
            if first is not None and last is not None and first <= day <= last:
                ax.axvline(day, color="black", lw=1.0, ls=":")
                ax.annotate(
                    event_id,
                    (day, 1.0),
                    xycoords=("data", "axes fraction"),
                    fontsize=7,
                    rotation=90,
                    va="top",
                    ha="right",
                    color="#444",
                )
        r2 = p["r2"].cast(pl.Float64).max()
        label = region if metric == "demand" else f"{region} {metric.removeprefix('retail_sales_')} sales"
        ax.set_ylabel(f"{label}\nGWh per day")
        ax.set_title(
            f"{label}: monthly model r² {float(r2):.2f}" if isinstance(r2, float) else label, fontsize=10, loc="left"
        )
        ax.grid(alpha=0.3)
    locator = AutoDateLocator()
    axes[-1].xaxis.set_major_locator(locator)
    axes[-1].xaxis.set_major_formatter(ConciseDateFormatter(locator))
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", fontsize=9, ncols=3, frameon=False)
    fig.suptitle("Monthly demand, actual and at normal weather (NOAA degree days)", fontsize=12, fontweight="bold")
    return _png(fig)
