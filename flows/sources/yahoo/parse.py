"""yf.download's wide frame (ticker x field columns) → long polars rows, with array reshapes.

`auto_adjust=False` keeps Yahoo's close (split-adjusted only) and adj_close (split- and dividend-adjusted)
apart; `actions=True` yields the dividends, splits and fund capital gains that explain the difference, stored
in `core.corporate_actions`. `ignore_tz=True` makes yfinance return naive exchange-local midnights, so a
Frankfurt (`.DE`) or Sydney (`.AX`) session keeps its own date; converting yfinance's tz-aware local midnight to
UTC would move every European and Asian bar back a day. No per-row Python: a 3,000-ticker history converts in
seconds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import polars as pl

from warehouse.tables.core import PRICES_DAILY
from warehouse.tables.prices_live import CORPORATE_ACTIONS

SOURCE_NAME = "yfinance"

YF_FIELDS = ("Open", "High", "Low", "Close", "Adj Close", "Volume", "Dividends", "Stock Splits", "Capital Gains")
"""Per-ticker columns of `yf.download(..., actions=True, auto_adjust=False)` (Capital Gains only for funds)."""

_PRICE_FIELDS = {
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Adj Close": "adj_close",
    "Volume": "volume",
}
_ACTION_FIELDS = {"Dividends": "dividend", "Stock Splits": "split", "Capital Gains": "capital_gain"}

RAW_SCHEMA = PRICES_DAILY.polars_schema(
    columns=("ticker", "date", "open", "high", "low", "close", "adj_close", "volume"),
    # volume stays float until validation: yfinance reports a missing volume as NaN
    overrides={"volume": pl.Float64()},
)
"""Long rows as parsed from yfinance, before validation (`flows.sources.validate.validate_prices`)."""

ACTION_COLUMNS = CORPORATE_ACTIONS.polars_schema(exclude=("loaded_at",))
"""Columns of core.corporate_actions a source provides (all but loaded_at, which the loader stamps)."""


def _by_ticker_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with (ticker, field) column levels, whichever `group_by` produced it."""
    if not isinstance(frame.columns, pd.MultiIndex) or frame.columns.nlevels != 2:
        raise ValueError("expected yf.download's two-level (ticker, field) columns; pass multi_level_index=True")
    if set(frame.columns.get_level_values(0)) & set(YF_FIELDS):
        return frame.swaplevel(0, 1, axis=1)
    return frame


def _exchange_dates(index: pd.Index) -> np.ndarray:
    """Index → numpy datetime64[D] of the exchange-local dates (tz-aware indexes keep their wall clock)."""
    dt_index = pd.DatetimeIndex(index)
    if dt_index.tz is not None:
        dt_index = dt_index.tz_localize(None)
    return np.asarray(dt_index.normalize().values.astype("datetime64[D]"))


def _field_major(wide: pd.DataFrame, names: list[str]) -> np.ndarray:
    """The frame's values as a C-contiguous (tickers x fields x dates) float64 cube, every (ticker, field) present.

    yf.download's frame is one float64 block already laid out ticker-major (pandas stores a block column by
    column), so in the usual case this is a view of it; reindexing (a missing or reordered ticker or field, a
    duplicated column) and non-float blocks take the general path.
    """
    level0 = wide.columns.get_level_values(0).astype(str).str.upper()
    columns = pd.MultiIndex.from_arrays([level0, wide.columns.get_level_values(1)])
    full = pd.MultiIndex.from_product([names, YF_FIELDS])
    if columns.equals(full) and all(dtype == np.float64 for dtype in wide.dtypes):
        values = wide.to_numpy(dtype=np.float64)  # NaN is already the float missing value
    else:
        aligned = wide.set_axis(columns, axis=1)
        if columns.has_duplicates:
            aligned = aligned.loc[:, ~columns.duplicated()]
        values = aligned.reindex(columns=full).to_numpy(dtype=np.float64, na_value=np.nan)
    # (dates x tickers*fields) -> (tickers*fields x dates): free when pandas handed out its block's transpose.
    return np.ascontiguousarray(values.T).reshape(len(names), len(YF_FIELDS), len(wide.index))


def wide_to_long(frame: pd.DataFrame | None, tickers: Sequence[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """yf.download's wide frame → (long price rows RAW_SCHEMA, corporate actions ACTION_COLUMNS).

    Array reshapes per chunk, no per-row Python: the frame's values are viewed as a tickers x fields x dates
    cube (`_field_major`), each price field becomes one contiguous ticker-major column (one copy), and the
    rows come out ordered by (ticker, date). A (ticker, date) with every price and the volume missing is only
    the union of the tickers' calendars (or a ticker yfinance returned nothing for) and is dropped here; a row
    with some values but no close is kept for `validate_prices` to reject and count. Actions are the non-zero
    Dividends / Stock Splits / Capital Gains cells, found with `np.nonzero` on the cube.
    """
    names = [t.upper() for t in dict.fromkeys(tickers)]
    if frame is None or frame.empty or not names:
        return pl.DataFrame(schema=RAW_SCHEMA), pl.DataFrame(schema=ACTION_COLUMNS)
    wide = _by_ticker_columns(frame)
    cube = _field_major(wide, names)
    n_tickers, n_dates = len(names), len(wide.index)
    dates = _exchange_dates(wide.index).astype(np.int64).astype(np.int32)  # days since 1970: polars Date's layout
    field_index = {name: i for i, name in enumerate(YF_FIELDS)}

    columns = {dst: cube[:, field_index[src], :].reshape(-1) for src, dst in _PRICE_FIELDS.items()}
    present = np.zeros(n_tickers * n_dates, dtype=bool)
    for values in columns.values():
        present |= ~np.isnan(values)
    ticker_idx = np.repeat(np.arange(n_tickers, dtype=np.uint32), n_dates)
    date_col = np.tile(dates, n_tickers)
    if not present.all():
        columns = {name: values[present] for name, values in columns.items()}
        ticker_idx, date_col = ticker_idx[present], date_col[present]
    names_series = pl.Series("ticker", names, dtype=pl.String)
    prices = pl.DataFrame(
        [
            names_series.gather(ticker_idx),
            pl.Series("date", date_col, dtype=pl.Int32).cast(pl.Date),
            *[pl.Series(name, values, dtype=pl.Float64, nan_to_null=False) for name, values in columns.items()],
        ]
    )

    action_frames = []
    for src, kind in _ACTION_FIELDS.items():
        block = cube[:, field_index[src], :]
        t_idx, d_idx = np.nonzero(~np.isnan(block) & (block != 0))  # in (ticker, date) order
        action_frames.append(
            pl.DataFrame(
                {
                    "ticker": names_series.gather(t_idx.astype(np.uint32)),
                    "date": pl.Series(dates[d_idx], dtype=pl.Int32).cast(pl.Date),
                    "kind": pl.Series([kind], dtype=pl.String).gather(np.zeros(len(t_idx), dtype=np.uint32)),
                    "value": pl.Series(block[t_idx, d_idx], dtype=pl.Float64),
                }
            )
        )
    actions = pl.concat(action_frames).with_columns(pl.lit(SOURCE_NAME).alias("source"))
    return prices.cast(RAW_SCHEMA), actions.cast(ACTION_COLUMNS).sort("ticker", "date", "kind")
