"""Ordinary least squares with classical standard errors (numpy only).

The estimator is textbook OLS, b = (X'X)⁻¹ X'y, with the classical homoskedastic covariance s² (X'X)⁻¹,
s² = RSS / (n - k) (e.g. Greene, Econometric Analysis, ch. 4), which is what statsmodels' OLS reports by
default; the tests hold both to 1e-9.

How it is solved: the columns of X are first scaled to unit length (equilibration), the k x k cross-product
of the scaled columns is factored by Cholesky, and one step of iterative refinement on the residual recovers
the digits the cross-product loses (Golub & Van Loan, Matrix Computations, §5.3 and §3.5.3). A QR or SVD of
the tall n x k matrix would be the usual choice, but OpenBLAS's threaded LAPACK routines are slow for
tall-skinny matrices on a shared machine, while here the only O(n) work is two matrix products and
everything else happens on a k x k matrix (k ≤ 12). Rank deficiency (a constant or duplicated regressor) is
detected from the condition number of the scaled cross-product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

MAX_CONDITION = 1e10
"""Largest condition number of the scaled cross-product accepted (its square root bounds cond(X))."""


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
    """Fit y = X b + e. `x` includes the intercept column; raises RankDeficientError if X is rank deficient."""
    n, k = x.shape
    if n <= k:
        raise RankDeficientError(f"{n} observations for {k} coefficients")
    scale = np.sqrt(np.einsum("ij,ij->j", x, x))
    if np.any(scale == 0):
        raise RankDeficientError(f"a regressor is all zero ({', '.join(names)})")
    xs = x / scale
    gram = xs.T @ xs
    condition = np.linalg.cond(gram)
    if not np.isfinite(condition) or condition > MAX_CONDITION:
        raise RankDeficientError(f"design is (near) rank deficient, condition {condition:.3g} ({', '.join(names)})")
    chol = np.linalg.cholesky(gram)

    def solve(rhs: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(np.linalg.solve(chol.T, np.linalg.solve(chol, rhs)), dtype=np.float64)

    beta_s = solve(xs.T @ y)
    beta_s = beta_s + solve(xs.T @ (y - xs @ beta_s))  # one step of iterative refinement
    resid = y - xs @ beta_s
    rss = float(resid @ resid)
    centred = y - y.mean()
    tss = float(centred @ centred)
    s2 = rss / (n - k)
    gram_inv = solve(np.eye(k))
    coef = beta_s / scale
    se = np.sqrt(s2 * np.diag(gram_inv)) / scale
    return OlsFit(
        names=names,
        coef=np.asarray(coef, dtype=np.float64),
        se=np.asarray(se, dtype=np.float64),
        r2=1.0 - rss / tss if tss > 0 else 0.0,
        n_obs=n,
        residual_variance=s2,
    )
