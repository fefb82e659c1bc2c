"""The architecture's import rules, checked on the source (DESIGN.md, "Rules")."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "dashboard"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def python_files(folder: Path):
    return sorted(p for p in folder.rglob("*.py") if "migrations" not in p.parts)


def test_views_import_neither_the_client_nor_requests():
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m
            for m in imported_modules(path)
            if m.startswith(("dashboard.layers", "requests", "urllib3"))
        )
        for path in python_files(ROOT / "views")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_nothing_outside_the_sandbox_imports_it():
    offenders = []
    for path in python_files(ROOT):
        if (ROOT / "sandbox") in path.parents:
            continue
        if any(m.startswith("dashboard.sandbox") for m in imported_modules(path)):
            offenders.append(str(path.relative_to(ROOT)))
    for path in python_files(ROOT.parent / "tests"):
        if "sandbox" in path.parts:
            continue
        if any(m.startswith("dashboard.sandbox") for m in imported_modules(path)):
            offenders.append(str(path))
    assert offenders == []


def test_the_sandbox_writes_its_own_json_and_never_uses_the_client():
    offenders = [
        str(path.relative_to(ROOT))
        for path in python_files(ROOT / "sandbox")
        if any(
            m.startswith(("dashboard.layers", "dashboard.services")) for m in imported_modules(path)
        )
    ]
    assert offenders == []


def test_only_the_client_and_the_sandbox_talk_http():
    # The bench and soak commands drive the dashboard from outside, like a browser would.
    allowed = {ROOT / "layers", ROOT / "sandbox", ROOT / "management" / "commands"}
    offenders = [
        str(path.relative_to(ROOT))
        for path in python_files(ROOT)
        if not any(folder == path.parent or folder in path.parents for folder in allowed)
        and any(m.split(".")[0] in {"requests", "urllib3", "httpx"} for m in imported_modules(path))
    ]
    assert offenders == []
