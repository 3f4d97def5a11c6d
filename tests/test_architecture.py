"""The layers of `app/` import one way, and no two modules import each other.

models ← rules ← workflow ← access ← domain operations ← jobs ← views, API, CLI (DESIGN.md). Read
from the source with `ast`, so a lazy import inside a function counts like any other.
"""

import ast
from pathlib import Path

import pytest

APP = Path(__file__).parent.parent / "app"

# Layers, lowest first. A module may import its own layer's modules (within its group) and
# any module of a lower layer.
FOUNDATION = {"app.config", "app.errors", "app.i18n", "app.jsonio", "app.models.base"}
BASICS = {"app.extensions", "app.labels", "app.validation"}
# Domain packages, in the order they may build on one another.
DOMAINS = ("inbox", "accounts", "financing", "projects", "review", "reporting")
VIEW_MODULES = {"routes", "forms", "actions", "charts"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(APP.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in APP.rglob("*.py")}


def layer(module: str) -> tuple[int, str]:
    """(rank, group): imports may go to a lower rank, or within the same group."""
    parts = module.split(".")
    if module in FOUNDATION:
        return 0, module
    if module in BASICS:
        return 1, module
    if module == "app.database":
        return 2, module
    if parts[1:2] == ["models"]:
        return 3, "models"
    if parts[1:2] == ["rules"]:
        return 4, "rules"
    if parts[1:2] == ["workflow"]:
        return 5, "workflow"
    if module == "app.access":
        return 6, module
    if len(parts) > 1 and parts[1] in DOMAINS:
        if len(parts) > 2 and parts[2] in VIEW_MODULES:
            return 10, "views"
        return 7 + DOMAINS.index(parts[1]) / 10, parts[1]
    if parts[1:2] == ["jobs"]:  # background work, built on the domain operations
        return 9, "jobs"
    if parts[1:2] in (["api"], ["admin"]) or module == "app.web":
        return 10, "views"
    if module == "app.demo":  # demo data, loaded through the operations
        return 11, module
    if module == "app.cli":
        return 12, module
    if module == "app":
        return 13, module
    raise AssertionError(f"{module} belongs to no layer: add it to tests/test_architecture.py")


def imports_of(module: str) -> set[str]:
    """The app modules `module` imports (a name imported from a package that is itself a
    module counts as that module)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "app"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif (node.module or "").split(".")[0] == "app":
                target = node.module
            else:
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in MODULES else target)
    return {name for name in found if name in MODULES and name != module}


GRAPH = {module: imports_of(module) for module in MODULES}


def upward(module: str) -> list[str]:
    rank, group = layer(module)
    return sorted(target for target in GRAPH[module]
                  if layer(target)[0] > rank or (layer(target)[0] == rank
                                                 and layer(target)[1] != group
                                                 and group != "views"))


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_down_the_layers(module):
    assert upward(module) == [], f"{module} imports above its layer"


def test_no_two_modules_import_each_other():
    cycles = []
    index, low, stack, on_stack, counter = {}, {}, [], set(), [0]

    def visit(node):  # Tarjan's strongly connected components
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    assert cycles == []


def test_the_check_sees_an_upward_import():
    """The rule itself: the engine importing a domain package is caught."""
    GRAPH["app.workflow.engine"].add("app.projects.operations")
    try:
        assert upward("app.workflow.engine") == ["app.projects.operations"]
    finally:
        GRAPH["app.workflow.engine"].discard("app.projects.operations")


# A project and the rows that are its own: written by the workflow engine's step writer only.
PROJECT_ROWS = {"Project", "EquipmentItem", "IntendedBank", "Attachment", "ChangeRequest",
                "Opinion", "BankClaim", "Engagement", "Loan", "ListEntry", "Deadline",
                "StageTime", "WorkflowEvent"}
DML = {"update", "insert", "delete"}


def orm_writes(path: Path) -> list[str]:
    """Writes of project rows in the module at `path` beside the step writer: DML on their
    tables, or such a row handed to the session."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        first = node.args[0]
        target = getattr(first, "id", None) or getattr(getattr(first, "func", None), "id", None) \
            or getattr(getattr(first, "value", None), "id", None)
        if target in PROJECT_ROWS and (name in DML or name in ("add", "add_all", "merge")):
            found.append(f"line {node.lineno}: {name}({target} …)")
    return found


@pytest.mark.parametrize("module", sorted(m for m in MODULES
                                          if not m.startswith(("app.workflow", "app.models"))))
def test_project_rows_are_written_only_by_the_step_writer(module):
    assert orm_writes(MODULES[module]) == []


def test_the_write_check_sees_a_session_add(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("db.session.add(Project(name='x'))\n"
                     "session.execute(update(Loan).values(a=1))\n")
    assert orm_writes(probe) == ["line 1: add(Project …)", "line 2: update(Loan …)"]
