"""The one place each warehouse table is defined.

Every table's description, primary key and columns (DuckDB type, unit, description) live here. The DDL, the
`COMMENT ON` statements, docs/data-dictionary.md and the tests of column sets are all derived from this
registry, so a table is defined once. Column names carry their unit (`demand_mwh`, `price_cents_per_kwh`);
returns are decimal fractions (0.01 = 1%).

Later capabilities add their tables by calling `register()` from their own module under `warehouse/tables/`
and adding a migration in `warehouse/migrations.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

POLARS_DTYPES: dict[str, pl.DataType] = {
    "VARCHAR": pl.String(),
    "DATE": pl.Date(),
    "DOUBLE": pl.Float64(),
    "INTEGER": pl.Int32(),
    "BIGINT": pl.Int64(),
    "TIMESTAMPTZ": pl.Datetime("us", "UTC"),
    "BOOLEAN": pl.Boolean(),
}
"""The polars dtype each DuckDB type of the registry reads as (what `con.sql(...).pl()` returns)."""


@dataclass(frozen=True)
class Column:
    """One column: DuckDB type, unit (None when dimensionless or a label) and a description for analysts."""

    name: str
    dtype: str
    description: str
    unit: str | None = None
    nullable: bool = True

    def comment(self) -> str:
        """The text written with COMMENT ON COLUMN: description plus unit."""
        return f"{self.description} [unit: {self.unit}]" if self.unit else self.description


@dataclass(frozen=True)
class Table:
    """One warehouse table; `schema` is core (clean sources), marts (impact tables) or ops (bookkeeping)."""

    schema: str
    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    introduced_in: int = 1
    index_key: bool = True
    """False: the key is enforced by the loader (duplicate check + keyed MERGE), not by a DuckDB PRIMARY KEY
    index, whose in-memory ART costs triple the load time on tens of millions of rows."""
    range_column: str | None = None
    """A key column new rows usually extend (a date): the loader reads each partition's stored min and max of
    it (partition = the other key columns) and INSERTs the rows outside that range without a MERGE join, since
    no stored key can match them. Only the rows inside the range are MERGEd."""
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.range_column is not None and self.range_column not in self.primary_key:
            raise ValueError(f"{self.schema}.{self.name}: range_column {self.range_column!r} is not a key column")

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.qualified_name} has no column {name!r}")

    def polars_schema(
        self,
        columns: list[str] | tuple[str, ...] | None = None,
        exclude: tuple[str, ...] = (),
        overrides: Mapping[str, pl.DataType] | None = None,
    ) -> pl.Schema:
        """The polars schema of this table's rows, derived from the registry (so no frame restates it).

        `columns` picks and orders a subset (default: all), `exclude` drops some (e.g. `loaded_at`, which the
        loader stamps), and `overrides` replaces a dtype where a frame deliberately differs (an Enum ticker).
        """
        names = list(columns) if columns is not None else self.column_names
        unknown = [n for n in [*names, *(overrides or {})] if n not in self.column_names]
        if unknown:
            raise KeyError(f"{self.qualified_name} has no column(s) {unknown}")
        over = dict(overrides or {})
        return pl.Schema({n: over.get(n, POLARS_DTYPES[self.column(n).dtype]) for n in names if n not in exclude})

    def ddl(self) -> str:
        """CREATE TABLE IF NOT EXISTS statement with NOT NULL and PRIMARY KEY constraints."""
        parts = []
        for c in self.columns:
            not_null = " NOT NULL" if (not c.nullable or c.name in self.primary_key) else ""
            parts.append(f'    "{c.name}" {c.dtype}{not_null}')
        if self.primary_key and self.index_key:
            keys = ", ".join(f'"{k}"' for k in self.primary_key)
            parts.append(f"    PRIMARY KEY ({keys})")
        body = ",\n".join(parts)
        return f"CREATE TABLE IF NOT EXISTS {self.qualified_name} (\n{body}\n)"


SCHEMAS: dict[str, str] = {
    "core": "Clean source data: prices, electricity, the AI-event catalog and the ticker universe.",
    "marts": "Impact tables computed from core: abnormal returns, CARs, group tests, electricity impact.",
    "ops": "Bookkeeping: schema version, runs, load log, warnings and data-quality results.",
}

TABLES: dict[str, Table] = {}


def register(table: Table) -> Table:
    """Add a table to the registry (idempotent for the identical definition)."""
    existing = TABLES.get(table.qualified_name)
    if existing is not None and existing != table:
        raise ValueError(f"table {table.qualified_name} registered twice with different definitions")
    TABLES[table.qualified_name] = table
    return table


def table(qualified_name: str) -> Table:
    """Look up a registered table by `schema.name`."""
    _load_all()
    return TABLES[qualified_name]


def all_tables() -> list[Table]:
    """Every registered table, in schema then registration order."""
    _load_all()
    order = list(SCHEMAS)
    return sorted(TABLES.values(), key=lambda t: order.index(t.schema))


def _load_all() -> None:
    """Import every table module so their register() calls have run."""
    from warehouse import tables  # noqa: F401  (import for side effect)
