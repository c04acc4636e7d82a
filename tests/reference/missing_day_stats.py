"""Independent reference (numpy only, written from the papers) for the two group statistics that change when a
stock misses estimation days (issue 15, section 2). Phase 2 asserts the engine (transforms/event_study/...)
against these functions; production never imports them.

Inputs are (days x tickers) arrays of abnormal returns with NaN where a ticker has no return.

1. Kolari and Pynnönen (2010, "Event study testing with cross-sectional correlation of abnormal returns", Review
   of Financial Studies 23(11), eq. for r-bar): r-bar is the average of the pairwise sample correlations of the
   tickers' estimation-window abnormal returns. With missing days each pair's correlation is the ordinary Pearson
   r over the days both tickers have (`pairwise_mean_correlation`). The project's fast form
   `sum_t[(sum_i z_it)^2 - sum_i z_it^2] / ((T - 1) N (N - 1))` (z = demeaned AR / sample sd, 0 on missing days;
   `shortcut_mean_correlation`) equals it when no day is missing: then `sum_t z_it z_jt = (T - 1) r_ij` for every
   pair (z_i has mean 0 and sample variance 1 over the same T days), and the bracket is `sum_{i != j} sum_t z_it
   z_jt = (T - 1) sum_{i != j} r_ij`, the N (N - 1) ordered pairs. With a missing day that identity fails twice:
   z_i is standardized over its own days, not the pair's common days, and T is no longer one number.

2. Corrado (1989) rank test over a window, with the Campbell and Wasley (1993, "Measuring security price
   performance using daily NASDAQ returns", Journal of Financial Economics 33, eq. 5-6) / Cowan (1992) treatment
   of missing returns: each ticker's ARs over the estimation and event windows are ranked (average ranks),
   `U_it = K_it / (M_i + 1) - 1/2` (M_i = that ticker's number of days), `U_t = mean over the N_t tickers with a
   return on t`. A day mean over N_t tickers has variance proportional to 1 / N_t, so the standard deviation of a
   full day (N tickers) is estimated by weighting each squared day mean by N_t / N:
   `s_U^2 = (1/T) sum_t (N_t / N) U_t^2` (weighted; T = days with at least one return), against the unweighted
   `(1/T) sum_t U_t^2` of the project today. Z = `sum_{t in window} U_t / (sqrt(L) s_U)`. Equal when no day is
   missing (N_t = N).

Hand-computed example (`HAND_EXAMPLE`; tests/test_missing_day_reference.py asserts every number). Three tickers,
estimation days -5..-1 and event day 0 (window [0, 0], L = 1); C has no return on days -5 and -4. ARs (any unit:
both statistics are scale-free):

    day     -5   -4   -3   -2   -1  |  0
    A        2   -1    0    1   -2  | -3
    B        1   -3    0    3   -1  | -4
    C        -    -    1    2   -3  | -4

r-bar, pairwise over common estimation days (-5..-1; -3..-1 for pairs with C):
    r_AB = sum ab / sqrt(sum a^2 sum b^2) = 10 / sqrt(10 x 20) = 1/sqrt(2) = 0.7071068 (means 0 over 5 days)
    r_AC over -3..-1: a = (0, 1, -2), mean -1/3; c = (1, 2, -3), mean 0; S_ac = 8, S_aa = 5 - 3/9 = 14/3, S_cc = 14:
          r_AC = 8 / sqrt(14/3 x 14) = 4 sqrt(3) / 7 = 0.9897433
    r_BC over -3..-1: b = (0, 3, -1), mean 2/3; S_bc = 9, S_bb = 10 - 4/3 = 26/3: r_BC = 9 / sqrt(364/3) = 0.8170572
    r-bar = (0.7071068 + 0.9897433 + 0.8170572) / 3 = 0.8379691
The fast form on the same data: z_A = A / sqrt(2.5), z_B = B / sqrt(5), z_C = C / sqrt(7) (each over its own days,
means already 0); sum_t z_A z_B = 10 / sqrt(12.5), sum_t z_A z_C = 8 / sqrt(17.5), sum_t z_B z_C = 9 / sqrt(35);
bracket = 2 (2.8284271 + 1.9123658 + 1.5212777) = 12.5241411; T = the row-weighted mean of the tickers' day
counts, (5 x 5 + 5 x 5 + 3 x 3) / 13 = 59/13; r = 12.5241411 / ((46/13) x 3 x 2) = 0.5899052: the drift.

Rank test (days -5..0, T = 6): A ranks (6, 3, 4, 5, 2, 1) of M = 6, U_A = (5, -1, 1, 3, -3, -5) / 14;
B ranks (5, 2, 4, 6, 3, 1), U_B = (3, -3, 1, 5, -1, -5) / 14; C ranks (3, 4, 2, 1) of M = 4 on -3..0,
U_C = (1, 3, -1, -3) / 10. Day means U_t = (2/7, -1/7, 17/210, 61/210, -27/210, -71/210) with N_t = (2, 2, 3, 3,
3, 3). In units of 1/44100 the squares are (3600, 900, 289, 3721, 729, 5041):
    unweighted s_U^2 = 14280 / (6 x 44100) = 17/315, s_U = 0.2323107, Z = (-71/210) / s_U = -1.4553581
    weighted   s_U^2 = (2/3 x 4500 + 9780) / (6 x 44100) = 71/1470, s_U = 0.2197711, Z = -1.5383974
"""

