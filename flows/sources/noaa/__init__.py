"""NOAA weather sources (issue 17): nClimDiv monthly degree days, daily zone temperatures, live clients.

`climdiv` parses NOAA's nClimDiv state files, `zone_daily` the per-grid-zone daily temperature files and their
station table, `client` fetches the same layouts from NOAA (and Open-Meteo) over HTTP, and `source` reads a
folder (`--weather-from DIR`) into a `SourceResult`.
"""
