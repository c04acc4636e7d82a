"""The impact report's sections, each a piece of HTML from the mart frames (its charts through the cache)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from flows.report.cache import ChartCache
from flows.report.markup import (
    document,
    esc,
    fmt_num,
    fmt_pct,
    fmt_pp,
    group_cell,
    note,
    small_group_mark,
    table,
    td_day,
    td_num,
    td_txt,
    td_wide,
)
from flows.report.marts import REPORT_STATES, RUN_FIRST, MartFrames
from flows.report.shocks import event_window_note, fmt_window, with_confounders
from flows.report.style import group_colour, group_order
from transforms import report_data as rd
from transforms.electricity import ImpactConfig


def headline_rows(head: pl.DataFrame) -> list[list[str]]:
    return [
        [
            td_txt(r["event_id"]),
            td_txt(r["name"]),
            td_txt(r["category"]),
            td_day(r["day0"]),
            td_num(fmt_window(r["caar_day0"], r.get("confounded_day0")) + day0_mark(r)),
            td_num(fmt_window(r["caar_0_1"], r.get("confounded_0_1")) + window_mark(r)),
            td_num("–" if r["n_power"] is None else str(r["n_power"])),
            td_txt(r["largest_fall_ticker"]),
            td_num(fmt_window(r["largest_fall_car"], r.get("confounded_day0"))),
        ]
        for r in head.iter_rows(named=True)
    ]


def day0_mark(r: dict[str, object]) -> str:
    """The headline's n < 3 mark on the day-0 CAAR (markup.small_group_mark): '' for a group of 3 or more."""
    return small_group_mark(r.get("n_power_day0"), r.get("n_below_min_day0"))  # type: ignore[arg-type]


def window_mark(r: dict[str, object]) -> str:
    """The headline's n < 3 mark on the [0,+1] CAAR."""
    return small_group_mark(r.get("n_power"), r.get("n_below_min_0_1"))  # type: ignore[arg-type]


HEADLINE_HEADER = (
    "event",
    "name",
    "category",
    "day 0",
    f"{rd.POWER_GROUP} CAAR day 0",
    f"{rd.POWER_GROUP} CAAR [0,+1]",
    "n tickers",
    "largest day-0 fall",
    "its abnormal return",
)


def empty_html(wh: Path, title: str) -> str:
    return document(
        title,
        note(
            f"The warehouse <code>{esc(wh)}</code> holds no event-study results yet. Run "
            f"<code>{esc(RUN_FIRST)}</code> first (a folder of <code>TICKER.csv</code> price files, e.g. "
            "<code>../shared/data/prices_daily_close</code>; or <code>jevons run</code> for live Yahoo prices), "
            "then <code>jevons report</code> again."
        ),
    ).decode("utf-8")


def headline_section(
    head: pl.DataFrame, selection: rd.EventSelection, requested: bool, caar_source: str, notes: list[str]
) -> str:
    chosen = (
        "requested"
        if requested
        else f"the {rd.RECENT_EFFICIENCY_EVENTS} most recent efficiency events with results, plus "
        + ", ".join(rd.ALWAYS_EVENTS)
    )
    html_parts = [
        "<h2 id='headline-section'>Headline</h2>",
        f"<p>Events shown: {len(selection.event_ids)} ({esc(chosen)}). CAAR = mean cumulative abnormal return "
        f"over the {rd.POWER_GROUP} group's tickers ({esc(caar_source)}).</p>",
        table("headline", HEADLINE_HEADER, headline_rows(head)),
    ]
    for eid, why in selection.without_results.items():
        notes.append(f"{eid}: {why}")
        html_parts.append(note(f"Event <code>{esc(eid)}</code>: {esc(why)}."))
    return "".join(html_parts)