from __future__ import annotations

import numpy as np

HAND_EXAMPLE = np.array(
    [
        [2.0, 1.0, np.nan],
        [-1.0, -3.0, np.nan],
        [0.0, 0.0, 1.0],
        [1.0, 3.0, 2.0],
        [-2.0, -1.0, -3.0],
        [-3.0, -4.0, -4.0],
    ]
)
"""Days -5..0 (rows) x tickers A, B, C (columns); the last row is the event day."""
HAND_ESTIMATION_ROWS = slice(0, 5)
HAND_WINDOW_ROWS = np.array([5])


def pairwise_correlations(ar: np.ndarray) -> np.ndarray:
    """(N x N) Pearson correlations, each over the days both tickers have (NaN for a pair with < 2 such days or a
    constant series on them); the diagonal is NaN. Pair sums from masked matrix products, no loop over pairs."""
    valid = ~np.isnan(ar)
    m = valid.astype(np.float64)
    y = np.where(valid, ar, 0.0)
    n = m.T @ m  # common days of (i, j)
    s_i = y.T @ m  # sum of ticker i over the days j has
    ss_i = (y * y).T @ m
    s_ij = y.T @ y
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = s_ij - s_i * s_i.T / n
        var_i = ss_i - s_i * s_i / n
        r = cov / np.sqrt(var_i * var_i.T)
    r[n < 2] = np.nan
    np.fill_diagonal(r, np.nan)
    return np.asarray(r)


def pairwise_mean_correlation(ar: np.ndarray) -> float:
    """Kolari-Pynnönen r-bar: the mean over the pairs i < j of their correlation over common days."""
    r = pairwise_correlations(ar)
    upper = r[np.triu_indices_from(r, k=1)]
    return float(np.nanmean(upper))


def shortcut_mean_correlation(ar: np.ndarray) -> float:
    """The project's current fast form (transforms/group_tests.py mean_residual_correlation), reproduced: z per
    ticker demeaned and divided by its sample sd over its own days, 0 where missing; T = the mean over the
    (ticker, day) rows of the ticker's day count."""
    valid = ~np.isnan(ar)
    days = valid.sum(axis=0)
    mean = np.where(valid, ar, 0.0).sum(axis=0) / days
    sd = np.sqrt(np.where(valid, (ar - mean) ** 2, 0.0).sum(axis=0) / (days - 1))
    z = np.where(valid, (ar - mean) / sd, 0.0)
    cross = float(((z.sum(axis=1)) ** 2 - (z * z).sum(axis=1)).sum())
    t = float((days * days).sum() / days.sum())
    n = ar.shape[1]
    return cross / ((t - 1) * n * (n - 1))


def rank_u(ar: np.ndarray) -> np.ndarray:
    """U_it = K_it / (M_i + 1) - 1/2 per ticker over its own days (average ranks for ties), NaN where missing."""
    out = np.full(ar.shape, np.nan)
    for i in range(ar.shape[1]):  # reference code: clarity over speed
        col = ar[:, i]
        ok = ~np.isnan(col)
        values = col[ok]
        order = np.argsort(values, kind="stable")
        ranks = np.empty(len(values))
        ranks[order] = np.arange(1, len(values) + 1)
        for v in np.unique(values):  # average ranks of ties
            tie = values == v
            ranks[tie] = ranks[tie].mean()
        out[ok, i] = ranks / (len(values) + 1) - 0.5
    return out


def corrado_rank_z(ar: np.ndarray, window_rows: np.ndarray, weighted: bool = True) -> float:
    """Corrado rank Z over the window rows of `ar` (estimation and event days, days x tickers). `weighted`:
    s_U^2 = (1/T) sum_t (N_t / N) U_t^2 (Campbell and Wasley 1993; Cowan 1992), else (1/T) sum_t U_t^2."""
    u = rank_u(ar)
    n_t = (~np.isnan(u)).sum(axis=1)
    has = n_t > 0
    u_bar = np.where(has, np.nansum(u, axis=1) / np.maximum(n_t, 1), np.nan)
    weights = n_t / ar.shape[1] if weighted else np.ones(len(n_t))
    s_u = np.sqrt(np.sum((weights * u_bar**2)[has]) / has.sum())
    return float(u_bar[window_rows].sum() / (np.sqrt(len(window_rows)) * s_u))
