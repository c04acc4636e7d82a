"""Typed errors: every failure a user can cause or fix names the file, line, ticker or field.

`JevonsInputError` (exit code 2) is a user mistake — a bad seed row, a bad price file, a bad CLI argument.
`JevonsSourceError` (exit code 1) is the outside world failing — an unreachable API, an HTTP error.
The CLI turns both into a one-paragraph message instead of a traceback.
"""

from __future__ import annotations

from pathlib import Path


class JevonsError(Exception):
    """Base of every error jevons raises on purpose."""

    exit_code: int = 1


class JevonsInputError(JevonsError):
    """Bad input the user can fix (exit code 2): the message says what and where."""

    exit_code = 2


def _where(file: str, line: int | None, label: str, name: str | None) -> str:
    """'file, line N, <label> 'name'': the place a problem is, as precise as known."""
    where = file
    if line is not None:
        where += f", line {line}"
    if name is not None:
        where += f", {label} '{name}'"
    return where


class SeedError(JevonsInputError):
    """A malformed row or header in a seed CSV; names the file, line and field."""

    def __init__(self, file: Path | str, line: int | None, field: str | None, problem: str) -> None:
        self.file = str(file)
        self.line = line
        self.field = field
        self.problem = problem
        super().__init__(f"{_where(self.file, line, 'field', field)}: {problem}")


class PriceFileError(JevonsInputError):
    """A price file that cannot be read as daily prices; names the file, line and column."""

    def __init__(self, file: Path | str, problem: str, line: int | None = None, column: str | None = None):
        self.file = str(file)
        self.line = line
        self.column = column
        super().__init__(f"{_where(self.file, line, 'column', column)}: {problem}")


class JevonsSourceError(JevonsError):
    """A data source (Yahoo, EIA) failed in a way no retry fixed."""

    exit_code = 1


class NoDataFoundError(JevonsSourceError):
    """A source answered but returned no rows where rows were expected."""


class WarehouseError(JevonsError):
    """The warehouse file cannot be opened, locked, or published."""

    exit_code = 1
