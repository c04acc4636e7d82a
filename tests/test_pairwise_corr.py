"""Kolari-Pynnönen r-bar over common days and the weighted Corrado s_U (issue 15, section 2), end to end: the
production engine (`run_dense_study`) and the reference pipeline (tests/reference/group_tests.py) both give the
numbers of the independent numpy reference (tests/reference/missing_day_stats.py) and of its hand-computed
example, with and without missing days; the fast form the engine keeps for full tickers equals the pairwise mean
on complete data; the real `talen_cumulus_sale` numbers; the n_below_min flag."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest
from reference.missing_day_stats import (
    HAND_ESTIMATION_ROWS,
    HAND_EXAMPLE,
    HAND_WINDOW_ROWS,
    corrado_rank_z,
    pairwise_mean_correlation,
    shortcut_mean_correlation,
)
from simulate import business_days, events_frame, simulate_market, universe_for

from tests.reference.event_study import run_event_study
from tests.reference.group_tests import group_tests
from transforms.event_study import MODELS, EventStudyConfig, run_dense_study
from transforms.event_study.pairwise_corr import partial_pair_sums

HAND_CONFIG = EventStudyConfig(
    models=("constant_mean",),  # AR = return - its estimation mean: ranks and correlations of the returns
    estimation_window=(-5, -1),
    ar_window=(0, 0),
    car_windows=((0, 0),),
    min_estimation_days=3,
)


def _hand_inputs(ar: np.ndarray) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Returns (in %) of tickers A, B, C on days -5..0 from the rows of `ar` (NaN: no return), a benchmark MKT."""
    dates = business_days(dt.date(2024, 1, 1), 6)
    rows = [
        {"ticker": name, "date": d, "ret": 0.01 * float(v)}
        for col, name in enumerate("ABC")
        for d, v in zip(dates, ar[:, col], strict=True)
        if not math.isnan(v)
    ]
    rows += [{"ticker": "MKT", "date": d, "ret": 0.001 * (k - 2.5)} for k, d in enumerate(dates)]
    returns = pl.DataFrame(rows, schema={"ticker": pl.String, "date": pl.Date, "ret": pl.Float64})
    events = events_frame([("hand", dates[-1])])
    universe = pl.DataFrame(
        {"ticker": ["A", "B", "C", "MKT"], "name": "x", "group": ["g", "g", "g", "benchmarks"], "benchmark": "MKT"}
    )
    return returns, events, universe


def _both_engines(
    returns: pl.DataFrame, events: pl.DataFrame, universe: pl.DataFrame, config: EventStudyConfig
) -> dict[str, pl.DataFrame]:
    long = run_event_study(returns, events, universe, config)
    return {
        "reference": group_tests(long.event_impact, long.estimation_ar, long.abnormal_returns, universe),
        "dense": run_dense_study(returns, events, universe, config).group_impact,
    }


COMPLETE = HAND_EXAMPLE.copy()
COMPLETE[:2, 2] = [0.5, 1.5]  # C with every day: nothing missing


@pytest.mark.parametrize("missing", [True, False], ids=["C misses days -5 and -4", "no day missing"])
def test_both_engines_give_the_hand_computed_numbers(missing: bool) -> None:
    ar = HAND_EXAMPLE if missing else COMPLETE
    if missing:  # the hand-computed values of tests/reference/missing_day_stats.py
        r_bar, rank_z = (1 / math.sqrt(2) + 4 * math.sqrt(3) / 7 + 9 / math.sqrt(364 / 3)) / 3, -1.5383974
        assert pairwise_mean_correlation(ar[HAND_ESTIMATION_ROWS]) == pytest.approx(r_bar, abs=1e-15)
        assert corrado_rank_z(ar, HAND_WINDOW_ROWS) == pytest.approx(rank_z, abs=5e-8)
    else:  # complete data: the fast forms and the references agree
        r_bar = pairwise_mean_correlation(ar[HAND_ESTIMATION_ROWS])
        rank_z = corrado_rank_z(ar, HAND_WINDOW_ROWS)
        assert shortcut_mean_correlation(ar[HAND_ESTIMATION_ROWS]) == pytest.approx(r_bar, abs=1e-12)
        assert corrado_rank_z(ar, HAND_WINDOW_ROWS, weighted=False) == pytest.approx(rank_z, abs=1e-12)
    for engine, frame in _both_engines(*_hand_inputs(ar), HAND_CONFIG).items():
        assert frame.height == 2, engine  # groups g and all, the same three tickers
        for row in frame.iter_rows(named=True):
            assert row["mean_residual_corr"] == pytest.approx(r_bar, abs=1e-12), (engine, row["group"])
            assert row["rank_z"] == pytest.approx(rank_z, abs=5e-8 if missing else 1e-12), (engine, row["group"])
            assert row["n"] == 3 and row["n_below_min"] is False


