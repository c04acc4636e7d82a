"""Electricity impact, as pure polars functions: hourly → local days, event windows, YoY growth, the Jevons check.

No I/O here: the flow reads core tables, these functions compute, the flow syncs the marts. One module per job:

* `local_days`: each series' time zone and hourly → local daily (marts.electricity_demand_daily);
* `calendar`: NERC holidays, left out of the demand windows;
* `impact`: windows before/after each event against a year earlier (marts.electricity_impact);
* `jevons`: the stock reaction next to the demand outcome (marts.jevons_check).

The public names are re-exported here, so `from transforms.electricity import X` is the one import callers need.
"""

from transforms.electricity.calendar import nerc_holidays
from transforms.electricity.impact import IMPACT_SCHEMA, PARTS, ImpactConfig, electricity_impact
from transforms.electricity.jevons import JEVONS_SCHEMA, JevonsConfig, RegionHorizon, jevons_check
from transforms.electricity.local_days import (
    DAILY_SCHEMA,
    DEMAND_TYPE,
    FALLBACK_TIME_ZONE,
    SUB_BA_TIME_ZONES,
    TIME_ZONES,
    hourly_to_local_daily,
    time_zone_for,
    unknown_time_zones,
)

__all__ = [
    "DAILY_SCHEMA",
    "DEMAND_TYPE",
    "FALLBACK_TIME_ZONE",
    "IMPACT_SCHEMA",
    "JEVONS_SCHEMA",
    "PARTS",
    "SUB_BA_TIME_ZONES",
    "TIME_ZONES",
    "ImpactConfig",
    "JevonsConfig",
    "RegionHorizon",
    "electricity_impact",
    "hourly_to_local_daily",
    "jevons_check",
    "nerc_holidays",
    "time_zone_for",
    "unknown_time_zones",
]
