"""When is a daily bar final? Exchange sessions by Yahoo symbol suffix.

Yahoo appends the live session as the last bar. `drop_unfinished_bars` keeps a bar only once its exchange's
regular session has closed (plus a settling margin), from a table of exchange suffixes; an unknown suffix waits
until the date is over everywhere on Earth.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from zoneinfo import ZoneInfo

import polars as pl


@dataclass(frozen=True)
class Exchange:
    """Where a listing trades: its time zone and the local end of its regular session."""

    tz: str
    close: dtime


US = Exchange("America/New_York", dtime(16, 0))
EXCHANGES: dict[str, Exchange] = {
    "": US,  # no suffix: US listings, and ^ indices quoted in New York
    ".TO": Exchange("America/Toronto", dtime(16, 0)),
    ".V": Exchange("America/Toronto", dtime(16, 0)),
    ".NE": Exchange("America/Toronto", dtime(16, 0)),
    ".SA": Exchange("America/Sao_Paulo", dtime(18, 0)),
    ".MX": Exchange("America/Mexico_City", dtime(15, 0)),
    ".L": Exchange("Europe/London", dtime(16, 35)),
    ".IL": Exchange("Europe/London", dtime(16, 35)),
    ".DE": Exchange("Europe/Berlin", dtime(17, 35)),  # Xetra, incl. closing auction
    ".F": Exchange("Europe/Berlin", dtime(22, 0)),  # Frankfurt floor trades into the evening
    ".BE": Exchange("Europe/Berlin", dtime(22, 0)),
    ".DU": Exchange("Europe/Berlin", dtime(22, 0)),
    ".HM": Exchange("Europe/Berlin", dtime(22, 0)),
    ".HA": Exchange("Europe/Berlin", dtime(22, 0)),
    ".MU": Exchange("Europe/Berlin", dtime(22, 0)),
    ".SG": Exchange("Europe/Berlin", dtime(22, 0)),
    ".PA": Exchange("Europe/Paris", dtime(17, 35)),
    ".AS": Exchange("Europe/Amsterdam", dtime(17, 35)),
    ".BR": Exchange("Europe/Brussels", dtime(17, 35)),
    ".LS": Exchange("Europe/Lisbon", dtime(16, 35)),
    ".MI": Exchange("Europe/Rome", dtime(17, 35)),
    ".MC": Exchange("Europe/Madrid", dtime(17, 35)),
    ".SW": Exchange("Europe/Zurich", dtime(17, 35)),
    ".VI": Exchange("Europe/Vienna", dtime(17, 35)),
    ".CO": Exchange("Europe/Copenhagen", dtime(17, 0)),
    ".ST": Exchange("Europe/Stockholm", dtime(17, 30)),
    ".OL": Exchange("Europe/Oslo", dtime(16, 25)),
    ".HE": Exchange("Europe/Helsinki", dtime(18, 30)),
    ".T": Exchange("Asia/Tokyo", dtime(15, 30)),
    ".HK": Exchange("Asia/Hong_Kong", dtime(16, 10)),
    ".SS": Exchange("Asia/Shanghai", dtime(15, 0)),
    ".SZ": Exchange("Asia/Shanghai", dtime(15, 0)),
    ".KS": Exchange("Asia/Seoul", dtime(15, 30)),
    ".KQ": Exchange("Asia/Seoul", dtime(15, 30)),
    ".TW": Exchange("Asia/Taipei", dtime(13, 30)),
    ".SI": Exchange("Asia/Singapore", dtime(17, 16)),
    ".NS": Exchange("Asia/Kolkata", dtime(15, 30)),
    ".BO": Exchange("Asia/Kolkata", dtime(15, 30)),
    ".AX": Exchange("Australia/Sydney", dtime(16, 12)),
    ".NZ": Exchange("Pacific/Auckland", dtime(16, 45)),
    ".JO": Exchange("Africa/Johannesburg", dtime(17, 0)),
}
"""Yahoo symbol suffix → exchange. Anything else (futures `=F`, FX `=X`, crypto `-USD`, other suffixes) is
treated conservatively: a bar counts as final only once its date has ended in every time zone."""

_SUFFIX = re.compile(r"(\.[A-Z]{1,3})$")


def exchange_key(ticker: str) -> str | None:
    """The EXCHANGES key of a Yahoo symbol ('' for a plain US symbol), or None when unknown."""
    t = ticker.upper()
    if "=" in t or t.endswith("-USD"):
        return None
    m = _SUFFIX.search(t)
    if m is None:
        return ""
    return m.group(1) if m.group(1) in EXCHANGES else None


def final_through(exchange: Exchange | None, now: datetime, settle: timedelta) -> date:
    """Last local trading date whose daily bar is final at `now` (aware) on this exchange.

    A bar is final once the regular session has closed and `settle` has passed (Yahoo's official close lands
    a few minutes after the closing auction). For an unknown exchange the date must be over at UTC-12.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if exchange is None:
        return (now.astimezone(UTC) - timedelta(hours=12)).date() - timedelta(days=1)
    local = now.astimezone(ZoneInfo(exchange.tz))
    closed = datetime.combine(local.date(), exchange.close, tzinfo=local.tzinfo) + settle
    return local.date() if local >= closed else local.date() - timedelta(days=1)


def drop_unfinished_bars(frame: pl.DataFrame, now: datetime, settle: timedelta = timedelta(minutes=30)) -> pl.DataFrame:
    """Rows of `frame` (ticker, date, ...) whose session was over at `now`: today's live bar is not a close."""
    if frame.is_empty():
        return frame
    tickers = frame["ticker"].unique()
    keys = [exchange_key(t) for t in tickers.to_list()]  # one per ticker, not per row
    limits = {k: final_through(EXCHANGES.get(k) if k is not None else None, now, settle) for k in set(keys)}
    if len(set(limits.values())) == 1:  # one cutoff for all (the usual case): a plain filter, no join
        return frame.filter(pl.col("date") <= next(iter(limits.values())))
    cutoff = pl.DataFrame(
        {"ticker": tickers, "_final_through": [limits[k] for k in keys]},
        schema={"ticker": pl.String(), "_final_through": pl.Date()},
    )
    return (
        frame.join(cutoff, on="ticker", how="left")
        .filter(pl.col("date") <= pl.col("_final_through"))
        .drop("_final_through")
    )
