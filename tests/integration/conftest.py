import pytest

from tests.integration.stack import running_stack


@pytest.fixture(scope="module", params=["embedded", "postgres_redis"])
def stack(request, tmp_path_factory):
    with running_stack(request.param, tmp_path_factory.mktemp(request.param)) as s:
        yield s
