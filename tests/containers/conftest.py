"""Containers tier: the services of docker-compose.emulators.yml, started with testcontainers.

The GCS and BigQuery emulators run from the image built from emulators/Dockerfile (what the compose
file builds), Redis from the same image tag the compose file names. Each gets a random host port.

Where no Docker engine answers, every test here skips with one line, at fixture time, after a 2 s
ping at most. That includes CI=true: CI machines have no Docker engine, and the design makes this
tier (and only this tier) optional there. Nothing slow is imported before the engine has answered.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IMAGE_TAG = "mlplane-emulators:containers-test"  # fixed tag: a second run reuses the cached build
REDIS_IMAGE = "redis:7-alpine"  # keep in step with docker-compose.emulators.yml
GCS_PORT, BIGQUERY_PORT = 9023, 9050  # the ports the image's emulators listen on


def _no_docker_reason() -> str | None:
    try:
        import docker  # type: ignore[import-untyped]  # ~0.1 s; testcontainers is imported only after this

        docker.from_env(timeout=2).ping()
    except Exception as exc:  # no socket, no daemon, no permission: all mean "no Docker here"
        where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        return f"no Docker engine answers at {where} ({type(exc).__name__}): containers tier skipped"
    return None


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """Skip (the outcome is cached for the session, so the ping runs once)."""
    reason = _no_docker_reason()
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def emulator_image(docker_engine: None) -> str:
    from testcontainers.core.image import DockerImage

    # Build context emulators/ only, as in the compose file. Kept after the session (clean_up=False)
    # so later runs hit the layer cache instead of reinstalling duckdb and pyarrow.
    DockerImage(path=ROOT / "emulators", tag=IMAGE_TAG, clean_up=False).build()
    return IMAGE_TAG


def _emulator(image: str, name: str, port: int) -> Iterator[str]:
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import HttpWaitStrategy

    container = (DockerContainer(image).with_command([name]).with_exposed_ports(port)
                 .waiting_for(HttpWaitStrategy(port, "/_emulator/health")))
    container.start()
    try:
        yield f"http://{container.get_container_host_ip()}:{container.get_exposed_port(port)}"
    finally:
        container.stop()


@pytest.fixture(scope="session")
def gcs_url(emulator_image: str) -> Iterator[str]:
    yield from _emulator(emulator_image, "gcs", GCS_PORT)


@pytest.fixture(scope="session")
def bigquery_url(emulator_image: str) -> Iterator[str]:
    yield from _emulator(emulator_image, "bigquery", BIGQUERY_PORT)


@pytest.fixture(scope="session")
def redis_container_url(docker_engine: None) -> Iterator[str]:
    from testcontainers.redis import RedisContainer

    with RedisContainer(REDIS_IMAGE) as container:
        yield f"redis://{container.get_container_host_ip()}:{container.get_exposed_port(6379)}/0"
