"""docintake-contracts is what a subscriber installs: the contract, on pydantic alone."""

import ast
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CONTRACTS = ROOT / "contracts"


def imported_top_level_modules(source: Path) -> set[str]:
    tree = ast.parse(source.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_the_contract_distribution_depends_on_pydantic_only():
    project = tomllib.loads((CONTRACTS / "pyproject.toml").read_text())["project"]
    assert [dependency.split(">")[0] for dependency in project["dependencies"]] == ["pydantic"]


def test_every_contract_module_imports_only_the_standard_library_pydantic_and_the_contract():
    modules = sorted((CONTRACTS / "src" / "docintake" / "contracts").rglob("*.py"))
    assert modules
    for module in modules:
        for name in imported_top_level_modules(module):
            top = name.split(".")[0]
            allowed = top in sys.stdlib_module_names or top == "pydantic" or name.startswith("docintake.contracts")
            assert allowed, f"{module.relative_to(ROOT)} imports {name}"
