"""Electricity tables (schema version 3): EIA hourly demand and monthly retail sales, and the Jevons marts.

Two choices analysts should know about:

* `core.electricity_demand_hourly.subba` is part of the key, and a DuckDB key column cannot be NULL, so
  balancing-authority-level rows (route electricity/rto/region-data) store `subba = ''` (empty string) and
  sub-BA rows (route electricity/rto/region-sub-ba-data) store the sub-BA code with the parent BA as
  `respondent` (e.g. respondent 'PJM', subba 'DOM'). Filter BA totals with `subba = ''`.
* The hourly table's key (respondent, subba, period_utc, type) is enforced by the loader (a duplicate check on
  every frame plus a keyed MERGE), not by a DuckDB PRIMARY KEY index. DuckDB maintains such a key as an
  in-memory ART index; on 12 M hourly rows it tripled the load time (about 7 s to 17 s) and added about a
  gigabyte of memory, while a single writer (the run lock) already guarantees the loader is the only path in.
  `index_key=False` emits the DDL without the constraint; the registry still records the key. Its
  `range_column` is period_utc: hours of a (respondent, subba, type) series beyond what the table stores for
  it (a new BA, the next six-month file) are plain INSERTs; only the overlap with stored hours is MERGEd.
"""

from __future__ import annotations

from warehouse.registry import Column, Table, register

DEMAND_HOURLY = register(
    Table(
        schema="core",
        name="electricity_demand_hourly",
        description=(
            "Hourly EIA-930 values per balancing authority (route electricity/rto/region-data: type D demand, "
            "DF day-ahead demand forecast, NG net generation, TI total interchange) and per sub-BA "
            "(route electricity/rto/region-sub-ba-data: type D only, respondent = parent BA). period_utc is "
            "EIA's UTC period label, the END of the hour (hour-ending). subba = '' for BA-level rows. Key "
            "(respondent, subba, period_utc, type), enforced by the loader rather than a DuckDB index. "
            "Loaded incrementally from the last loaded hour minus an overlap, because EIA revises recent hours."
        ),
        primary_key=("respondent", "subba", "period_utc", "type"),
        introduced_in=3,
        index_key=False,
        range_column="period_utc",
        columns=(
            Column(
                "respondent",
                "VARCHAR",
                "EIA balancing-authority code, e.g. PJM, ERCO, US48 (the parent BA for sub-BA rows)",
            ),
            Column("subba", "VARCHAR", "EIA sub-BA code (e.g. DOM, Dominion) or '' for balancing-authority-level rows"),
            Column("period_utc", "TIMESTAMPTZ", "End of the hour, UTC (EIA hourly period label, hour-ending)"),
            Column(
                "type", "VARCHAR", "D demand, DF day-ahead demand forecast, NG net generation, TI total interchange"
            ),
            Column("value_mwh", "DOUBLE", "Energy in the hour; NULL where EIA reports no value", unit="MWh"),
            Column("loaded_at", "TIMESTAMPTZ", "When this row was last inserted or changed", nullable=False),
        ),
    )
)

RETAIL_SALES_MONTHLY = register(
    Table(
        schema="core",
        name="electricity_retail_sales_monthly",
        description=(
            "Monthly retail electricity sales by state and sector (EIA route electricity/retail-sales, from "
            "Forms EIA-861M/861). EIA publishes sales in million kWh and revenue in million dollars; they are "
            "stored converted: sales_mwh = sales x 1,000, revenue_usd = revenue x 1,000,000. Recent months are "
            "preliminary and revised, so loads re-read the last months."
        ),
        primary_key=("state", "sector", "month"),
        introduced_in=3,
        columns=(
            Column("state", "VARCHAR", "Two-letter state code, or US for the national total (EIA stateid)"),
            Column("sector", "VARCHAR", "EIA sectorid: ALL, RES residential, COM commercial, IND industrial, TRA, OTH"),
            Column("month", "DATE", "First day of the month"),
            Column("sales_mwh", "DOUBLE", "Retail sales in the month (EIA million kWh x 1,000)", unit="MWh"),
            Column("price_cents_per_kwh", "DOUBLE", "Average retail price", unit="cents per kWh"),
            Column(
                "revenue_usd", "DOUBLE", "Retail revenue in the month (EIA million dollars x 1,000,000)", unit="USD"
            ),
            Column(
                "customers",
                "BIGINT",
                "Number of customers (EIA publishes it from 2008 on; NULL where absent)",
                unit="customers",
            ),
            Column("loaded_at", "TIMESTAMPTZ", "When this row was last inserted or changed", nullable=False),
        ),
    )
)

