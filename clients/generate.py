"""`make client`: write the app's OpenAPI document and generate the Python client from it.

    python clients/generate.py [OUTPUT_DIR]

OUTPUT_DIR defaults to clients/python/distillery_client (the committed client); the tests pass a
temporary directory and compare the two.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def openapi_document() -> dict:
    from app.main import create_app

    return create_app().openapi()


def generate(output: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "openapi.json"
        spec.write_text(json.dumps(openapi_document(), indent=2, sort_keys=True))
        subprocess.run(
            [str(Path(sys.executable).parent / "openapi-python-client"), "generate", "--path", str(spec),
             "--meta", "none", "--output-path", str(output), "--config", str(HERE / "openapi-python-client.yml"),
             "--overwrite", "--fail-on-warning"],
            check=True, stdout=subprocess.DEVNULL,
        )
    _import_unset(output)


def _import_unset(output: Path) -> None:
    """openapi-python-client 0.29 annotates a body with several content types as ``| Unset`` but does not
    import ``Unset`` (openapi-python-client#1451, fix pending in #1478). Add the import where it is missing."""
    for module in output.rglob("*.py"):
        text = module.read_text()
        if "| Unset" in text and "Unset," not in text and "import Unset" not in text:
            old = "from ...types import Response, UNSET"
            text = text.replace(old, f"{old}, Unset", 1)
            module.write_text(text)


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "python" / "distillery_client")
