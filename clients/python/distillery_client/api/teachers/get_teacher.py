from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.problem_detail import ProblemDetail
from ...models.teacher_public import TeacherPublic
from typing import cast



def _get_kwargs(
    teacher_id: str,

) -> dict[str, Any]:
    

    

    

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/teachers/{teacher_id}".format(teacher_id=quote(str(teacher_id), safe=""),),
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ProblemDetail | TeacherPublic | None:
    if response.status_code == 200:
        response_200 = TeacherPublic.from_dict(response.json())



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[ProblemDetail | TeacherPublic]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    teacher_id: str,
    *,
    client: AuthenticatedClient,

) -> Response[ProblemDetail | TeacherPublic]:
    """ Get Teacher

    Args:
        teacher_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemDetail | TeacherPublic]
     """


    kwargs = _get_kwargs(
        teacher_id=teacher_id,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    teacher_id: str,
    *,
    client: AuthenticatedClient,

) -> ProblemDetail | TeacherPublic | None:
    """ Get Teacher

    Args:
        teacher_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemDetail | TeacherPublic
     """


    return sync_detailed(
        teacher_id=teacher_id,
client=client,

    ).parsed

async def asyncio_detailed(
    teacher_id: str,
    *,
    client: AuthenticatedClient,

) -> Response[ProblemDetail | TeacherPublic]:
    """ Get Teacher

    Args:
        teacher_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemDetail | TeacherPublic]
     """


    kwargs = _get_kwargs(
        teacher_id=teacher_id,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    teacher_id: str,
    *,
    client: AuthenticatedClient,

) -> ProblemDetail | TeacherPublic | None:
    """ Get Teacher

    Args:
        teacher_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemDetail | TeacherPublic
     """


    return (await asyncio_detailed(
        teacher_id=teacher_id,
client=client,

    )).parsed
