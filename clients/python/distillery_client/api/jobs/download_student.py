from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET, Unset
from ... import errors

from ...models.problem_detail import ProblemDetail
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    job_id: str,
    *,
    format_: str | Unset = 'torchscript',
    if_none_match: None | str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_none_match, Unset):
        headers["if-none-match"] = if_none_match



    

    params: dict[str, Any] = {}

    params["format"] = format_


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/jobs/{job_id}/student".format(job_id=quote(str(job_id), safe=""),),
        "params": params,
    }


    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | ProblemDetail | None:
    if response.status_code == 200:
        response_200 = cast(Any, None)
        return response_200

    if response.status_code == 304:
        response_304 = cast(Any, None)
        return response_304

    if response.status_code == 401:
        response_401 = ProblemDetail.from_dict(response.json())



        return response_401

    if response.status_code == 404:
        response_404 = ProblemDetail.from_dict(response.json())



        return response_404

    if response.status_code == 409:
        response_409 = ProblemDetail.from_dict(response.json())



        return response_409

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | ProblemDetail]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    job_id: str,
    *,
    client: AuthenticatedClient,
    format_: str | Unset = 'torchscript',
    if_none_match: None | str | Unset = UNSET,

) -> Response[Any | ProblemDetail]:
    """ Download Student

     The student with a plain softmax (T = 1): its output rows are probabilities.

    Args:
        job_id (str):
        format_ (str | Unset): One of: torchscript, exported_program, onnx, safetensors,
            onnx_int8, huggingface. Default: 'torchscript'.
        if_none_match (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ProblemDetail]
     """


    kwargs = _get_kwargs(
        job_id=job_id,
format_=format_,
if_none_match=if_none_match,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    job_id: str,
    *,
    client: AuthenticatedClient,
    format_: str | Unset = 'torchscript',
    if_none_match: None | str | Unset = UNSET,

) -> Any | ProblemDetail | None:
    """ Download Student

     The student with a plain softmax (T = 1): its output rows are probabilities.

    Args:
        job_id (str):
        format_ (str | Unset): One of: torchscript, exported_program, onnx, safetensors,
            onnx_int8, huggingface. Default: 'torchscript'.
        if_none_match (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ProblemDetail
     """


    return sync_detailed(
        job_id=job_id,
client=client,
format_=format_,
if_none_match=if_none_match,

    ).parsed

async def asyncio_detailed(
    job_id: str,
    *,
    client: AuthenticatedClient,
    format_: str | Unset = 'torchscript',
    if_none_match: None | str | Unset = UNSET,

) -> Response[Any | ProblemDetail]:
    """ Download Student

     The student with a plain softmax (T = 1): its output rows are probabilities.

    Args:
        job_id (str):
        format_ (str | Unset): One of: torchscript, exported_program, onnx, safetensors,
            onnx_int8, huggingface. Default: 'torchscript'.
        if_none_match (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ProblemDetail]
     """


    kwargs = _get_kwargs(
        job_id=job_id,
format_=format_,
if_none_match=if_none_match,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    job_id: str,
    *,
    client: AuthenticatedClient,
    format_: str | Unset = 'torchscript',
    if_none_match: None | str | Unset = UNSET,

) -> Any | ProblemDetail | None:
    """ Download Student

     The student with a plain softmax (T = 1): its output rows are probabilities.

    Args:
        job_id (str):
        format_ (str | Unset): One of: torchscript, exported_program, onnx, safetensors,
            onnx_int8, huggingface. Default: 'torchscript'.
        if_none_match (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ProblemDetail
     """


    return (await asyncio_detailed(
        job_id=job_id,
client=client,
format_=format_,
if_none_match=if_none_match,

    )).parsed
