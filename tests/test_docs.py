"""The README's data dictionary is generated from the registry and must be current."""

from __future__ import annotations

from warehouse import docs


def test_readme_dictionary_is_current() -> None:
    assert docs.current() == docs.render(), "README is stale: run `uv run python -m warehouse.docs`"


def test_dictionary_lists_every_table_and_column() -> None:
    from warehouse.registry import all_tables

    text = docs.render()
    for table in all_tables():
        assert f"`{table.qualified_name}`" in text
        for col in table.columns:
            assert f"| `{col.name}` |" in text