DEMAND_DAILY = register(
    Table(
        schema="marts",
        name="electricity_demand_daily",
        description=(
            "Hourly demand (type D) summed to local calendar days, per balancing authority or sub-BA. Each "
            "hour-ending period is assigned to the local day of the hour's start (period_utc - 1 hour, in "
            "time_zone), as EIA's own daily data does, so a local day holds 24 hours (23 or 25 on DST "
            "changes). Time zones: the seed warehouse/seeds/ba_time_zones.csv (every EIA-930 BA, region and "
            "sub-BA, from EIA's reference table; a sub-BA without a row takes its parent's); unknown "
            "respondents fall back to UTC with a recorded warning. Values the quality screen flags "
            "(transforms.electricity_quality: int32 sentinels, negative or implausibly large demand, one-hour "
            "dips) count as not reported; they stay in core and are listed in ops.data_quality. Recomputed in "
            "full on every run."
        ),
        primary_key=("respondent", "subba", "type", "date_local"),
        introduced_in=3,
        columns=(
            Column("respondent", "VARCHAR", "EIA balancing-authority code (parent BA for sub-BA rows)"),
            Column("subba", "VARCHAR", "Sub-BA code or '' for balancing-authority totals"),
            Column("type", "VARCHAR", "EIA-930 type (D demand)"),
            Column("date_local", "DATE", "Local calendar day in time_zone"),
            Column("time_zone", "VARCHAR", "IANA time zone used for the local day", nullable=False),
            Column("value_mwh", "DOUBLE", "Sum of the day's reported hourly values", unit="MWh per day"),
            Column("hours_reported", "INTEGER", "Hours of the day with a non-null value", unit="hours", nullable=False),
            Column("hours_in_day", "INTEGER", "Hours the local day has (23, 24 or 25)", unit="hours", nullable=False),
        ),
    )
)

ELECTRICITY_IMPACT = register(
    Table(
        schema="marts",
        name="electricity_impact",
        description=(
            "Per (event, region, metric, window): mean demand (or retail sales) in the window before vs after "
            "the event, the same windows one year earlier, year-over-year growth before and after, and the "
            "change in growth in percentage points. Daily windows (28, 91, 182 days) exclude the event day: "
            "before = [d-L, d-1], after = [d+1, d+L], and compare with the same windows 365 days earlier "
            "(the whole-day shift closest to the solar year, so the season lines up). Daily means are weekday-balanced (the mean of the seven weekday "
            "means, so the weekday mix of a window does not matter), leave out NERC holidays and days with fewer than 20 reported hours, and are "
            "normalised to 24 hours (DST days). Monthly windows (3, 6 months) exclude the event month and "
            "compare with the same months 12 months earlier. A window mean is NULL when coverage is short "
            "(daily: under 80% of eligible days or a weekday missing; monthly: any month missing); status "
            "says why. growth_change_pp does not control for weather; growth_change_pp_weather_adjusted does (methods.md)."
        ),
        primary_key=("event_id", "region_type", "region", "metric", "window_unit", "window_length"),
        introduced_in=3,
        columns=(
            Column("event_id", "VARCHAR", "core.ai_events.event_id"),
            Column("event_date", "DATE", "Calendar date of the event (day 0 / month 0)", nullable=False),
            Column("region_type", "VARCHAR", "balancing_authority, sub_ba or state"),
            Column("region", "VARCHAR", "BA code (PJM, US48), sub-BA code (DOM) or state code (VA, US)"),
            Column(
                "metric",
                "VARCHAR",
                "demand (EIA-930 type D, daily) or retail_sales_<sector> (monthly, e.g. retail_sales_COM)",
            ),
            Column("window_unit", "VARCHAR", "day or month"),
            Column("window_length", "INTEGER", "Window length L on each side of the event", unit="days or months"),
            Column("before_start", "DATE", "First day of the before window", nullable=False),
            Column("before_end", "DATE", "Last day of the before window (inclusive)", nullable=False),
            Column("after_start", "DATE", "First day of the after window", nullable=False),
            Column("after_end", "DATE", "Last day of the after window (inclusive)", nullable=False),
            Column(
                "mean_before_mwh",
                "DOUBLE",
                "Mean per day (demand) or per month (sales) in the before window",
                unit="MWh per day or per month",
            ),
            Column("mean_after_mwh", "DOUBLE", "Mean in the after window", unit="MWh per day or per month"),
            Column(
                "mean_before_prev_year_mwh",
                "DOUBLE",
                "Mean in the before window one year earlier",
                unit="MWh per day or per month",
            ),
            Column(
                "mean_after_prev_year_mwh",
                "DOUBLE",
                "Mean in the after window one year earlier",
                unit="MWh per day or per month",
            ),
            Column(
                "growth_before_yoy", "DOUBLE", "mean_before / mean_before_prev_year - 1", unit="fraction (0.01 = 1%)"
            ),
            Column("growth_after_yoy", "DOUBLE", "mean_after / mean_after_prev_year - 1", unit="fraction (0.01 = 1%)"),
            Column(
                "growth_change_pp", "DOUBLE", "(growth_after_yoy - growth_before_yoy) x 100", unit="percentage points"
            ),
            Column(
                "n_before", "INTEGER", "Observations used in the before window", unit="days or months", nullable=False
            ),
            Column(
                "n_after", "INTEGER", "Observations used in the after window", unit="days or months", nullable=False
            ),
            Column(
                "n_before_prev_year",
                "INTEGER",
                "Observations used in the before window a year earlier",
                unit="days or months",
                nullable=False,
            ),
            Column(
                "n_after_prev_year",
                "INTEGER",
                "Observations used in the after window a year earlier",
                unit="days or months",
                nullable=False,
            ),
            Column(
                "status",
                "VARCHAR",
                "ok, after_window_not_over (not enough data yet) or insufficient_data",
                nullable=False,
            ),
            # weather adjustment (issue 17; transforms.weather.adjust, added by migration WEATHER_IMPACT_MIGRATION)
            Column(
                "growth_change_pp_weather_adjusted",
                "DOUBLE",
                "100 x (mean actual/weather-expected over the months after the event - the same over the months before); the monthly model is fitted on the 60 months before the event month only. Daily windows of 91/182 days carry the 3/6-month figure; NULL unless weather_adjustment_status is ok",
                unit="percentage points",
            ),
            Column("weather_r2", "DOUBLE", "r2 of that pre-event monthly weather model"),
            Column("weather_n_fit", "INTEGER", "Months in that fit", unit="months"),
            Column("weather_fit_start", "DATE", "First month of that fit"),
            Column("weather_fit_end", "DATE", "Last month of that fit (the month before the event's)"),
            Column(
                "weather_adjustment_status",
                "VARCHAR",
                "ok, or why no adjusted figure: no_weather_model (no weather series for the region, e.g. sub-BAs), no_monthly_window (28-day windows), too_few_months_before, rank_deficient, poor_fit (r2 < 0.5), after_window_not_over, incomplete_window",
            ),
        ),
    )
)

