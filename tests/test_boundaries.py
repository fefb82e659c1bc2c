"""The architecture's import rules, checked on the source (DESIGN.md, "Rules").

Every import is read with `ast`; a relative one is resolved to the absolute module it names
(`from ...layers import records` in dashboard/sandbox/views/core.py is
dashboard.layers.records), and a module named in a string to import_module, import_string,
__import__ or include() counts as an import too."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ROOT = REPO / "dashboard"
SANDBOX = "dashboard.sandbox"
CLIENT = "dashboard.layers"
HTTP_LIBRARIES = ("requests", "urllib3", "httpx")
DYNAMIC_IMPORTS = {"import_module", "import_string", "__import__", "include"}
MAX_SERVICE_LINES = 400


def module_of(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def within(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def resolved(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module a `from … import` names, relative ones included."""
    if node.level == 0:
        return node.module
    package = module.split(".") if is_package else module.split(".")[:-1]
    if node.level - 1 >= len(package):
        raise ImportError(f"{module}: a relative import goes above the top package")
    base = ".".join(package[: len(package) - (node.level - 1)])
    return f"{base}.{node.module}" if node.module else base


def imports_of(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module the source imports: `from a import b` gives a and a.b (b may be a
    submodule), relative imports resolved against `module`."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = resolved(node, module, is_package)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            first = node.args[0] if node.args else None
            if name in DYNAMIC_IMPORTS and isinstance(getattr(first, "value", None), str):
                names.add(first.value)
    return names


def imported_modules(path: Path) -> set[str]:
    return imports_of(path.read_text(), module_of(path), path.name == "__init__.py")


def python_files(folder: Path):
    return sorted(folder.rglob("*.py"))


def offenders(files, bad) -> dict:
    found = {
        str(path.relative_to(REPO)): sorted(m for m in imported_modules(path) if bad(m))
        for path in files
    }
    return {name: modules for name, modules in found.items() if modules}


# --- the reader itself --------------------------------------------------------------------


def test_relative_imports_are_read_as_the_absolute_modules_they_name():
    source = "from ...layers import records\nfrom .. import clock\nfrom .http import PLATFORMS\n"
    assert imports_of(source, "dashboard.sandbox.views.core") == {
        "dashboard.layers",
        "dashboard.layers.records",
        "dashboard.sandbox",
        "dashboard.sandbox.clock",
        "dashboard.sandbox.views.http",
        "dashboard.sandbox.views.http.PLATFORMS",
    }
    assert imports_of("from . import models\n", "dashboard.sandbox", is_package=True) == {
        "dashboard.sandbox",
        "dashboard.sandbox.models",
    }


def test_imports_by_name_count_as_imports():
    source = (
        "import importlib\nimportlib.import_module('dashboard.models')\n"
        "path('x/', include('dashboard.sandbox.urls'))\n"
    )
    assert {"dashboard.models", "dashboard.sandbox.urls"} <= imports_of(source, "dashboard.urls")


# --- the rules ----------------------------------------------------------------------------


def test_the_sandbox_imports_nothing_of_the_dashboards():
    """Not the client, not the dashboard's models, nothing outside dashboard.sandbox: it
    writes its own JSON from the contract, so a parsing bug cannot hide on both sides."""
    bad = offenders(
        python_files(ROOT / "sandbox"),
        lambda m: within(m, "dashboard") and not within(m, SANDBOX),
    )
    assert bad == {}


def test_nothing_outside_the_sandbox_imports_it_but_the_url_and_settings_wiring():
    wiring = {ROOT / "urls.py", ROOT / "settings.py"}
    dashboard = [
        p for p in python_files(ROOT) if (ROOT / "sandbox") not in p.parents and p not in wiring
    ]
    tests = [
        p for p in python_files(REPO / "tests") if (REPO / "tests" / "sandbox") not in p.parents
    ]
    bad = offenders([*dashboard, *tests, REPO / "manage.py"], lambda m: within(m, SANDBOX))
    assert bad == {}


def test_views_and_the_webhook_receiver_import_neither_the_client_nor_requests():
    files = [*python_files(ROOT / "views"), ROOT / "webhooks.py"]
    bad = offenders(files, lambda m: within(m, CLIENT, *HTTP_LIBRARIES))
    assert bad == {}


def test_only_the_client_and_the_sandbox_talk_http():
    # The bench and soak commands drive the dashboard from outside, like a browser would.
    allowed = (ROOT / "layers", ROOT / "sandbox", ROOT / "management" / "commands")
    # The sign-in provider is the one other upstream: dashboard/sso.py reads its discovery.
    files = [
        p
        for p in python_files(ROOT)
        if not any(f in p.parents for f in allowed) and p != ROOT / "sso.py"
    ]
    assert offenders(files, lambda m: within(m, *HTTP_LIBRARIES)) == {}


def test_no_service_uses_another_services_private_names():
    found = []
    for path in python_files(ROOT / "services"):
        own = module_of(path)
        services = {}  # local name -> the services module it is bound to
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = resolved(node, own, path.name == "__init__.py")
                for alias in node.names:
                    private = alias.name.startswith("_")
                    if private and within(base, "dashboard.services") and base != own:
                        found.append(f"{own} imports {base}.{alias.name}")
                    if base == "dashboard.services":
                        services[alias.asname or alias.name] = f"{base}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if within(alias.name, "dashboard.services") and alias.asname:
                        services[alias.asname] = alias.name
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in services
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                found.append(f"{own} uses {services[node.value.id]}.{node.attr}")
    assert found == []


def test_no_services_module_is_longer_than_four_hundred_lines():
    lengths = {
        path.name: len(path.read_text().splitlines()) for path in python_files(ROOT / "services")
    }
    assert {name: n for name, n in lengths.items() if n > MAX_SERVICE_LINES} == {}


def plain_expression_waits(source: str) -> list[int]:
    """Lines calling wait_for_function with a string that is not a function: Playwright
    eval()s such a string on every poll, which a page's CSP without 'unsafe-eval' refuses."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "wait_for_function"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and "=>" not in str(node.args[0].value)
            and not str(node.args[0].value).lstrip().startswith(("function", "async"))
        ):
            lines.append(node.lineno)
    return lines


def test_a_wait_on_a_plain_expression_is_found_and_a_function_is_not():
    source = 'page.wait_for_function("document.title == \'x\'")\npage.wait_for_function("() => 1")'
    assert plain_expression_waits(source) == [1]


def browser_tests_where(check) -> dict:
    """{file: lines} of the browser tests in which check(source) finds lines."""
    return {
        str(path.relative_to(REPO)): lines
        for path in python_files(REPO / "tests" / "browser")
        if (lines := check(path.read_text()))
    }


def test_no_browser_test_waits_on_an_expression_the_pages_csp_would_refuse_to_eval():
    found = browser_tests_where(plain_expression_waits)
    assert not found, f"use expect(locator) or an arrow function instead: {found}"


INSTANT_STATES = {
    "is_visible",
    "is_hidden",
    "is_checked",
    "is_enabled",
    "is_disabled",
    "is_editable",
}


def instant_state_asserts(source: str) -> list[int]:
    """Lines asserting a locator's is_visible()/is_checked()/…: these read the page once and
    never wait, so right after a click that navigates or swaps they can read the page before
    it changed. expect(locator).to_be_visible() and its siblings retry until the timeout."""
    return sorted(
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Assert)
        and any(
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr in INSTANT_STATES
            for call in ast.walk(node.test)
        )
    )


def test_an_assert_on_an_instant_state_is_found_and_an_expect_is_not():
    source = "assert page.locator('h1').is_visible()\nexpect(page.locator('h1')).to_be_visible()"
    assert instant_state_asserts(source) == [1]


def test_no_browser_test_asserts_a_state_without_waiting_for_it():
    found = browser_tests_where(instant_state_asserts)
    assert not found, f"use expect(locator).to_be_visible() / to_be_checked() instead: {found}"
