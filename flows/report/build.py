"""Builds the impact report: one self-contained HTML file (charts embedded as base64 PNG) plus the PNGs.

`build_report(warehouse, out_dir, event_ids)` reads the published warehouse read-only (flows.report.marts),
shapes the frames with transforms.report_data, assembles the sections (flows.report.sections; charts drawn by
flows.report.charts through the cache in flows.report.cache) and writes `impact_report.html` and one PNG per
chart into out_dir. `report_markdown` gives the headline table for the daily flow's `impact-report` artifact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from flows.report import sections
from flows.report.cache import ChartCache, write_atomic
from flows.report.markup import document, esc
from flows.report.marts import RUN_FIRST, read_marts
from flows.report.shocks import fmt_window, read_shock_frames, shocks_section, with_confounders
from flows.report.weather import read_weather, weather_section
from transforms import report_data as rd
from warehouse.errors import JevonsInputError
from warehouse.query import open_for_query

REPORT_FILE = "impact_report.html"


@dataclass
class ReportResult:
    """What build_report wrote and what it found."""

    html_path: Path
    charts: list[Path] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)
    headline: pl.DataFrame = field(default_factory=pl.DataFrame)
    notes: list[str] = field(default_factory=list)
    empty: bool = False
    charts_drawn: list[str] = field(default_factory=list)  # the rest were reused unchanged from the last report


def build_report(
    warehouse: str | Path | None,
    out_dir: str | Path = "reports",
    event_ids: Sequence[str] | None = None,
    generated_at: datetime | None = None,
) -> ReportResult:
    """Write impact_report.html and the PNG charts into out_dir from the published warehouse (read-only)."""
    con = open_for_query(warehouse)
    try:
        wh_path = Path(
            con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0][0]
        )
        marts = read_marts(con)
        shock_frames = read_shock_frames(con)
        marts.overlaps = shock_frames.overlaps
        weather = read_weather(con)
    finally:
        con.close()
    known = set(marts.events["event_id"].to_list())
    unknown = [e for e in event_ids or [] if e not in known]
    if unknown:
        raise JevonsInputError(
            f"--event: unknown event id(s) {', '.join(unknown)}; catalog ids: {', '.join(sorted(known))}"
        )
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise JevonsInputError(f"--out: cannot create the report folder {out}: {exc.strerror or exc}") from None
    result = ReportResult(html_path=out / REPORT_FILE)
    title = "jevons impact report"
    if marts.impact.filter(pl.col("car").is_not_null()).is_empty():
        write_atomic(result.html_path, sections.empty_html(wh_path, title).encode("utf-8"))
        result.empty = True
        result.notes.append(f"no event-study results in {wh_path}: run `{RUN_FIRST}` first")
        return result

    selection = rd.select_events(marts.events, marts.impact, event_ids)
    result.event_ids = selection.event_ids
    caar_source = (
        "marts.group_impact"
        if marts.group_impact is not None
        else "the mean of car over the group's tickers in marts.event_impact"
    )
    result.headline = with_confounders(
        rd.headline(marts.events, marts.impact, selection.event_ids, marts.group_impact),
        marts.overlaps,
        {"confounded_day0": (0, 0), "confounded_0_1": (0, 1)},
    )
    charts = ChartCache(out)
    groups = rd.ticker_groups(marts.impact)
    bands = rd.car_bands(marts.abnormal.filter(pl.col("event_id").is_in(selection.event_ids)), groups)
    generated = (generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    body = [
        f"<p class='muted'>Generated {esc(generated)} from <code>{esc(wh_path)}</code>; prices through "
        f"{esc(marts.prices_through)}. Every figure comes from the warehouse's marts.</p>",
        sections.headline_section(result.headline, selection, bool(event_ids), caar_source, result.notes),
        sections.timeline_section(marts, selection, charts),
        *(sections.event_section(marts, eid, bands, charts) for eid in selection.event_ids),
        sections.electricity_section(marts, selection.event_ids, charts, result.notes),
        shocks_section(shock_frames, charts),
        weather_section(weather, marts.events, selection.event_ids, charts, result.notes),
        sections.method_section(groups["group"].unique().to_list(), caar_source),
    ]
    write_atomic(result.html_path, document(title, "".join(body)))
    result.charts = charts.paths
    result.charts_drawn = charts.drawn
    charts.remove_stale()
    charts.save_keys()
    return result


def report_markdown(result: ReportResult) -> str:
    """The `impact-report` artifact: the headline table and where the report is."""
    lines = ["# jevons impact report", "", f"Report: `{result.html_path.resolve()}`", ""]
    if result.empty:
        return "\n".join([*lines, f"No event-study results yet: run `{RUN_FIRST}` first."])
    lines += [
        "| " + " | ".join(sections.HEADLINE_HEADER) + " |",
        "|" + "---|" * len(sections.HEADLINE_HEADER),
    ]
    for r in result.headline.iter_rows(named=True):
        cells = [
            r["event_id"],
            r["name"],
            r["category"],
            str(r["day0"]),
            fmt_window(r["caar_day0"], r.get("confounded_day0")) + sections.day0_mark(r),
            fmt_window(r["caar_0_1"], r.get("confounded_0_1")) + sections.window_mark(r),
            "–" if r["n_power"] is None else str(r["n_power"]),
            r["largest_fall_ticker"] or "–",
            fmt_window(r["largest_fall_car"], r.get("confounded_day0")),
        ]
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    lines += ["", f"{len(result.charts)} charts beside it."]
    lines += [f"- {n}" for n in result.notes]
    return "\n".join(lines)


def publish_report_artifact(result: ReportResult) -> None:
    """Create/update the markdown artifact `impact-report` (needs a Prefect run context or API)."""
    from prefect.artifacts import create_markdown_artifact

    create_markdown_artifact(
        report_markdown(result), key="impact-report", description="Impact report: headline and path"
    )
