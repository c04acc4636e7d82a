"""Published EIA and IEA electricity files (issue 14): layout detection, readers, vintages and one file load.

The readers turn each layout into rows of the existing core tables (`core.electricity_demand_hourly`,
`core.electricity_retail_sales_monthly`) or the IEA seed table (`core.datacentre_electricity`); `load.load_files`
walks a directory, reads every file it recognises, merges overlapping vintages and returns one `SourceResult`.
"""
