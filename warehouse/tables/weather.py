"""Weather tables (issue 17): NOAA degree days and zone temperatures, and the weather-normalised marts.

Degree days are NOAA's: base 65 °F, in °F·days per month (nClimDiv, population-weighted per state). Daily
zone temperatures are °C as the GHCN-Daily-based zone files give them. The models that turn weather into
expected demand, their fit windows and limits are in docs/methods.md (Weather-normalised demand).
"""

from __future__ import annotations

from warehouse.registry import Column, Table, register

STATE_CODES: dict[str, str] = {
    code: postal
    for code, postal in zip(
        [f"{i:03d}" for i in range(1, 49)],
        # The 48 contiguous states in alphabetical order of their names (NOAA's state code table).
        [
            "AL",
            "AZ",
            "AR",
            "CA",
            "CO",
            "CT",
            "DE",
            "FL",
            "GA",
            "ID",
            "IL",
            "IN",
            "IA",
            "KS",
            "KY",
            "LA",
            "ME",
            "MD",
            "MA",
            "MI",
            "MN",
            "MS",
            "MO",
            "MT",
            "NE",
            "NV",
            "NH",
            "NJ",
            "NM",
            "NY",
            "NC",
            "ND",
            "OH",
            "OK",
            "OR",
            "PA",
            "RI",
            "SC",
            "SD",
            "TN",
            "TX",
            "UT",
            "VT",
            "VA",
            "WA",
            "WV",
            "WI",
            "WY",
        ],
        strict=True,
    )
}
"""nClimDiv state code -> postal code for the 48 contiguous states (001 Alabama ... 048 Wyoming)."""

AREA_CODES: dict[str, str] = {
    **STATE_CODES,
    "049": "HI",
    "050": "AK",
    "101": "NCEI_NORTHEAST",
    "102": "NCEI_EAST_NORTH_CENTRAL",
    "103": "NCEI_CENTRAL",
    "104": "NCEI_SOUTHEAST",
    "105": "NCEI_WEST_NORTH_CENTRAL",
    "106": "NCEI_SOUTH",
    "107": "NCEI_SOUTHWEST",
    "108": "NCEI_NORTHWEST",
    "109": "NCEI_WEST",
    "110": "US48",
}
"""Every nClimDiv area code stored -> the `area` label of core.weather_degree_days_monthly (used by the
parser in flows/sources/noaa/climdiv.py and the seed validator). Other codes (national aggregates such as
agricultural belts) are skipped and counted."""

US_POSTAL_CODES: frozenset[str] = frozenset([*STATE_CODES.values(), "AK", "HI", "DC"])
"""The 50 states and DC: what a weather-seed `state` may be (besides US48)."""

WEATHER_MIGRATION = 8
"""The migration that creates these tables (appended last in warehouse/migrations.py)."""

DEGREE_DAYS_MONTHLY = register(
    Table(
        schema="core",
        name="weather_degree_days_monthly",
        description=(
            "Monthly heating and cooling degree days (base 65 °F) and mean temperature per US state, NCEI "
            "climate region and the contiguous US (area US48), from NOAA nClimDiv state files "
            "(climdiv-hddcst/cddcst/tmpcst). NULL where NOAA has not yet published the month (its -9999/-99.90)."
        ),
        primary_key=("area", "month"),
        introduced_in=WEATHER_MIGRATION,
        columns=(
            Column(
                "area",
                "VARCHAR",
                "Postal state code (AL..WY, AK, HI), NCEI_<climate region>, or US48 (nClimDiv code 110)",
            ),
            Column("month", "DATE", "First day of the calendar month"),
            Column(
                "hdd_degf_days",
                "DOUBLE",
                "Heating degree days in the month, base 65 °F (NOAA, population-weighted)",
                unit="°F·day",
            ),
            Column(
                "cdd_degf_days",
                "DOUBLE",
                "Cooling degree days in the month, base 65 °F (NOAA, population-weighted)",
                unit="°F·day",
            ),
            Column("mean_temp_f", "DOUBLE", "Mean temperature of the month (NOAA nClimDiv, area-weighted)", unit="°F"),
            Column(
                "source",
                "VARCHAR",
                "noaa_nclimdiv and the file vintage, e.g. noaa_nclimdiv v1.0.0-20250905",
                nullable=False,
            ),
            Column("loaded_at", "TIMESTAMPTZ", "When this row was last inserted or changed", nullable=False),
        ),
    )
)

