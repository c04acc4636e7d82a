"""The impact report on real data: `daily` on ../shared/data/prices_daily_close writes it (and its artifact), and
`jevons report` rebuilds it; every table cell is compared with SQL on the marts, every PNG is decoded.

The flow runs once per module, in-process, against the session's loopback Prefect server (no ephemeral
start-up); a second warehouse gets simulated EIA demand to exercise the electricity section.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from uuid import UUID

import duckdb
import numpy as np
import polars as pl
import pytest
from PIL import Image

from flows.cli import run_cli
from flows.daily import RunSummary, daily
from flows.report import REPORT_FILE, build_report, fmt_num, fmt_pct, fmt_pp, report_markdown
from warehouse.connection import staged_writer

# ------------------------------------------------------------------------------------------------ HTML parsing


class _Tables(HTMLParser):
    """Every <table id=...> as a list of rows of cell texts (header row first), and every <img src=data:...>."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.images: list[bytes] = []
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and a.get("id"):
            self._table = str(a["id"])
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "img" and (a.get("src") or "").startswith("data:image/png;base64,"):
            self.images.append(base64.b64decode(str(a["src"]).split(",", 1)[1]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parse(path: Path) -> _Tables:
    parser = _Tables()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _rows(wh: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _txt(v: Any) -> str:
    return "–" if v is None else str(v)


# ------------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def real_run(
    tmp_path_factory: pytest.TempPathFactory, real_prices_dir: Path, prefect_server: str
) -> Iterator[tuple[Path, RunSummary, list[Any]]]:
    """The daily flow on real prices (it writes the report beside the warehouse), and its artifacts."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey
    from prefect.settings import PREFECT_API_URL, temporary_settings

    wh = tmp_path_factory.mktemp("report") / "jevons.duckdb"
    with temporary_settings({PREFECT_API_URL: prefect_server}):
        summary = daily(prices_from=str(real_prices_dir), warehouse=str(wh))
        with get_client(sync_client=True) as client:
            # this run's artifact: other tests' runs on the same server update the same key
            artifacts = client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    key=ArtifactFilterKey(any_=["impact-report"]),
                    flow_run_id=ArtifactFilterFlowRunId(any_=[UUID(summary.run_id)]),
                )
            )
    yield wh, summary, artifacts


@pytest.fixture(scope="module")
def report(real_run: tuple[Path, RunSummary, list[Any]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`jevons report` with the default events into a fresh folder; returns the folder."""
    out = tmp_path_factory.mktemp("report-out")
    assert run_cli(["report", "--warehouse", str(real_run[0]), "--out", str(out)]) == 0
    return out


# ------------------------------------------------------------------------------------------------ tests


def test_daily_flow_writes_the_report_and_its_artifact(real_run: tuple[Path, RunSummary, list[Any]]) -> None:
    wh, summary, artifacts = real_run
    assert summary.report == str(wh.parent / "reports" / REPORT_FILE)
    assert Path(summary.report).stat().st_size > 100_000
    assert artifacts, "no impact-report artifact"
    data = str(artifacts[0].data)
    assert summary.report in data
    assert "| deepseek_selloff | DeepSeek sell-off" in data
    assert "CAAR [0,+1]" in data


def test_deepseek_selloff_day0_moves(report: Path, real_run: tuple[Path, RunSummary, list[Any]]) -> None:
    tables = parse(report / REPORT_FILE).tables
    assert "deepseek_selloff" in [r[0] for r in tables["headline"][1:]]
    assert "2025-01-27" in [r[3] for r in tables["headline"][1:] if r[0] == "deepseek_selloff"]
    rows = tables["day0-deepseek_selloff"][1:]
    tickers = [r[0] for r in rows]
    ars = {r[0]: float(r[3].rstrip("%")) for r in rows}
    # Sorted most negative first. VST's fall is the largest; CEG's (−18.7%) is the sixth, behind SMR, OKLO, TLN
    # and GEV, which also fell by about a fifth that day (raw returns: CEG −20.85%, GEV −21.52%, TLN −21.59%).
    assert tickers[0] == "VST"
    assert "VST" in tickers[:5] and "CEG" in tickers[:6]
    assert ars["VST"] < -20 and ars["CEG"] < -15
    assert list(ars.values()) == sorted(ars.values())
    assert (report / "deepseek_selloff_day0.png").exists()
    assert (report / "deepseek_selloff_car_paths.png").exists()


def test_default_events(report: Path, real_run: tuple[Path, RunSummary, list[Any]]) -> None:
    wh = real_run[0]
    expected = [
        r[0]
        for r in _rows(
            wh,
            """SELECT event_id FROM (
                 SELECT e.event_id, min(i.day0) AS day0, e.event_date FROM core.ai_events e
                 JOIN marts.event_impact i USING (event_id)
                 WHERE e.category = 'efficiency' AND i.window_start = 0 AND i.window_end = 0 AND i.car IS NOT NULL
                 GROUP BY ALL ORDER BY day0 DESC, event_date DESC, event_id DESC LIMIT 6)
               UNION SELECT 'deepseek_selloff'""",
        )
    ]
    shown = [r[0] for r in parse(report / REPORT_FILE).tables["headline"][1:]]
    assert sorted(shown) == sorted(expected)
    assert len(shown) == 7


def _held(wh: Path) -> dict[tuple[str, int, int], str]:
    """marts.event_overlaps' confounded_by per (event, window): the report's "(window holds …)" marker."""
    return {
        (e, ws, we): c
        for e, ws, we, c in _rows(
            wh, "SELECT event_id, window_start, window_end, confounded_by FROM marts.event_overlaps"
        )
        if c
    }


def _window(value: float | None, held: dict[tuple[str, int, int], str], key: tuple[str, int, int]) -> str:
    return fmt_pct(value) + (f" (window holds {held[key]})" if value is not None and key in held else "")


def test_every_table_cell_comes_from_the_marts(report: Path, real_run: tuple[Path, RunSummary, list[Any]]) -> None:
    wh = real_run[0]
    tables = parse(report / REPORT_FILE).tables
    held = _held(wh)
    # headline: the power group's CAARs and the largest day-0 fall, per shown event
    for row in tables["headline"][1:]:
        event_id = row[0]
        caar = dict(
            ((ws, we), (n, c))
            for ws, we, n, c in _rows(
                wh,
                "SELECT window_start, window_end, count(*), avg(car) FROM marts.event_impact WHERE event_id = ? "
                "AND model = 'market' AND \"group\" = 'independent_power' AND car IS NOT NULL GROUP BY ALL",
                [event_id],
            )
        )
        ((name, category, day0),) = _rows(
            wh,
            "SELECT name, category, min(day0) FROM core.ai_events JOIN marts.event_impact USING (event_id) "
            "WHERE event_id = ? GROUP BY ALL",
            [event_id],
        )
        ((worst_ticker, worst_car),) = _rows(
            wh,
            "SELECT ticker, car FROM marts.event_impact WHERE event_id = ? AND model = 'market' "
            "AND window_start = 0 AND window_end = 0 AND car IS NOT NULL ORDER BY car, ticker LIMIT 1",
            [event_id],
        )
        assert row == [
            event_id,
            name,
            category,
            str(day0),
            _window(caar[(0, 0)][1], held, (event_id, 0, 0)),
            _window(caar[(0, 1)][1], held, (event_id, 0, 1)),
            str(caar[(0, 1)][0]),
            worst_ticker,
            _window(worst_car, held, (event_id, 0, 0)),
        ]
    # day-0 tables: every ticker of every shown event
    day0_tables = [k for k in tables if k.startswith("day0-")]
    assert len(day0_tables) == len(tables["headline"]) - 1
    for key in day0_tables:
        expected = [
            [t, g, fmt_pct(raw), fmt_pct(car), fmt_num(ct), fmt_num(p, 3, signed=False)]
            for t, g, raw, car, ct, p in _rows(
                wh,
                'SELECT ticker, "group", raw_return, car, car_t, p_value FROM marts.event_impact WHERE event_id = ? '
                "AND model = 'market' AND window_start = 0 AND window_end = 0 AND car IS NOT NULL ORDER BY car, ticker",
                [key.removeprefix("day0-")],
            )
        ]
        assert tables[key][1:] == expected, key
    # timeline: every catalog event with the power group's [0,+1] CAAR
    expected_tl = [
        [str(d), e, c, n, _txt(d0), _txt(k), _window(caar, held, (e, 0, 1)) if k else "–"]
        for d, e, c, n, d0, k, caar in _rows(
            wh,
            """SELECT e.event_date, e.event_id, e.category, e.name, d.day0, g.n, g.caar FROM core.ai_events e
               LEFT JOIN (SELECT event_id, min(day0) AS day0 FROM marts.event_impact GROUP BY ALL) d USING (event_id)
               LEFT JOIN (SELECT event_id, count(*) AS n, avg(car) AS caar FROM marts.event_impact
                          WHERE model = 'market' AND "group" = 'independent_power' AND window_start = 0
                            AND window_end = 1 AND car IS NOT NULL GROUP BY ALL) g USING (event_id)
               ORDER BY e.event_date, e.event_id""",
        )
    ]
    assert tables["timeline"][1:] == expected_tl
    assert len(expected_tl) == _rows(wh, "SELECT count(*) FROM core.ai_events")[0][0]
    # the Jevons check, verbatim from marts.jevons_check
    expected_jc = [
        [
            e,
            str(d),
            str(n),
            _window(c0, held, (e, 0, 0)),
            _window(c5, held, (e, 0, 5)),
            fmt_pp(g3),
            fmt_pp(g6),
            str(r6),
            mr,
            do,
            v,
        ]
        for e, d, n, c0, c5, g3, g6, r6, mr, do, v in _rows(
            wh,
            "SELECT event_id, event_date, power_n_tickers, power_caar_day0, power_caar_0_5, "
            "demand_growth_change_3m_pp, demand_growth_change_6m_pp, n_regions_6m, market_reaction, "
            "demand_outcome, verdict FROM marts.jevons_check ORDER BY event_date DESC, event_id DESC",
        )
    ]
    assert expected_jc and tables["jevons-check"][1:] == expected_jc


def _check_png(data: bytes, name: str) -> None:
    image = Image.open(io.BytesIO(data))
    image.verify()
    image = Image.open(io.BytesIO(data)).convert("RGB")
    width, height = image.size
    assert width >= 600 and height >= 300, (name, image.size)
    colours = image.getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 20, name
    assert max(c for c, _ in colours) < 0.97 * width * height, f"{name} is almost one colour"


def test_every_png_decodes_and_is_not_trivial(report: Path) -> None:
    pngs = sorted(report.glob("*.png"))
    # timeline, the shocks' z chart, CAR paths and day-0 bars per event (no electricity data)
    assert len(pngs) == 2 + 2 * 7
    for png in pngs:
        _check_png(png.read_bytes(), png.name)
    embedded = parse(report / REPORT_FILE).images
    assert sorted(embedded) == sorted(p.read_bytes() for p in pngs)


def test_report_states_the_band_and_the_missing_electricity(report: Path) -> None:
    text = (report / REPORT_FILE).read_text(encoding="utf-8")
    assert "1.96 × the cross-sectional standard error" in text
    assert "No electricity demand data" in text
    assert "http://" not in text.replace("https://www.eia.gov/opendata/register.php", "")
    assert "<script" not in text and "<link" not in text  # self-contained


def test_requested_events_and_unknown_ids(
    real_run: tuple[Path, RunSummary, list[Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wh = real_run[0]
    result = build_report(wh, tmp_path, ["tmi_restart_deal", "deepseek_selloff"])
    assert result.event_ids == ["tmi_restart_deal", "deepseek_selloff"]
    assert "| tmi_restart_deal |" in report_markdown(result)
    assert run_cli(["report", "--warehouse", str(wh), "--out", str(tmp_path), "--event", "no_such_event"]) == 2
    assert "unknown event id(s) no_such_event" in capsys.readouterr().err


def test_empty_warehouse_says_what_to_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wh = tmp_path / "empty.duckdb"
    with staged_writer(wh):
        pass  # migrated, no rows
    out = tmp_path / "out"
    assert run_cli(["report", "--warehouse", str(wh), "--out", str(out)]) == 0
    text = (out / REPORT_FILE).read_text(encoding="utf-8")
    assert "jevons run --prices-from" in text
    assert "jevons run --prices-from" in capsys.readouterr().out
    assert not list(out.glob("*.png"))


def test_nonexistent_warehouse_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run_cli(["report", "--warehouse", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "out")])
    assert code == 2
    assert f"no warehouse at {tmp_path / 'none.duckdb'}" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------------------ electricity


def _hourly(respondent: str, subba: str, scale: float, start: datetime, n_hours: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n_hours, dtype=float)
    level = scale * (1 + 0.03 * t / 8766.0) * (1 + 0.12 * np.cos(2 * np.pi * ((t / 24) % 365.25 - 200) / 365.25) ** 2)
    level *= (1 + 0.1 * np.sin(2 * np.pi * ((t % 24) - 9) / 24)) * (1 + 0.02 * rng.standard_normal(n_hours))
    periods = pl.datetime_range(start, start + timedelta(hours=n_hours - 1), "1h", eager=True, time_zone="UTC")
    return pl.DataFrame(
        {"respondent": respondent, "subba": subba, "period_utc": periods, "type": "D", "value_mwh": level}
    )


@pytest.fixture(scope="module")
def electricity_report(
    real_run: tuple[Path, RunSummary, list[Any]], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """A copy of the real warehouse with three years of simulated hourly demand for DOM, ERCO and US48, the
    electricity marts recomputed as the flow does, and a report on it."""
    from flows.electricity import compute_electricity_marts, write_electricity_marts
    from warehouse.load import upsert
    from warehouse.tables.electricity import DEMAND_HOURLY

    base = tmp_path_factory.mktemp("report-eia")
    wh = base / "jevons.duckdb"
    shutil.copyfile(real_run[0], wh)
    start, n = datetime(2023, 7, 1, tzinfo=UTC), 24 * 365 * 3
    with staged_writer(wh) as con:
        for i, (resp, sub, scale) in enumerate(
            (("PJM", "DOM", 11_000.0), ("ERCO", "", 50_000.0), ("US48", "", 450_000.0))
        ):
            upsert(con, DEMAND_HOURLY, _hourly(resp, sub, scale, start, n, i), run_id="test", source="test")
        write_electricity_marts(con, "test", compute_electricity_marts(con))
    out = base / "out"
    build_report(wh, out, ["deepseek_selloff", "deepseek_v3_2", "tmi_restart_deal"])
    return wh, out


def test_electricity_section(electricity_report: tuple[Path, Path]) -> None:
    wh, out = electricity_report
    text = (out / REPORT_FILE).read_text(encoding="utf-8")
    assert "No electricity demand data" not in text
    # one demand chart per shown efficiency event with data (tmi_restart_deal is a demand event)
    assert sorted(p.name for p in out.glob("*_demand.png")) == [
        "deepseek_selloff_demand.png",
        "deepseek_v3_2_demand.png",
    ]
    for png in out.glob("*_demand.png"):
        _check_png(png.read_bytes(), png.name)
    rows = parse(out / REPORT_FILE).tables["jevons-check"][1:]
    verdicts = dict(_rows(wh, "SELECT event_id, verdict FROM marts.jevons_check"))
    assert {r[0]: r[-1] for r in rows} == verdicts
    selloff = next(r for r in rows if r[0] == "deepseek_selloff")
    g6 = _rows(wh, "SELECT demand_growth_change_6m_pp FROM marts.jevons_check WHERE event_id = 'deepseek_selloff'")
    assert g6[0][0] is not None and selloff[6] == fmt_pp(g6[0][0])
    assert re.search(r"\d pp", selloff[6])


def test_a_failing_report_never_fails_the_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    import flows.daily
    import flows.report

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(flows.report, "build_report", broken)
    monkeypatch.setattr(flows.daily, "get_run_logger", lambda: logging.getLogger("test-report"))
    with caplog.at_level(logging.WARNING, logger="test-report"):
        assert flows.daily.write_impact_report.fn(tmp_path / "jevons.duckdb") is None
    assert "impact report not written: RuntimeError: disk on fire" in caplog.text


def test_unchanged_charts_are_reused_byte_for_byte(
    real_run: tuple[Path, RunSummary, list[Any]], report: Path, tmp_path: Path
) -> None:
    """A second report over the same marts draws nothing and writes exactly what a fresh draw writes; a moved
    input redraws that chart only."""
    wh = real_run[0]
    when = datetime(2026, 8, 3, 7, 0, tzinfo=UTC)
    fresh = build_report(wh, tmp_path / "fresh", generated_at=when)
    assert len(fresh.charts_drawn) == len(fresh.charts) == 2 + 2 * 7  # + timeline and the shocks' z chart
    again = build_report(wh, tmp_path / "fresh", generated_at=when)
    assert again.charts_drawn == []
    redraw = build_report(wh, tmp_path / "redraw", generated_at=when)  # an empty folder: everything drawn
    assert (tmp_path / "fresh" / REPORT_FILE).read_bytes() == (tmp_path / "redraw" / REPORT_FILE).read_bytes()
    for png in redraw.charts:
        assert png.read_bytes() == (tmp_path / "fresh" / png.name).read_bytes(), png.name

    moved = tmp_path / "moved.duckdb"
    shutil.copy(wh, moved)
    con = duckdb.connect(str(moved))
    con.execute(
        "UPDATE marts.abnormal_returns SET car = car - 0.01 WHERE event_id = 'deepseek_selloff' AND rel_day = 3"
        " AND model = 'market' AND ticker = 'CEG'"
    )
    con.close()
    shutil.copytree(tmp_path / "fresh", tmp_path / "after", dirs_exist_ok=True)
    after = build_report(moved, tmp_path / "after", generated_at=when)
    assert after.charts_drawn == ["deepseek_selloff_car_paths.png"]
    stale = (tmp_path / "after" / ".chart_keys.json").read_text()
    (tmp_path / "after" / ".chart_keys.json").write_text(stale.replace('"deepseek_selloff_day0.png": "', '"x": "'))
    assert build_report(moved, tmp_path / "after", generated_at=when).charts_drawn == ["deepseek_selloff_day0.png"]