def timeline_section(marts: MartFrames, selection: rd.EventSelection, charts: ChartCache) -> str:
    window = (0, 1)
    tl = rd.timeline(marts.events, marts.impact, rd.POWER_GROUP, window, marts.group_impact)
    tl_rows = with_confounders(tl, marts.overlaps, {"confounded_by": window}) if marts.overlaps.height else tl
    rows = [
        [
            td_day(r["event_date"]),
            td_txt(r["event_id"]),
            td_txt(r["category"]),
            td_txt(r["name"]),
            td_day(r["day0"]),
            td_num("–" if r["n"] is None else str(r["n"])),
            td_num(fmt_window(r["caar"], r.get("confounded_by")) + small_group_mark(r["n"], r.get("n_below_min"))),
        ]
        for r in tl_rows.iter_rows(named=True)
    ]
    header = ("event date", "event", "category", "name", "day 0", "n tickers", "CAAR [0,+1]")
    return (
        "<h2 id='timeline-section'>Timeline of all catalog events</h2>"
        + charts.add(
            "timeline_power_caar.png",
            "timeline of the power group's CAAR",
            "chart_timeline",
            tl_rows,
            rd.POWER_GROUP,
            window,
            list(selection.event_ids),
        )
        + f"<details><summary>Table: every catalog event with the {rd.POWER_GROUP} CAAR [0,+1]</summary>"
        + table("timeline", header, rows)
        + "</details>"
    )


def small_groups_note(marts: MartFrames, eid: str) -> str:
    """A note naming the event's groups of fewer than MIN_GROUP_TICKERS tickers ('' when there are none).

    Their CAR paths and bands stay in the chart (the numbers are kept), but with N < 3 the band and every group
    test have at most 1 degree of freedom: the note says they are not evidence (docs/methods.md).
    """
    if marts.group_impact is not None:
        rows = marts.group_impact.filter(pl.col("event_id") == eid).select("group", "n", "n_below_min")
    else:
        rows = (
            marts.impact.filter((pl.col("event_id") == eid) & pl.col("car").is_not_null())
            .group_by("group")
            .agg(pl.col("ticker").n_unique().alias("n"))
            .with_columns(pl.lit(None, pl.Boolean).alias("n_below_min"))
        )
    small = (
        rows.group_by("group")
        .agg(pl.col("n").max(), pl.col("n_below_min").any(ignore_nulls=True))
        .filter(pl.col("n").is_not_null())
        .sort("group")
    )
    marks = [
        f"<code>{esc(r['group'])}</code>{esc(small_group_mark(r['n'], r['n_below_min']))}"
        for r in small.iter_rows(named=True)
        if small_group_mark(r["n"], r["n_below_min"])
    ]
    if not marks:
        return ""
    return note(
        "Groups with fewer than three stocks: "
        + ", ".join(marks)
        + ". Their CAR paths are shown, but their bands and group tests are not evidence (docs/methods.md)."
    )


def event_section(marts: MartFrames, eid: str, bands: pl.DataFrame, charts: ChartCache) -> str:
    ev = marts.events.filter(pl.col("event_id") == eid).row(0, named=True)
    moves = rd.day0_moves(marts.impact, eid)
    day0 = min(marts.impact.filter(pl.col("event_id") == eid)["day0"].to_list())
    parts = [
        f"<h2 id='event-{esc(eid)}'>{esc(ev['name'])} <span class='muted'>({esc(eid)}, {esc(ev['category'])}, "
        f"event date {esc(ev['event_date'])}, day 0 {esc(day0)})</span></h2>",
        f"<p>{esc(ev['description'])}</p>",
        event_window_note(marts.overlaps, eid) if marts.overlaps.height else "",
        small_groups_note(marts, eid),
    ]
    ev_bands = bands.filter(pl.col("event_id") == eid)
    dates = (
        marts.abnormal.filter(pl.col("event_id") == eid).group_by("rel_day").agg(pl.col("date").min()).sort("rel_day")
    )
    if ev_bands.height:
        title = f"{eid}: cumulative abnormal return by group, trading days −10..+10 (day 0 = {day0})"
        parts.append(charts.add(f"{eid}_car_paths.png", f"{eid} CAR paths", "chart_car_paths", ev_bands, dates, title))
    parts.append(
        charts.add(
            f"{eid}_day0.png",
            f"{eid} day-0 abnormal returns",
            "chart_day0",
            moves,
            f"{eid}: day-0 abnormal return by ticker (day 0 = {day0})",
        )
    )
    rows = [
        [
            td_txt(r["ticker"]),
            group_cell(r["group"]),
            td_num(fmt_pct(r["raw_return"])),
            td_num(fmt_pct(r["car"])),
            td_num(fmt_num(r["car_t"])),
            td_num(fmt_num(r["p_value"], 3, signed=False)),
        ]
        for r in moves.iter_rows(named=True)
    ]
    parts.append(
        "<details><summary>Table: day-0 returns by ticker</summary>"
        + table(f"day0-{eid}", ("ticker", "group", "raw return", "abnormal return", "t", "p"), rows)
        + "</details>"
    )
    return "".join(parts)


