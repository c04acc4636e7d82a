"""The impact report: one self-contained HTML file (charts embedded as base64 PNG) plus the PNGs, from the marts.

`build_report(warehouse, out_dir, event_ids)` reads the published warehouse read-only, shapes the frames with
transforms.report_data, draws the charts (flows.report_charts, matplotlib's Agg canvas) and writes
`impact_report.html` and one PNG per chart into out_dir. A chart whose inputs equal those of the PNG already in
out_dir (a fingerprint of its frames, title and the chart code, kept in `.chart_keys.json`) is reused, not redrawn:
a daily run adds one day, which moves at most the charts of events whose window holds that day. Every number in
the HTML is a mart value or a mean over mart values, formatted by the `fmt_*` functions below. `report_markdown`
gives the headline table for the daily flow's `impact-report` artifact.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from flows.report_style import group_colour, group_order
from transforms import report_data as rd
from warehouse.errors import JevonsInputError
from warehouse.introspect import table_exists
from warehouse.query import open_for_query

REPORT_FILE = "impact_report.html"
RUN_FIRST = "jevons run --prices-from DIR"

# ---------------------------------------------------------------------------------------------------- formatting


def fmt_pct(value: float | None) -> str:
    """A fraction as a signed percentage with two decimals (0.0123 → +1.23%); '–' when missing."""
    return "–" if value is None else f"{value * 100:+.2f}%"


def fmt_num(value: float | None, digits: int = 2, signed: bool = True) -> str:
    if value is None:
        return "–"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def fmt_pp(value: float | None) -> str:
    return "–" if value is None else f"{value:+.2f} pp"


def fmt_mwh(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _esc(value: Any) -> str:
    return html.escape("–" if value is None else str(value))


# ---------------------------------------------------------------------------------------------------- reading


@dataclass
class MartFrames:
    """What the report reads, straight from the warehouse."""

    events: pl.DataFrame
    impact: pl.DataFrame
    abnormal: pl.DataFrame
    group_impact: pl.DataFrame | None
    demand_daily: pl.DataFrame
    jevons: pl.DataFrame
    prices_through: date | None


def _group_impact(con: duckdb.DuckDBPyConnection) -> pl.DataFrame | None:
    """marts.group_impact's (event_id, group, window, n, caar) for the market model, when the table exists."""
    if not table_exists(con, "marts.group_impact"):
        return None
    columns = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'marts' AND table_name = 'group_impact'"
        ).fetchall()
    }
    if not {"event_id", "group", "window_start", "window_end", "n", "caar"} <= columns:
        return None
    where = "WHERE model = 'market'" if "model" in columns else ""
    frame = con.sql(
        f'SELECT event_id, "group", window_start, window_end, n, caar FROM marts.group_impact {where}'
    ).pl()
    return frame if frame.height else None  # migrated but not yet computed: use marts.event_impact


def read_marts(con: duckdb.DuckDBPyConnection) -> MartFrames:
    """Read the catalog and the marts the report needs (market model only)."""
    for schema, name in (("core", "ai_events"), ("marts", "event_impact"), ("marts", "abnormal_returns")):
        if not table_exists(con, f"{schema}.{name}"):
            raise JevonsInputError(
                f"the warehouse has no {schema}.{name} table: it is not a jevons warehouse yet; run `{RUN_FIRST}` first"
            )
    demand = (
        con.sql(
            "SELECT respondent, subba, type, date_local, value_mwh FROM marts.electricity_demand_daily WHERE type = 'D'"
        ).pl()
        if table_exists(con, "marts.electricity_demand_daily")
        else pl.DataFrame()
    )
    jevons = con.sql("SELECT * FROM marts.jevons_check").pl() if table_exists(con, "marts.jevons_check") else None
    return MartFrames(
        events=con.sql("SELECT event_id, event_date, name, category, description FROM core.ai_events").pl(),
        impact=con.sql("SELECT * FROM marts.event_impact WHERE model = 'market'").pl(),
        abnormal=con.sql(
            "SELECT event_id, ticker, rel_day, date, abnormal_ret, car FROM marts.abnormal_returns "
            "WHERE model = 'market'"
        ).pl(),
        group_impact=_group_impact(con),
        demand_daily=demand,
        jevons=jevons if jevons is not None else pl.DataFrame(),
        prices_through=(
            con.sql("SELECT max(date) FROM core.prices_daily").fetchall()[0][0]
            if table_exists(con, "core.prices_daily")
            else None
        ),
    )


