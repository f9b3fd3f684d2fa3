"""A local Cloud Storage JSON API emulator for the official google-cloud-storage client.

Start it with ``python -m emulators.gcs --port 9023`` and point the client at
it with ``STORAGE_EMULATOR_HOST=http://127.0.0.1:9023``, or in tests use
:func:`running_gcs_emulator` / :class:`GcsEmulatorThread`. It imports nothing
from the rest of mlplane.
"""

from .app import create_app
from .faults import FaultConfig
from .server import GcsEmulator, GcsEmulatorThread, running_gcs_emulator

__all__ = ["FaultConfig", "GcsEmulator", "GcsEmulatorThread", "create_app", "running_gcs_emulator"]
