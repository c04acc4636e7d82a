"""Ordinary least squares with classical standard errors (numpy only).

Coefficients come from `numpy.linalg.lstsq` (SVD, stable for the mildly collinear weather designs);
standard errors are the classical homoskedastic ones, sqrt(diag(s² (X'X)⁻¹)) with s² = RSS / (n - k), the
textbook OLS covariance (e.g. Greene, Econometric Analysis, ch. 4) and what statsmodels' OLS reports by
default. (X'X)⁻¹ is formed from the R of a QR decomposition, never by inverting X'X directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class OlsFit:
    """Fitted coefficients and their standard errors, by regressor name."""

    names: tuple[str, ...]
    coef: NDArray[np.float64]
    se: NDArray[np.float64]
    r2: float
    n_obs: int
    residual_variance: float

    def coefficient(self, name: str) -> float:
        return float(self.coef[self.names.index(name)])

    def standard_error(self, name: str) -> float:
        return float(self.se[self.names.index(name)])

    def predict(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(x @ self.coef, dtype=np.float64)


class RankDeficientError(ValueError):
    """The design matrix does not have full column rank (a regressor is constant or duplicated)."""


def ols(y: NDArray[np.float64], x: NDArray[np.float64], names: tuple[str, ...]) -> OlsFit:
    """Fit y = X b + e. `x` includes the intercept column; raises RankDeficientError if X'X is singular."""
    n, k = x.shape
    if n <= k:
        raise RankDeficientError(f"{n} observations for {k} coefficients")
    coef, _, rank, _ = np.linalg.lstsq(x, y, rcond=None)
    if rank < k:
        raise RankDeficientError(f"design has rank {rank} < {k} columns ({', '.join(names)})")
    resid = y - x @ coef
    rss = float(resid @ resid)
    centred = y - y.mean()
    tss = float(centred @ centred)
    s2 = rss / (n - k)
    r = np.linalg.qr(x, mode="r")
    r_inv = np.linalg.solve(r, np.eye(k))
    cov = s2 * (r_inv @ r_inv.T)
    return OlsFit(
        names=names,
        coef=np.asarray(coef, dtype=np.float64),
        se=np.sqrt(np.diag(cov)),
        r2=1.0 - rss / tss if tss > 0 else 0.0,
        n_obs=n,
        residual_variance=s2,
    )