JEVONS_CHECK = register(
    Table(
        schema="marts",
        name="jevons_check",
        description=(
            "One row per efficiency event: did the market fear less electricity demand (the power-producer "
            "group's CAAR, mean CAR over its tickers in marts.event_impact, market model), and did demand "
            "growth in the data-centre regions (sub-BA DOM, or PJM standing in when DOM is not loaded; ERCO, "
            "US48: daily demand; VA commercial retail sales, or all sectors standing in) slow over the following "
            "3 and 6 months (growth_change_pp of marts.electricity_impact; 91/182 days, 3/6 months)? verdict says "
            "it in plain words on the raw change; verdict_weather_adjusted on the weather-adjusted change where "
            "the weather models fit (r2 beside it). Thresholds: CAAR[0,+5] at or below -2% = market feared less "
            "demand; mean growth change at or below -1 pp = demand growth slowed."
        ),
        primary_key=("event_id",),
        introduced_in=3,
        columns=(
            Column("event_id", "VARCHAR", "core.ai_events.event_id (category efficiency)"),
            Column("event_date", "DATE", "Calendar date of the event", nullable=False),
            Column("event_name", "VARCHAR", "Short event name", nullable=False),
            Column("power_group", "VARCHAR", "Peer group whose CAAR is shown, e.g. independent_power", nullable=False),
            Column(
                "power_n_tickers", "INTEGER", "Tickers in the group with a day-0 CAR", unit="tickers", nullable=False
            ),
            Column("power_caar_day0", "DOUBLE", "Mean day-0 CAR over the group's tickers", unit="fraction (0.01 = 1%)"),
            Column(
                "power_caar_0_5",
                "DOUBLE",
                "Mean CAR over trading days [0,+5] over the group's tickers",
                unit="fraction",
            ),
            Column(
                "dom_growth_change_3m_pp",
                "DOUBLE",
                "DOM (Dominion, PJM sub-BA) daily demand: YoY growth change, 91 days after vs before",
                unit="percentage points",
            ),
            Column(
                "dom_growth_change_6m_pp",
                "DOUBLE",
                "DOM daily demand: YoY growth change, 182 days after vs before",
                unit="percentage points",
            ),
            Column(
                "erco_growth_change_3m_pp",
                "DOUBLE",
                "ERCOT daily demand: YoY growth change, 91 days",
                unit="percentage points",
            ),
            Column(
                "erco_growth_change_6m_pp",
                "DOUBLE",
                "ERCOT daily demand: YoY growth change, 182 days",
                unit="percentage points",
            ),
            Column(
                "us48_growth_change_3m_pp",
                "DOUBLE",
                "Lower-48 daily demand: YoY growth change, 91 days",
                unit="percentage points",
            ),
            Column(
                "us48_growth_change_6m_pp",
                "DOUBLE",
                "Lower-48 daily demand: YoY growth change, 182 days",
                unit="percentage points",
            ),
            Column(
                "va_sales_growth_change_3m_pp",
                "DOUBLE",
                "Virginia commercial retail sales: YoY growth change, 3 months",
                unit="percentage points",
            ),
            Column(
                "va_sales_growth_change_6m_pp",
                "DOUBLE",
                "Virginia commercial retail sales: YoY growth change, 6 months",
                unit="percentage points",
            ),
            Column(
                "demand_growth_change_3m_pp",
                "DOUBLE",
                "Mean of the regions' 3-month changes that have data",
                unit="percentage points",
            ),
            Column(
                "demand_growth_change_6m_pp",
                "DOUBLE",
                "Mean of the regions' 6-month changes that have data",
                unit="percentage points",
            ),
            Column("n_regions_3m", "INTEGER", "Regions with a 3-month change", unit="regions", nullable=False),
            Column("n_regions_6m", "INTEGER", "Regions with a 6-month change", unit="regions", nullable=False),
            Column(
                "market_reaction",
                "VARCHAR",
                "feared_less_demand, expected_more_demand, little_reaction or no_stock_data",
                nullable=False,
            ),
            Column("demand_outcome", "VARCHAR", "slowed, did_not_slow or not_enough_data_yet", nullable=False),
            Column("verdict", "VARCHAR", "The two findings in plain words, with the figures", nullable=False),
            Column(
                "reaction_confounded_by",
                "VARCHAR",
                "Other catalogued events whose day 0 falls inside the window market_reaction reads ([0,+5], else day "
                "0; marts.event_overlaps): the reaction mixes theirs. Null = a clean window",
            ),
            # weather adjustment (issue 17; transforms.weather.adjust)
            Column(
                "adjusted_growth_change_3m_pp",
                "DOUBLE",
                "Mean weather-adjusted change (electricity_impact.growth_change_pp_weather_adjusted) over the regions above that could be adjusted, 3 months",
                unit="percentage points",
            ),
            Column("adjusted_growth_change_6m_pp", "DOUBLE", "The same, 6 months", unit="percentage points"),
            Column(
                "n_regions_adjusted_3m", "INTEGER", "Regions with a 3-month weather-adjusted change", unit="regions"
            ),
            Column(
                "n_regions_adjusted_6m", "INTEGER", "Regions with a 6-month weather-adjusted change", unit="regions"
            ),
            Column(
                "weather_r2_min",
                "DOUBLE",
                "Lowest r2 of the weather models behind the adjusted change the verdict uses",
            ),
            Column(
                "demand_outcome_weather_adjusted",
                "VARCHAR",
                "slowed, did_not_slow, or could_not_adjust (no region's change could be weather-adjusted)",
            ),
            Column(
                "verdict_weather_adjusted",
                "VARCHAR",
                "The verdict on the weather-adjusted change, with its r2; or the raw verdict and why it could not be adjusted",
            ),
            Column(
                "weather_note",
                "VARCHAR",
                "Regions that could not be weather-adjusted and why (region: status); NULL when all could",
            ),
            Column(
                "regions_used",
                "VARCHAR",
                "Which series filled each region column, stand-ins named (e.g. 'dom: PJM standing in for DOM')",
            ),
            Column(
                "datacentre_context",
                "VARCHAR",
                "IEA data-centre electricity figures the event sits in (core.datacentre_electricity)",
            ),
        ),
    )
)

TABLES = (DEMAND_HOURLY, RETAIL_SALES_MONTHLY, DEMAND_DAILY, ELECTRICITY_IMPACT, JEVONS_CHECK)
"""Every table this module registers, in creation order."""
