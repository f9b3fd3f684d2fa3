"""Shared fixtures: Redis discovery (tests/support/redis_fixtures.py) and the Google API emulators."""

pytest_plugins = ["tests.support.redis_fixtures", "tests.support.emulator_fixtures"]
