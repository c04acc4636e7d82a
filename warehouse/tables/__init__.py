"""Table definitions, one module per domain; importing this package registers them all."""

from warehouse.tables import core, datacentre, electricity, marts, ops, prices_live, quality, shocks, weather  # noqa: F401
