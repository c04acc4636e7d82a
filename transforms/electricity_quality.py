"""Implausible hourly electricity values: find them, record them, keep them out of every later computation.

Pure (frames in, frames out). `screen_hourly(frame)` takes core.electricity_demand_hourly rows and returns the
cleaned rows (each flagged value set to NULL, so the hour counts as not reported and the local-day rules for
short days apply) and one row per flagged value (respondent, subba, type, period_utc, value_mwh, reason) for
the data-quality results. The raw value stays in core (it is what EIA published); only marts are spared it.

Rules, per series (respondent, subba, type); each is a physical impossibility, not a statistical outlier:

* `int32_sentinel` (every type): a value at or above 2,147,000,000, the int32 maximum 2,147,483,647 as EIA's
  pipeline writes it (PJM 2021-10-19T04 = 2,147,480,000). No US balancing area is near 1e9 MW.
* `negative_demand` (D and DF): demand is a load and cannot be negative (NG and TI can be).
* `far_above_series` (D and DF): above K_MEDIAN = 10 times the series' own median. The largest US load's
  record peak is under twice its median hour (PJM: 160,560 MW peak against a ~90,000 MW median), so 10x is
  far outside anything real, yet catches the PJM 2021-10-19T03 and T05 hours (1.53e9, 4.31e8 MW) that sit
  between real hours. The median of the series is robust to the few bad values it judges.
* `one_hour_dip` (D): an hour below DIP_RATIO = 0.6 of BOTH nearest reported neighbours (the previous and
  next non-null hour). A BA's load moves a few percent per hour and never drops by 40% and back within one
  hour; such hours are reporting faults. This flags the DST-change hours where a BA reported half an hour's
  energy (PJM 2023-11-06T05 = 36,372 MW, exactly half of the next hour's 72,744) and PJM 2024-11-21T17
  (56,260 between 94,812 and 95,482). Flagging them is deliberate: the local day then counts 23 reported hours
  and is normalised or left out by the daily rules, instead of being read as a 1.5% lower day.

Zero-length and all-null series are not errors but are returned as warnings (`series_warnings`).
Everything is vectorised over all series at once (window expressions over the series key); no row loops.
"""

from __future__ import annotations

import polars as pl

SENTINEL_MWH = 2_147_000_000.0
K_MEDIAN = 10.0
DIP_RATIO = 0.6
SERIES = ["respondent", "subba", "type"]
DEMAND_TYPES = ["D", "DF"]

FLAG_SCHEMA: dict[str, pl.DataType] = {
    "respondent": pl.String(),
    "subba": pl.String(),
    "type": pl.String(),
    "period_utc": pl.Datetime("us", "UTC"),
    "value_mwh": pl.Float64(),
    "reason": pl.String(),
}
"""One flagged value: which series and hour, the value EIA published, and the rule it broke."""


def _reason(frame: pl.DataFrame) -> pl.DataFrame:
    """Add `reason` (first rule broken, or null) to time-sorted hourly rows."""
    value = pl.col("value_mwh")
    demand = pl.col("type").cast(pl.String).is_in(DEMAND_TYPES)
    median = value.filter(value < SENTINEL_MWH).median().over(SERIES)
    prev = value.shift(1).forward_fill().over(SERIES)
    nxt = value.shift(-1).backward_fill().over(SERIES)
    dip = (pl.col("type").cast(pl.String) == "D") & (value < DIP_RATIO * pl.min_horizontal(prev, nxt))
    return frame.with_columns(
        pl.when(value >= SENTINEL_MWH)
        .then(pl.lit("int32_sentinel"))
        .when(demand & (value < 0))
        .then(pl.lit("negative_demand"))
        .when(demand & (median > 0) & (value > K_MEDIAN * median))
        .then(pl.lit("far_above_series"))
        .when(dip.fill_null(False))
        .then(pl.lit("one_hour_dip"))
        .otherwise(None)
        .alias("reason")
    )


def screen_hourly(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(cleaned rows with flagged values set to NULL, flagged values) for hourly rows of any series mix.

    The one-hour-dip rule is judged against the other rules' cleaned neighbours, so a sentinel next to a real
    hour cannot make that real hour look like a dip.
    """
    if frame.height == 0:
        return frame, pl.DataFrame(schema=FLAG_SCHEMA)
    # series in any order, hours in time order within each: categorical labels sort by their codes (a
    # lexical categorical sort costs most of the screen)
    by = [pl.col(c).to_physical() if frame.schema[c] == pl.Categorical else pl.col(c) for c in SERIES]
    ordered = frame.with_row_index("_row").sort([*by, pl.col("period_utc")])
    first = _reason(ordered)
    gross = first["reason"].is_in(["int32_sentinel", "negative_demand", "far_above_series"]).fill_null(False)
    cleared = first.with_columns(pl.when(gross).then(None).otherwise(pl.col("value_mwh")).alias("value_mwh"))
    second = _reason(cleared.drop("reason"))
    reason = pl.when(gross).then(first["reason"]).otherwise(second["reason"])
    judged = first.with_columns(reason.alias("reason"))
    flagged = judged.filter(pl.col("reason").is_not_null()).select([pl.col(n).cast(t) for n, t in FLAG_SCHEMA.items()])
    cleaned = (
        judged.with_columns(
            pl.when(pl.col("reason").is_null()).then(pl.col("value_mwh")).otherwise(None).alias("value_mwh")
        )
        .sort("_row")
        .select(frame.columns)
    )
    return cleaned, flagged


def series_warnings(frame: pl.DataFrame, expected: list[tuple[str, str, str]] | None = None) -> list[tuple[str, str]]:
    """(series label, problem) for series with no rows (of those `expected`) or with only null values."""
    counts = frame.group_by(SERIES).agg(pl.col("value_mwh").count().alias("n_values"), pl.len().alias("n_rows"))
    labels = counts.with_columns(
        pl.concat_str([pl.col(c).cast(pl.String) for c in SERIES], separator="/").alias("label")
    )
    out = [(label, "all values are null") for label in labels.filter(pl.col("n_values") == 0)["label"].to_list()]
    present = {tuple(str(v) for v in row) for row in counts.select(SERIES).iter_rows()}
    for key in expected or []:
        if key not in present:
            out.append(("/".join(key), "no rows (zero-length series)"))
    return out
