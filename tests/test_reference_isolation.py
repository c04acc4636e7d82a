"""Production never runs the reference implementation: no module under flows/, transforms/ or warehouse/ imports
`tests` (tests/reference/ holds the long event-study pipeline the engine is checked against; were production to
import it, the oracle would stop being independent and the installed package would need the test tree)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = ("flows", "transforms", "warehouse")


def _imported_modules(path: Path, root: Path) -> list[str]:
    """Every module an `import` or `from ... import` statement of `path` names (relative imports resolved)."""
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            names.append(base)
            names.extend(f"{base}.{alias.name}" for alias in node.names)
    return names


def _offenders(root: Path) -> list[str]:
    """`file imports module` for every import of the test tree by a production module under `root`."""
    found = []
    for top in PRODUCTION:
        for path in sorted((root / top).rglob("*.py")):
            for name in _imported_modules(path, root):
                if name == "tests" or name.startswith("tests."):
                    found.append(f"{path.relative_to(root).as_posix()} imports {name}")
    return found


def test_no_production_module_imports_the_reference() -> None:
    assert _offenders(ROOT) == []
    assert sum(1 for top in PRODUCTION for _ in (ROOT / top).rglob("*.py")) > 20  # the walk saw the code


def test_the_check_catches_an_import_of_the_reference(tmp_path: Path) -> None:
    (tmp_path / "transforms" / "event_study").mkdir(parents=True)
    module = tmp_path / "transforms" / "event_study" / "probe.py"
    for source, imported in (
        ("from tests.reference.event_study import run_event_study\n", "tests.reference.event_study"),
        ("import tests.reference.group_tests as oracle\n", "tests.reference.group_tests"),
        ("from tests.reference import event_study\n", "tests.reference"),
        ("def f() -> None:\n    from tests import reference\n", "tests"),
        ("from ...tests.reference import event_study\n", "tests.reference"),
    ):
        module.write_text(source, encoding="utf-8")
        assert f"transforms/event_study/probe.py imports {imported}" in _offenders(tmp_path), source
    module.write_text("from transforms.event_study import run_dense_study\n", encoding="utf-8")
    assert _offenders(tmp_path) == []
