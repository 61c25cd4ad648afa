"""The architecture's rules, enforced: imports point one way, no circles, no private names shared.

``server -> agent -> simulator, renderer`` and ``renderer -> simulator``. MuJoCo stays inside
``simulator/`` and ``renderer/``. docs/architecture.md explains each rule.
"""

import ast
from collections import defaultdict
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ("agent", "simulator", "renderer", "server")
FORBIDDEN = {
    "simulator": {"agent", "renderer", "server", "torch", "diffusers", "openai", "xllamacpp", "langgraph"},
    "renderer": {"agent", "server", "openai", "xllamacpp", "langgraph"},
    "agent": {"server", "mujoco"},
    "server": {"mujoco"},
}
MAX_FUNCTION_LINES = 60


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path):
    """(module imported, names taken from it) for every absolute import in `path`."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module, [a.name for a in node.names]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package):
    offenders = []
    for path in sources(package):
        bad = {m.split(".")[0] for m, _ in imports(path)} & FORBIDDEN[package]
        if package in ("agent", "server") and any(m == "simulator._mujoco" for m, _ in imports(path)):
            bad.add("simulator._mujoco")
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not offenders, "\n".join(offenders)


def _graph() -> dict[str, set[str]]:
    """Module -> project modules it imports (a name imported from a package counts as its submodule)."""
    known = {module_name(p) for pkg in PACKAGES for p in sources(pkg)}
    graph = defaultdict(set)
    for pkg in PACKAGES:
        for path in sources(pkg):
            me = module_name(path)
            for mod, names in imports(path):
                for target in [f"{mod}.{n}" for n in names] + [mod]:
                    if target in known and target != me:
                        graph[me].add(target)
                        break
    return graph


def test_no_import_circles():
    graph = _graph()
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import circles:\n" + "\n".join(cycles)


def test_no_private_names_imported_across_modules():
    offenders = []
    for pkg in PACKAGES:
        for path in sources(pkg):
            for mod, names in imports(path):
                private = [n for n in names if n.startswith("_") and not n.startswith("__")]
                if mod.split(".")[0] in PACKAGES and private and mod != "simulator._mujoco":
                    offenders.append(f"{path.relative_to(ROOT)} takes {private} from {mod}")
    assert not offenders, "\n".join(offenders)


def test_functions_stay_short():
    long = []
    for pkg in PACKAGES:
        for path in sources(pkg):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    n = node.end_lineno - node.lineno + 1
                    if n > MAX_FUNCTION_LINES:
                        long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} is {n} lines")
    assert not long, "\n".join(long)


def test_the_planner_shows_one_face():
    """Outside agent/planner/, code imports ``agent.planner`` (its __init__'s names) or a backend
    adapter, never a part (words, cerebellum, formats, narration, validation, record, ...)."""
    offenders = []
    for pkg in ("agent", "server"):
        for path in sources(pkg):
            if path.is_relative_to(ROOT / "agent" / "planner"):
                continue
            for mod, _ in imports(path):
                if mod.startswith("agent.planner.") and not mod.startswith("agent.planner.backends"):
                    offenders.append(f"{path.relative_to(ROOT)} imports {mod}")
    assert not offenders, "\n".join(offenders)


def test_one_event_checker():
    """What makes an event valid is decided in simulator/checks.py alone: no other module defines
    the per-event checks or re-derives a mass from a volume."""
    defined = defaultdict(list)
    for pkg in PACKAGES:
        for path in sources(pkg):
            for node in ast.parse(path.read_text(encoding="utf-8")).body:  # module-level functions
                if isinstance(node, ast.FunctionDef) and node.name in ("event_problems", "check_events", "volume"):
                    defined[node.name].append(str(path.relative_to(ROOT)))
    assert defined == {"event_problems": ["simulator/checks.py"], "check_events": ["simulator/checks.py"],
                       "volume": ["simulator/bounds.py"]}
    for pkg in PACKAGES:
        for path in sources(pkg):
            text = path.read_text(encoding="utf-8")
            assert "4 / 3 * math.pi" not in text and "4.0 / 3.0 * math.pi" not in text or path.name == "bounds.py", path


def test_no_plan_is_reparsed_between_graph_nodes():
    """The turn graph passes the typed request, plan and record from node to node: no module of the
    turn engine parses JSON or re-validates a plan (the checkpointer alone serialises)."""
    offenders = []
    for name in ("graph.py", "episode.py"):
        tree = ast.parse((ROOT / "agent" / "turns" / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("loads", "model_validate", "model_validate_json"):
                offenders.append(f"agent/turns/{name}:{node.lineno} calls .{node.attr}")
    assert not offenders, "\n".join(offenders)
