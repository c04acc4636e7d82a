"""The production engine gives the reference pipeline's numbers: every column of every output frame of
`run_dense_study` equals tests/reference's `run_event_study` + `group_tests` (to 1e-9, same nulls, same strings, same
row order) on simulated markets with missing days, two benchmarks on different calendars, an unpriced ticker, an event
before the data and one after it, overlapping and gapped windows, one or three models; plus its own properties."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simulate import events_frame, simulate_market, universe_for

from tests.reference.event_study import run_event_study
from tests.reference.group_tests import group_tests
from transforms.event_study import MODELS, EventStudyConfig, run_dense_study
from transforms.event_study import frames as engine_frames
from transforms.event_study import study as engine_study

CONFIGS = {
    "defaults, three models": EventStudyConfig(models=MODELS),
    "gap between windows": EventStudyConfig(
        models=("market_adjusted", "market"),
        estimation_window=(-200, -30),
        ar_window=(-5, 8),
        car_windows=((0, 0), (-5, 8), (2, 3)),
    ),
    "overlapping windows": EventStudyConfig(
        models=MODELS,
        estimation_window=(-150, 2),
        ar_window=(-3, 3),
        car_windows=((-3, 3), (0, 0)),
        min_estimation_days=50,
    ),
    "constant mean alone": EventStudyConfig(models=("constant_mean",), car_windows=((0, 1), (-1, 1))),
}


def _market() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    spy = simulate_market(9, 420, seed=11, common_shock_sigma=0.004)
    xlu = simulate_market(4, 380, seed=12, benchmark="XLU", start=spy.dates[30])
    returns = pl.concat([spy.returns, xlu.returns.with_columns(pl.col("ticker").str.replace("T", "U"))])
    holes = returns.filter(~pl.col("ticker").is_in(["MKT", "XLU"])).sample(fraction=0.02, seed=3)
    returns = returns.join(holes, on=["ticker", "date"], how="anti")
    universe = pl.concat(
        [
            universe_for(spy),
            universe_for(xlu).with_columns(pl.col("ticker").str.replace("T", "U"), pl.lit("g3").alias("group")),
            pl.DataFrame({"ticker": ["NOPX"], "name": ["x"], "group": ["g2"], "benchmark": ["MKT"]}),
        ]
    ).with_columns(
        pl.when(pl.col("ticker").is_in(["T000", "T001", "T002"]))
        .then(pl.lit("g1"))
        .when(pl.col("ticker").str.starts_with("T"))
        .then(pl.lit("g2"))
        .otherwise(pl.col("group"))
        .alias("group")
    )
    events = events_frame(
        [
            ("e1", spy.dates[330]),
            ("e2", spy.dates[410]),  # CAR windows run past the last price: incomplete, warned
            ("e0", spy.dates[100]),  # too few estimation days
            ("late", spy.dates[-1] + dt.timedelta(days=30)),  # after the data: skipped event-wide
        ]
    )
    return returns, events, universe


def as_strings(frame: pl.DataFrame) -> pl.DataFrame:
    """Enum key columns (the dense engine's, loaded into the warehouse as VARCHAR) as String."""
    return frame.with_columns([pl.col(c).cast(pl.String) for c, t in frame.schema.items() if isinstance(t, pl.Enum)])


def assert_frames_match(expected: pl.DataFrame, actual: pl.DataFrame, what: str, tol: float = 1e-9) -> None:
    """Same columns, dtypes (Enum keys read as String), row order and nulls; floats within tol (relative above
    1), the rest equal."""
    expected, actual = as_strings(expected), as_strings(actual)
    assert actual.schema == expected.schema, what
    assert actual.height == expected.height, (what, expected.height, actual.height)
    for name in expected.columns:
        left, right = expected[name], actual[name]
        assert (left.is_null() == right.is_null()).all(), (what, name, "nulls differ")
        if left.dtype.is_float():
            x, y = left.drop_nulls().to_numpy(), right.drop_nulls().to_numpy()
            err = np.abs(x - y) / np.maximum(1.0, np.abs(x))
            assert err.size == 0 or err.max() <= tol, (what, name, float(err.max()))
        else:
            assert left.equals(right), (what, name)


@pytest.fixture(params=["concurrent", "memory first"])
def frames_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways the output frames are built: on two threads (small studies), or one after the other with
    abnormal_returns last, built one event at a time after the arrays it does not read are freed (large ones)."""
    if request.param == "memory first":
        monkeypatch.setattr(engine_study, "_CONCURRENT_ROWS", 0)
        monkeypatch.setattr(engine_frames, "_AR_CHUNK_CELLS", 1)
    return str(request.param)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_every_output_equals_the_long_pipeline(name: str, frames_path: str) -> None:
    returns, events, universe = _market()
    config = CONFIGS[name]
    long = run_event_study(returns, events, universe, config)
    groups = group_tests(long.event_impact, long.estimation_ar, long.abnormal_returns, universe)
    dense = run_dense_study(returns, events, universe, config, chunk_cells=50_000)  # several event chunks
    assert long.skips["reason_code"].n_unique() >= 2 and long.warnings.height > 0  # the edge cases happen
    assert_frames_match(long.abnormal_returns, dense.result.abnormal_returns, "abnormal_returns")
    assert_frames_match(long.event_impact, dense.result.event_impact, "event_impact")
    assert_frames_match(long.skips, dense.result.skips, "skips")
    assert_frames_match(long.warnings, dense.result.warnings, "warnings")
    assert_frames_match(long.fits, dense.result.fits, "fits")
    assert_frames_match(groups, dense.group_impact, "group_impact")
    assert dense.result.estimation_ar.is_empty()


def test_chunking_row_order_and_a_categorical_ticker_column_change_nothing(frames_path: str) -> None:
    returns, events, universe = _market()
    config = EventStudyConfig(models=MODELS)
    base = run_dense_study(returns, events, universe, config)
    shuffled = run_dense_study(
        returns.sample(fraction=1.0, shuffle=True, seed=1),
        events.reverse(),
        universe.reverse(),
        config,
        chunk_cells=1,  # one event per chunk
    )
    categorical = run_dense_study(returns.with_columns(pl.col("ticker").cast(pl.Categorical)), events, universe, config)
    names = sorted(set(returns["ticker"].to_list()))
    enum = run_dense_study(returns.with_columns(pl.col("ticker").cast(pl.Enum(names))), events, universe, config)
    for other in (shuffled, categorical, enum):
        for frame in ("abnormal_returns", "event_impact", "skips", "warnings", "fits"):
            assert_frames_match(getattr(base.result, frame), getattr(other.result, frame), frame, tol=1e-13)
        assert_frames_match(base.group_impact, other.group_impact, "group_impact", tol=1e-12)


def test_tied_abnormal_returns_get_average_ranks_like_the_long_pipeline() -> None:
    """Zero-return days (a stale price) give tied constant-mean abnormal returns; the rank test averages them."""
    market = simulate_market(5, 320, seed=21)
    stale = market.dates[::3]
    returns = market.returns.with_columns(
        pl.when(pl.col("ticker").is_in(["T000", "T001"]) & pl.col("date").is_in(stale))
        .then(0.0)
        .otherwise(pl.col("ret"))
        .alias("ret")
    )
    universe, events = universe_for(market), events_frame([("e", market.dates[300])])
    config = EventStudyConfig(models=MODELS)
    long = run_event_study(returns, events, universe, config)
    expected = group_tests(long.event_impact, long.estimation_ar, long.abnormal_returns, universe)
    actual = run_dense_study(returns, events, universe, config).group_impact
    assert_frames_match(expected, actual, "group_impact")


def test_duplicated_returns_are_refused() -> None:
    market = simulate_market(2, 300, seed=1)
    returns = pl.concat([market.returns, market.returns.head(1)])
    with pytest.raises(ValueError, match=r"returns repeats \['ticker', 'date'\]"):
        run_dense_study(returns, events_frame([("e", market.dates[280])]), universe_for(market))


@settings(max_examples=15, deadline=None)
@given(st.floats(min_value=-0.05, max_value=0.05, allow_nan=False))
def test_a_constant_added_to_every_return_leaves_market_adjusted_ars_unchanged(shift: float) -> None:
    market = simulate_market(3, 300, seed=2)
    config = EventStudyConfig(models=("market_adjusted",))
    events, universe = events_frame([("e", market.dates[280])]), universe_for(market)
    base = run_dense_study(market.returns, events, universe, config).result.abnormal_returns
    moved = run_dense_study(market.returns.with_columns(pl.col("ret") + shift), events, universe, config)
    assert np.allclose(base["abnormal_ret"], moved.result.abnormal_returns["abnormal_ret"], atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(st.floats(min_value=0.2, max_value=5.0), st.floats(min_value=-0.01, max_value=0.01))
def test_market_model_statistics_ignore_an_added_market_exposure(scale: float, drift: float) -> None:
    """drift + scale x R_m added to every ticker changes alpha and beta, never an abnormal return or a test."""
    market = simulate_market(6, 300, seed=4)
    events, universe = events_frame([("e", market.dates[280])]), universe_for(market)
    mkt = market.returns.filter(pl.col("ticker") == "MKT").select("date", pl.col("ret").alias("m"))
    tilted = (
        market.returns.join(mkt, on="date")
        .with_columns(
            pl.when(pl.col("ticker") == "MKT")
            .then(pl.col("ret"))
            .otherwise(pl.col("ret") + drift + scale * pl.col("m"))
            .alias("ret")
        )
        .drop("m")
    )
    base = run_dense_study(market.returns, events, universe)
    moved = run_dense_study(tilted, events, universe)
    assert np.allclose(
        base.result.abnormal_returns["abnormal_ret"], moved.result.abnormal_returns["abnormal_ret"], atol=1e-10
    )
    for column in ("caar", "csect_t", "patell_z", "bmp_t", "kp_bmp_t", "rank_z", "gsign_z"):
        assert np.allclose(base.group_impact[column], moved.group_impact[column], atol=1e-6), column


def test_real_prices_and_the_catalog_give_the_long_pipelines_numbers(real_prices_dir) -> None:  # type: ignore[no-untyped-def]
    """The real universe seed, every catalog event, real calendars and listing dates (30 tickers x 34 events)."""
    from flows.sources.csv_prices import CsvPriceSource
    from transforms.returns import daily_returns
    from warehouse import seeds

    prices = CsvPriceSource(real_prices_dir).fetch([]).frames["core.prices_daily"]
    returns, universe, events = daily_returns(prices), seeds.read_universe(), seeds.read_events()
    config = EventStudyConfig(models=MODELS)
    long = run_event_study(returns, events, universe, config)
    groups = group_tests(long.event_impact, long.estimation_ar, long.abnormal_returns, universe)
    dense = run_dense_study(returns, events, universe, config)
    for frame in ("abnormal_returns", "event_impact", "skips", "warnings", "fits"):
        assert_frames_match(getattr(long, frame), getattr(dense.result, frame), frame)
    assert_frames_match(groups, dense.group_impact, "group_impact")
    day0 = dense.result.event_impact.filter(
        (pl.col("event_id") == "deepseek_selloff") & (pl.col("model") == "market") & (pl.col("window_end") == 0)
    )
    assert day0.filter(pl.col("ticker") == "VST")["raw_return"][0] == pytest.approx(-0.2827, abs=5e-5)
