"""Run any ASGI app on a real socket for the length of a ``with`` block.

    with run_asgi_server(app) as base_url:
        ...  # http://127.0.0.1:<free port>

uvicorn serves in a background thread with its own event loop, so both sync and async
tests (whatever their loop) can talk to it over real HTTP. The port is chosen by the OS.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


@contextmanager
def run_asgi_server(
    app: Any,
    *,
    host: str = "127.0.0.1",
    startup_timeout_s: float = 10.0,
    shutdown_timeout_s: float = 10.0,
    **config: Any,
) -> Iterator[str]:
    """Serve ``app`` on ``host`` at a free port; yield its base URL; stop it on exit.

    Extra keyword arguments go to ``uvicorn.Config`` (e.g. ``ws=LenientWebSocketProtocol``).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    settings: dict[str, Any] = {
        "log_level": "warning",
        "log_config": None,  # leave the test process's logging configuration alone
        "access_log": False,
        "lifespan": "off",
        "timeout_graceful_shutdown": 2,
        **config,
    }
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, **settings))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"asgi-server:{port}", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout_s
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError(f"the ASGI server on port {port} failed to start")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the ASGI server on port {port} did not start in time")
            time.sleep(0.01)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(shutdown_timeout_s)
        if thread.is_alive():  # a handler is stuck: stop waiting for it
            server.force_exit = True
            thread.join(2.0)
        sock.close()
