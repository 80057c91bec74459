"""Image transfer sets: folders of class subfolders (on the data volume, or extracted from an upload)
and torchvision datasets already on the data volume (never downloaded).

Paths are resolved only inside the operator's data roots; a path with `..`, or one whose real
location (symlinks followed) lies outside every root, is refused.
"""

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path, PurePath

import numpy as np

from models.lazy_inputs import LazyInputs
from models.preprocessing import Preprocessing
from models.transfer_sets import HOLDOUT_FRACTION, SPLIT_SEED, TransferData, TransferSetInvalid

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp"}
TORCHVISION_DATASETS = ("MNIST", "FashionMNIST", "CIFAR10", "CIFAR100", "SVHN")


def resolve_in_roots(path: str, roots: list[Path]) -> Path:
    if not roots:
        raise TransferSetInvalid("this server has no data roots (DISTILLERY_DATA_ROOTS), so it reads no data "
                                 "from disk; upload the data instead, or ask the operator to configure a root")
    if ".." in PurePath(path).parts:
        raise TransferSetInvalid(f"the path {path!r} contains '..'; give a path inside a data root")
    resolved_roots = [Path(r).resolve() for r in roots]
    candidates = [Path(path)] if Path(path).is_absolute() else [r / path for r in resolved_roots]
    for candidate in candidates:
        if not candidate.exists():
            continue
        real = candidate.resolve()
        if any(real == r or r in real.parents for r in resolved_roots):
            _check_links_inside(real, path, resolved_roots)
            return real
        raise TransferSetInvalid(f"the path {path!r} leads outside the data roots (through a symbolic link "
                                 "or an absolute path); only data inside the roots can be read")
    raise TransferSetInvalid(f"the path {path!r} does not exist inside the data roots "
                             f"({', '.join(map(str, resolved_roots))})")


def _check_links_inside(folder: Path, given: str, roots: list[Path]) -> None:
    """Every entry under ``folder`` (a torchvision root reads whatever files it finds) must lie inside a data
    root once its symbolic links are followed. Linked folders inside the roots are walked too, once each."""
    if not folder.is_dir():
        return
    seen = {folder}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        here = Path(dirpath)
        for name in [*dirnames, *filenames]:
            entry = here / name
            if not entry.is_symlink():
                continue
            real = entry.resolve()
            if not any(real == r or r in real.parents for r in roots):
                shown = PurePath(given) / entry.relative_to(folder)
                raise TransferSetInvalid(f"{str(shown)!r} is a symbolic link leading outside the data roots; only "
                                         "data inside the roots can be read")
        # Walk a linked folder once, whichever link leads to it (a link to a parent would loop).
        dirnames[:] = [d for d in dirnames if (here / d).resolve() not in seen]
        seen.update((here / d).resolve() for d in dirnames)


def _inside(path: Path, root: Path) -> bool:
    real = path.resolve()
    return real == root or root in real.parents


def _images_in(folder: Path, data_root: Path, recursive: bool) -> list[Path]:
    found = folder.rglob("*") if recursive else folder.iterdir()
    files = sorted(p for p in found if p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")
                   and p.is_file())
    for f in files:
        if not _inside(f, data_root):
            raise TransferSetInvalid(f"{f.relative_to(folder)} is a link leading outside the data roots")
    return files


@dataclass
class FolderScan:
    files: list[Path]
    labels: list[int] | None
    class_names: list[str] | None


def _class_dirs(folder: Path) -> list[Path]:
    return sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith((".", "__")))


def scan_folder(folder: Path, data_root: Path, labelled: bool = True, class_names: list[str] | None = None
                ) -> FolderScan:
    """``class_name/image.png`` → labelled (classes sorted by name); images with no class folders, or
    ``labelled=False`` → unlabelled."""
    classes = _class_dirs(folder)
    if not classes or not labelled:
        files = _images_in(folder, data_root, recursive=bool(classes))
        if not files:
            raise TransferSetInvalid(f"no images ({', '.join(sorted(IMAGE_EXTENSIONS))}) in {folder.name!r}")
        return FolderScan(files, None, None)
    names = class_names or [d.name for d in classes]
    files, labels = [], []
    for d in classes:
        if d.name not in names:  # pragma: no cover - names always come from these folders
            raise TransferSetInvalid(f"class folder {d.name!r} is not one of the classes {names}")
        images = _images_in(d, data_root, recursive=True)
        if not images:
            raise TransferSetInvalid(f"class folder {d.name!r} holds no images; remove it or add images")
        files += images
        labels += [names.index(d.name)] * len(images)
    return FolderScan(files, labels, names)


