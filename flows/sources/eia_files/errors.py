"""The one error of the file readers: a file that cannot be read as the layout it claims, named precisely."""

from __future__ import annotations

from pathlib import Path

from warehouse.errors import JevonsInputError


class ElectricityFileError(JevonsInputError):
    """An electricity data file that is unrecognised or malformed (exit code 2).

    The message names the file and, where known, the physical line (the header is line 1; for JSON, the
    record number in the data list) and the column, so the user can open the file at the bad cell.
    """

    def __init__(self, file: Path | str, problem: str, line: int | None = None, column: str | None = None) -> None:
        self.file = str(file)
        self.line = line
        self.column = column
        where = self.file
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {problem}")
