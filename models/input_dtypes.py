"""The element types a teacher may take, and which transfer sets can feed each.

A teacher over token or category ids takes integers; casting them to float (what the service did for
every input) breaks its embedding. The name is what the API, the database and the sandbox protocol carry;
numpy's dtype is what arrays are cast to. Pure numpy, so the API can check a job without torch.
"""

import numpy as np

INPUT_DTYPES: dict[str, np.dtype] = {
    "float32": np.dtype("<f4"),
    "float16": np.dtype("<f2"),
    "int64": np.dtype("<i8"),
    "int32": np.dtype("<i4"),
    "bool": np.dtype("?"),
}
DEFAULT_INPUT_DTYPE = "float32"

# What a transfer set's samples are, by family; a teacher takes a set whose family it accepts, cast to its
# own dtype. Floats take integers and booleans as numbers (what .npz uploads always did); ids are never
# made of floats, and booleans only of booleans.
_FAMILY = {"float32": "float", "float16": "float", "int64": "integer", "int32": "integer", "bool": "bool"}
_ACCEPTS = {"float": {"float", "integer", "bool"}, "integer": {"integer", "bool"}, "bool": {"bool"}}


def data_dtype(a: np.ndarray) -> str:
    """The name a transfer set's inputs are recorded under: int64 for any integers, bool, else float32."""
    if a.dtype == np.bool_:
        return "bool"
    if np.issubdtype(a.dtype, np.integer):
        return "int64"
    return "float16" if a.dtype == np.float16 else "float32"


def accepts(teacher_dtype: str, data: str) -> bool:
    return _FAMILY.get(data, "float") in _ACCEPTS[_FAMILY[teacher_dtype]]


def cast_inputs(a, dtype: str):
    """Arrays cast to the teacher's dtype (lazily read image data stays float32, what images are)."""
    if not isinstance(a, np.ndarray):
        return a
    target = INPUT_DTYPES[dtype]
    return a if a.dtype == target else a.astype(target)


def torch_dtype(name: str):
    import torch

    return {"float32": torch.float32, "float16": torch.float16, "int64": torch.int64, "int32": torch.int32,
            "bool": torch.bool}[name]