WEATHER_DAILY = register(
    Table(
        schema="core",
        name="weather_daily",
        description=(
            "Daily observed maximum and minimum temperature per grid weather zone (e.g. PJM_Dominion, ERCOT "
            "Houston), each zone a weighted mean of NOAA GHCN-Daily airport stations (station table "
            "iso_zone_weather_stations.csv). tmean_c = (tmax_c + tmin_c) / 2, NOAA's daily-mean convention."
        ),
        primary_key=("iso", "zone", "date"),
        introduced_in=WEATHER_MIGRATION,
        columns=(
            Column(
                "iso",
                "VARCHAR",
                "Grid operator of the zone as the station table names it: PJM, ERCOT, CAISO, MISO, NYISO, NEISO",
            ),
            Column("zone", "VARCHAR", "Weather zone name within the ISO (station table)"),
            Column("date", "DATE", "Observation day (station local standard day, as GHCN-Daily reports it)"),
            Column("tmax_c", "DOUBLE", "Daily maximum temperature; NULL where the source has none", unit="°C"),
            Column("tmin_c", "DOUBLE", "Daily minimum temperature; NULL where the source has none", unit="°C"),
            Column("tmean_c", "DOUBLE", "(tmax_c + tmin_c) / 2; NULL if either is missing", unit="°C"),
            Column(
                "source",
                "VARCHAR",
                "Where the row came from: zone_temp_daily:<file>, noaa_ncei_daily_summaries, open_meteo_archive",
                nullable=False,
            ),
            Column("loaded_at", "TIMESTAMPTZ", "When this row was last inserted or changed", nullable=False),
        ),
    )
)

_COEF = (
    ("intercept", "Intercept: demand at zero degree days and trend origin", "MWh/day"),
    ("hdd", "Demand per heating degree day per day", "MWh/day per °F·day/day"),
    ("cdd", "Demand per cooling degree day per day", "MWh/day per °F·day/day"),
    (
        "cdd_sq",
        "Daily model only: demand per squared cooling degree day (the hottest days cost more)",
        "MWh/day per (°F·day/day)²",
    ),
    ("trend", "Linear trend", "MWh/day per year"),
    ("holiday", "Daily model only: NERC holiday shift", "MWh/day"),
)
_WEEKDAYS = ("tue", "wed", "thu", "fri", "sat", "sun")

WEATHER_MODELS = register(
    Table(
        schema="marts",
        name="weather_models",
        description=(
            "One row per region x metric x frequency: the OLS fit of demand on weather. Monthly: "
            "MWh/day ~ 1 + HDD/day + CDD/day + trend. Daily: MWh/day ~ 1 + HDD + CDD + CDD² + trend + weekday "
            "(Monday base) + NERC holiday. Classical (homoskedastic) standard errors. Coefficients a model "
            "does not have are NULL. Specification and limits: docs/methods.md (Weather-normalised demand)."
        ),
        primary_key=("region", "metric", "frequency"),
        introduced_in=WEATHER_MIGRATION,
        columns=(
            Column(
                "region", "VARCHAR", "Electricity region: EIA balancing authority (PJM, ERCO, ...), US48, or a state"
            ),
            Column("metric", "VARCHAR", "demand (EIA-930 BA demand) or retail_sales_<sector>"),
            Column("frequency", "VARCHAR", "daily or monthly"),
            Column("fit_start", "DATE", "First day (or month) in the fit", nullable=False),
            Column("fit_end", "DATE", "Last day (or month) in the fit", nullable=False),
            Column("n_obs", "INTEGER", "Observations in the fit", nullable=False),
            Column("r2", "DOUBLE", "Coefficient of determination of the fit", nullable=False),
            Column("mean_mwh_per_day", "DOUBLE", "Mean of the dependent variable over the fit", unit="MWh/day"),
            *(
                col
                for name, text, unit in _COEF
                for col in (
                    Column(f"coef_{name}", "DOUBLE", text, unit=unit),
                    Column(f"se_{name}", "DOUBLE", f"Standard error of coef_{name}", unit=unit),
                )
            ),
            *(
                col
                for day in _WEEKDAYS
                for col in (
                    Column(f"coef_{day}", "DOUBLE", f"Daily model only: {day} against Monday", unit="MWh/day"),
                    Column(f"se_{day}", "DOUBLE", f"Standard error of coef_{day}", unit="MWh/day"),
                )
            ),
            Column(
                "trend_pct_per_year",
                "DOUBLE",
                "Weather-adjusted trend: 100 x coef_trend / mean_mwh_per_day",
                unit="%/yr",
            ),
            Column(
                "trend_pct_per_year_se",
                "DOUBLE",
                "Standard error of trend_pct_per_year (mean taken as known)",
                unit="%/yr",
            ),
            Column(
                "weather_source",
                "VARCHAR",
                "Weather the fit used: noaa_nclimdiv (monthly) or zone daily temperatures",
                nullable=False,
            ),
        ),
    )
)

