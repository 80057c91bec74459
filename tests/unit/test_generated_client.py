"""The committed client is what `make client` generates from the app's schema today."""

import filecmp
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "clients"))

from generate import generate  # noqa: E402


def differences(a: Path, b: Path) -> list[str]:
    cmp = filecmp.dircmp(a, b, ignore=["__pycache__"])
    out = [f"only in committed: {n}" for n in cmp.left_only] + [f"only in fresh: {n}" for n in cmp.right_only]
    out += [f"differs: {n}" for n in cmp.diff_files]
    for name in cmp.subdirs:
        out += [f"{name}/{d}" for d in differences(a / name, b / name)]
    return out


def test_committed_client_matches_a_fresh_generation(tmp_path, embedded_env):
    fresh = tmp_path / "distillery_client"
    generate(fresh)
    diff = differences(ROOT / "clients" / "python" / "distillery_client", fresh)
    assert not diff, "the API changed but the client was not regenerated; run `make client`:\n" + "\n".join(diff)
