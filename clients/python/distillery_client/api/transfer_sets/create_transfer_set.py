from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET, Unset
from ... import errors

from ...models.create_transfer_set_files_body import CreateTransferSetFilesBody
from ...models.problem_detail import ProblemDetail
from ...models.transfer_set_builtin_create import TransferSetBuiltinCreate
from ...models.transfer_set_image_folder_create import TransferSetImageFolderCreate
from ...models.transfer_set_public import TransferSetPublic
from ...models.transfer_set_torchvision_create import TransferSetTorchvisionCreate
from typing import cast



def _get_kwargs(
    *,
    body:    TransferSetBuiltinCreate | TransferSetImageFolderCreate | TransferSetTorchvisionCreate  |     CreateTransferSetFilesBody  | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/transfer-sets",
    }

    if isinstance(body, TransferSetBuiltinCreate | TransferSetImageFolderCreate | TransferSetTorchvisionCreate):
        
        if isinstance(body, TransferSetBuiltinCreate):
            _kwargs["json"] = body.to_dict()
        elif isinstance(body, TransferSetImageFolderCreate):
            _kwargs["json"] = body.to_dict()
        else:
            _kwargs["json"] = body.to_dict()


        headers["Content-Type"] = "application/json"
    if isinstance(body, CreateTransferSetFilesBody):
        _kwargs["files"] = body.to_multipart()

        headers["Content-Type"] = "multipart/form-data; boundary=+++"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ProblemDetail | TransferSetPublic | None:
    if response.status_code == 201:
        response_201 = TransferSetPublic.from_dict(response.json())



        return response_201

    if response.status_code == 401:
        response_401 = ProblemDetail.from_dict(response.json())



        return response_401

    if response.status_code == 404:
        response_404 = ProblemDetail.from_dict(response.json())



        return response_404

    if response.status_code == 413:
        response_413 = ProblemDetail.from_dict(response.json())



        return response_413

    if response.status_code == 415:
        response_415 = ProblemDetail.from_dict(response.json())



        return response_415

    if response.status_code == 422:
        response_422 = ProblemDetail.from_dict(response.json())



        return response_422

    if response.status_code == 429:
        response_429 = ProblemDetail.from_dict(response.json())



        return response_429

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[ProblemDetail | TransferSetPublic]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body:    TransferSetBuiltinCreate | TransferSetImageFolderCreate | TransferSetTorchvisionCreate  |     CreateTransferSetFilesBody  | Unset = UNSET,

) -> Response[ProblemDetail | TransferSetPublic]:
    """ Create Transfer Set

     Register a transfer set: JSON naming a built-in set, or a multipart upload of an ``.npz``, a
    ``.csv`` or
    ``.parquet`` table, or an image archive.

    Args:
        body (TransferSetBuiltinCreate | TransferSetImageFolderCreate |
            TransferSetTorchvisionCreate):
        body (CreateTransferSetFilesBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemDetail | TransferSetPublic]
     """


    kwargs = _get_kwargs(
        body=body,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    body:    TransferSetBuiltinCreate | TransferSetImageFolderCreate | TransferSetTorchvisionCreate  |     CreateTransferSetFilesBody  | Unset = UNSET,

) -> ProblemDetail | TransferSetPublic | None:
    """ Create Transfer Set

     Register a transfer set: JSON naming a built-in set, or a multipart upload of an ``.npz``, a
    ``.csv`` or
    ``.parquet`` table, or an image archive.

    Args:
        body (TransferSetBuiltinCreate | TransferSetImageFolderCreate |
            TransferSetTorchvisionCreate):
        body (CreateTransferSetFilesBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemDetail | TransferSetPublic
     """


    return sync_detailed(
        client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body:    TransferSetBuiltinCreate | TransferSetImageFolderCreate | TransferSetTorchvisionCreate  |     CreateTransferSetFilesBody  | Unset = UNSET,

) -> Response[ProblemDetail | TransferSetPublic]:
    """ Create Transfer Set

     Register a transfer set: JSON naming a built-in set, or a multipart upload of an ``.npz``, a
    ``.csv`` or
    ``.parquet`` table, or an image archive.

    Args:
        body (TransferSetBuiltinCreate | TransferSetImageFolderCreate |
            TransferSetTorchvisionCreate):
        body (CreateTransferSetFilesBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemDetail | TransferSetPublic]
     """


    kwargs = _get_kwargs(
        body=body,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    body:    TransferSetBuiltinCreate | TransferSetImageFolderCreate | TransferSetTorchvisionCreate  |     CreateTransferSetFilesBody  | Unset = UNSET,

) -> ProblemDetail | TransferSetPublic | None:
    """ Create Transfer Set

     Register a transfer set: JSON naming a built-in set, or a multipart upload of an ``.npz``, a
    ``.csv`` or
    ``.parquet`` table, or an image archive.

    Args:
        body (TransferSetBuiltinCreate | TransferSetImageFolderCreate |
            TransferSetTorchvisionCreate):
        body (CreateTransferSetFilesBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemDetail | TransferSetPublic
     """


    return (await asyncio_detailed(
        client=client,
body=body,

    )).parsed
