"""Electricity impact, as pure polars functions: hourly → local days, event windows, YoY growth, the Jevons check.

No I/O here: the flow reads core tables, these functions compute, the flow syncs the marts. One module per job:

* `local_days`: each series' time zone and hourly → local daily (marts.electricity_demand_daily);
* `calendar`: NERC holidays, left out of the demand windows;
* `impact`: windows before/after each event against a year earlier (marts.electricity_impact);
* `jevons`: the stock reaction next to the demand outcome (marts.jevons_check).

The public names are re-exported here, so `from transforms.electricity import X` is the one import callers need.
"""

from transforms.electricity.calendar import nerc_holidays
from transforms.electricity.impact import IMPACT_SCHEMA, PARTS, ImpactConfig, electricity_impact, series_ends
from transforms.electricity.jevons import (
    DEFAULT_SLOTS,
    JEVONS_SCHEMA,
    JevonsConfig,
    RegionChoice,
    RegionHorizon,
    RegionSlot,
    datacentre_context,
    jevons_check,
)
from transforms.electricity.local_days import (
    DAILY_SCHEMA,
    DEMAND_TYPE,
    FALLBACK_TIME_ZONE,
    hourly_to_local_daily,
    time_zone_for,
    unknown_time_zones,
)

__all__ = [
    "DAILY_SCHEMA",
    "DEFAULT_SLOTS",
    "DEMAND_TYPE",
    "FALLBACK_TIME_ZONE",
    "IMPACT_SCHEMA",
    "JEVONS_SCHEMA",
    "PARTS",
    "ImpactConfig",
    "JevonsConfig",
    "RegionChoice",
    "RegionHorizon",
    "RegionSlot",
    "datacentre_context",
    "electricity_impact",
    "hourly_to_local_daily",
    "jevons_check",
    "nerc_holidays",
    "series_ends",
    "time_zone_for",
    "unknown_time_zones",
]
