"""Yahoo Finance through yfinance: client (downloads, captured errors) · parse (wide → long) · sessions (when
a bar is final) · plan (incremental starts, download batches) · source (`YFinancePriceSource`, the incremental
extract with restatements, the registry's `extract`). Import the modules directly: importing this package
does not import yfinance or pandas."""
