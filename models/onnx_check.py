"""Static checks of an uploaded ONNX model: standard operator domains only, no external data, and sparse
tensors bounded by what they densify to (onnxruntime turns a sparse initializer into a dense one when it
loads the model, so a 1-element tensor declared [1e6, 1e6] would ask for 4 TB)."""

import math
from pathlib import Path

from models.inspection import ModelRefused

MAX_SPARSE_DENSE_ELEMENTS = 64 * 1024**2  # what one sparse tensor may densify to: a large layer's weights

_ONNX_DOMAINS = {"", "ai.onnx", "ai.onnx.ml"}


def check_onnx(path: Path) -> None:
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:
        raise ModelRefused("the file is not a loadable onnx model; export it with torch.onnx.export, or "
                           "from your framework's ONNX exporter") from None
    for opset in model.opset_import:
        if opset.domain not in _ONNX_DOMAINS:
            raise ModelRefused(f"the ONNX model imports the custom operator domain {opset.domain!r}; only the "
                               "standard domains (ai.onnx, ai.onnx.ml) are accepted")
    for tensor in _onnx_tensors(model.graph):
        if tensor.data_location == onnx.TensorProto.EXTERNAL or len(tensor.external_data):
            raise ModelRefused(
                f"the ONNX tensor {tensor.name!r} keeps its data in an external file, which an upload cannot "
                "carry and a server must never read; export it with all weights inside the .onnx file "
                "(torch.onnx.export(..., external_data=False), or onnx.save(model, path, "
                "save_as_external_data=False))")
    for node in _onnx_nodes(model.graph):
        if node.domain not in _ONNX_DOMAINS:
            raise ModelRefused(f"the ONNX node {node.name or node.op_type!r} uses the custom operator domain "
                               f"{node.domain!r}; only the standard domains are accepted")
        for attr in node.attribute:
            if attr.HasField("sparse_tensor") or len(attr.sparse_tensors):
                raise ModelRefused(f"the ONNX node {node.name or node.op_type!r} has a sparse tensor attribute "
                                   f"({attr.name!r}), which is not accepted; store the constant as a dense tensor "
                                   "(a Constant node's 'value', or an initializer)")
    for g in _onnx_graphs(model.graph):
        for sparse in g.sparse_initializer:
            _check_sparse(sparse)


def _check_sparse(sparse) -> None:
    """A sparse initializer's shape, number of values and indices must agree, and what it densifies to
    must be bounded, before onnxruntime densifies it."""
    from onnx import numpy_helper

    name = sparse.values.name or "(unnamed)"
    dims = list(sparse.dims)
    if not dims or any(d < 0 for d in dims):
        raise ModelRefused(f"the ONNX sparse initializer {name!r} has the shape {dims}; give it a shape of "
                           "non-negative sizes")
    dense = math.prod(dims)
    if dense > MAX_SPARSE_DENSE_ELEMENTS:
        raise ModelRefused(f"the ONNX sparse initializer {name!r} is shaped {dims}: it densifies to {dense} "
                           f"elements, more than the limit of {MAX_SPARSE_DENSE_ELEMENTS}; make it smaller")
    values_dims, index_dims = list(sparse.values.dims), list(sparse.indices.dims)
    nnz = values_dims[0] if len(values_dims) == 1 else -1
    if nnz < 0 or not (index_dims == [nnz] or index_dims == [nnz, len(dims)]) or nnz > dense:
        raise ModelRefused(f"the ONNX sparse initializer {name!r} has values shaped {values_dims} and indices "
                           f"shaped {index_dims}, which do not fit its shape {dims}")
    try:
        indices = numpy_helper.to_array(sparse.indices)
        values = numpy_helper.to_array(sparse.values)
    except Exception:
        raise ModelRefused(f"the ONNX sparse initializer {name!r} cannot be read; save the model again") from None
    bounds = [dense] if indices.ndim == 1 else dims
    if values.size != nnz or indices.size != nnz * len(bounds) or (indices.size and (
            indices.min() < 0 or (indices.reshape(nnz, -1) >= bounds).any())):
        raise ModelRefused(f"the ONNX sparse initializer {name!r} has indices outside its shape {dims}, or not "
                           "one value per index")


def _onnx_graphs(graph):
    yield graph
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("g"):
                yield from _onnx_graphs(attr.g)
            for g in attr.graphs:
                yield from _onnx_graphs(g)


def _onnx_nodes(graph):
    for g in _onnx_graphs(graph):
        yield from g.node


def _onnx_tensors(graph):
    for g in _onnx_graphs(graph):
        yield from g.initializer
        for sparse in g.sparse_initializer:
            yield sparse.values
            yield sparse.indices
        for node in g.node:
            for attr in node.attribute:
                if attr.HasField("t"):
                    yield attr.t
                yield from attr.tensors
