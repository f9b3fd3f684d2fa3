"""Shared fixtures. Redis discovery lives in tests/support/redis_fixtures.py."""

pytest_plugins = ["tests.support.redis_fixtures"]