WEATHER_NORMALISED_DEMAND = register(
    Table(
        schema="marts",
        name="weather_normalised_demand",
        description=(
            "Per region x metric x month: actual demand, the monthly model's weather-expected demand, and demand "
            "at normal weather (actual minus the modelled effect of the month's degree days departing from the "
            "1991-2020 mean of that calendar month). Chart normal_weather_mwh_per_day to see demand with the "
            "weather taken out."
        ),
        primary_key=("region", "metric", "month"),
        introduced_in=WEATHER_MIGRATION,
        columns=(
            Column("region", "VARCHAR", "Electricity region (as in marts.weather_models)"),
            Column("metric", "VARCHAR", "demand or retail_sales_<sector>"),
            Column("month", "DATE", "First day of the month"),
            Column("actual_mwh_per_day", "DOUBLE", "Observed demand, mean per day of the month", unit="MWh/day"),
            Column(
                "weather_expected_mwh_per_day",
                "DOUBLE",
                "Model prediction at the month's observed degree days",
                unit="MWh/day",
            ),
            Column(
                "normal_weather_mwh_per_day",
                "DOUBLE",
                "Actual adjusted to 1991-2020 normal degree days of the calendar month",
                unit="MWh/day",
            ),
            Column(
                "hdd_per_day",
                "DOUBLE",
                "Region heating degree days per day in the month (base 65 °F)",
                unit="°F·day/day",
            ),
            Column(
                "cdd_per_day",
                "DOUBLE",
                "Region cooling degree days per day in the month (base 65 °F)",
                unit="°F·day/day",
            ),
            Column(
                "normal_hdd_per_day", "DOUBLE", "1991-2020 mean HDD per day of this calendar month", unit="°F·day/day"
            ),
            Column(
                "normal_cdd_per_day", "DOUBLE", "1991-2020 mean CDD per day of this calendar month", unit="°F·day/day"
            ),
            Column("r2", "DOUBLE", "r2 of the model these values come from (marts.weather_models, monthly)"),
        ),
    )
)


# Seeds (not warehouse tables: read by warehouse/seeds.py, which takes their columns from these definitions).
ZONE_ISOS: tuple[str, ...] = ("PJM", "ERCOT", "CAISO", "MISO", "NYISO", "NEISO")
"""ISOs of the zone station table (iso_zone_weather_stations.csv)."""

REGION_STATES_SEED = Table(
    schema="seed",
    name="weather_region_states",
    description="warehouse/seeds/weather_region_states.csv: region -> states whose degree days drive it",
    primary_key=("region", "state"),
    columns=(
        Column("region", "VARCHAR", "Electricity region: EIA BA code (PJM, ERCO, ...), US48, or a retail-sales state"),
        Column("state", "VARCHAR", "Postal code of the state served (or US48)"),
        Column(
            "area",
            "VARCHAR",
            "nClimDiv area whose degree days stand for it (DC uses MD: DC has no nClimDiv code)",
            nullable=False,
        ),
        Column("weight", "DOUBLE", "Share of the region's load; sums to 1 per region", nullable=False),
        Column("basis", "VARCHAR", "Where the weight comes from", nullable=False),
    ),
)

REGION_ZONES_SEED = Table(
    schema="seed",
    name="weather_region_zones",
    description="warehouse/seeds/weather_region_zones.csv: region -> grid weather zones for the daily model",
    primary_key=("region", "iso", "zone"),
    columns=(
        Column("region", "VARCHAR", "EIA balancing-authority code (PJM, ERCO, CISO, MISO, NYIS, ISNE)"),
        Column("iso", "VARCHAR", "ISO as the zone station table names it (PJM, ERCOT, CAISO, MISO, NYISO, NEISO)"),
        Column("zone", "VARCHAR", "Weather zone of that ISO (station table)"),
        Column("weight", "DOUBLE", "Share of the region's load; sums to 1 per region", nullable=False),
        Column("basis", "VARCHAR", "Where the weight comes from", nullable=False),
    ),
)
