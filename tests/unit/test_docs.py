"""The manual: a README that reads in one sitting, and a MkDocs site for the rest that builds with --strict,
whose configuration page is the settings object's own and whose architecture page names every package and
import contract."""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from app.config_reference import PAGE, render
from core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
# pages other parts of the project append sections to: they must stay where they are, in the nav
SHARED_PAGES = ["security.md", "api.md", "operations.md", "benchmarks.md", "guides.md"]


def test_the_readme_is_a_manual_of_at_most_20_kb_that_points_to_every_page():
    readme = (ROOT / "README.md").read_bytes()
    assert len(readme) <= 20 * 1024, f"README.md is {len(readme)} bytes; move reference material into docs/"
    text = readme.decode()
    for page in ["api.md", "configuration.md", "operations.md", "security.md", "benchmarks.md",
                 "architecture.md", "testing.md", "guides.md"]:
        assert f"(docs/{page})" in text, page
        assert (ROOT / "docs" / page).is_file(), page
    for block in ("walkthrough", "cli", "client"):
        assert f"<!-- {block}:start -->" in text, block


def test_the_configuration_page_is_generated_from_the_settings_and_is_current():
    page = PAGE.read_text()
    assert page == render(), "docs/configuration.md is stale: run `python -m app.config_reference`"
    for name, field in Settings.model_fields.items():
        assert field.description, f"the setting {name} has no description"
        row = next(line for line in page.splitlines() if line.startswith(f"| `DISTILLERY_{name.upper()}` |"))
        assert row.count(" | ") >= 3, row
    assert "&lt;var_dir&gt;" in page and "<var_dir>" not in page  # text, not an HTML tag


def test_the_configuration_check_fails_on_a_stale_page(tmp_path, monkeypatch):
    import app.config_reference as reference

    stale = tmp_path / "configuration.md"
    stale.write_text(render().replace("DISTILLERY_VAR_DIR", "DISTILLERY_OLD_NAME"))
    monkeypatch.setattr(reference, "PAGE", stale)
    assert reference.main(["--check"]) == 1
    assert reference.main([]) == 0 and reference.main(["--check"]) == 0


def test_the_architecture_page_has_a_row_per_package_and_every_import_contract():
    page = (ROOT / "docs" / "architecture.md").read_text()
    rows = {m.group(1) for m in re.finditer(r"^\| `([\w.]+)`", page, re.M)}
    for top in ("app", "worker", "models"):
        for init in (ROOT / top).rglob("__init__.py"):
            package = ".".join(init.parent.relative_to(ROOT).parts)
            assert package in rows, f"docs/architecture.md has no row for the package {package}"
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    for contract in contracts:
        assert contract["name"] in page, f"docs/architecture.md does not list the contract {contract['name']!r}"


def test_every_page_is_in_the_nav_and_the_site_builds_offline_with_strict(tmp_path):
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    nav = [next(iter(item.values())) for item in config["nav"]]
    pages = sorted(p.name for p in (ROOT / "docs").glob("*.md"))
    assert sorted(nav) == pages
    assert set(SHARED_PAGES) <= set(nav)
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "site" / "configuration.html").stat().st_size > 0
    assert "DISTILLERY_SANDBOX_FALLBACK" in (tmp_path / "site" / "configuration.html").read_text()
