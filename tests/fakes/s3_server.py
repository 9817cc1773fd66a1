"""A real S3 HTTP endpoint for tests: moto in server mode on a free local port.

    with run_moto_s3() as endpoint_url:   # http://127.0.0.1:<port>
        ...

or use the ``moto_s3_endpoint`` fixture (module scope), which starts the server before the
first test that asks for it and stops it after the module's last test.

What moto 5.2.5 does and does not enforce for browser-style POST uploads (measured, see
tests/storage/test_s3_storage.py): it stores the object under the form's ``key`` with the
form's ``Content-Type`` and answers 204, but checks neither the policy's signature, its
expiration, its conditions (key, Content-Type, content-length-range, extra fields) nor the
file part (without one it stores a small junk object); a missing ``key`` field is a 500.
Presigned GET signatures are not checked either (a 404 NoSuchKey is). The policy itself is
therefore verified by the tests, not by moto.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from moto.server import ThreadedMotoServer

ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"


@contextmanager
def run_moto_s3(host: str = "127.0.0.1") -> Iterator[str]:
    """Serve moto's S3 over HTTP on ``host`` at a port the OS picks; yield its URL."""
    server = ThreadedMotoServer(ip_address=host, port=0, verbose=False)
    server.start()
    try:
        bound_host, port = server.get_host_and_port()
        yield f"http://{bound_host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def moto_s3_endpoint() -> Iterator[str]:
    with run_moto_s3() as endpoint_url:
        yield endpoint_url
