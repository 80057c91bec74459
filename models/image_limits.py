"""Image sets bounded by their pixels, read from each file's header before any image is decoded.

A 6000x6000 PNG of one colour compresses to a few dozen KB, so an archive's byte ratio says nothing of
what its images decode to; and ``preprocessing.resize`` can make a 1x1 image 4000x4000. Each image is
bounded by the larger of its own pixels and those its resize makes, and a set by their sum. The summary an
upload records is made here too, meant for a bounded child (``models.bounded``): the archive is extracted,
counted and its first image run through the preprocessing there, never in the API.
"""

from pathlib import Path

from models import image_data
from models.preprocessing import Preprocessing
from models.transfer_sets import HOLDOUT_FRACTION, TransferSetInvalid, TransferSetTooLarge

MAX_IMAGE_PIXELS = 4096 * 4096
MAX_SET_PIXELS = 2**31
MAX_INPUT_ELEMENTS = 16 * 1024**2


def resized(width: int, height: int, resize) -> tuple[int, int]:
    """The (width, height) torchvision's ``Resize(resize)`` makes of an image (an int sets the shorter side)."""
    if resize is None:
        return width, height
    if isinstance(resize, int) or len(resize) == 1:
        size = resize if isinstance(resize, int) else resize[0]
        short, long = min(width, height), max(width, height)
        other = int(size * long / max(short, 1))
        return (size, other) if width <= height else (other, size)
    return int(resize[1]), int(resize[0])


def check_pixels(files: list[Path], prep: Preprocessing, *, max_image_pixels: int = MAX_IMAGE_PIXELS,
                 max_set_pixels: int = MAX_SET_PIXELS) -> int:
    """The set's pixels (each image counted at the larger of its size and its resized size), or a
    :class:`TransferSetTooLarge` naming the image and the setting. Reads headers only."""
    from PIL import Image, UnidentifiedImageError

    total = 0
    for f in files:
        try:
            with Image.open(f) as im:
                width, height = im.size
        except Image.DecompressionBombError:
            raise TransferSetTooLarge(f"{f.name} has more pixels than an image may have "
                                      "(DISTILLERY_IMAGE_MAX_PIXELS); upload smaller images") from None
        except (UnidentifiedImageError, OSError, ValueError):
            raise TransferSetInvalid(f"{f.name} is not a readable image") from None
        pixels = width * height
        if pixels > max_image_pixels:
            raise TransferSetTooLarge(f"{f.name} is {width}x{height} = {pixels} pixels, more than the limit of "
                                      f"{max_image_pixels} per image (DISTILLERY_IMAGE_MAX_PIXELS); upload "
                                      "smaller images")
        rw, rh = resized(width, height, prep.resize)
        if rw * rh > max_image_pixels:
            raise TransferSetTooLarge(f"preprocessing.resize {prep.resize} makes {f.name} {rw}x{rh} = {rw * rh} "
                                      f"pixels, more than the limit of {max_image_pixels} per image "
                                      "(DISTILLERY_IMAGE_MAX_PIXELS); resize to a smaller size")
        total += max(pixels, rw * rh)
        if total > max_set_pixels:
            raise TransferSetTooLarge(f"the images hold more than {max_set_pixels} pixels in all (counted up to "
                                      f"{f.name}, at their resized size where larger), more than the limit "
                                      "(DISTILLERY_IMAGE_MAX_SET_PIXELS); upload fewer or smaller images")
    return total


def summarise_images(folder: str, labelled: bool, preprocessing: dict, *, archive: dict | None = None,
                     max_image_pixels: int = MAX_IMAGE_PIXELS, max_set_pixels: int = MAX_SET_PIXELS,
                     max_input_elements: int = MAX_INPUT_ELEMENTS) -> dict:
    """What the API records of an image folder: counts, classes and the shape a sample takes after the
    preprocessing. ``archive`` (``path``, ``max_files``, ``max_bytes``, ``max_ratio``): extract it into
    ``folder`` first."""
    from models.archives import extract_archive

    prep = Preprocessing.model_validate(preprocessing)
    root = Path(folder)
    unpacked = None
    if archive is not None:
        unpacked = extract_archive(Path(archive["path"]), root, max_files=archive["max_files"],
                                   max_bytes=archive["max_bytes"], max_ratio=archive["max_ratio"])
    splits = image_data.scan_image_folder(root, root, labelled)
    files = splits.train.files + (splits.test.files if splits.test else [])
    pixels = check_pixels(files, prep, max_image_pixels=max_image_pixels, max_set_pixels=max_set_pixels)
    image_data.check_sizes(files, prep)
    shape = list(image_data.load_images(files[:1], prep).shape[1:])
    elements = 1
    for d in shape:
        elements *= d
    if elements > max_input_elements:
        raise TransferSetTooLarge(f"the preprocessing makes each sample {shape} = {elements} elements, more than "
                                  f"the limit of {max_input_elements} (DISTILLERY_MAX_INPUT_ELEMENTS); resize or "
                                  "crop to a smaller size")
    n, labels = len(splits.train.files), splits.train.labels
    n_test = len(splits.test.files) if splits.test else 0
    if splits.test is None and labels is not None:
        n_test = int(round(n * HOLDOUT_FRACTION))
        n -= n_test
    return {"num_samples": n, "num_test": n_test, "sample_shape": shape, "labelled": labels is not None,
            "num_classes": len(splits.train.class_names) if labels is not None else None,
            "class_names": splits.train.class_names, "unpacked_bytes": unpacked, "pixels": pixels}