def test_the_shortcut_would_have_drifted_on_the_hand_example() -> None:
    """What the engine computed before (the fast form for every ticker, unweighted s_U) differs here."""
    est = HAND_EXAMPLE[HAND_ESTIMATION_ROWS]
    assert abs(shortcut_mean_correlation(est) - pairwise_mean_correlation(est)) > 0.2
    assert abs(corrado_rank_z(HAND_EXAMPLE, HAND_WINDOW_ROWS, weighted=False) + 1.4553581) < 5e-8


def _simulated(holes: float) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    market = simulate_market(8, 420, seed=21, common_shock_sigma=0.006)
    returns = market.returns
    if holes:
        gone = returns.filter(pl.col("ticker").is_in(["T001", "T004", "T005"])).sample(fraction=holes, seed=4)
        late = returns.filter((pl.col("ticker") == "T006") & (pl.col("date") < market.dates[200]))  # a late listing
        returns = returns.join(pl.concat([gone, late]), on=["ticker", "date"], how="anti")
    universe = universe_for(market).with_columns(
        pl.when(pl.col("ticker").is_in(["T000", "T001", "T002", "T003"]))
        .then(pl.lit("g1"))
        .when(pl.col("ticker").str.starts_with("T"))
        .then(pl.lit("g2"))
        .otherwise(pl.col("group"))
        .alias("group")
    )
    events = events_frame([("e1", market.dates[330]), ("e2", market.dates[405])])
    return returns, events, universe


def _numpy_r_bar(estimation_ar: pl.DataFrame, universe: pl.DataFrame) -> pl.DataFrame:
    """r-bar per (event, group, model) by tests/reference/missing_day_stats.py from the reference's estimation ARs."""
    wide = estimation_ar.join(universe.select("ticker", "group"), on="ticker")
    rows = []
    for (event_id, model), part in wide.group_by("event_id", "model"):  # test code: a loop over a few cells
        for group in [*part["group"].unique().to_list(), "all"]:
            cells = part if group == "all" else part.filter(pl.col("group") == group)
            pivot = cells.pivot(on="ticker", index="rel_day", values="abnormal_ret").sort("rel_day").drop("rel_day")
            rows.append((event_id, group, model, pairwise_mean_correlation(pivot.to_numpy().astype(np.float64))))
    return pl.DataFrame(rows, schema=["event_id", "group", "model", "numpy_r_bar"], orient="row")


@pytest.mark.parametrize("holes", [0.0, 0.05], ids=["complete data", "missing days and a late listing"])
def test_r_bar_equals_the_numpy_reference_to_1e_12(holes: float) -> None:
    """On complete data every ticker is full and the engine's fast form alone gives r-bar: equal to the pairwise
    mean to 1e-12 (sum_t z_it z_jt = (T - 1) r_ij when every ticker has the same T days). With holes and a late
    listing, the pairs with a partial ticker are summed pair by pair: equal again."""
    returns, events, universe = _simulated(holes)
    config = EventStudyConfig(models=MODELS)
    long = run_event_study(returns, events, universe, config)
    expected = _numpy_r_bar(long.estimation_ar, universe)
    dense = run_dense_study(returns, events, universe, config).group_impact
    got = (
        dense.select("event_id", "group", "model", "mean_residual_corr")
        .unique()
        .join(expected, on=["event_id", "group", "model"])
    )
    assert got.height == expected.height == 2 * 3 * 3  # 2 events x (g1, g2, all) x 3 models
    err = (got["mean_residual_corr"] - got["numpy_r_bar"]).abs().max()
    assert isinstance(err, float) and err < 1e-12
    if holes:
        assert long.event_impact["n_missing_estimation"].max() > 0  # partial tickers were there


def test_partial_pair_sums_count_each_pair_once() -> None:
    """Two partial tickers meet twice (row and column): half a pair each time, so the count is the pair count."""
    rng = np.random.default_rng(3)
    ar = rng.normal(size=(1, 5, 40))
    ar[0, 0, :3] = np.nan
    ar[0, 1, 10:12] = np.nan
    ar[0, 2, 20] = np.nan
    sums = partial_pair_sums(ar, np.isnan(ar[0]).any(axis=1), np.array([0, 0, 1, 1, 1]), 3)
    # pairs with a partial ticker (0, 1, 2): 0-1, 0-2, 0-3, 0-4, 1-2, 1-3, 1-4, 2-3, 2-4 = 9; in groups: 0-1, 2-3, 2-4
    assert sums[1, -1, 0] == 9 and sums[1, 0, 0] == 1 and sums[1, 1, 0] == 2


