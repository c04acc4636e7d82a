"""The reference group tests (the oracle of the production engine's marts.group_impact, see
tests/reference/event_study.py): per (event, group, model, window), vectorised across all of them at once, on
the long frames of the reference event study.

With N tickers with a complete window [a, b] (L days), CAR_i their cumulative abnormal returns, SCAR_i = CAR_i /
se(CAR_i) their standardized CARs (prediction-error corrected, see tests/reference/event_study.py) and d_i the residual
degrees of freedom of ticker i's model:

- cross-sectional t (Brown and Warner 1985): t = CAAR / (s(CAR) / sqrt(N)), N - 1 df.
- Patell (1976) Z: Z = sum(SCAR_i) / sqrt(sum(d_i / (d_i - 2))), standard normal.
- BMP (Boehmer, Musumeci and Poulsen 1991): t = mean(SCAR) / (s(SCAR) / sqrt(N)), N - 1 df; robust to
  event-induced variance.
- Kolari and Pynnonen (2010) adjusted BMP: t_KP = t_BMP sqrt((1 - r) / (1 + (N - 1) r)), r = mean pairwise
  correlation of the tickers' estimation-window abnormal returns. When every ticker shares one event date (the
  case here) abnormal returns are cross-correlated and plain BMP over-rejects; this is the test to trust.
  r = the mean over the pairs (i < j) of the Pearson correlation of their abnormal returns over the estimation
  rel_days both have (each pair centred on those days), a pair without a correlation left out.
- Corrado (1989) rank test, generalised to a window (Cowan 1992): each ticker's abnormal returns over the
  estimation and event windows are ranked, U_it = K_it / (M_i + 1) - 1/2 (M_i = its number of days); U_t = mean
  over the N_t tickers with a return on day t; Z = sum_{t in [a,b]} U_t / (sqrt(L) s_U), s_U^2 = mean over the
  days with a rank of (N_t / N) U_t^2 (N = the group's ranked tickers): a day mean over fewer tickers varies
  more, and this weighting (Cowan 1992; Campbell and Wasley 1993; estudy2's modified rank test scales the same
  way) makes s_U the spread of a full day's mean; standard normal.
- generalized sign test (Cowan 1992): p = mean over tickers of the estimation-window share of positive
  abnormal returns, w = number of positive CARs, Z = (w - N p) / sqrt(N p (1 - p)); standard normal.

All p-values are two-sided. The whole universe is also tested as group 'all'. `n_below_min`: n below
MIN_GROUP_TICKERS (3), a test not to present as evidence.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import special

from tests.reference.event_study import scipy_t_p
from transforms.event_study.contract import ALL_GROUP, GROUP_IMPACT_SCHEMA, MIN_GROUP_TICKERS, MODEL_MARKET

GROUP_KEY = ["event_id", "group", "model"]


def _normal_p(z: pl.Series) -> pl.Series:
    values = z.cast(pl.Float64).to_numpy()
    with np.errstate(invalid="ignore"):
        p = 2.0 * special.ndtr(-np.abs(values))
    return pl.Series(z.name, p, dtype=pl.Float64).fill_nan(None)


def _with_all(frame: pl.DataFrame) -> pl.DataFrame:
    """Each row once under its group and once under 'all'."""
    return pl.concat([frame, frame.with_columns(pl.lit(ALL_GROUP).alias("group"))], how="vertical")


def _groups(frame: pl.DataFrame, universe: pl.DataFrame) -> pl.DataFrame:
    return _with_all(frame.join(universe.select("ticker", "group"), on="ticker"))


def mean_residual_correlation(estimation_ar: pl.DataFrame, universe: pl.DataFrame) -> pl.DataFrame:
    """`event_id, group, model, mean_residual_corr` from estimation-window abnormal returns: the mean over the
    pairs of tickers of a group of their Pearson correlation over the rel_days both have (Kolari and Pynnonen
    2010), pairs without one (fewer than 2 common days, a constant series) left out. A self-join on the day."""
    ar = estimation_ar.select("event_id", "ticker", "model", "rel_day", "abnormal_ret")
    both = ar.join(ar, on=["event_id", "model", "rel_day"], suffix="_j").filter(pl.col("ticker") < pl.col("ticker_j"))
    pairs = both.group_by("event_id", "model", "ticker", "ticker_j").agg(
        pl.corr("abnormal_ret", "abnormal_ret_j").alias("r")
    )
    groups = universe.select("ticker", "group")
    pairs = (
        pairs.join(groups, on="ticker")
        .join(groups.rename({"ticker": "ticker_j", "group": "group_j"}), on="ticker_j")
        .with_columns(pl.col("r").fill_nan(None))
    )
    in_group = pairs.filter(pl.col("group") == pl.col("group_j"))
    every = pairs.with_columns(pl.lit(ALL_GROUP).alias("group"))
    return (
        pl.concat([in_group.select(*GROUP_KEY, "r"), every.select(*GROUP_KEY, "r")])
        .group_by(GROUP_KEY)
        .agg(pl.col("r").mean().alias("mean_residual_corr"))
    )


def rank_statistics(
    estimation_ar: pl.DataFrame, event_ar: pl.DataFrame, universe: pl.DataFrame, windows: pl.DataFrame
) -> pl.DataFrame:
    """`event_id, group, model, window_start, window_end, rank_z` (Corrado rank test over a window)."""
    cols = ["event_id", "ticker", "model", "rel_day", "abnormal_ret"]
    combined = pl.concat([estimation_ar.select(cols), event_ar.select(cols)], how="vertical").unique(
        subset=["event_id", "ticker", "model", "rel_day"], keep="first"
    )
    ranked = combined.with_columns(
        (
            pl.col("abnormal_ret").rank("average").over("event_id", "ticker", "model")
            / (pl.len().over("event_id", "ticker", "model") + 1)
            - 0.5
        ).alias("u")
    )
    grouped = _groups(ranked, universe)
    size = grouped.group_by(GROUP_KEY).agg(pl.col("ticker").n_unique().alias("tickers"))
    mean_u = grouped.group_by([*GROUP_KEY, "rel_day"]).agg(pl.col("u").mean().alias("u_bar"), pl.len().alias("n_day"))
    spread = (
        mean_u.join(size, on=GROUP_KEY)
        .group_by(GROUP_KEY)
        .agg(((pl.col("n_day") / pl.col("tickers") * pl.col("u_bar") ** 2).mean()).sqrt().alias("s_u"))
    )
    in_window = (
        mean_u.join(windows, how="cross")
        .filter(pl.col("rel_day").is_between(pl.col("window_start"), pl.col("window_end")))
        .group_by([*GROUP_KEY, "window_start", "window_end"])
        .agg(pl.col("u_bar").sum().alias("u_sum"))
    )
    return in_window.join(spread, on=GROUP_KEY).select(
        *GROUP_KEY,
        "window_start",
        "window_end",
        (
            pl.col("u_sum")
            / ((pl.col("window_end") - pl.col("window_start") + 1).cast(pl.Float64).sqrt() * pl.col("s_u"))
        ).alias("rank_z"),
    )


def group_tests(
    event_impact: pl.DataFrame,
    estimation_ar: pl.DataFrame,
    event_ar: pl.DataFrame,
    universe: pl.DataFrame,
) -> pl.DataFrame:
    """marts.group_impact rows: every group (and 'all') x event x model x window with a complete CAR."""
    impact = event_impact.filter(pl.col("car").is_not_null() & pl.col("scar").is_not_null())
    if impact.is_empty():
        return pl.DataFrame(schema=GROUP_IMPACT_SCHEMA)
    impact = _with_all(impact).with_columns(
        pl.when(pl.col("model") == MODEL_MARKET)
        .then(pl.col("n_estimation") - 2)
        .otherwise(pl.col("n_estimation") - 1)
        .cast(pl.Float64)
        .alias("dof")
    )
    key = [*GROUP_KEY, "window_start", "window_end"]
    base = impact.group_by(key).agg(
        pl.len().alias("n"),
        pl.col("car").mean().alias("caar"),
        pl.col("car").median().alias("median_car"),
        (pl.col("car") < 0).mean().alias("share_negative"),
        pl.col("car").std().alias("sd_car"),
        pl.col("scar").sum().alias("sum_scar"),
        pl.col("scar").mean().alias("mean_scar"),
        pl.col("scar").std().alias("sd_scar"),
        (pl.col("dof") / (pl.col("dof") - 2)).sum().alias("patell_var"),
        (pl.col("car") > 0).sum().alias("positives"),
    )
    positive_share = _groups(
        estimation_ar.group_by("event_id", "ticker", "model").agg((pl.col("abnormal_ret") > 0).mean().alias("share")),
        universe,
    )
    # the expected share of positive abnormal returns is taken over the tickers actually tested in each window
    tested = impact.select(*key, "ticker").join(positive_share.drop("group"), on=["event_id", "ticker", "model"])
    p_hat = tested.group_by(key).agg(pl.col("share").mean().alias("p_hat"))
    windows = impact.select("window_start", "window_end").unique()
    sqrt_n = pl.col("n").cast(pl.Float64).sqrt()
    out = (
        base.join(p_hat, on=key, how="left")
        .join(mean_residual_correlation(estimation_ar, universe), on=GROUP_KEY, how="left")
        .join(rank_statistics(estimation_ar, event_ar, universe, windows), on=key, how="left")
        .with_columns(
            (pl.col("caar") / (pl.col("sd_car") / sqrt_n)).alias("csect_t"),
            (pl.col("sum_scar") / pl.col("patell_var").sqrt()).alias("patell_z"),
            (pl.col("mean_scar") / (pl.col("sd_scar") / sqrt_n)).alias("bmp_t"),
            (
                (pl.col("positives") - pl.col("n") * pl.col("p_hat"))
                / (pl.col("n") * pl.col("p_hat") * (1 - pl.col("p_hat"))).sqrt()
            ).alias("gsign_z"),
        )
        .with_columns(
            (
                pl.col("bmp_t")
                * ((1 - pl.col("mean_residual_corr")) / (1 + (pl.col("n") - 1) * pl.col("mean_residual_corr"))).sqrt()
            ).alias("kp_bmp_t")
        )
    )
    out = out.with_columns(pl.col(c).fill_nan(None) for c in ("csect_t", "patell_z", "bmp_t", "gsign_z", "kp_bmp_t"))
    df = (out["n"] - 1).cast(pl.Float64)
    out = out.with_columns(
        scipy_t_p(out["csect_t"], df).alias("csect_p"),
        _normal_p(out["patell_z"]).alias("patell_p"),
        scipy_t_p(out["bmp_t"], df).alias("bmp_p"),
        scipy_t_p(out["kp_bmp_t"], df).alias("kp_bmp_p"),
        _normal_p(out["rank_z"]).alias("rank_p"),
        _normal_p(out["gsign_z"]).alias("gsign_p"),
        (pl.col("n") < MIN_GROUP_TICKERS).alias("n_below_min"),
    )
    return out.select([pl.col(c).cast(t) for c, t in GROUP_IMPACT_SCHEMA.items()]).sort(key)