# ---------------------------------------------------------------------------------------------------- HTML


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


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;margin:24px auto;
max-width:1280px;color:#222;line-height:1.45;padding:0 16px}
h1{margin-bottom:4px}h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:40px}
table{border-collapse:collapse;margin:12px 0;font-size:14px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.nowrap{white-space:nowrap}td.wide{min-width:360px}
img{max-width:100%;height:auto;border:1px solid #eee;margin:8px 0}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:8px 12px;margin:12px 0}
.muted{color:#666;font-size:13px}.scroll{overflow-x:auto;max-width:100%}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px}
code{background:#f4f4f4;padding:1px 4px;border-radius:3px}
"""


def _group_cell(group: str) -> str:
    return f'<td><span class="swatch" style="background:{group_colour(group)}"></span>{_esc(group)}</td>'


def _table(table_id: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """rows hold ready cells: '<td ...>...</td>'."""
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join(f"<tr>{''.join(r)}</tr>" for r in rows)
    return (
        f'<div class="scroll"><table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
    )


def _num(text: str) -> str:
    return f'<td class="num">{_esc(text)}</td>'


def _txt(text: Any) -> str:
    return f"<td>{_esc(text)}</td>"


def _day(value: Any) -> str:
    """A date (or an id) cell that never wraps."""
    return f'<td class="nowrap">{_esc(value)}</td>'


def _wide(text: Any) -> str:
    return f'<td class="wide">{_esc(text)}</td>'


def _img(data: bytes, alt: str) -> str:
    return f'<img alt="{_esc(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}">'


def _note(text: str) -> str:
    return f'<div class="note">{text}</div>'


def headline_rows(head: pl.DataFrame) -> list[list[str]]:
    return [
        [
            _txt(r["event_id"]),
            _txt(r["name"]),
            _txt(r["category"]),
            _day(r["day0"]),
            _num(fmt_pct(r["caar_day0"])),
            _num(fmt_pct(r["caar_0_1"])),
            _num("–" if r["n_power"] is None else str(r["n_power"])),
            _txt(r["largest_fall_ticker"]),
            _num(fmt_pct(r["largest_fall_car"])),
        ]
        for r in head.iter_rows(named=True)
    ]


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


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _empty_html(wh: Path, title: str) -> str:
    return _document(
        title,
        _note(
            f"The warehouse <code>{_esc(wh)}</code> holds no event-study results yet. Run "
            f"<code>{_esc(RUN_FIRST)}</code> first (a folder of <code>TICKER.csv</code> price files, e.g. "
            "<code>../shared/data/prices_daily_close</code>; or <code>jevons run</code> for live Yahoo prices), "
            "then <code>jevons report</code> again."
        ),
    ).decode("utf-8")


def _fingerprint_part(value: Any) -> bytes:
    """Bytes that change whenever a chart input's content does (frames by their Arrow IPC bytes)."""
    if isinstance(value, pl.DataFrame):
        buf = io.BytesIO()
        value.write_ipc(buf, compression="uncompressed")
        return buf.getvalue()
    return repr(value).encode()


def _code_fingerprint() -> str:
    """The chart code and matplotlib's version: a change to either redraws every chart."""
    from importlib.metadata import version

    digest = hashlib.sha256(version("matplotlib").encode())
    for module in ("report_charts.py", "report_style.py"):
        digest.update((Path(__file__).parent / module).read_bytes())
    return digest.hexdigest()


class _Charts:
    """Writes each chart as a PNG into the output folder and returns its embedded <img>.

    Charts are cached by input: `.chart_keys.json` maps each PNG to the fingerprint of what drew it; an
    unchanged fingerprint with the PNG present reuses the file's bytes (identical to a redraw: Agg output is
    deterministic for the same inputs), so matplotlib is imported and run only for charts whose data moved."""

    KEYS_FILE = ".chart_keys.json"

    def __init__(self, out: Path) -> None:
        self.out = out
        self.paths: list[Path] = []
        self.drawn: list[str] = []
        self.reused: list[str] = []
        try:
            self._old_keys: dict[str, str] = json.loads((out / self.KEYS_FILE).read_text())
        except (OSError, ValueError):
            self._old_keys = {}
        self._keys: dict[str, str] = {}
        self._code: str | None = None

    def add(self, name: str, alt: str, chart: str, *args: Any) -> str:
        """flows.report_charts.<chart>(*args) unless the PNG `name` was drawn from equal args by the same code."""
        self._code = self._code or _code_fingerprint()
        digest = hashlib.sha256(f"{self._code}|{name}|{chart}".encode())
        for arg in args:
            digest.update(_fingerprint_part(arg))
            digest.update(b"\x00")
        key = digest.hexdigest()
        path = self.out / name
        data = path.read_bytes() if self._old_keys.get(name) == key and path.exists() else None
        if data is None:
            from flows import report_charts  # matplotlib: imported only when something must be drawn

            draw: Callable[..., bytes] = getattr(report_charts, chart)
            data = draw(*args)
            _write(path, data)
            self.drawn.append(name)
        else:
            self.reused.append(name)
        self._keys[name] = key
        self.paths.append(path)
        return _img(data, alt)

    def remove_stale(self) -> None:
        """Charts an earlier report left in the folder for events this one does not show."""
        keep = set(self.paths)
        for pattern in CHART_PATTERNS:
            for path in self.out.glob(pattern):
                if path not in keep:
                    path.unlink(missing_ok=True)

    def save_keys(self) -> None:
        _write(self.out / self.KEYS_FILE, json.dumps(self._keys, indent=1, sort_keys=True).encode())

CHART_PATTERNS = ("timeline_power_caar.png", "*_car_paths.png", "*_day0.png", "*_demand.png")


def _headline_section(head: pl.DataFrame, selection: rd.EventSelection, requested: bool, caar_source: str,
                      notes: list[str]) -> str:
    chosen = (
        "requested"
        if requested
        else f"the {rd.RECENT_EFFICIENCY_EVENTS} most recent efficiency events with results, plus "
        + ", ".join(rd.ALWAYS_EVENTS)
    )
    html_parts = [
        "<h2 id='headline-section'>Headline</h2>",
        f"<p>Events shown: {len(selection.event_ids)} ({_esc(chosen)}). CAAR = mean cumulative abnormal return "
        f"over the {rd.POWER_GROUP} group's tickers ({_esc(caar_source)}).</p>",
        _table("headline", HEADLINE_HEADER, headline_rows(head)),
    ]
    for eid, why in selection.without_results.items():
        notes.append(f"{eid}: {why}")
        html_parts.append(_note(f"Event <code>{_esc(eid)}</code>: {_esc(why)}."))
    return "".join(html_parts)


def _timeline_section(marts: MartFrames, selection: rd.EventSelection, charts: _Charts) -> str:
    window = (0, 1)
    tl = rd.timeline(marts.events, marts.impact, rd.POWER_GROUP, window, marts.group_impact)
    rows = [
        [
            _day(r["event_date"]),
            _txt(r["event_id"]),
            _txt(r["category"]),
            _txt(r["name"]),
            _day(r["day0"]),
            _num("–" if r["n"] is None else str(r["n"])),
            _num(fmt_pct(r["caar"])),
        ]
        for r in tl.iter_rows(named=True)
    ]
    header = ("event date", "event", "category", "name", "day 0", "n tickers", "CAAR [0,+1]")
    return (
        "<h2 id='timeline-section'>Timeline of all catalog events</h2>"
        + charts.add("timeline_power_caar.png", "timeline of the power group's CAAR", "chart_timeline",
                     tl, rd.POWER_GROUP, window, list(selection.event_ids))
        + f"<details><summary>Table: every catalog event with the {rd.POWER_GROUP} CAAR [0,+1]</summary>"
        + _table("timeline", header, rows)
        + "</details>"
    )


def _event_section(marts: MartFrames, eid: str, bands: pl.DataFrame, charts: _Charts) -> str:
    ev = marts.events.filter(pl.col("event_id") == eid).row(0, named=True)
    moves = rd.day0_moves(marts.impact, eid)
    day0 = min(marts.impact.filter(pl.col("event_id") == eid)["day0"].to_list())
    parts = [
        f"<h2 id='event-{_esc(eid)}'>{_esc(ev['name'])} <span class='muted'>({_esc(eid)}, {_esc(ev['category'])}, "
        f"event date {_esc(ev['event_date'])}, day 0 {_esc(day0)})</span></h2>",
        f"<p>{_esc(ev['description'])}</p>",
    ]
    ev_bands = bands.filter(pl.col("event_id") == eid)
    dates = (
        marts.abnormal.filter(pl.col("event_id") == eid)
        .group_by("rel_day")
        .agg(pl.col("date").min())
        .sort("rel_day")
    )
    if ev_bands.height:
        title = f"{eid}: cumulative abnormal return by group, trading days −10..+10 (day 0 = {day0})"
        parts.append(charts.add(f"{eid}_car_paths.png", f"{eid} CAR paths", "chart_car_paths", ev_bands, dates, title))
    parts.append(
        charts.add(f"{eid}_day0.png", f"{eid} day-0 abnormal returns", "chart_day0", moves,
                   f"{eid}: day-0 abnormal return by ticker (day 0 = {day0})")
    )
    rows = [
        [_txt(r["ticker"]), _group_cell(r["group"]), _num(fmt_pct(r["raw_return"])), _num(fmt_pct(r["car"])),
         _num(fmt_num(r["car_t"])), _num(fmt_num(r["p_value"], 3, signed=False))]
        for r in moves.iter_rows(named=True)
    ]
    parts.append(
        "<details><summary>Table: day-0 returns by ticker</summary>"
        + _table(f"day0-{eid}", ("ticker", "group", "raw return", "abnormal return", "t", "p"), rows)
        + "</details>"
    )
    return "".join(parts)


JEVONS_HEADER = (
    "event", "event date", "n tickers", "CAAR day 0", "CAAR [0,+5]", "growth change 3m", "growth change 6m",
    "regions (6m)", "market reaction", "demand outcome", "verdict",
)


def _electricity_section(marts: MartFrames, event_ids: Sequence[str], charts: _Charts, notes: list[str]) -> str:
    parts = ["<h2 id='electricity-section'>Electricity demand and the Jevons check</h2>"]
    categories = dict(marts.events.select("event_id", "category").iter_rows())
    eff_ids = [e for e in event_ids if categories.get(e) == "efficiency"]
    demand = rd.demand_around(marts.demand_daily, marts.events, eff_ids) if marts.demand_daily.height else None
    if demand is None or demand.height == 0:
        parts.append(_note(
            "No electricity demand data around the shown efficiency events (<code>marts.electricity_demand_daily"
            "</code> has no rows for DOM, ERCO or US48 there). Set <code>EIA_API_KEY</code> (free at "
            "https://www.eia.gov/opendata/register.php) and run <code>jevons run</code> to load EIA-930 demand."
        ))
        notes.append("no electricity demand data")
    else:
        parts.append(
            f"<p>Daily demand summed from EIA-930 hourly data ({rd.DEMAND_DAYS_BEFORE} days before to "
            f"{rd.DEMAND_DAYS_AFTER} days after each efficiency event), in GWh per day, with the same calendar "
            "days a year earlier (dashed). DOM is Dominion (northern Virginia's data-centre cluster), ERCO is "
            "ERCOT (Texas), US48 the lower 48 states. Not weather-adjusted.</p>"
        )
        event_dates = dict(marts.events.select("event_id", "event_date").iter_rows())
        for eid in eff_ids:
            part = demand.filter(pl.col("event_id") == eid)
            if part.height:
                parts.append(charts.add(f"{eid}_demand.png", f"{eid} electricity demand", "chart_demand",
                                        part, eid, event_dates[eid]))
    if marts.jevons.height == 0:
        parts.append(_note("<code>marts.jevons_check</code> has no rows: no efficiency event has results yet."))
        notes.append("marts.jevons_check is empty")
        return "".join(parts)
    jt = rd.jevons_table(marts.jevons)
    if max(jt["n_regions_6m"].to_list() + marts.jevons["n_regions_3m"].to_list(), default=0) == 0:
        parts.append(_note("The Jevons check has no demand figures yet (no electricity data, or the windows "
                           "after the events are not over): its verdicts rest on the stock reaction alone."))
    rows = [
        [_day(r["event_id"]), _day(r["event_date"]), _num(str(r["power_n_tickers"])),
         _num(fmt_pct(r["power_caar_day0"])), _num(fmt_pct(r["power_caar_0_5"])),
         _num(fmt_pp(r["demand_growth_change_3m_pp"])), _num(fmt_pp(r["demand_growth_change_6m_pp"])),
         _num(str(r["n_regions_6m"])), _txt(r["market_reaction"]), _txt(r["demand_outcome"]), _wide(r["verdict"])]
        for r in jt.iter_rows(named=True)
    ]
    parts.append("<p>From <code>marts.jevons_check</code>: the power producers' reaction next to the change in "
                 "year-over-year demand growth in the data-centre regions (3 and 6 months after vs before).</p>")
    parts.append(_table("jevons-check", JEVONS_HEADER, rows))
    return "".join(parts)


def _method_section(groups: Sequence[str], caar_source: str) -> str:
    swatches = " ".join(
        f"<span class='swatch' style='background:{group_colour(g)}'></span>{_esc(g)}" for g in group_order(groups)
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
        f"<li>CAAR: mean CAR over a group's tickers ({_esc(caar_source)}).</li>"
        "<li>Day 0 is the first trading day on or after the event date.</li>"
        f"<li>Colours: one colour per group in every chart and table: {swatches}</li></ul>"
    )


def _document(title: str, body: str) -> bytes:
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{_esc(title)}</title>"
        f"<style>{CSS}</style></head><body><h1>{_esc(title)}</h1>{body}</body></html>"
    ).encode()


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
        _write(result.html_path, _empty_html(wh_path, title).encode("utf-8"))
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
    result.headline = rd.headline(marts.events, marts.impact, selection.event_ids, marts.group_impact)
    charts = _Charts(out)
    groups = rd.ticker_groups(marts.impact)
    bands = rd.car_bands(marts.abnormal.filter(pl.col("event_id").is_in(selection.event_ids)), groups)
    generated = (generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    body = [
        f"<p class='muted'>Generated {_esc(generated)} from <code>{_esc(wh_path)}</code>; prices through "
        f"{_esc(marts.prices_through)}. Every figure comes from the warehouse's marts.</p>",
        _headline_section(result.headline, selection, bool(event_ids), caar_source, result.notes),
        _timeline_section(marts, selection, charts),
        *(_event_section(marts, eid, bands, charts) for eid in selection.event_ids),
        _electricity_section(marts, selection.event_ids, charts, result.notes),
        _method_section(groups["group"].unique().to_list(), caar_source),
    ]
    _write(result.html_path, _document(title, "".join(body)))
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
        "| " + " | ".join(HEADLINE_HEADER) + " |",
        "|" + "---|" * len(HEADLINE_HEADER),
    ]
    for r in result.headline.iter_rows(named=True):
        cells = [
            r["event_id"], r["name"], r["category"], str(r["day0"]), fmt_pct(r["caar_day0"]), fmt_pct(r["caar_0_1"]),
            "–" if r["n_power"] is None else str(r["n_power"]), r["largest_fall_ticker"] or "–",
            fmt_pct(r["largest_fall_car"]),
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
