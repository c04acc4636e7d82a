"""The source registry is the plug-in point: a toy price source and a toy EIA route, registered by
monkeypatching the registry alone, are extracted, loaded and resumed by the unchanged daily flow.

Also: every registered option is a parameter of the flow, the CLI and the deployments; the frames a source
returns are loaded by table name, replacements (restated slices) by sync.
"""

from __future__ import annotations

import inspect
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import duckdb
import numpy as np
import polars as pl
import pytest
import requests
import responses
from eia_replay import eia_body

from flows.sources import registry
from flows.sources.base import PRICE_COLUMNS, ExtractContext, SourceResult
from flows.sources.eia import routes
from flows.sources.eia.parse import HOURLY_TABLE, parse_hourly
from flows.sources.eia.routes import EiaRoute, Series
from warehouse import seeds
from warehouse.errors import JevonsInputError
from warehouse.load import Replacement, load_frames
from warehouse.migrations import apply_migrations

TOY_ROUTE = "electricity/rto/toy-data"
TOY_DAYS = pl.date_range(date(2024, 1, 2), date(2025, 6, 30), eager=True).filter(
    pl.date_range(date(2024, 1, 2), date(2025, 6, 30), eager=True).dt.weekday() <= 5
)
TOY_HOURS = 72


def toy_prices(ctx: ExtractContext) -> SourceResult:
    """A price source that is nothing but a registry entry: seeded random walks for every ticker asked."""
    rng = np.random.default_rng(13)
    n_days = TOY_DAYS.len()
    frames = []
    for ticker in ctx.tickers:
        close = 50.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n_days)))
        frames.append(
            pl.DataFrame({"date": TOY_DAYS, "close": close, "adj_close": close}).with_columns(
                pl.lit(ticker).alias("ticker"), pl.lit("toy").alias("source")
            )
        )
    frame = pl.concat(frames).with_columns(
        [pl.lit(None, dtype=t).alias(n) for n, t in PRICE_COLUMNS.items() if n not in frames[0].columns]
    )
    return SourceResult(
        source="toy", frames={"core.prices_daily": frame.select(list(PRICE_COLUMNS)).cast(PRICE_COLUMNS)}
    )


TOY_PRICES = registry.SourceSpec(
    name="toy",
    kind=registry.KIND_PRICES,
    description="seeded random walks (test)",
    tables=("core.prices_daily",),
    extract=f"{__name__}:toy_prices",
)

TOY_EIA_ROUTE = EiaRoute(
    route=TOY_ROUTE,
    frequency="hourly",
    data=("value",),
    sort=("period", "respondent", "type"),
    columns=("period", "respondent", "type", "value"),
    table=HOURLY_TABLE,
    resume_key=("respondent", "subba"),
    period_column="period_utc",
    series=lambda cfg: [Series("TOY", (("respondent", ("TOY",)), ("type", ("D",))), (("TOY", ""),))],
    parse=lambda raw: parse_hourly(raw, TOY_ROUTE),
)


