"""Shock detector: the days a universe group moved abnormally and no catalogued event covers (issue 15, section 1).

Statistic (Brown and Warner 1980, section 5.B "crude dependence adjustment"; 1985, section 4.B). For each group g
(core.universe rows whose ticker is not its own benchmark) and each trading day t of the benchmark's calendar:

- `R_gt` = the equal-weighted portfolio return: the mean simple return of the group's tickers with a return on t
  (`n` of them). Averaging first turns the group into one security, so the residual variance estimated below
  already contains the tickers' cross-correlation (r-bar ~ 0.5-0.6 for power producers): a common shock is not
  counted N times, which a test of N standardized residuals treated as independent would do.
- Market model `R_gt = alpha + beta R_mt + e_t` by OLS on the estimation window: the `estimation_days` calendar
  days ending `gap_days` before t (default 250 days ending the day before: nothing on or after t enters, so there
  is no look-ahead), using the days where both the portfolio and the benchmark have a return (`n_estimation` of
  them, at least `min_estimation_days`).
- `AR_gt = R_gt - alpha - beta R_mt`, `sigma^2 = SSR / (n_estimation - 2)` and, with `prediction_error` (the
  default), the out-of-sample forecast error's standard error `ar_se = sigma sqrt(1 + 1/n + (R_mt - mean R_m)^2 /
  S_xx)` (Campbell, Lo and MacKinlay 1997, eq. 4.4.8 for a one-day window); without it `ar_se = sigma`.
  `z = AR / ar_se`: Student t with n_estimation - 2 df under normal i.i.d. residuals.
- A candidate is a day with `|z| >= threshold_z` (default 4) that is not *covered*: covered = the day is a
  catalogued event's day 0 (first trading day on or after its event_date, as in transforms.event_study) or day +1
  (the catalog's after-close convention; `covered_days`). A day +1 covers whatever happened that day: DeepSeek
  Monday (2025-01-27) is also meta_capex_2025's day +1, so removing deepseek_selloff alone from the catalog leaves
  it covered (the series' `covered_by` says by what).

Rolling sums come from cumulative sums along the day axis of a (day x group) matrix (one subtraction per window,
vectorised over days and groups); the returns are first shifted by each column's mean over its first window,
which leaves every centred moment unchanged and keeps the cumulative sums small. The per-ticker abnormal returns
of the top movers are computed the same way, only for the groups and days that are candidates. The Python loops are over
benchmarks (one calendar each) and over groups with candidates: never over days or tickers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from warehouse.tables.shocks import SHOCK_CANDIDATES

SERIES_SCHEMA: dict[str, pl.DataType] = {
    "group": pl.String(),
    "date": pl.Date(),
    "benchmark": pl.String(),
    "n": pl.Int32(),
    "ret": pl.Float64(),
    "benchmark_ret": pl.Float64(),
    "ar": pl.Float64(),
    "sigma": pl.Float64(),
    "ar_se": pl.Float64(),
    "z": pl.Float64(),
    "n_estimation": pl.Int32(),
    "covered_by": pl.String(),
}
"""`group_shock_series` rows: every group and benchmark trading day with a portfolio return (the report's z chart)."""

CANDIDATES_SCHEMA = SHOCK_CANDIDATES.polars_schema()
"""marts.shock_candidates, from the registry."""

EVENT_CSV_COLUMNS: tuple[str, ...] = ("event_id", "event_date", "name", "category", "description", "source_url")
"""The header of warehouse/seeds/ai_events.csv."""


@dataclass(frozen=True)
class ShockConfig:
    """Estimation window in trading days of the benchmark's calendar and the detection threshold.

    Defaults: about a trading year of estimation ending the day before (the most recent information without
    look-ahead; gap_days >= 1 is enforced), at least 120 usable days as in the event study, |z| >= 4 (about 0.02
    false candidates per group-year under normal residuals; docs/methods.md, "Shocks not in the catalog", has the
    figure measured with fat-tailed simulated groups), and the three largest movers listed. Groups in
    `exclude_groups` (the benchmarks themselves) are not tested.
    """

    estimation_days: int = 250
    gap_days: int = 1
    min_estimation_days: int = 120
    threshold_z: float = 4.0
    prediction_error: bool = True
    top_movers: int = 3
    exclude_groups: tuple[str, ...] = ("benchmarks",)
    covered_days: tuple[int, ...] = (0, 1)
    """Relative trading days of a catalogued event that it covers (default day 0 and day +1)."""

    def __post_init__(self) -> None:
        if self.gap_days < 1:
            raise ValueError("gap_days must be at least 1: the estimation window must end before the tested day")
        if self.min_estimation_days < 3:
            raise ValueError("min_estimation_days must be at least 3 (OLS needs n - 2 > 0 degrees of freedom)")
        if self.min_estimation_days > self.estimation_days:
            raise ValueError("min_estimation_days exceeds estimation_days: no day could qualify")
        if not self.threshold_z > 0 or self.top_movers < 0:
            raise ValueError("threshold_z must be positive and top_movers non-negative")


DEFAULT_SHOCK_CONFIG = ShockConfig()


@dataclass(frozen=True)
class RollingFit:
    """Per (day, column) arrays of the rolling market model; NaN where the window has too few days."""

    n: np.ndarray
    beta: np.ndarray
    sigma: np.ndarray
    ar: np.ndarray
    ar_se: np.ndarray

    @property
    def z(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(self.ar / self.ar_se)


def _window_bounds(n_days: int, config: ShockConfig) -> tuple[np.ndarray, np.ndarray]:
    """Row range [lo, hi) of each day's estimation window in a prefix-sum array (prefix[k] = sum of rows < k)."""
    t = np.arange(n_days)
    hi = np.clip(t - config.gap_days + 1, 0, None)
    lo = np.clip(t - config.gap_days - config.estimation_days + 1, 0, None)
    return lo, hi


def _prefix(values: np.ndarray) -> np.ndarray:
    out = np.zeros((values.shape[0] + 1, *values.shape[1:]), dtype=np.float64)
    np.cumsum(values, axis=0, out=out[1:])
    return out


def rolling_market_model(
    y: np.ndarray, x: np.ndarray, config: ShockConfig = DEFAULT_SHOCK_CONFIG, rows: np.ndarray | None = None
) -> RollingFit:
    """OLS market model of every column of `y` (days x columns, NaN = no return) on `x` (days; NaN = no benchmark
    return) over each day's estimation window, and that day's abnormal return and its standard error.

    `rows` (optional) evaluates only those days (the windows still read the full history). Centred moments from
    prefix sums: S_xx = sum xx - (sum x)^2 / n and so on, on data shifted by each column's mean (exact in exact
    arithmetic, and it keeps the sums' magnitude, hence the cancellation, small).
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    x = np.asarray(x, dtype=np.float64)
    n_days = y.shape[0]
    valid = ~np.isnan(y) & ~np.isnan(x)[:, None]
    # The shift: each column's mean over its first estimation_days rows, so no result depends on later data,
    # not even in the last bit (a history extended by new days gives the old days' numbers unchanged).
    head = slice(0, config.estimation_days)
    y_shift = np.where(valid[head], y[head], 0.0).sum(axis=0) / np.maximum(valid[head].sum(axis=0), 1)
    x_head = x[head][~np.isnan(x[head])]
    x_shift = float(x_head.mean()) if x_head.size else 0.0
    yc = np.where(valid, y - y_shift, 0.0)
    xc = np.where(valid, (x - x_shift)[:, None], 0.0)
    lo, hi = _window_bounds(n_days, config)
    if rows is not None:
        lo, hi = lo[rows], hi[rows]
    sums = {}
    for name, arr in (("n", valid.astype(np.float64)), ("x", xc), ("y", yc)):
        p = _prefix(arr)
        sums[name] = p[hi] - p[lo]
    for name, arr in (("xx", xc * xc), ("xy", xc * yc), ("yy", yc * yc)):
        p = _prefix(arr)
        sums[name] = p[hi] - p[lo]
        del p
    n = sums["n"]
    with np.errstate(invalid="ignore", divide="ignore"):
        x_mean, y_mean = sums["x"] / n, sums["y"] / n
        s_xx = sums["xx"] - sums["x"] * x_mean
        s_xy = sums["xy"] - sums["x"] * y_mean
        s_yy = sums["yy"] - sums["y"] * y_mean
        beta = s_xy / s_xx
        ssr = np.clip(s_yy - beta * s_xy, 0.0, None)
        sigma = np.sqrt(ssr / (n - 2))
        day_y = y[rows] if rows is not None else y
        day_x = x[rows] if rows is not None else x
        dx = (day_x - x_shift)[:, None] - x_mean
        ar = (day_y - y_shift) - y_mean - beta * dx
        factor = 1.0 + 1.0 / n + dx * dx / s_xx if config.prediction_error else np.ones_like(n)
        ar_se = sigma * np.sqrt(factor)
    ok = (n >= config.min_estimation_days) & (sigma > 0)
    nan = np.float64("nan")
    return RollingFit(
        n=n.astype(np.int64),
        beta=np.where(ok, beta, nan),
        sigma=np.where(ok, sigma, nan),
        ar=np.where(ok, ar, nan),
        ar_se=np.where(ok, ar_se, nan),
    )


@dataclass(frozen=True)
class _Panel:
    """One benchmark's groups as dense arrays: days x tickers returns with tickers sorted by (group, ticker)."""

    benchmark: str
    dates: np.ndarray  # datetime64[D], the benchmark's trading days
    x: np.ndarray  # benchmark returns
    y: np.ndarray  # days x tickers, NaN = no return
    tickers: list[str]
    groups: list[str]
    starts: np.ndarray  # first column of each group


def _studied(universe: pl.DataFrame, config: ShockConfig) -> pl.DataFrame:
    missing = [c for c in ("ticker", "group", "benchmark") if c not in universe.columns]
    if missing:
        raise ValueError(f"universe lacks column(s) {missing}; has {universe.columns}")
    studied = universe.select(
        pl.col("ticker").cast(pl.String), pl.col("group").cast(pl.String), pl.col("benchmark").cast(pl.String)
    ).filter((pl.col("ticker") != pl.col("benchmark")) & ~pl.col("group").is_in(list(config.exclude_groups)))
    mixed = (
        studied.group_by("group").agg(pl.col("benchmark").unique().sort()).filter(pl.col("benchmark").list.len() > 1)
    )
    if mixed.height:
        g, b = mixed.row(0)
        raise ValueError(f"group {g!r} mixes benchmarks {b}: an equal-weighted portfolio needs one market model")
    return studied.sort("group", "ticker")


def _panels(returns: pl.DataFrame, universe: pl.DataFrame, config: ShockConfig) -> list[_Panel]:
    missing = [c for c in ("ticker", "date", "ret") if c not in returns.columns]
    if missing:
        raise ValueError(f"returns lack column(s) {missing}; has {returns.columns}")
    studied = _studied(universe, config)
    # An Enum ticker (what the daily flow passes) is joined on its codes: no 15 M-row string column is built.
    key: pl.DataType = returns.schema["ticker"]
    known: set[str] | None = set(key.categories.to_list()) if isinstance(key, pl.Enum) else None
    if known is None:
        key = pl.String()
    rets = (
        returns.lazy()
        .select(pl.col("ticker").cast(key), pl.col("date").cast(pl.Date), pl.col("ret").cast(pl.Float64))
        .filter(pl.col("ret").is_not_null() & pl.col("ret").is_not_nan())
    )
    panels = []
    for benchmark in studied["benchmark"].unique().sort().to_list():
        if known is not None and benchmark not in known:
            continue
        bench = rets.filter(pl.col("ticker") == benchmark).select("date", "ret").sort("date").collect()
        if bench.is_empty():
            continue
        members = studied.filter(pl.col("benchmark") == benchmark).with_row_index("col")
        priced = members if known is None else members.filter(pl.col("ticker").is_in(list(known)))
        cal = bench.select("date", pl.int_range(pl.len(), dtype=pl.Int64).alias("idx"))
        cells = (
            rets.join(priced.lazy().select(pl.col("ticker").cast(key), "col"), on="ticker")
            .join(cal.lazy(), on="date")
            .select("idx", "col", "ret")
            .collect()
        )
        y = np.full((cal.height, members.height), np.nan)
        y[cells["idx"].to_numpy(), cells["col"].to_numpy().astype(np.int64)] = cells["ret"].to_numpy()
        del cells
        group_col = members["group"].to_numpy()
        starts = np.flatnonzero(np.r_[True, group_col[1:] != group_col[:-1]])
        panels.append(
            _Panel(
                benchmark=benchmark,
                dates=bench["date"].to_numpy(),
                x=bench["ret"].to_numpy(),
                y=y,
                tickers=members["ticker"].to_list(),
                groups=[str(g) for g in group_col[starts]],
                starts=starts,
            )
        )
    return panels


def _event_days(events: pl.DataFrame, dates: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Calendar index of each event's day 0 (first trading day on or after event_date; len(dates) when none)."""
    ev = events.select(pl.col("event_id").cast(pl.String), pl.col("event_date").cast(pl.Date))
    day0 = np.searchsorted(dates, ev["event_date"].to_numpy(), side="left")
    return day0, ev["event_id"].to_list()


def _covered_by(events: pl.DataFrame, dates: np.ndarray, config: ShockConfig) -> np.ndarray:
    """Per calendar day, the ids of the events that cover it (config.covered_days; ', '-joined), else None."""
    day0, ids = _event_days(events, dates)
    days = [day0 + k for k in config.covered_days]
    hits = (
        pl.DataFrame(
            {"idx": np.concatenate(days) if days else [], "event_id": ids * len(days)},
            schema={"idx": pl.Int64, "event_id": pl.String},
        )
        .filter(pl.col("idx").is_between(0, len(dates) - 1))
        .group_by("idx")
        .agg(pl.col("event_id").unique().sort().str.join(", "))
    )
    out = np.full(len(dates), None, dtype=object)
    out[hits["idx"].to_numpy()] = hits["event_id"].to_numpy()
    return out


def _portfolio(panel: _Panel) -> tuple[np.ndarray, np.ndarray]:
    """(days x groups) equal-weighted returns over the tickers with a return that day, and their counts."""
    valid = ~np.isnan(panel.y)
    sums = np.add.reduceat(np.where(valid, panel.y, 0.0), panel.starts, axis=1)
    counts = np.add.reduceat(valid.astype(np.int32), panel.starts, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan), counts


def group_shock_series(
    returns: pl.DataFrame, universe: pl.DataFrame, events: pl.DataFrame, config: ShockConfig = DEFAULT_SHOCK_CONFIG
) -> pl.DataFrame:
    """Every (group, trading day) with a portfolio return: ret, ar, sigma, ar_se, z (null while the estimation
    window is too short) and `covered_by` (the catalogued events whose day 0 or day +1 it is); SERIES_SCHEMA,
    sorted by group and date. `returns`: `ticker, date, ret` (benchmarks included); `universe`: core.universe;
    `events`: core.ai_events (event_id, event_date)."""
    return _series(_panels(returns, universe, config), events, config)


def _series(panels: list[_Panel], events: pl.DataFrame, config: ShockConfig) -> pl.DataFrame:
    frames = [pl.DataFrame(schema=SERIES_SCHEMA)]
    for panel in panels:
        port, counts = _portfolio(panel)
        fit = rolling_market_model(port, panel.x, config)
        n_days, n_groups = port.shape
        covered = _covered_by(events, panel.dates, config)
        frame = pl.DataFrame(
            {
                "group": pl.Series([g for g in panel.groups for _ in range(n_days)], dtype=pl.String),
                "date": np.tile(panel.dates, n_groups),
                "benchmark": [panel.benchmark] * (n_days * n_groups),
                "n": counts.T.reshape(-1),
                "ret": port.T.reshape(-1),
                "benchmark_ret": np.tile(panel.x, n_groups),
                "ar": fit.ar.T.reshape(-1),
                "sigma": fit.sigma.T.reshape(-1),
                "ar_se": fit.ar_se.T.reshape(-1),
                "z": fit.z.T.reshape(-1),
                "n_estimation": fit.n.T.reshape(-1),
                "covered_by": pl.Series(covered.tolist() * n_groups, dtype=pl.String),
            },
            schema_overrides={"date": pl.Date},
            nan_to_null=True,
        )
        frames.append(frame.filter(pl.col("n") > 0).select([pl.col(c).cast(t) for c, t in SERIES_SCHEMA.items()]))
    return pl.concat(frames).sort("group", "date")


def _top_movers(panel: _Panel, group: str, rows: np.ndarray, direction: np.ndarray, config: ShockConfig) -> list[str]:
    """'TICKER ar; ...' for the group's tickers on `rows`, largest in the move's direction first."""
    g = panel.groups.index(group)
    stop = panel.starts[g + 1] if g + 1 < len(panel.starts) else len(panel.tickers)
    cols = slice(int(panel.starts[g]), int(stop))
    fit = rolling_market_model(panel.y[:, cols], panel.x, config, rows=rows)
    names = np.array(panel.tickers[cols])
    signed = np.where(np.isnan(fit.ar), -np.inf, fit.ar * direction[:, None])
    order = np.argsort(-signed, axis=1, kind="stable")[:, : config.top_movers]
    out = []
    for r in range(len(rows)):  # a handful of candidates: formatting only, the statistics are above
        picked = [c for c in order[r] if np.isfinite(signed[r, c])]
        out.append("; ".join(f"{names[c]} {fit.ar[r, c]:+.4f}" for c in picked))
    return out


def _nearest_events(candidates: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    by_date = (
        events.select(pl.col("event_id").cast(pl.String), pl.col("event_date").cast(pl.Date))
        .group_by("event_date")
        .agg(pl.col("event_id").sort().str.join(", "))
        .sort("event_date")
    )
    prev = by_date.rename({"event_id": "prev_event_id", "event_date": "prev_event_date"})
    nxt = by_date.rename({"event_id": "next_event_id", "event_date": "next_event_date"})
    ordered = candidates.sort("date")
    ordered = ordered.join_asof(prev, left_on="date", right_on="prev_event_date", strategy="backward")
    ordered = ordered.join_asof(
        nxt, left_on="date", right_on="next_event_date", strategy="forward", allow_exact_matches=False
    )
    return ordered


def shock_candidates(
    returns: pl.DataFrame, universe: pl.DataFrame, events: pl.DataFrame, config: ShockConfig = DEFAULT_SHOCK_CONFIG
) -> pl.DataFrame:
    """marts.shock_candidates rows (CANDIDATES_SCHEMA, sorted by group and rank): the uncovered days with
    |z| >= config.threshold_z, with their top movers and the nearest catalogued events."""
    panel_list = _panels(returns, universe, config)
    series = _series(panel_list, events, config)
    hits = series.filter((pl.col("z").abs() >= config.threshold_z) & pl.col("covered_by").is_null())
    if hits.is_empty():
        return pl.DataFrame(schema=CANDIDATES_SCHEMA)
    movers = []
    panels = {p.benchmark: p for p in panel_list}
    if config.top_movers:  # one pass per group with candidates
        for (group, benchmark), part in hits.group_by("group", "benchmark", maintain_order=True):
            panel = panels[str(benchmark)]
            rows = np.searchsorted(panel.dates, part["date"].to_numpy())
            texts = _top_movers(panel, str(group), rows, np.sign(part["ar"].to_numpy()), config)
            frame = part.select("group", "date").with_columns(pl.Series("top_movers", texts, dtype=pl.String))
            movers.append(frame)
    hits = hits.join(pl.concat(movers), on=["group", "date"], how="left") if movers else hits
    if "top_movers" not in hits.columns:
        hits = hits.with_columns(pl.lit(None, dtype=pl.String).alias("top_movers"))
    ranked = _nearest_events(hits, events).with_columns(
        pl.lit(config.threshold_z).alias("threshold_z"),
        pl.struct(pl.col("z").abs().neg(), "date").rank("ordinal").over("group").alias("rank"),
    )
    return ranked.select([pl.col(c).cast(t) for c, t in CANDIDATES_SCHEMA.items()]).sort("group", "rank")


def seed_row(candidate: Mapping[str, object]) -> str:
    """The line a user would add to warehouse/seeds/ai_events.csv for a candidate (a marts.shock_candidates row).

    event_id and event_date are filled from the candidate (event_date = the trading day of the move; move it to
    the day of first public information if that was earlier, e.g. a weekend). name, description and source_url
    are TEMPLATE markers in angle brackets that a person must replace from the news of that day (the seed loader
    rejects the source_url marker, so an unfilled row cannot be loaded); category is left as 'efficiency|demand|
    policy' to pick one. The description template carries the measured move so the person can check it.
    """
    when = candidate["date"]
    if not isinstance(when, date):
        raise ValueError(f"candidate date must be a date, got {when!r}")
    group = str(candidate["group"])
    ar, z = float(str(candidate["ar"])), float(str(candidate["z"]))
    movers = candidate.get("top_movers") or ""
    values = (
        f"{group}_shock_{when:%Y_%m_%d}",
        when.isoformat(),
        "<TO FILL: short name of what happened>",
        "efficiency|demand|policy",
        f"<TO FILL: what happened, with figures>. Detected: {group} abnormal return {ar:+.1%} (z {z:+.1f})"
        + (f"; movers {movers}" if movers else ""),
        "<TO FILL: https://... where the event and its date are reported>",
    )
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(values)
    return buffer.getvalue()
