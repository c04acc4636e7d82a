"""marts.group_impact on dense arrays: the six group tests per (event, group, model, window), and for 'all'.

Definitions (docs/methods.md; the reference: tests/reference/group_tests.py): cross-sectional t (Brown and Warner
1985), Patell (1976) Z, BMP (Boehmer, Musumeci and Poulsen 1991), the Kolari and Pynnönen (2010) adjusted BMP,
the Corrado (1989) rank test over a window (Cowan 1992) and the generalized sign test (Cowan 1992). The
cross-sectional statistics per cell are one compiled pass (kernels/group_stats.c); the Kolari-Pynnönen r-bar and
the Corrado s_U come from the group sums the chunks accumulated (transforms.event_study.chunk).
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import special

from transforms.event_study.compiled import kernels as _kernels
from transforms.event_study.contract import GROUP_IMPACT_SCHEMA, MIN_GROUP_TICKERS
from transforms.event_study.layout import Arrays, GroupSums, Names
from transforms.event_study.pvalues import two_sided_t_p


def normal_p(z: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.asarray(2.0 * special.ndtr(-np.abs(z)), dtype=np.float64)


# The statistics of kernels/group_stats.c, in its order.
GROUP_STATS = (
    "n",
    "caar",
    "median_car",
    "share_negative",
    "sd_car",
    "sum_scar",
    "mean_scar",
    "sd_scar",
    "patell_var",
    "positives",
    "p_hat",
)


def group_impact_frame(
    out: Arrays, group: GroupSums, names: Names, windows: list[tuple[int, int]], rel_lo: int
) -> pl.DataFrame:
    """marts.group_impact (the definitions of tests/reference/group_tests.py) from the window arrays and the
    group sums."""
    n_c, n_m, n_e, n_w = out.car.shape
    n_groups = len(names.groups)
    # Per (group, model, event, window) over the tested tickers (fitted, with a CAR and a SCAR): one compiled
    # pass for the sums, one for the deviations and the medians (kernels/group_stats.c).
    stats = np.empty((len(GROUP_STATS), n_groups, n_m, n_e, n_w))
    _kernels.group_stats(  # ticker-last copies: each cell's values contiguous
        np.ascontiguousarray(out.car.transpose(1, 2, 3, 0)),
        np.ascontiguousarray(out.scar.transpose(1, 2, 3, 0)),
        np.ascontiguousarray(out.fitted.T),
        np.ascontiguousarray(out.dof.transpose(1, 2, 0)),
        np.ascontiguousarray(out.share_pos.transpose(1, 2, 0)),
        names.ticker_group.astype(np.int64),
        stats,
        n_c,
        n_m,
        n_e,
        n_w,
        n_groups,
    )
    s = dict(zip(GROUP_STATS, stats, strict=True))  # (G, M, E, W) each
    with np.errstate(invalid="ignore", divide="ignore"):
        n = s["n"]
        sqrt_n = np.sqrt(n)
        csect_t = s["caar"] / (s["sd_car"] / sqrt_n)
        patell_z = s["sum_scar"] / np.sqrt(s["patell_var"])
        bmp_t = s["mean_scar"] / (s["sd_scar"] / sqrt_n)
        gsign_z = (s["positives"] - n * s["p_hat"]) / np.sqrt(n * s["p_hat"] * (1 - s["p_hat"]))
        # Kolari-Pynnönen r-bar: the mean of the pairwise correlations over common days. Pairs of two full tickers
        # from the fast form ((sum z)^2 - sum z^2 over days, / (T - 1): twice their r sum), the others summed
        # per pair (transforms.event_study.pairwise_corr).
        n_days = group.z_sum.shape[-1]
        fast_r = ((group.z_sum**2).sum(-1) - group.z_sq) / (2.0 * (n_days - 1))
        pairs = group.fast * (group.fast - 1) / 2 + group.pair_count
        rbar = np.where(pairs > 0, (fast_r + group.pair_sum) / pairs, np.nan)
        rbar4 = np.broadcast_to(rbar[..., None], n.shape)
        kp_bmp_t = bmp_t * np.sqrt((1 - rbar4) / (1 + (n - 1) * rbar4))
        # Corrado: mean centred rank per day over the N_t tickers ranked that day; its spread over every ranked day
        # weighting each day by N_t / N (Cowan 1992; Campbell and Wasley 1993): a day mean over fewer tickers
        # varies more, so s_U estimates the spread of a full day's mean.
        present = group.u_count > 0
        u_bar = np.where(present, group.u_sum / np.where(present, group.u_count, 1.0), 0.0)
        share = group.u_count / group.tickers[..., None]  # N_t / N
        s_u = np.sqrt((share * u_bar**2).sum(-1) / present.sum(-1))
        cum = np.concatenate([np.zeros((*u_bar.shape[:-1], 1)), np.cumsum(u_bar, axis=-1)], axis=-1)
        rank_z = np.stack(
            [(cum[..., b - rel_lo + 1] - cum[..., a - rel_lo]) / (np.sqrt(b - a + 1) * s_u) for a, b in windows],
            -1,
        )
    # Rows in (event, group name, model, window) order, for the (group, model, event, window) cells with n > 0.
    group_order = np.argsort(np.array(names.groups.to_list(), dtype=object))
    e, sorted_g, m, w = np.nonzero((n > 0)[group_order].transpose(2, 0, 1, 3))  # (E, G sorted, M, W)
    g = group_order[sorted_g]
    pick = (g, m, e, w)
    starts = np.array([a for a, _ in windows], dtype=np.int32)
    ends = np.array([b for _, b in windows], dtype=np.int32)
    nn = n[pick]
    frame = pl.DataFrame(
        {
            "event_id": names.events.gather(e),
            "group": names.groups.gather(g),
            "model": names.models.gather(m),
            "window_start": starts[w],
            "window_end": ends[w],
            "n": nn.astype(np.int32),
            "caar": s["caar"][pick],
            "median_car": s["median_car"][pick],
            "share_negative": s["share_negative"][pick],
            "csect_t": csect_t[pick],
            "csect_p": two_sided_t_p(csect_t[pick], nn - 1),
            "patell_z": patell_z[pick],
            "patell_p": normal_p(patell_z[pick]),
            "bmp_t": bmp_t[pick],
            "bmp_p": two_sided_t_p(bmp_t[pick], nn - 1),
            "mean_residual_corr": rbar4[pick],
            "kp_bmp_t": kp_bmp_t[pick],
            "kp_bmp_p": two_sided_t_p(kp_bmp_t[pick], nn - 1),
            "rank_z": rank_z[pick],
            "rank_p": normal_p(rank_z[pick]),
            "gsign_z": gsign_z[pick],
            "gsign_p": normal_p(gsign_z[pick]),
            "n_below_min": nn < MIN_GROUP_TICKERS,
        }
    )
    return frame.with_columns(pl.col(pl.Float64).fill_nan(None)).select(
        [pl.col(k).cast(t) for k, t in GROUP_IMPACT_SCHEMA.items()]
    )
