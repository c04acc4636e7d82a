"""Every statistic of one chunk of events of one benchmark block, on dense arrays.

The chunk's (ticker x event x rel_day) returns are gathered from the (ticker x trading day) matrix at
`day0 + rel_day` on the benchmark's calendar; then, each a pass along the day axis: the estimation sums and the
model fits (transforms.event_study.fits), the Kolari-Pynnönen group sums of the standardized estimation ARs, the
Corrado rank sums (transforms.event_study.ranks) and the CAR windows. Results go into the study's `Arrays` and
`GroupSums` (transforms.event_study.layout) at the chunk's ticker and event codes: chunks write disjoint cells,
so they can run on several threads (the kernels release the GIL), the group sums under a lock.
"""

from __future__ import annotations

import numpy as np

from transforms.event_study.compiled import kernels as _kernels
from transforms.event_study.contract import MODEL_MARKET, EventStudyConfig
from transforms.event_study.fits import MODEL_KINDS, SUMS, model_params
from transforms.event_study.layout import Arrays, Block, GroupSums
from transforms.event_study.ranks import corrado_sums


def compute_chunk(
    block: Block,
    events: np.ndarray,
    matrix: np.ndarray,
    axis_days: np.ndarray,
    config: EventStudyConfig,
    models: list[str],
    windows: list[tuple[int, int]],
    out: Arrays,
    group: GroupSums,
) -> None:
    """Every statistic of one benchmark block for the events at positions `events` of block.events."""
    (est_lo, est_hi), (ar_lo, ar_hi) = config.estimation_window, config.ar_window
    lo, hi = min(est_lo, ar_lo), max(est_hi, ar_hi)
    rel = np.arange(lo, hi + 1)
    ev = block.events[events]
    tk = block.tickers
    n_t, n_e, n_m = tk.size, ev.size, len(models)
    pos = block.day0_pos[events][:, None] + rel[None, :]  # (E, R) positions in the benchmark calendar
    exists = (pos >= 0) & (pos < block.calendar.size)  # a benchmark trading day: a row of the long panel
    pos = np.clip(pos, 0, block.calendar.size - 1)
    columns = block.calendar[pos]
    x = np.where(exists, block.x[pos], np.nan)  # (E, R)
    x_finite = np.where(exists, x, 0.0)  # (E, R): 0 off the calendar, where no ticker has a return either
    y = np.empty((n_t, n_e, rel.size))  # (T, E, R): NaN off the calendar and where the ticker has no return
    _kernels.gather_windows(matrix, tk, columns, exists, y, matrix.shape[0], matrix.shape[1], n_t, n_e, rel.size)

    est = slice(est_lo - lo, est_hi - lo + 1)
    packed = np.empty((len(SUMS) + 1, n_t, n_e))
    _kernels.estimation_sums(y, x_finite, packed, n_t, n_e, rel.size, est.start, est.stop)
    nf = packed[0]
    n = nf.astype(np.int64)
    sums = dict(zip(SUMS, packed[1:], strict=True))
    alpha, beta, dof, sigma = model_params(models, nf, sums)

    arw = slice(ar_lo - lo, ar_hi - lo + 1)
    with_data = ~np.isnan(y[:, :, arw]).all(axis=-1)  # a return somewhere in the event window
    fitted = (n >= config.min_estimation_days) & with_data
    ix: tuple[np.ndarray, np.ndarray] = np.ix_(tk, ev)  # type: ignore[assignment]
    out.computed[ix] = True
    out.fitted[ix] = fitted
    out.with_data[ix] = with_data
    out.n[ix] = n
    out.n_missing[ix] = exists[None, :, est].sum(axis=-1) - n
    out.day0[ix] = np.broadcast_to(axis_days[block.calendar[block.day0_pos[events]]], (n_t, n_e))
    mi = np.arange(n_m)
    ixm: tuple[np.ndarray, np.ndarray, np.ndarray] = np.ix_(tk, mi, ev)  # type: ignore[assignment]
    market = models.index(MODEL_MARKET) if MODEL_MARKET in models else None
    for key in SUMS:
        out.sums[key][ix] = sums[key]
    if market is not None:
        out.sums["alpha"][ix], out.sums["beta"][ix] = alpha[:, market], beta[:, market]
        out.sums["sigma"][ix] = sigma[:, market]
    else:
        m_alpha, m_beta, _, m_sigma = model_params([MODEL_MARKET], nf, sums)
        out.sums["alpha"][ix], out.sums["beta"][ix], out.sums["sigma"][ix] = m_alpha[:, 0], m_beta[:, 0], m_sigma[:, 0]
    out.alpha[ixm], out.beta[ixm], out.sigma[ixm], out.dof[ixm] = alpha, beta, sigma, dof

    # Kolari-Pynnönen r-bar, the pairs of two full tickers (a return on every estimation day): z_it = (AR_it -
    # mean_i AR) / sd_i summed per group and day; for them sum_t z_it z_jt = (T - 1) r_ij exactly (the pairs with a
    # partial ticker: transforms.event_study.pairwise_corr). AR_it - mean_i = y_it - ybar_i - beta_i (x_t - xbar_i)
    # for all three models, and sd_i (sample sd of the estimation ARs) is sigma_i sqrt(dof_i / (n_i - 1)): one
    # compiled pass adds weight_i (y_it - shift_i - beta_i x_t) into the group's day (never an array of z). The
    # squares sum to n_i - 1 per ticker (sum of squared deviations / their sample variance).
    group_of = np.repeat(block.group_ids, np.diff(np.append(block.group_starts, n_t))).astype(np.int64)
    full = fitted & (n == est.stop - est.start)  # (T, E)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = sigma * np.sqrt(dof / (nf[:, None] - 1))
        fast = full[:, None, :] & (sd > 0)  # (T, M, E): a constant series has no correlation
        weight = np.where(fast, 1.0 / sd, 0.0)
        shift = sums["y_mean"][:, None] - beta * sums["x_mean"][:, None]  # ybar_i - beta_i xbar_i
        z_sq = np.where(fast, nf[:, None] - 1, 0.0)
    z_sum = np.zeros((block.n_groups, n_m, n_e, est.stop - est.start))
    _kernels.kp_sums(
        y,
        x_finite,
        weight,
        shift,
        beta,
        np.ascontiguousarray(full),
        group_of,
        z_sum,
        n_t,
        n_m,
        n_e,
        rel.size,
        est.start,
        est.stop,
        block.n_groups,
    )
    z_sum[-1] = z_sum[:-1].sum(axis=0)
    tickers = block.group_sums(fitted.astype(np.float64))[:, None, :]
    fast_count = block.group_sums(fast.astype(np.float64))  # (G, M, E)
    z_sq_sum = block.group_sums(z_sq)  # (G, M, E)

    # Corrado: ranks over the estimation and event-window days with a return of each fitted (ticker, event),
    # one model at a time (the days ranked do not depend on the model): transforms.event_study.ranks.
    rank_day = np.zeros(rel.size, dtype=bool)
    rank_day[est] = True
    rank_day[arw] = True
    u_sum, u_count, share_pos = corrado_sums(y, x, alpha, beta, fitted, est, rank_day, group_of, block.n_groups)
    out.share_pos[ixm] = share_pos
    with group.lock:
        group.z_sum[:, :, ev] += z_sum
        group.z_sq[:, :, ev] += z_sq_sum
        group.tickers[:, :, ev] += tickers
        group.fast[:, :, ev] += fast_count
        group.u_sum[:, :, ev] += u_sum
        group.u_count[:, :, ev] += u_count[:, None]

    # Event window: the rows of marts.abnormal_returns (finished in abnormal_returns_frame) and the CAR windows.
    for j, e in enumerate(ev.tolist()):
        out.ar_ret[e][tk] = y[:, j, arw]
    out.bench_code[tk] = block.bench
    out.bench_x[block.bench, ev] = x[:, arw]
    out.bench_exists[block.bench, ev] = exists[:, arw]
    out.bench_date[block.bench, ev] = axis_days[columns[:, arw]]
    _kernels.window_stats(
        y,
        x_finite,
        alpha,
        beta,
        sigma,
        nf,
        sums["x_mean"],
        sums["s_xx"],
        np.array([MODEL_KINDS[m] for m in models], dtype=np.int64),
        np.array([a - lo for a, _ in windows], dtype=np.int64),
        np.array([b - a + 1 for a, b in windows], dtype=np.int64),
        np.concatenate([tk, ev]).astype(np.int64),
        out.car,
        out.car_t,
        out.car_se,
        out.scar,
        out.days,
        out.raw,
        n_t,
        n_m,
        n_e,
        rel.size,
        len(windows),
        out.car.shape[0],
        out.car.shape[2],
    )