JEVONS_HEADER = (
    "event",
    "event date",
    "n tickers",
    "CAAR day 0",
    "CAAR [0,+5]",
    "growth change 3m",
    "growth change 6m",
    "regions (6m)",
    "market reaction",
    "demand outcome",
    "verdict",
)


def report_regions(demand_daily: pl.DataFrame) -> list[tuple[str, str, str]]:
    """(label, respondent, subba) of the regions the report charts, from what is loaded: DOM, or PJM standing in
    for it (as in marts.jevons_check), then ERCO, CISO and US48."""
    held = set(demand_daily.select("respondent", "subba").unique().iter_rows()) if demand_daily.height else set()
    first = ("DOM", "PJM", "DOM") if ("PJM", "DOM") in held else ("PJM", "PJM", "")
    return [r for r in (first, ("ERCO", "ERCO", ""), ("CISO", "CISO", ""), ("US48", "US48", "")) if r[1:] in held]


def electricity_series_section(marts: MartFrames, regions: list[tuple[str, str, str]], charts: ChartCache) -> str:
    """The loaded series in full, with the efficiency events marked: what the windows below are cut from."""
    efficiency = marts.events.filter(pl.col("category") == "efficiency").select("event_id", "event_date")
    parts = []
    if regions:
        region_map = pl.DataFrame(
            {"region": [r[0] for r in regions], "respondent": [r[1] for r in regions], "subba": [r[2] for r in regions]}
        )
        # days with fewer than 20 reported hours (partial first days, EIA blanks) are left out, as in the windows
        daily = (
            marts.demand_daily.filter(pl.col("hours_reported") >= ImpactConfig().min_hours_per_day)
            .join(region_map, on=["respondent", "subba"], how="inner")
            .select("region", "date_local", "value_mwh")
        )
        order = [r[0] for r in regions]
        parts.append(
            charts.add("demand_series.png", "daily demand series", "chart_demand_series", daily, efficiency, order)
        )
    if marts.retail_monthly.height:
        parts.append(
            charts.add(
                "retail_series.png",
                "monthly retail sales series",
                "chart_retail_series",
                marts.retail_monthly,
                efficiency,
                list(REPORT_STATES),
            )
        )
    context = marts.jevons["datacentre_context"].drop_nulls() if "datacentre_context" in marts.jevons.columns else None
    if context is not None and context.len():
        parts.append(f"<p><b>Context (IEA):</b> {esc(context[0])}.</p>")
    return "".join(parts)


