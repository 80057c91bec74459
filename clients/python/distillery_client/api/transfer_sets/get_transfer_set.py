from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.problem_detail import ProblemDetail
from ...models.transfer_set_public import TransferSetPublic
from typing import cast



def _get_kwargs(
    transfer_set_id: str,

) -> dict[str, Any]:
    

    

    

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/transfer-sets/{transfer_set_id}".format(transfer_set_id=quote(str(transfer_set_id), safe=""),),
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ProblemDetail | TransferSetPublic | None:
    if response.status_code == 200:
        response_200 = TransferSetPublic.from_dict(response.json())



        return response_200

    if response.status_code == 401:
        response_401 = ProblemDetail.from_dict(response.json())



        return response_401

    if response.status_code == 404:
        response_404 = ProblemDetail.from_dict(response.json())



        return response_404

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
    transfer_set_id: str,
    *,
    client: AuthenticatedClient,

) -> Response[ProblemDetail | TransferSetPublic]:
    """ Get Transfer Set

    Args:
        transfer_set_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemDetail | TransferSetPublic]
     """


    kwargs = _get_kwargs(
        transfer_set_id=transfer_set_id,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    transfer_set_id: str,
    *,
    client: AuthenticatedClient,

) -> ProblemDetail | TransferSetPublic | None:
    """ Get Transfer Set

    Args:
        transfer_set_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemDetail | TransferSetPublic
     """


    return sync_detailed(
        transfer_set_id=transfer_set_id,
client=client,

    ).parsed

async def asyncio_detailed(
    transfer_set_id: str,
    *,
    client: AuthenticatedClient,

) -> Response[ProblemDetail | TransferSetPublic]:
    """ Get Transfer Set

    Args:
        transfer_set_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemDetail | TransferSetPublic]
     """


    kwargs = _get_kwargs(
        transfer_set_id=transfer_set_id,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    transfer_set_id: str,
    *,
    client: AuthenticatedClient,

) -> ProblemDetail | TransferSetPublic | None:
    """ Get Transfer Set

    Args:
        transfer_set_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemDetail | TransferSetPublic
     """


    return (await asyncio_detailed(
        transfer_set_id=transfer_set_id,
client=client,

    )).parsed
