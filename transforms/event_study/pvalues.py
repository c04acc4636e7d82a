"""Two-sided Student-t p-values for hundreds of thousands of statistics at a time: the one `two_sided_t_p` of the
engine, within 1e-12 (absolute) of scipy's `2 * scipy.stats.t.sf(|t|, dof)`.

Why tables: scipy evaluates an incomplete beta function per value, which made the p-value columns of
marts.event_impact the largest single cost of the event study. Here, for every degrees-of-freedom value shared by
many statistics (one estimation length: in practice a handful of values cover almost every row), `2 P(T > |t|)`
is tabulated once on a grid of |t| with its first and second derivatives (from the density) and evaluated by
quintic Hermite interpolation. Rare degrees of freedom, |t| beyond the grid and fewer than 3 degrees of freedom
go to scipy itself. The evaluation is one compiled pass (kernels/pvalues.c). The accuracy is checked in
tests/test_dense_pvalues.py over the whole grid, for 3 to 60,000 degrees of freedom and on the direct paths.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import special

from transforms.event_study.compiled import kernels

_STEP = 1.0 / 32.0  # grid spacing in |t|
_T_MAX = 40.0  # grid end; larger |t| are computed directly
_MIN_DOF = 3.0  # below this, direct (the heavy-tailed densities have large high derivatives near 0)
_MIN_SHARE = 4 * int(_T_MAX / _STEP)  # a degrees-of-freedom value needs this many statistics to be tabulated
_INTERVALS = int(_T_MAX / _STEP) + 1  # grid intervals of a table
_TABLE_DOF_LIMIT = 1 << 16  # degrees of freedom from here on are computed directly (estimation windows are shorter)


def _direct(t: np.ndarray, dof: np.ndarray) -> np.ndarray:
    return np.asarray(2.0 * special.stdtr(dof, -t), dtype=np.float64)


@functools.lru_cache(maxsize=256)
def _table(dof: float) -> np.ndarray:
    """(K, 6) coefficients of the quintic in s = t / h - k on each grid interval [k h, (k + 1) h] that matches
    2 P(T > t) and its first two derivatives (from the density) at both ends (Hermite interpolation)."""
    grid = np.arange(int(_T_MAX / _STEP) + 2) * _STEP
    log_norm = special.gammaln((dof + 1) / 2) - special.gammaln(dof / 2) - 0.5 * np.log(dof * np.pi)
    density = np.exp(log_norm - (dof + 1) / 2 * np.log1p(grid * grid / dof))
    f = _direct(grid, np.full(grid.shape, dof))
    d = -2.0 * density * _STEP  # derivatives with respect to s
    c = 2.0 * density * (dof + 1) * grid / (dof + grid * grid) * _STEP * _STEP
    f0, f1, d0, d1, c0, c1 = f[:-1], f[1:], d[:-1], d[1:], c[:-1], c[1:]
    table = np.stack(
        [
            f0,
            d0,
            0.5 * c0,
            10.0 * (f1 - f0) - 6.0 * d0 - 4.0 * d1 - 1.5 * c0 + 0.5 * c1,
            15.0 * (f0 - f1) + 8.0 * d0 + 7.0 * d1 + 1.5 * c0 - c1,
            6.0 * (f1 - f0) - 3.0 * d0 - 3.0 * d1 - 0.5 * c0 + 0.5 * c1,
        ],
        axis=-1,
    )
    table.flags.writeable = False  # shared by every call (cached)
    return table


def two_sided_t_p(t: np.ndarray, dof: np.ndarray | float) -> np.ndarray:
    """`2 P(T_dof > |t|)` elementwise (NaN where t or dof is NaN), within 1e-12 (absolute) of scipy's
    `2 * scipy.stats.t.sf(|t|, dof)`.

    The tables' evaluation is one compiled pass (kernels/pvalues.c: hermite_p); tables are cached per degrees of
    freedom, so the p-value columns of one study share them."""
    t = np.asarray(t, dtype=np.float64)
    shape = t.shape
    flat_t = np.ascontiguousarray(t.reshape(-1))
    flat_dof = np.ascontiguousarray(np.broadcast_to(np.asarray(dof, dtype=np.float64), shape).reshape(-1))
    n = flat_t.size
    counts = np.zeros(_TABLE_DOF_LIMIT, dtype=np.int64)
    kernels.dof_counts(flat_dof, counts, n, _TABLE_DOF_LIMIT, _MIN_DOF)
    common = np.flatnonzero(counts >= _MIN_SHARE)
    row_of = np.full(_TABLE_DOF_LIMIT, -1, dtype=np.int64)
    row_of[common] = np.arange(common.size)
    coef = np.stack([_table(float(d)) for d in common]) if common.size else np.zeros((0, _INTERVALS, 6))
    p = np.empty(n)
    slow = np.empty(n, dtype=np.uint8)
    kernels.hermite_p(flat_t, flat_dof, coef, row_of, p, slow, n, _TABLE_DOF_LIMIT, _INTERVALS, _STEP, _T_MAX)
    direct = np.flatnonzero(slow)
    if direct.size:
        p[direct] = _direct(np.abs(flat_t[direct]), flat_dof[direct])
    return p.reshape(shape)