def check_sizes(files: list[Path], preprocessing: Preprocessing) -> None:
    """Without a resize to a fixed size, every image must have the same size."""
    from PIL import Image, UnidentifiedImageError

    if preprocessing.fixes_size():
        return
    sizes: dict[tuple[int, int], Path] = {}
    for f in files:
        try:
            with Image.open(f) as im:
                sizes.setdefault(im.size, f)
        except (UnidentifiedImageError, OSError):
            raise TransferSetInvalid(f"{f.name} is not a readable image") from None
        if len(sizes) > 1:
            (a, fa), (b, fb) = list(sizes.items())[:2]
            raise TransferSetInvalid(
                f"images have different sizes ({fa.name} is {a[0]}x{a[1]}, {fb.name} is {b[0]}x{b[1]}); add "
                'a preprocessing "resize" and "center_crop" (e.g. {"resize": 32, "center_crop": 32})')


def load_images(files: list[Path], preprocessing: Preprocessing) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    transform = preprocessing.transform()
    out = []
    for f in files:
        try:
            with Image.open(f) as im:
                out.append(transform(im).numpy())
        except (UnidentifiedImageError, OSError):
            raise TransferSetInvalid(f"{f.name} is not a readable image") from None
        if out[-1].shape != out[0].shape:
            raise TransferSetInvalid(f"{f.name} becomes {list(out[-1].shape)} but {files[0].name} becomes "
                                     f"{list(out[0].shape)}; add a resize and center_crop to the preprocessing")
    return np.stack(out).astype(np.float32)


@dataclass
class FolderSplits:
    train: FolderScan
    test: FolderScan | None


def scan_image_folder(folder: Path, data_root: Path, labelled: bool) -> FolderSplits:
    """A ``train/`` and ``test/`` pair beside each other gives the test split; otherwise none."""
    sub = {d.name for d in _class_dirs(folder)}
    if {"train", "test"} <= sub:
        # Classes are the union of both splits' folders, so indices agree even if one split lacks a class.
        names = sorted({d.name for part in ("train", "test") for d in _class_dirs(folder / part)}) or None
        train = scan_folder(folder / "train", data_root, labelled, class_names=names)
        test = scan_folder(folder / "test", data_root, labelled, class_names=train.class_names)
        return FolderSplits(train, test if train.labels is not None else None)
    return FolderSplits(scan_folder(folder, data_root, labelled), None)


def load_image_folder(folder: Path, data_root: Path, labelled: bool, preprocessing: Preprocessing
                      ) -> TransferData:
    splits = scan_image_folder(folder, data_root, labelled)
    x = load_images(splits.train.files, preprocessing)
    y = None if splits.train.labels is None else np.array(splits.train.labels, dtype=np.int64)
    names = splits.train.class_names
    if splits.test is not None:
        x_test = load_images(splits.test.files, preprocessing)
        return TransferData(x, y, x_test, np.array(splits.test.labels, dtype=np.int64), names)
    return _hold_out(x, y, names)


def _hold_out(x, y, names) -> TransferData:
    if y is None:
        return TransferData(x, None, None, None, names)
    order = np.random.RandomState(SPLIT_SEED).permutation(len(x))
    n_test = int(round(len(x) * HOLDOUT_FRACTION))
    if n_test == 0 or n_test == len(x):
        return TransferData(x, y, None, None, names)
    return TransferData(x[order[n_test:]], y[order[n_test:]], x[order[:n_test]], y[order[:n_test]], names)


