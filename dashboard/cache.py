"""Django's Redis cache, keeping one client per connection pool.

Django's RedisCacheClient builds a new `redis.Redis` for every cache operation. With
redis-py 8 that constructor fills a table of ~170 response callbacks each time: about
0.5 ms per get or set, paid a dozen times by every queue page (cached reads, generations,
locks). A `redis.Redis` is thread-safe (it borrows a connection from its pool per
command), so one per pool serves every thread. settings.py swaps this class in for
Django's when CACHE_URL is a redis:// URL."""

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
