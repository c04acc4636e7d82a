"""`jevons` on a machine with no network: every host name but loopback fails to resolve, at the HTTP layer.

Run as `python -m tests.offline_driver <jevons arguments>` (tests/test_offline.py). Two patches, then the real
CLI: `socket.getaddrinfo` raises the resolver's own error (what requests/urllib3, hence the EIA and NOAA
clients, see offline), and curl_cffi's `Session.request` raises the `DNSError` libcurl reports for an
unresolvable host (yfinance's default session; libcurl resolves names itself, so the socket patch cannot
reach it). Everything above them, yfinance, the clients, the retry policy, the flow and the CLI, is the real
code. Loopback still resolves: the run's temporary Prefect server is a separate process on 127.0.0.1.
"""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlsplit

LOOPBACK = {"localhost", "127.0.0.1", "::1", "", None}


def go_offline() -> None:
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name in LOOPBACK:
            return real_getaddrinfo(host, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]

    from curl_cffi.const import CurlECode
    from curl_cffi.requests import Session
    from curl_cffi.requests.exceptions import DNSError

    def request(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        host = urlsplit(url).hostname
        raise DNSError(
            f"Failed to perform, curl: (6) Could not resolve host: {host} (Domain name not found). "
            "See https://curl.se/libcurl/c/libcurl-errors.html first for more details.",
            CurlECode.COULDNT_RESOLVE_HOST,
        )

    Session.request = request  # type: ignore[method-assign]


if __name__ == "__main__":
    go_offline()
    from flows.cli import main

    main()
