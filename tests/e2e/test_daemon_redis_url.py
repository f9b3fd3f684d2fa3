"""`mlplane up` with its embedded Redis says where that Redis is, in the startup banner and in the JSON
log, so separate `mlplane inference` / `mlplane worker` processes can be given it as MLPLANE_REDIS_URL;
after a restart on the same data dir the URL is the same, so they need no new setting."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import redis

from tests.support.daemon import DaemonProcess

pytestmark = pytest.mark.e2e
BANNER_LINE = re.compile(r"^  Redis +(redis://127\.0\.0\.1:\d+/0) +\(embedded; separate processes: "
                         r"MLPLANE_REDIS_URL=(\S+) mlplane inference", re.MULTILINE)


def started(data_dir: Path) -> tuple[DaemonProcess, str]:
    """A daemon (no demo), and the Redis URL its banner shows."""
    daemon = DaemonProcess(data_dir, {"MLPLANE_SEED_DEMO": "false"})
    daemon.start()  # returns at the banner's first line: the others follow at once
    try:
        deadline = time.monotonic() + 10
        while (banner := BANNER_LINE.search(daemon.log_text())) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert banner is not None, daemon.log_text()[-3000:]
        assert banner.group(2) == banner.group(1)
    except BaseException:
        daemon.kill()
        raise
    return daemon, banner.group(1)


def logged_url(daemon: DaemonProcess) -> str:
    lines = [json.loads(line) for line in daemon.log_text().splitlines() if "embedded redis started" in line]
    assert len(lines) == 1, daemon.log_text()[-3000:]
    return str(lines[0]["url"])


def test_the_banner_and_the_log_give_the_embedded_redis_url_and_a_restart_keeps_it(tmp_path: Path) -> None:
    daemon, url = started(tmp_path)
    try:
        assert logged_url(daemon) == url
        with redis.Redis.from_url(url) as client:  # the daemon's own Redis: its keys are in it
            assert client.ping() and any(client.scan_iter(match="mlplane:test:*", count=1000))
    finally:
        assert daemon.stop() == 0, daemon.log_text()[-3000:]

    restarted, again = started(tmp_path)
    try:
        assert again == url
        assert logged_url(restarted) == url
    finally:
        assert restarted.stop() == 0, restarted.log_text()[-3000:]
