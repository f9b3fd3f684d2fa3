"""First-start demo data, so `make run` has something to train on."""

from __future__ import annotations

import logging

import anyio

from domain.services.demo_data import DEMO_TABLE, demo_events
from domain.types.errors import TableNotFound, TransientError
from entrypoints.container import Container
from entrypoints.runtime import StartupError

log = logging.getLogger(__name__)


async def seed_demo_data(container: Container) -> bool:
    """Create `demo_events` unless it exists; returns True when it was created now.

    A warehouse that cannot be reached at start (in 'local': its file locked by another process) stops
    the start with the cause, as a StartupError: the daemon could not serve a table either."""
    try:
        return await _seed(container)
    except TransientError as exc:
        raise StartupError(f"cannot seed the demo table {DEMO_TABLE} (MLPLANE_SEED_DEMO): {exc.message}") from exc


async def _seed(container: Container) -> bool:
    warehouse = container.warehouse()
    try:
        await warehouse.describe(DEMO_TABLE)
        return False
    except TableNotFound:
        pass
    rows = container.settings().demo_rows
    frame = await anyio.to_thread.run_sync(demo_events, rows)
    import pyarrow as pa  # here: a daemon that seeds nothing (MLPLANE_SEED_DEMO=false) need not load it

    table = await anyio.to_thread.run_sync(lambda: pa.Table.from_pandas(frame, preserve_index=False))
    await warehouse.append(DEMO_TABLE, table)
    log.info("seeded demo table %s with %d rows", DEMO_TABLE, rows)
    return True