class ToyEia:
    """Serves the toy route: TOY_HOURS hourly demand rows from 2024-01-01T00; records the starts asked."""

    def __init__(self) -> None:
        self.starts: list[str] = []

    def __call__(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        url = urlsplit(str(request.url))
        assert url.path == f"/v2/{TOY_ROUTE}/data/", url.path  # only the registered route is asked for
        params = dict(parse_qsl(url.query))
        self.starts.append(params["start"])
        first = datetime(2024, 1, 1, tzinfo=UTC)
        rows = [
            {
                "period": (first + timedelta(hours=h)).strftime("%Y-%m-%dT%H"),
                "respondent": "TOY",
                "type": "D",
                "value": str(1000 + h),
            }
            for h in range(TOY_HOURS)
        ]
        offset, length = int(params["offset"]), int(params["length"])
        return 200, {}, eia_body(rows[offset : offset + length], len(rows), route=TOY_ROUTE)


@pytest.fixture
def toy_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry holds the toy price source (as the live prices) and EIA; the route table only the toy."""
    monkeypatch.setattr(registry, "SOURCES", [TOY_PRICES, registry.spec("eia")])
    for name in list(routes.ROUTES):
        monkeypatch.delitem(routes.ROUTES, name)
    monkeypatch.setitem(routes.ROUTES, TOY_ROUTE, TOY_EIA_ROUTE)
    monkeypatch.setenv("EIA_API_KEY", "toy-key")


def test_flow_loads_a_registered_toy_source_and_toy_route(tmp_path: Path, toy_registry: None) -> None:
    from flows.daily import daily

    fake = ToyEia()
    wh = tmp_path / "jevons.duckdb"
    with responses.RequestsMock() as mock:
        mock.add_callback(responses.GET, re.compile(r"https://api\.eia\.gov/.*"), callback=fake)
        first = daily(warehouse=str(wh), report=False)
        second = daily(warehouse=str(wh), report=False)
    con = duckdb.connect(str(wh), read_only=True)
    try:
        prices = con.sql("SELECT source, count(*), count(DISTINCT ticker) FROM core.prices_daily GROUP BY 1").fetchall()
        hourly = con.sql(
            "SELECT respondent, subba, count(*), min(period_utc) FROM core.electricity_demand_hourly GROUP BY ALL"
        ).fetchall()
        load_sources = con.sql(
            "SELECT DISTINCT source, table_name FROM ops.load_log WHERE source IN ('toy', 'eia') ORDER BY ALL"
        ).fetchall()
        cars = con.sql("SELECT count(*) FROM marts.event_impact WHERE car IS NOT NULL").fetchall()[0][0]
    finally:
        con.close()
    universe = seeds.read_universe(seeds.UNIVERSE_CSV).height
    assert prices == [("toy", universe * TOY_DAYS.len(), universe)]
    assert hourly == [("TOY", "", TOY_HOURS, datetime(2024, 1, 1, tzinfo=UTC))]
    assert load_sources == [("eia", HOURLY_TABLE), ("toy", "core.prices_daily")]
    assert cars > 0  # the event study ran on the toy prices
    assert sum(lr.inserted for lr in first.loads if lr.table == HOURLY_TABLE) == TOY_HOURS
    # the second run resumed the toy route from its last loaded hour (2024-01-03T23) minus the 14-day overlap,
    # and changed nothing
    assert fake.starts == ["2022-01-01T00", "2023-12-20T23"]
    assert all(
        (lr.inserted, lr.updated, lr.deleted) == (0, 0, 0) for lr in second.loads if lr.table != "ops.data_quality"
    )


def test_every_option_is_a_flow_cli_and_deployment_parameter() -> None:
    from flows import cli
    from flows.daily import daily

    flow_params = set(inspect.signature(daily.fn).parameters)
    run_params = set(inspect.signature(cli.run).parameters)
    serve_params = set(inspect.signature(cli.serve).parameters)
    for option in registry.options():
        assert option.name in flow_params, f"add {option.name} to flows.daily.daily"
        assert option.name in run_params and option.name in serve_params
        assert option.flag == "--" + option.name.replace("_", "-")


def test_selection_per_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = registry.select(registry.KIND_PRICES, {"prices_from": "/x"})
    assert chosen is not None and (chosen[0].name, chosen[1]) == ("csv", "/x")
    live = registry.select(registry.KIND_PRICES, {})
    assert live is not None and (live[0].name, live[1]) == ("yfinance", None)
    other = registry.SourceSpec(
        name="other",
        kind=registry.KIND_PRICES,
        description="",
        tables=(),
        extract="x:y",
        option=registry.SourceOption("other_from", "--other-from", ""),
    )
    monkeypatch.setattr(registry, "SOURCES", [*registry.SOURCES, other])
    with pytest.raises(JevonsInputError, match="--prices-from and --other-from: give only one prices source"):
        registry.select(registry.KIND_PRICES, {"prices_from": "/x", "other_from": "/y"})
    assert registry.select("no_such_kind", {}) is None  # a kind without entries


def test_registry_entry_points_resolve() -> None:
    for entry in registry.SOURCES:
        assert callable(entry.extract_fn())
        assert entry.validate is None or callable(entry.validate_fn())
        assert entry.tables and all(t.startswith("core.") for t in entry.tables)
    assert set(routes.ROUTES) == {
        "electricity/rto/region-data",
        "electricity/rto/region-sub-ba-data",
        "electricity/retail-sales",
    }


def test_load_frames_by_table_with_a_replacement() -> None:
    con = duckdb.connect()
    apply_migrations(con)

    def frame(rows: list[tuple[str, int, float]]) -> pl.DataFrame:
        return (
            pl.DataFrame(
                {
                    "ticker": [r[0] for r in rows],
                    "date": [date(2025, 1, r[1]) for r in rows],
                    "close": [r[2] for r in rows],
                    "adj_close": [r[2] for r in rows],
                    "source": ["t"] * len(rows),
                }
            )
            .with_columns([pl.lit(None, dtype=PRICE_COLUMNS[n]).alias(n) for n in ("open", "high", "low", "volume")])
            .select(list(PRICE_COLUMNS))
        )

    load_frames(
        con, {"core.prices_daily": frame([("A", 1, 1.0), ("A", 2, 2.0), ("B", 1, 3.0)])}, run_id="r1", source="t"
    )
    # A is restated and comes back without day 1; B gets a new day and is only upserted
    rep = Replacement("core.prices_daily", {"ticker": ["A"]}, "restated A")
    loads = load_frames(
        con, {"core.prices_daily": frame([("A", 2, 4.0), ("B", 2, 5.0)])}, run_id="r2", source="t", replacements=[rep]
    )
    assert [(lr.inserted, lr.updated, lr.deleted) for lr in loads] == [(1, 0, 0), (0, 1, 1)]
    assert con.sql("SELECT ticker, day(date), close FROM core.prices_daily ORDER BY ALL").fetchall() == [
        ("A", 2, 4.0),
        ("B", 1, 3.0),
        ("B", 2, 5.0),
    ]
    assert con.sql("SELECT message FROM ops.load_log WHERE rows_deleted = 1").fetchall() == [("restated A",)]
