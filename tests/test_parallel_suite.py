"""The suite runs in parallel (pytest-xdist, `make test`): every worker has its own test
database, its own live server and sandbox, and with CACHE_URL=redis://… its own Redis
database, so one worker's keys (and its cache.clear()) never reach another's."""

import os

import pytest
from django.conf import settings
from django.core.cache import cache

from tests.conftest import worker_cache_url


def test_each_worker_gets_the_redis_database_after_the_one_cache_url_names():
    url = "redis://127.0.0.1:6379/1"
    assert worker_cache_url(url, "gw0") == "redis://127.0.0.1:6379/1"
    assert worker_cache_url(url, "gw1") == "redis://127.0.0.1:6379/2"
    assert worker_cache_url(url, "gw3") == "redis://127.0.0.1:6379/4"
    assert worker_cache_url("redis://h:1", "gw2") == "redis://h:1/2"
    assert worker_cache_url("rediss://u:p@h:1/0?ssl=true", "gw1") == "rediss://u:p@h:1/1?ssl=true"


def test_without_workers_or_without_redis_the_cache_url_is_left_alone():
    assert worker_cache_url("redis://127.0.0.1:6379/1", None) == "redis://127.0.0.1:6379/1"
    assert worker_cache_url("redis://127.0.0.1:6379/1", "master") == "redis://127.0.0.1:6379/1"
    assert worker_cache_url("locmemcache://dashboard", "gw1") == "locmemcache://dashboard"
    assert worker_cache_url("", "gw1") == ""


def test_more_workers_than_redis_has_databases_is_refused_with_a_sentence():
    with pytest.raises(pytest.UsageError, match="run fewer workers"):
        worker_cache_url("redis://127.0.0.1:6379/14", "gw2")


def test_two_workers_do_not_share_a_cache_key():
    """This worker's cache is the Redis database its number gives, and a key it writes is not
    in the next worker's database."""
    location = settings.CACHES["default"]["LOCATION"]
    if not str(location).startswith("redis"):
        pytest.skip("the cache is local memory: one per process already")
    import redis

    from tests import conftest

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    assert location == worker_cache_url(conftest.GIVEN_CACHE_URL, worker)
    assert os.environ["CACHE_URL"] == location  # processes a test starts use it too
    mine = redis.Redis.from_url(location)
    number = mine.connection_pool.connection_kwargs.get("db", 0)
    key = f"parallel-probe-{worker or 'alone'}"
    cache.set(key, "mine", 60)
    try:
        assert any(key in k.decode() for k in mine.keys(f"*{key}*"))
        neighbour = redis.Redis.from_url(location.rsplit("/", 1)[0] + f"/{(number + 1) % 16}")
        assert not neighbour.keys(f"*{key}*")
    finally:
        cache.delete(key)