def test_talen_cumulus_sale_on_the_real_closes(real_prices_dir) -> None:  # type: ignore[no-untyped-def]
    """The issue's example: independent_power (TLN missing estimation days before 2023-06-02), market model:
    r-bar 0.148 by the old fast form, 0.143 pairwise over common days; rank z (window [0, 0]) 2.36 unweighted,
    2.46 weighted."""
    from flows.sources.csv_prices import CsvPriceSource
    from transforms.returns import daily_returns
    from warehouse import seeds

    prices = CsvPriceSource(real_prices_dir).fetch([]).frames["core.prices_daily"]
    returns, universe = daily_returns(prices), seeds.read_universe()
    events = seeds.read_events().filter(pl.col("event_id") == "talen_cumulus_sale")
    config = EventStudyConfig(models=("market",))
    dense = run_dense_study(returns, events, universe, config).group_impact.filter(
        pl.col("group") == "independent_power"
    )
    r_bar = dense["mean_residual_corr"].unique().to_list()
    assert len(r_bar) == 1 and r_bar[0] == pytest.approx(0.143, abs=5e-4)
    # the old numbers, from the same estimation ARs by the numpy reference's forms
    long = run_event_study(returns, events, universe, config)
    tickers = universe.filter(pl.col("group") == "independent_power")["ticker"].to_list()
    est = long.estimation_ar.filter(pl.col("ticker").is_in(tickers))
    wide = est.pivot(on="ticker", index="rel_day", values="abnormal_ret").sort("rel_day").drop("rel_day")
    assert shortcut_mean_correlation(wide.to_numpy()) == pytest.approx(0.148, abs=5e-4)
    assert pairwise_mean_correlation(wide.to_numpy()) == pytest.approx(r_bar[0], abs=1e-12)
    cols = ["ticker", "rel_day", "abnormal_ret"]
    event_ar = long.abnormal_returns.filter(pl.col("ticker").is_in(tickers)).select(cols)
    ranked = pl.concat([est.select(cols), event_ar]).unique(["ticker", "rel_day"], keep="first")
    days = ranked.pivot(on="ticker", index="rel_day", values="abnormal_ret").sort("rel_day")
    rel = days["rel_day"].to_numpy()
    window = np.flatnonzero(rel == 0)  # day 0, the window the issue quotes
    values = days.drop("rel_day").to_numpy().astype(np.float64)
    assert corrado_rank_z(values, window, weighted=False) == pytest.approx(2.36, abs=5e-3)
    weighted = corrado_rank_z(values, window, weighted=True)
    assert weighted == pytest.approx(2.46, abs=5e-3)
    got = dense.filter((pl.col("window_start") == 0) & (pl.col("window_end") == 0))["rank_z"][0]
    assert got == pytest.approx(weighted, abs=1e-9)


def test_a_group_of_two_is_flagged_not_dropped() -> None:
    ar = HAND_EXAMPLE[:, :2]
    returns, events, universe = _hand_inputs(np.column_stack([ar, np.full(6, np.nan)]))
    for engine, frame in _both_engines(returns, events, universe, HAND_CONFIG).items():
        row = frame.filter(pl.col("group") == "g").row(0, named=True)
        assert row["n"] == 2 and row["n_below_min"] is True, engine
        assert row["bmp_t"] is not None and row["mean_residual_corr"] == pytest.approx(1 / math.sqrt(2), abs=1e-12)


def test_partial_pairs_on_two_threads_equal_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """add_partial_pairs deals the events out to threads (each adds to its own event's slice): the same numbers,
    bit for bit, as one thread; both are forced here, whatever the machine's core count."""
    from transforms.event_study import study

    returns, events, universe = _simulated(0.05)
    config = EventStudyConfig(models=MODELS)
    runs = {}
    for threads in (1, 2):
        monkeypatch.setattr(study, "_THREADS", threads)
        runs[threads] = run_dense_study(returns, events, universe, config).group_impact
    assert runs[1].equals(runs[2], null_equal=True)
    assert runs[1]["mean_residual_corr"].is_not_null().all()
