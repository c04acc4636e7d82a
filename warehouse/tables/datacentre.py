"""IEA data-centre electricity (schema version 7): the context the Jevons check puts events in."""

from __future__ import annotations

from warehouse.registry import Column, Table, register

DATACENTRE_ELECTRICITY = register(
    Table(
        schema="core",
        name="datacentre_electricity",
        description=(
            "Data-centre electricity consumption, installed capacity, power usage effectiveness and load factor "
            "by region, data-centre segment, scenario and year, transcribed from the IEA's Energy and AI (2025) "
            "data annex (sheets World Data and Regional Data) into the seed warehouse/seeds/datacentre_electricity"
            ".csv; a test proves the seed equals the annex. 2020, 2023 and 2024 are scenario 'historical'; 2030 "
            "and 2035 are projections (2035 the IEA calls exploratory). Regions other than World have segment "
            "'total' and the base case only. Source: IEA (2025), Energy and AI, free to use with attribution."
        ),
        primary_key=("source", "region", "segment", "scenario", "year"),
        introduced_in=9,
        columns=(
            Column("source", "VARCHAR", "Publication the row is transcribed from, e.g. IEA Energy and AI (2025)"),
            Column("region", "VARCHAR", "IEA region: World, North America, United States, Europe, China, ..."),
            Column("segment", "VARCHAR", "total, hyperscale, colocation_and_service_provider or enterprise"),
            Column("scenario", "VARCHAR", "historical, base, lift_off, high_efficiency or headwinds"),
            Column("year", "INTEGER", "Calendar year", unit="year"),
            Column("electricity_twh", "DOUBLE", "Data-centre electricity consumption in the year", unit="TWh"),
            Column("it_electricity_twh", "DOUBLE", "Of which consumed by IT equipment", unit="TWh"),
            Column("capacity_gw", "DOUBLE", "Installed data-centre capacity", unit="GW"),
            Column("it_capacity_gw", "DOUBLE", "Installed IT capacity", unit="GW"),
            Column("pue", "DOUBLE", "Power usage effectiveness (total / IT electricity)", unit="ratio"),
            Column("load_factor_pct", "DOUBLE", "Average load as a share of capacity", unit="percent"),
        ),
    )
)

TABLES = (DATACENTRE_ELECTRICITY,)
"""Every table this module registers."""
