"""The OpenAPI document, adjusted so that generated clients read every operation correctly."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.schemas import TransferSetBuiltinCreate, TransferSetImageFolderCreate, TransferSetTorchvisionCreate


def _mark_binary(schema: dict[str, Any]) -> None:
    # FastAPI describes uploads with contentMediaType (OpenAPI 3.1); generators look for format: binary.
    for prop in schema.get("properties", {}).values():
        if prop.get("contentMediaType") == "application/octet-stream":
            prop.pop("contentMediaType")
            prop["format"] = "binary"


def build_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    # Named only from openapi_extra (the route reads its body by content type), so add them here.
    for model in (TransferSetBuiltinCreate, TransferSetImageFolderCreate, TransferSetTorchvisionCreate):
        definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(definition.pop("$defs", {}))
        components[model.__name__] = definition
    for component in components.values():
        _mark_binary(component)
    # Errors are sent as RFC 9457 problem documents; say so, so clients and validators expect that type.
    for operation in (op for path in schema.get("paths", {}).values() for op in path.values()):
        for response in operation.get("responses", {}).values():
            content = response.get("content", {})
            body = content.get("application/json", {}).get("schema", {})
            if body.get("$ref", "").endswith("/ProblemDetail"):
                content["application/problem+json"] = content.pop("application/json")
    app.openapi_schema = schema
    return schema


def install(app: FastAPI) -> None:
    app.openapi = lambda: build_openapi(app)
