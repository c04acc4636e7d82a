"""Weather-normalised demand (issue 17): region weather, demand-on-weather OLS models, normals, adjusted impact.

Pure functions on polars frames and numpy arrays; no I/O. Specifications: docs/methods.md (Weather-normalised demand).
"""
