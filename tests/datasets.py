"""Transfer sets written to disk the way users have them, made from scikit-learn's digits."""

import struct
import tarfile
import zipfile
from pathlib import Path

import numpy as np

from models.transfer_sets import load_builtin


def digit_images(limit: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """8×8 uint8 images (pixel = value/16 × 255, so ToTensor gives the built-in set's scale)."""
    d = load_builtin("digits")

    def img(x):
        return np.round(x.reshape(-1, 8, 8) * 255).astype(np.uint8)

    n = limit or len(d.x_train)
    return img(d.x_train[:n]), d.y_train[:n], img(d.x_test), d.y_test


def write_image_folder(root: Path, *, limit: int | None = None, split: bool = True) -> Path:
    """``root/train/<class>/<i>.png`` and ``root/test/<class>/<i>.png`` (or class folders directly)."""
    from PIL import Image

    x, y, x_test, y_test = digit_images(limit)
    parts = {"train": (x, y), "test": (x_test, y_test)} if split else {"": (x, y)}
    for part, (images, labels) in parts.items():
        for i, (im, label) in enumerate(zip(images, labels, strict=True)):
            path = root / part / f"digit_{label}" / f"{i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(im, mode="L").save(path)
    return root


def _idx_images(path: Path, images: np.ndarray) -> None:
    path.write_bytes(struct.pack(">IIII", 0x803, len(images), *images.shape[1:]) + images.tobytes())


def _idx_labels(path: Path, labels: np.ndarray) -> None:
    path.write_bytes(struct.pack(">II", 0x801, len(labels)) + labels.astype(np.uint8).tobytes())


def write_mnist(root: Path) -> Path:
    """The IDX files torchvision.datasets.MNIST reads from ``root/MNIST/raw`` with download=False."""
    x, y, x_test, y_test = digit_images()
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    _idx_images(raw / "train-images-idx3-ubyte", x)
    _idx_labels(raw / "train-labels-idx1-ubyte", y)
    _idx_images(raw / "t10k-images-idx3-ubyte", x_test)
    _idx_labels(raw / "t10k-labels-idx1-ubyte", y_test)
    return root


def zip_folder(folder: Path, archive: Path) -> Path:
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                zf.write(f, f.relative_to(folder))
    return archive


def tar_folder(folder: Path, archive: Path) -> Path:
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(folder, arcname=".")
    return archive