def torchvision_dataset(name: str, root: Path, train: bool, preprocessing: Preprocessing):
    import torchvision

    if name not in TORCHVISION_DATASETS:
        raise TransferSetInvalid(f"torchvision dataset {name!r} is not supported; use one of "
                                 f"{', '.join(TORCHVISION_DATASETS)}")
    cls = getattr(torchvision.datasets, name)
    kwargs = {"split": "train" if train else "test"} if name == "SVHN" else {"train": train}
    try:
        return cls(str(root), download=False, transform=preprocessing.transform(), **kwargs)
    except RuntimeError as exc:
        part = "training" if train else "test"
        raise TransferSetInvalid(f"no {name} {part} data under {root.name!r}: torchvision says "
                                 f"{str(exc).splitlines()[0]!r} (downloads are off: put the files there)") from None


def class_names_of(dataset) -> list[str]:
    classes = getattr(dataset, "classes", None)
    if classes:
        return [str(c) for c in classes]
    labels = np.asarray(getattr(dataset, "labels", getattr(dataset, "targets", [])))
    return [str(i) for i in range(int(labels.max()) + 1)] if labels.size else []


def _materialise(dataset) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = zip(*((x.numpy(), int(y)) for x, y in dataset), strict=True)
    return np.stack(xs).astype(np.float32), np.array(ys, dtype=np.int64)


def load_torchvision(name: str, root: Path, labelled: bool, preprocessing: Preprocessing) -> TransferData:
    train = torchvision_dataset(name, root, True, preprocessing)
    x, y = _materialise(train)
    names = class_names_of(train)
    try:
        x_test, y_test = _materialise(torchvision_dataset(name, root, False, preprocessing))
    except TransferSetInvalid:  # no test files: hold a share of the training split out
        return _hold_out(x, y if labelled else None, names if labelled else None)
    return TransferData(x, y if labelled else None, x_test, y_test, names if labelled else None)


class ImageFiles:
    """Image files as a map-style dataset: (tensor, label) read on demand, for a DataLoader."""

    def __init__(self, files: list[Path], labels: list[int] | None, preprocessing: Preprocessing):
        self.files, self.labels, self.preprocessing = files, labels, preprocessing
        self._transform = None

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int):
        from PIL import Image

        if self._transform is None:
            self._transform = self.preprocessing.transform()
        with Image.open(self.files[i]) as im:
            return self._transform(im), -1 if self.labels is None else self.labels[i]


def open_image_folder(folder: Path, data_root: Path, labelled: bool, preprocessing: Preprocessing,
                      workers: int) -> TransferData:
    """Like :func:`load_image_folder`, but nothing is read until the engine asks for a batch."""
    splits = scan_image_folder(folder, data_root, labelled)
    x = LazyInputs(ImageFiles(splits.train.files, splits.train.labels, preprocessing), workers=workers)
    y = None if splits.train.labels is None else np.array(splits.train.labels, dtype=np.int64)
    names = splits.train.class_names
    if splits.test is not None:
        x_test = LazyInputs(ImageFiles(splits.test.files, splits.test.labels, preprocessing), workers=workers)
        return TransferData(x, y, x_test, np.array(splits.test.labels, dtype=np.int64), names)
    return _hold_out(x, y, names)


def _labels_of(dataset) -> np.ndarray:
    return np.asarray(getattr(dataset, "targets", None) if hasattr(dataset, "targets") else dataset.labels,
                      dtype=np.int64)


def open_torchvision(name: str, root: Path, labelled: bool, preprocessing: Preprocessing,
                     workers: int) -> TransferData:
    train = torchvision_dataset(name, root, True, preprocessing)
    x, y, names = LazyInputs(train, workers=workers), _labels_of(train), class_names_of(train)
    try:
        test = torchvision_dataset(name, root, False, preprocessing)
    except TransferSetInvalid:
        return _hold_out(x, y if labelled else None, names if labelled else None)
    return TransferData(x, y if labelled else None, LazyInputs(test, workers=workers), _labels_of(test),
                        names if labelled else None)


def fingerprint(folder: Path) -> str:
    """What the data on disk is, for the teacher-output cache: every file's path, size and mtime."""
    digest = hashlib.sha256()
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        st = f.stat()
        digest.update(f"{f.relative_to(folder)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()
