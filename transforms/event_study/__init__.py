"""The event study: abnormal returns, CARs and group tests of AI-efficiency shocks, the engine production runs.

- `contract`: the models, the configuration, the result frames and their schemas (from the table registry), the
  skip rules and warnings;
- `study`: `run_dense_study`, on dense arrays: `scatter` (returns into a ticker x day matrix), `layout` (the
  arrays), `chunk` (every statistic of one chunk of events), `fits` (the models), `ranks` (Corrado rank sums),
  `group_stats` (marts.group_impact), `frames` (the output frames), `pvalues` (Student-t p-values);
- `compiled`: the loader of the C kernels (`kernels/*.c`, one family a file, built into one extension module).

The independent reference implementation the tests check this engine against lives in tests/reference/;
production never imports it.
"""

from transforms.event_study.contract import (
    DEFAULT_CONFIG,
    MODEL_CONSTANT_MEAN,
    MODEL_MARKET,
    MODEL_MARKET_ADJUSTED,
    MODELS,
    EventStudyConfig,
    EventStudyResult,
)
from transforms.event_study.study import DenseStudy, run_dense_study

__all__ = [
    "DEFAULT_CONFIG",
    "MODELS",
    "MODEL_CONSTANT_MEAN",
    "MODEL_MARKET",
    "MODEL_MARKET_ADJUSTED",
    "DenseStudy",
    "EventStudyConfig",
    "EventStudyResult",
    "run_dense_study",
]
