"""Imports point one way: server -> agent -> simulator, renderer; renderer -> simulator."""

import ast

import pytest

from tests.conftest import ROOT

FORBIDDEN = {
    "simulator": {"agent", "renderer", "server", "torch", "diffusers", "openai", "llama_cpp", "langgraph"},
    "renderer": {"agent", "server", "openai", "llama_cpp", "langgraph"},
    "agent": {"server"},
}


def imported_packages(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package):
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        if package == "agent" and path.name == "cli.py":
            continue  # the CLI is the composition root; it imports `server` lazily for `callosum serve`
        bad = set(imported_packages(path)) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not offenders, "\n".join(offenders)