def electricity_section(marts: MartFrames, event_ids: Sequence[str], charts: ChartCache, notes: list[str]) -> str:
    parts = ["<h2 id='electricity-section'>Electricity demand and the Jevons check</h2>"]
    categories = dict(marts.events.select("event_id", "category").iter_rows())
    eff_ids = [e for e in event_ids if categories.get(e) == "efficiency"]
    regions = report_regions(marts.demand_daily)
    parts.append(electricity_series_section(marts, regions, charts))
    demand = rd.demand_around(marts.demand_daily, marts.events, eff_ids, regions) if marts.demand_daily.height else None
    if demand is None or demand.height == 0:
        parts.append(
            note(
                "No electricity demand data around the shown efficiency events (<code>marts.electricity_demand_daily"
                "</code> has no rows for DOM/PJM, ERCO, CISO or US48 there). Run <code>jevons run --electricity-from "
                "DIR</code> with EIA's files, or set <code>EIA_API_KEY</code> (free at "
                "https://www.eia.gov/opendata/register.php) to load EIA-930 demand from the API."
            )
        )
        notes.append("no electricity demand data")
    else:
        stand_in = " PJM stands in for DOM, which is not loaded." if regions and regions[0][0] == "PJM" else ""
        parts.append(
            f"<p>Daily demand summed from EIA-930 hourly data ({rd.DEMAND_DAYS_BEFORE} days before to "
            f"{rd.DEMAND_DAYS_AFTER} days after each efficiency event), in GWh per day, with the same calendar "
            "days a year earlier (dashed). DOM is Dominion (northern Virginia's data-centre cluster), PJM its "
            "parent, ERCO is ERCOT (Texas), CISO the California ISO, US48 the lower 48 states. Values the quality "
            f"screen flagged (ops.data_quality) are left out. Not weather-adjusted.{stand_in}</p>"
        )
        event_dates = dict(marts.events.select("event_id", "event_date").iter_rows())
        order = [r[0] for r in regions]
        for eid in eff_ids:
            part = demand.filter(pl.col("event_id") == eid)
            if part.height:
                parts.append(
                    charts.add(
                        f"{eid}_demand.png",
                        f"{eid} electricity demand",
                        "chart_demand",
                        part,
                        eid,
                        event_dates[eid],
                        order,
                    )
                )
    if marts.jevons.height == 0:
        parts.append(note("<code>marts.jevons_check</code> has no rows: no efficiency event has results yet."))
        notes.append("marts.jevons_check is empty")
        return "".join(parts)
    jt = rd.jevons_table(marts.jevons)
    if marts.overlaps.height:
        jt = with_confounders(jt, marts.overlaps, {"confounded_day0": (0, 0), "confounded_0_5": (0, 5)})
    if max(jt["n_regions_6m"].to_list() + marts.jevons["n_regions_3m"].to_list(), default=0) == 0:
        parts.append(
            note(
                "The Jevons check has no demand figures yet (no electricity data, or the windows "
                "after the events are not over): its verdicts rest on the stock reaction alone."
            )
        )
    rows = [
        [
            td_day(r["event_id"]),
            td_day(r["event_date"]),
            td_num(str(r["power_n_tickers"])),
            td_num(fmt_window(r["power_caar_day0"], r.get("confounded_day0")) + small_group_mark(r["power_n_tickers"])),
            td_num(fmt_window(r["power_caar_0_5"], r.get("confounded_0_5")) + small_group_mark(r["power_n_tickers"])),
            td_num(fmt_pp(r["demand_growth_change_3m_pp"])),
            td_num(fmt_pp(r["demand_growth_change_6m_pp"])),
            td_num(str(r["n_regions_6m"])),
            td_txt(r["market_reaction"]),
            td_txt(r["demand_outcome"]),
            td_wide(r["verdict"]),
        ]
        for r in jt.iter_rows(named=True)
    ]
    parts.append(
        "<p>From <code>marts.jevons_check</code>: the power producers' reaction next to the change in "
        "year-over-year demand growth in the data-centre regions (3 and 6 months after vs before).</p>"
    )
    parts.append(table("jevons-check", JEVONS_HEADER, rows))
    used = marts.jevons["regions_used"].drop_nulls() if "regions_used" in marts.jevons.columns else None
    if used is not None and used.len():
        parts.append(f"<p class='muted'>Regions of the check: {esc(used[0])}.</p>")
    return "".join(parts)


def method_section(groups: Sequence[str], caar_source: str) -> str:
    swatches = " ".join(
        f"<span class='swatch' style='background:{group_colour(g)}'></span>{esc(g)}" for g in group_order(groups)
    )
    return (
        "<h2 id='method'>How to read this</h2><ul>"
        "<li>Abnormal return = actual return − market-model expected return (α + β × benchmark return), α and β "
        "fitted by OLS over trading days [−250, −11] (<code>marts.event_impact</code>, "
        "<code>marts.abnormal_returns</code>, model <code>market</code>).</li>"
        "<li>CAR paths: cumulative abnormal return from trading day −10. The line is the mean CAR across the "
        "group's tickers on each day; the band is mean ± 1.96 × the cross-sectional standard error (sample "
        "standard deviation across the tickers / √n), an approximate 95% interval. A group with one ticker has "
        "no band. Dates under the day numbers are the trading dates.</li>"
        f"<li>CAAR: mean CAR over a group's tickers ({esc(caar_source)}).</li>"
        "<li>Day 0 is the first trading day on or after the event date.</li>"
        f"<li>Colours: one colour per group in every chart and table: {swatches}</li></ul>"
    )
