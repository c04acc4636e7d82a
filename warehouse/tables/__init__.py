"""Table definitions, one module per domain; importing this package registers them all."""

from warehouse.tables import core, marts, ops, prices_live  # noqa: F401
