"""The `client` fixture: a LayersClient on the live sandbox whose sleeps are recorded
instead of slept, so retries stay fast and countable."""

import pytest

from .support import make_client


@pytest.fixture
def client(sandbox):
    client = make_client(sandbox)
    yield client
    client.close()
