from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.body_create_teacher import BodyCreateTeacher
from ...models.problem_detail import ProblemDetail
from ...models.teacher_public import TeacherPublic
from typing import cast



def _get_kwargs(
    *,
    body: BodyCreateTeacher,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/teachers",
    }

    _kwargs["files"] = body.to_multipart()

    headers["Content-Type"] = "multipart/form-data; boundary=+++"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ProblemDetail | TeacherPublic | None:
    if response.status_code == 201:
        response_201 = TeacherPublic.from_dict(response.json())



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
    *,
    client: AuthenticatedClient,
    body: BodyCreateTeacher,

) -> Response[ProblemDetail | TeacherPublic]:
    """ Create Teacher

     Upload a teacher. Its file is checked, then loaded and run on zero batches in the sandbox, before
    anything is stored.

    Args:
        body (BodyCreateTeacher):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemDetail | TeacherPublic]
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
    body: BodyCreateTeacher,

) -> ProblemDetail | TeacherPublic | None:
    """ Create Teacher

     Upload a teacher. Its file is checked, then loaded and run on zero batches in the sandbox, before
    anything is stored.

    Args:
        body (BodyCreateTeacher):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemDetail | TeacherPublic
     """


    return sync_detailed(
        client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: BodyCreateTeacher,

) -> Response[ProblemDetail | TeacherPublic]:
    """ Create Teacher

     Upload a teacher. Its file is checked, then loaded and run on zero batches in the sandbox, before
    anything is stored.

    Args:
        body (BodyCreateTeacher):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemDetail | TeacherPublic]
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
    body: BodyCreateTeacher,

) -> ProblemDetail | TeacherPublic | None:
    """ Create Teacher

     Upload a teacher. Its file is checked, then loaded and run on zero batches in the sandbox, before
    anything is stored.

    Args:
        body (BodyCreateTeacher):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemDetail | TeacherPublic
     """


    return (await asyncio_detailed(
        client=client,
body=body,

    )).parsed
