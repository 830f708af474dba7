"""The house keeps one direction: the import contracts of pyproject.toml, and no loop even behind a function.

import-linter checks the arrows between layers (``lint-imports``); the checks below read the source for what it
cannot see: loops closed by imports inside functions, services or permissions reaching for the request, and views
reaching for the database.
"""
from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.import_graph import ROOT, Import, all_imports, import_loops, module_files

# What a service may not take from Flask (it works on explicit inputs, for any caller).
WEB_NAMES = {"flask": {"request", "g", "session", "render_template", "render_template_string", "flash", "url_for"},
             "flask_login": {"current_user", "login_user", "logout_user"},
             "markupsafe": {"Markup"}}
# How a view would talk to the database itself instead of asking a service.
DATABASE_CALL = re.compile(r"\bdb\.(session|get_or_404|first_or_404|one_or_404|paginate|select)\b|\.query\b")


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, '.'); "
                           "from importlinter.cli import lint_imports_command; lint_imports_command()", "--no-cache"],
                          cwd=cwd, capture_output=True, text=True, timeout=300)


def test_import_contracts_are_kept():
    ids = re.findall(r'^id = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), flags=re.M)
    assert set(ids) >= {"mining-is-a-library", "layers", "services-stay-off-the-web", "views-go-through-services"}
    report = _lint_imports(ROOT)
    assert report.returncode == 0, report.stdout[-6000:] + report.stderr[-2000:]
    assert report.stdout.count(" KEPT") == len(ids)  # every contract was read and checked


def test_no_import_loops_even_inside_functions():
    loops = import_loops(all_imports())
    assert loops == [], "import loops: " + "; ".join(" <-> ".join(loop) for loop in loops)


def test_the_loop_finder_sees_a_loop_hidden_in_a_function():
    hidden = [Import("forum.services.a", "forum.tasks", 3, True, False),
              Import("forum.tasks", "forum.services.a", 1, False, False)]
    assert import_loops(hidden) == [["forum.services.a", "forum.tasks"]]
    annotations_only = [Import("forum.a", "forum.b", 1, False, True), Import("forum.b", "forum.a", 1, False, False)]
    assert import_loops(annotations_only) == []


def test_function_level_imports_are_only_for_heavy_optional_dependencies():
    """An import inside a function loads something heavy on first use, and says so; it never hides a loop."""
    lazy = [imp for imp in all_imports() if imp.in_function and not imp.type_checking
            and imp.source.startswith("forum")]
    files = module_files()
    unexplained = []
    for imp in lazy:
        line = files[imp.source].read_text().splitlines()[imp.line - 1]
        if "#" not in line:
            unexplained.append(f"{imp.source}:{imp.line} imports {imp.target}")
    assert unexplained == []


def _names_imported(source: str) -> set[tuple[str, str]]:
    """(package, name) for ``from package... import name`` and for ``package.name`` after ``import package``."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {(node.module.split(".")[0], alias.name) for alias in node.names}
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in WEB_NAMES:
            found.add((node.value.id, node.attr))
    return found


def _web_names(source: str) -> list[str]:
    return sorted(f"{package}.{name}" for package, name in _names_imported(source)
                  if name in WEB_NAMES.get(package, ()))


def _off_the_web() -> list[Path]:
    """The modules below the web layer that may be called from anywhere: the services and the permissions."""
    return sorted((ROOT / "forum" / "services").rglob("*.py")) + [ROOT / "forum" / "permissions.py"]


def test_services_and_permissions_never_touch_the_request_templates_or_markup():
    touching = [f"{path.relative_to(ROOT)}: {name}" for path in _off_the_web() for name in _web_names(path.read_text())]
    assert touching == []


@pytest.mark.parametrize("line", ["from flask import request", "from flask import current_app, g",
                                  "import flask\nmemo = flask.g", "from flask_login import current_user"])
def test_the_web_check_sees_permissions_taking_the_request(line):
    assert ROOT / "forum" / "permissions.py" in _off_the_web()
    source = (ROOT / "forum" / "permissions.py").read_text()
    assert _web_names(source) == []
    assert _web_names(source + "\n" + line + "\n") != []


def test_views_forms_and_the_api_reach_the_database_only_through_services():
    calls = []
    for area in ("views", "api", "forms"):
        for path in sorted((ROOT / "forum" / area).rglob("*.py")):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if DATABASE_CALL.search(line):
                    calls.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert calls == []


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git to make a scratch copy")
def test_a_forbidden_arrow_breaks_the_contracts(tmp_path):
    """The contracts fail on a violation: a service importing the tasks module, in a scratch copy."""
    for package in ("forum", "mining"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "static",
                                                                                            "templates", "data"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    background = tmp_path / "forum" / "services" / "background.py"
    background.write_text(background.read_text() + "\nfrom .. import tasks  # noqa: E402,F401\n")
    report = _lint_imports(tmp_path)
    assert report.returncode != 0
    assert "forum.services is not allowed to import forum.tasks" in report.stdout
    loops = import_loops(all_imports(tmp_path))
    assert any("forum.tasks" in loop for loop in loops)
