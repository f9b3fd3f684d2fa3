"""The startup banner names the Redis separate processes must be given (MLPLANE_REDIS_URL), never
with the password a configured URL carries."""

from __future__ import annotations

import pytest

from entrypoints.daemon import _print_banner
from entrypoints.settings import Settings

pytestmark = pytest.mark.unit


def test_a_configured_redis_url_is_shown_without_its_password(capsys: pytest.CaptureFixture[str]) -> None:
    url = "redis://mlplane:s3cr3t-pw@redis.internal:6380/2"
    _print_banner(Settings(redis_url=url), 8080, auth=False, redis_url=url)

    banner = capsys.readouterr().out
    assert "  Redis      redis://***@redis.internal:6380/2  (MLPLANE_REDIS_URL)" in banner.splitlines()
    assert "s3cr3t" not in banner and "mlplane:s3cr3t" not in banner


def test_the_embedded_redis_url_is_shown_whole(capsys: pytest.CaptureFixture[str]) -> None:
    _print_banner(Settings(redis_url=None), 8080, auth=False, redis_url="redis://127.0.0.1:40995/0")

    assert ("  Redis      redis://127.0.0.1:40995/0  (embedded; separate processes: "
            "MLPLANE_REDIS_URL=redis://127.0.0.1:40995/0 mlplane inference ...)") in capsys.readouterr().out
