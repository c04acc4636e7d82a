"""The documentation: the generated data dictionary is current, the README stays short, and every link resolves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from warehouse import docs

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
README_MAX_BYTES = 15_000
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def test_data_dictionary_is_current() -> None:
    assert docs.current() == docs.render(), "docs/data-dictionary.md is stale: run `uv run python -m warehouse.docs`"


def test_dictionary_lists_every_table_and_column() -> None:
    from warehouse.registry import all_tables

    text = docs.render()
    for table in all_tables():
        assert f"`{table.qualified_name}`" in text
        for col in table.columns:
            assert f"| `{col.name}` |" in text


def test_readme_is_short() -> None:
    size = len(README.read_bytes())
    assert size <= README_MAX_BYTES, f"README.md is {size:,} bytes (at most {README_MAX_BYTES:,}): move detail to docs/"


def test_readme_says_how_to_get_uv_and_links_every_doc() -> None:
    text = README.read_text(encoding="utf-8")
    assert "pip install uv" in text
    assert "uv sync --frozen --compile-bytecode" in text
    for page in PAGES[1:]:
        assert f"](docs/{page.name})" in text, f"README does not link docs/{page.name}"


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped (but '-' and '_'), spaces to hyphens."""
    out = set()
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            out.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return out


def test_anchor_rule_matches_github() -> None:
    """The rule `_anchors` applies, on headings of the kind these pages have."""
    page = ROOT / "docs" / "operations.md"
    assert "the-eia-api-key" in _anchors(page)
    assert "electricity-eia-open-data-api-v2" in _anchors(ROOT / "docs" / "methods.md")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target} (no file {dest})")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(f"{target} (no heading #{anchor} in {dest.name})")
    assert not broken, f"{page.name}: broken links: {broken}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_hard_coded_test_counts(page: Path) -> None:
    """A count of tests goes stale with the next test added; the docs never state one."""
    found = re.findall(r"\b\d[\d,]*\s+(?:tests|test cases)\b", page.read_text(encoding="utf-8"))
    assert not found, f"{page.name} states a test count: {found}"
