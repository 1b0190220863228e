"""uvicorn's HTTP/1.1 protocol with a deadline for the request head (issue #19 item 10).

uvicorn closes idle keep-alive connections but waits without limit for a request
line and headers that arrive a byte at a time ("slowloris"): 1,100 such
connections, no key needed, made legitimate requests fail. This protocol closes a
connection whose head is not complete ``ASSAY_GATEWAY_HEADER_TIMEOUT`` seconds
(default 10) after the connection opened or its previous request began; the body
has its own deadline in the gateway (``GatewaySettings.body_timeout``, answered 408).
"""

from __future__ import annotations

import asyncio
import os

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["HEADER_TIMEOUT_ENV", "HeadTimeoutProtocol"]

HEADER_TIMEOUT_ENV = "ASSAY_GATEWAY_HEADER_TIMEOUT"


class HeadTimeoutProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` that drops a connection whose request head is too slow."""

    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._start_head_timer()

    def on_headers_complete(self) -> None:
        self._stop_head_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def _start_head_timer(self) -> None:
        self._stop_head_timer()
        seconds = float(os.environ.get(HEADER_TIMEOUT_ENV, "10"))
        self._head_timer = self.loop.call_later(seconds, self._head_too_slow)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()
