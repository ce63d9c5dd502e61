"""The architecture, enforced: every import in simcc (lazy ones too) goes down the layers, never up, and no two
modules import each other in a cycle.

The layers, bottom to top (DESIGN.md, docs/developing.md)::

    leaves   errors, stats, atomic, jsonsafe, erlang   (import no simcc module above them)
    model    scenario YAML / Python -> validated Scenario
    engine   compile, contract, streams, kernel, SimPy reference, routing
    run      simulate, jobs, executors, store, KPIs, results, sweeps, comparisons, export
    plan     staffing, trunks, shifts, studies          \\ side by side: neither imports the other
    calibrate  call records -> scenario, backtests      /
    present  plots, the HTML report
    top      cli, the package itself (the public API), __main__, _moved (old paths)

A module may import its own layer and any layer below. ``if TYPE_CHECKING:``
imports are not imports at run time and are not counted.
"""
import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "simcc"
LEAVES = {"errors", "stats", "atomic", "jsonsafe", "erlang", "htmlrepr"}
RANK = {"leaf": 0, "model": 1, "engine": 2, "run": 3, "plan": 4, "calibrate": 4, "present": 5, "top": 6}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ("cli", "__main__", "_moved"):
        return "top"
    if parts[1] in LEAVES:
        return "leaf"
    return parts[1]


def _is_type_checking(node) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports(path: Path) -> set[str]:
    """Every simcc module ``path`` imports, at module level or inside functions, resolved to full names."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = {id(n) for node in ast.walk(tree) if _is_type_checking(node) for n in ast.walk(node)}
    out = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == "simcc")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "simcc":
                continue
            for a in node.names:      # `from . import plot` imports the module simcc.x.plot
                sub = f"{target}.{a.name}"
                out.add(sub if (PKG.parent / (sub.replace(".", "/") + ".py")).exists()
                        or (PKG.parent / sub.replace(".", "/") / "__init__.py").exists() else target)
    out.discard(me)
    return out


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports(p) for p in sorted(PKG.rglob("*.py"))}


def test_every_module_belongs_to_a_layer():
    unknown = sorted(m for m in graph() if layer(m) not in RANK)
    assert not unknown, f"modules outside the layers of DESIGN.md: {unknown}"


def test_imports_only_go_down():
    upward = []
    for m, deps in graph().items():
        for d in deps:
            if layer(d) not in RANK:
                continue
            lm, ld = layer(m), layer(d)
            same_rank_siblings = RANK[lm] == RANK[ld] and lm != ld     # plan and calibrate
            if RANK[ld] > RANK[lm] or same_rank_siblings:
                upward.append(f"{m} ({lm}) imports {d} ({ld})")
    assert not upward, "imports that go up a layer:\n" + "\n".join(sorted(upward))


def test_no_import_cycles():
    g = graph()
    # a package's __init__ re-exporting its own modules is not a cycle of behaviour; leave those edges out
    edges = {m: {d for d in deps if d in g and not (m.startswith(d + ".") and d == m.rsplit(".", 1)[0])}
             for m, deps in g.items()}
    edges = {m: {d for d in deps if not d.startswith(m + ".")} if m in {x.rsplit(".", 1)[0] for x in g} else deps
             for m, deps in edges.items()}
    index, low, stack, on, cycles, counter = {}, {}, [], set(), [], [0]

    def strong(v):                       # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            strong(v)
    assert not cycles, f"import cycles: {cycles}"


def test_the_kernel_knows_no_yaml_and_the_model_no_heaps():
    g = graph()
    assert not [d for d in g["simcc.engine.compile"] if layer(d) not in ("leaf", "model", "engine")]
    core = (PKG / "engine" / "_core.pyx").read_text()
    assert "yaml" not in core and "pydantic" not in core and "pandas" not in core
    for m, deps in g.items():
        if layer(m) == "model":
            assert not [d for d in deps if d.startswith("simcc.engine")], m


@pytest.mark.parametrize("probe", ["simcc.run.simulation", "simcc.engine.reference", "simcc.present.plot"])
def test_the_checker_sees_lazy_imports(probe):
    """Guard against a checker that passes because it sees nothing: known imports are found."""
    g = graph()
    assert g[probe], probe
    assert "simcc.engine.routing" in g["simcc.engine.reference"]
    assert "simcc.plan.baseline" in g["simcc.present.plot"]
