"""The returns, scattered into a (ticker code x trading day) matrix: the dense engine's one input array.

Each (event, ticker) window is later a gather of this matrix at `day0 + rel_day` on the benchmark's calendar
(kernels/scatter.c), so the long `ticker, date, ret` frame is read once, here.
"""

from __future__ import annotations

import typing

import numpy as np
import polars as pl

from transforms.event_study.compiled import kernels as _kernels

_SLICE_ROWS = 1 << 20  # input rows converted to numpy at a time (bounds the scatter's working memory)


def ticker_codes(ticker: pl.Series, names: list[str]) -> np.ndarray:
    """int32 position of each row's ticker in `names` (len(names) for any other ticker or null), without a
    string per row: inputs sorted by ticker come in runs (one lookup per run; a Categorical or Enum column's runs
    are found on its integer codes); otherwise an Enum maps its categories, a Categorical its distinct values, and
    anything else is cast to an Enum of `names`."""
    other = len(names)
    code_of = {name: i for i, name in enumerate(names)}
    categorical = isinstance(ticker.dtype, pl.Categorical | pl.Enum)
    runs = (ticker.to_physical() if categorical else ticker.cast(pl.String)).rle()
    if runs.len() <= max(1024, ticker.len() // 16):
        lengths = runs.struct.field("len")
        values = ticker.gather(lengths.cum_sum() - lengths).cast(pl.String).to_list()  # each run's first row
        run_codes = np.array([other if v is None else code_of.get(v, other) for v in values], dtype=np.int32)
        return np.repeat(run_codes, lengths.to_numpy())
    del runs
    if isinstance(ticker.dtype, pl.Enum):
        categories = ticker.dtype.categories.to_list()
        lookup = np.array([*(code_of.get(v, other) for v in categories), other], dtype=np.int32)  # last: null
        physical = ticker.to_physical()
        if physical.null_count():
            physical = physical.cast(pl.Int32).fill_null(len(categories))
        return lookup[physical.to_numpy()]
    if categorical:
        present = ticker.unique().drop_nulls()
        present_codes = present.to_physical().cast(pl.Int64).to_numpy()
        lookup = np.full(int(present_codes.max(initial=-1)) + 2, other, dtype=np.int32)  # last entry: null
        lookup[present_codes] = [code_of.get(v, other) for v in present.cast(pl.String).to_list()]
        return lookup[ticker.to_physical().cast(pl.Int64).fill_null(lookup.size - 1).to_numpy()]
    enum = ticker.cast(pl.String).cast(pl.Enum(names), strict=False).to_physical()
    return enum.cast(pl.Int32).fill_null(other).to_numpy()


def scatter(returns: pl.DataFrame, names: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(matrix, axis_days, has_prices): the returns of `names` as a (ticker code x trading day) matrix with NaN
    where absent, the int32 day numbers of its columns, and which codes have any return. Duplicates raise.

    The input is converted to numpy once, a slice of _SLICE_ROWS rows at a time (an int32 code and day and a
    float64 return a row: 16 bytes, the return zero-copy where polars can), then two compiled passes run over the
    slices: the days with a return, then the values (a repeated (ticker, date) is found as a cell written twice).
    That is held only while the matrix is built, well under the study's peak, which comes at its end."""
    n = len(names)
    codes = ticker_codes(returns["ticker"], names)
    days = returns["date"].cast(pl.Date).cast(pl.Int32)
    rets = returns["ret"].cast(pl.Float64)
    bounds = range(0, returns.height, _SLICE_ROWS)

    def piece(start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ret = np.ascontiguousarray(rets.slice(start, _SLICE_ROWS).to_numpy(), dtype=np.float64)  # nulls: NaN
        day = np.ascontiguousarray(days.slice(start, _SLICE_ROWS).to_numpy(), dtype=np.int32)
        return np.ascontiguousarray(codes[start : start + ret.size]), day, ret

    if days.null_count() == days.len():
        return np.full((n, 0), np.nan), np.zeros(0, np.int32), np.zeros(n, dtype=bool)
    first, last = int(typing.cast(int, days.min())), int(typing.cast(int, days.max()))
    days = days.fill_null(last + 1)  # outside the span: counted by scatter_counts and refused below
    span = last - first + 1
    present = np.zeros(span, dtype=np.int64)
    priced = np.zeros(n, dtype=np.int64)
    undated = 0
    pieces = [piece(start) for start in bounds]  # converted once, for both passes
    for code, day, ret in pieces:
        undated += _kernels.scatter_counts(code, day, ret, present, priced, ret.size, n, first, span)
    if undated:
        raise ValueError(f"returns has {undated} rows with a return but no date")
    axis_days = (np.flatnonzero(present) + first).astype(np.int32)
    column_of = np.cumsum(present > 0) - 1
    matrix = np.full((n, axis_days.size), np.nan)
    repeated = 0
    for code, day, ret in pieces:
        repeated += _kernels.scatter_fill(code, day, ret, column_of, matrix, ret.size, n, first, span, axis_days.size)
    del pieces
    if repeated:
        valid = returns.filter(pl.col("ret").is_not_null() & pl.col("ret").is_not_nan())
        dupes = valid.filter(
            pl.col("ticker").cast(pl.String).is_in(names) & pl.struct("ticker", "date").is_duplicated()
        )
        found = [(str(t), str(d)) for t, d in dupes.select("ticker", "date").head(3).rows()]
        raise ValueError(f"returns repeats ['ticker', 'date']: {found}")
    return matrix, axis_days, priced > 0
