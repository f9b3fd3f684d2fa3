"""Shared fixtures: Redis discovery (tests/support/redis_fixtures.py), the Google API emulators and
an HTTP client session."""

pytest_plugins = ["tests.support.redis_fixtures", "tests.support.emulator_fixtures", "tests.support.http_fixtures"]
