"""Kill -9 a Redis server and take its port before anything can start there again: the embedded server's
restart then fails as it would on a port another program took. Connections are accepted and closed at
once, so clients get an error at once rather than waiting for a reply that never comes."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator


@contextlib.contextmanager
def kill_and_squat(pid: int, port: int) -> Iterator[None]:
    os.kill(pid, signal.SIGKILL)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Redis does: past TIME_WAIT
    deadline = time.monotonic() + 2.0
    while True:  # the port is free once the kernel has torn the killed process down
        try:
            listener.bind(("127.0.0.1", port))
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.005)
    listener.listen()
    listener.settimeout(0.1)
    done = threading.Event()
    thread = threading.Thread(target=_refuse_all, args=(listener, done), daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(5)
        listener.close()


def _refuse_all(listener: socket.socket, done: threading.Event) -> None:
    while not done.is_set():
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            continue
        except OSError:
            return
        connection.close()
