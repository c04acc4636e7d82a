"""One series of paged requests to an EIA v2 data route, and EIA's period strings.

Kept apart from the route table (`routes`) so the parsers can name routes without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

STAGE = "electricity"

ROUTE_REGION = "electricity/rto/region-data"
ROUTE_SUB_BA = "electricity/rto/region-sub-ba-data"
ROUTE_RETAIL = "electricity/retail-sales"


@dataclass(frozen=True)
class EiaQuery:
    """One series of paged requests to a v2 data route (never holds the API key).

    `columns` are the row fields kept from the response; `sort` lists the key columns every page is sorted
    on (ascending), which keeps offset paging stable.
    """

    subject: str
    route: str
    frequency: str
    data: tuple[str, ...]
    facets: tuple[tuple[str, tuple[str, ...]], ...]
    sort: tuple[str, ...]
    columns: tuple[str, ...]
    start: str | None = None
    end: str | None = None

    def params(self, offset: int, length: int) -> list[tuple[str, str]]:
        """Query parameters of the page at `offset`, in EIA's bracket syntax, without the key."""
        out: list[tuple[str, str]] = [("frequency", self.frequency)]
        out += [(f"data[{i}]", col) for i, col in enumerate(self.data)]
        for facet, values in self.facets:
            out += [(f"facets[{facet}][]", v) for v in values]
        if self.start is not None:
            out.append(("start", self.start))
        if self.end is not None:
            out.append(("end", self.end))
        for i, col in enumerate(self.sort):
            out += [(f"sort[{i}][column]", col), (f"sort[{i}][direction]", "asc")]
        out += [("offset", str(offset)), ("length", str(length))]
        return out


def hourly_period(moment: datetime) -> str:
    """EIA's hourly UTC period string, e.g. 2024-01-01T05."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H")


def monthly_period(day: date) -> str:
    """EIA's monthly period string, e.g. 2024-01."""
    return day.strftime("%Y-%m")


DEFAULT_RESPONDENTS: tuple[str, ...] = ("US48", "PJM", "ERCO", "MISO", "CISO", "SWPP", "SOCO", "TVA", "DUK")
DEFAULT_TYPES: tuple[str, ...] = ("D", "DF", "NG", "TI")
DEFAULT_SUB_BAS: tuple[tuple[str, str], ...] = (("PJM", "DOM"),)
DEFAULT_STATES: tuple[str, ...] = ("VA", "TX", "GA", "OH", "AZ", "OR", "IL", "PA", "US")
DEFAULT_SECTORS: tuple[str, ...] = ("ALL", "COM", "IND")


@dataclass(frozen=True)
class EiaConfig:
    """What to fetch and how far back; defaults are the issue's regions, states and sectors.

    The history starts leave room for the year-earlier comparison windows of the first 2024 events; the
    overlaps re-read the span EIA still revises (recent hours for a couple of weeks, preliminary months).
    """

    respondents: tuple[str, ...] = DEFAULT_RESPONDENTS
    types: tuple[str, ...] = DEFAULT_TYPES
    sub_bas: tuple[tuple[str, str], ...] = DEFAULT_SUB_BAS
    states: tuple[str, ...] = DEFAULT_STATES
    sectors: tuple[str, ...] = DEFAULT_SECTORS
    hourly_history_start: datetime = datetime(2022, 1, 1, tzinfo=UTC)
    monthly_history_start: date = date(2021, 1, 1)
    hourly_overlap: timedelta = timedelta(days=14)
    monthly_overlap_months: int = 6
