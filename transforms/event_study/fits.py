"""The expected-return models fitted from the estimation sums, on dense arrays (the formulas: docs/methods.md).

market: OLS `beta = S_xy / S_xx`, `alpha = ybar - beta xbar`, n - 2 degrees of freedom, `sigma^2 = (S_yy - beta
S_xy) / d`; market_adjusted: alpha 0, beta 1, n - 1, `sigma^2 = (S_yy - 2 S_xy + S_xx) / d`; constant_mean:
alpha = ybar, beta 0, n - 1, `sigma^2 = S_yy / d`. The centred moments S_ come from the compiled estimation sums
(kernels/estimation.c), two passes per pair, which avoid the cancellation of `sum xy - sum x sum y / n`.
"""

from __future__ import annotations

import numpy as np

from transforms.event_study.contract import MODEL_CONSTANT_MEAN, MODEL_MARKET, MODEL_MARKET_ADJUSTED

# The estimation sums after n, in the order kernels/estimation.c writes them.
SUMS = ("sum_x", "sum_y", "sum_xx", "sum_xy", "sum_yy", "x_mean", "y_mean", "s_xx", "s_xy", "s_yy")
# Model codes of kernels/estimation.c (window_stats).
MODEL_KINDS = {MODEL_MARKET: 0, MODEL_MARKET_ADJUSTED: 1, MODEL_CONSTANT_MEAN: 2}


def model_params(
    models: list[str], nf: np.ndarray, sums: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """alpha, beta, dof, sigma of every model, shape (tickers, models, events), from the estimation sums."""
    with np.errstate(invalid="ignore", divide="ignore"):
        beta_m = sums["s_xy"] / sums["s_xx"]
        alpha_m = sums["y_mean"] - beta_m * sums["x_mean"]
        alphas, betas, dofs, ssrs = [], [], [], []
        for m in models:
            if m == MODEL_MARKET:
                alphas.append(alpha_m)
                betas.append(beta_m)
                dofs.append(nf - 2)
                ssrs.append(np.clip(sums["s_yy"] - beta_m * sums["s_xy"], 0.0, None))
            elif m == MODEL_MARKET_ADJUSTED:
                alphas.append(np.zeros_like(nf))
                betas.append(np.ones_like(nf))
                dofs.append(nf - 1)
                ssrs.append(np.clip(sums["s_yy"] - 2 * sums["s_xy"] + sums["s_xx"], 0.0, None))
            else:
                alphas.append(sums["y_mean"])
                betas.append(np.zeros_like(nf))
                dofs.append(nf - 1)
                ssrs.append(sums["s_yy"])
        dof = np.stack(dofs, 1)
        sigma = np.where(dof > 0, np.sqrt(np.stack(ssrs, 1) / dof), np.nan)
    return np.stack(alphas, 1), np.stack(betas, 1), dof, sigma
