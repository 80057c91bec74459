"""The dependency graph's rules (pyproject's [tool.importlinter]) hold, and a break of one is caught."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(where: Path) -> subprocess.CompletedProcess:
    # From ``where``, so that its packages are the ones analysed rather than the installed ones.
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=where, capture_output=True, text=True, timeout=120)


def test_the_import_contracts_hold():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_a_model_module_that_imports_the_worker_breaks_a_contract(tmp_path):
    for package in ("app", "core", "worker", "models"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("static", "__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "models" / "scratch.py").write_text("from worker.jobs.lifecycle import execute  # noqa\n")
    done = lint_imports(tmp_path)
    assert done.returncode != 0
    assert "Models and data formats import neither the API, the core nor the worker BROKEN" in done.stdout
    assert "models.scratch -> worker.jobs.lifecycle" in done.stdout
