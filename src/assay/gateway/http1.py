"""One HTTP/1.1 client connection: write a request, read its response (asyncio + httptools).

The connection is an :class:`asyncio.Protocol`, so bytes are parsed as they
arrive, in C, without a reader task. A response is read by one
:class:`Exchange`: its head (status and headers), then its body as a queue of
chunks that a reader awaits; the exchange also owns the per-read timeout (no
bytes for ``timeout`` seconds fails it) and pauses reading while a slow reader
holds more than ``_MAX_BUFFER`` bytes.

Spec: RFC 9112 (message framing: Content-Length, chunked, close-delimited),
RFC 9110 §8.4 (gzip and deflate content codings).
"""

from __future__ import annotations

import asyncio
import zlib
from typing import Protocol, cast

import httptools

__all__ = ["Connection", "Exchange", "ExchangeError", "request_head"]

_MAX_BUFFER = 1 << 20  # bytes held for a slow reader before reading is paused
_CODINGS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
_FORBIDDEN = str.maketrans("", "", "\r\n\0")


class ExchangeError(Exception):
    """The exchange failed; ``kind`` is ``timeout`` or ``broken``; ``received`` says whether
    any byte of the response had arrived (a request that got nothing back may be retried
    on a fresh connection when the failed one was a reused idle one)."""

    def __init__(self, kind: str, detail: str, *, received: bool) -> None:
        super().__init__(detail)
        self.kind = kind
        self.received = received


def request_head(method: str, target: str, host: str, headers: dict[str, str],
                 length: int | None) -> bytes:
    """The request line and headers; a CR, LF or NUL in a header is refused (injection)."""
    lines = [f"{method} {target} HTTP/1.1", f"host: {host}", "accept-encoding: gzip, deflate"]
    for name, value in headers.items():
        if name.translate(_FORBIDDEN) != name or value.translate(_FORBIDDEN) != value:
            raise ValueError(f"header {name!r} holds a line break or NUL")
        lines.append(f"{name}: {value}")
    if length is not None:
        lines.append(f"content-length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


class _Owner(Protocol):
    def lost(self, connection: Connection) -> None: ...


class Connection(asyncio.Protocol):
    """A keep-alive connection to one upstream; at most one exchange at a time."""

    def __init__(self, owner: _Owner) -> None:
        self.owner = owner
        self.transport: asyncio.Transport | None = None
        self.exchange: Exchange | None = None
        self.closed = False

    @property
    def usable(self) -> bool:
        return not self.closed and self.transport is not None and not self.transport.is_closing()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        if self.exchange is None:  # bytes nobody asked for: the framing is lost
            self.close()
            return
        self.exchange.feed(data)

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.exchange is not None:
            self.exchange.lost(exc)
        self.owner.lost(self)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def start(self, head: bytes, body: bytes | None, timeout: float) -> Exchange:
        """Send a request and return the exchange that reads its response."""
        assert self.transport is not None and self.exchange is None
        self.exchange = Exchange(self, timeout)
        self.transport.write(head + body if body else head)
        return self.exchange


class Exchange:
    """One response: httptools calls the ``on_*`` methods as bytes arrive."""

    def __init__(self, connection: Connection, timeout: float) -> None:
        self._connection = connection
        self._loop = asyncio.get_running_loop()
        self._parser = httptools.HttpResponseParser(self)
        self._timeout = timeout
        self._last_read = self._loop.time()
        self._timer: asyncio.TimerHandle | None = self._loop.call_later(timeout, self._check)
        self._waiter: asyncio.Future[None] | None = None
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._paused = False
        self._decoder: zlib._Decompress | None = None
        self._has_length = False
        self.received = False
        self.status = 0
        self.headers: dict[str, str] = {}
        self.head_done = False
        self.done = False
        self.keep_alive = False
        self.error: ExchangeError | None = None

    # -- httptools callbacks --------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.done:  # a second answer nobody asked for: the connection cannot be reused
            raise ExchangeError("broken", "bytes after the answer", received=True)

    def on_header(self, name: bytes, value: bytes) -> None:
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        self.headers[key] = f"{self.headers[key]}, {text}" if key in self.headers else text

    def on_headers_complete(self) -> None:
        self.status = self._parser.get_status_code()
        if self._interim():
            return
        self._has_length = "content-length" in self.headers or "chunked" in self.headers.get(
            "transfer-encoding", "").lower()
        coding = self.headers.get("content-encoding", "identity").strip().lower()
        if coding in _CODINGS:
            self._decoder = zlib.decompressobj(_CODINGS[coding])
        elif coding != "identity":
            raise ExchangeError("broken", f"unsupported content-encoding {coding!r}",
                                received=True)
        self.head_done = True
        self._wake()

    def on_body(self, body: bytes) -> None:
        if self._decoder is not None:
            body = self._decoder.decompress(body)
        if body:
            self._chunks.append(body)
            self._buffered += len(body)
            if self._buffered > _MAX_BUFFER and not self._paused:
                self._pause(True)
        self._wake()

    def on_message_complete(self) -> None:
        if self._interim():  # 1xx (e.g. 103 Early Hints): the real answer follows
            self.headers = {}
            return
        if self._decoder is not None:
            rest = self._decoder.flush()
            if rest:
                self._chunks.append(rest)
        self.keep_alive = self._parser.should_keep_alive()
        self._finish(None)

    def _interim(self) -> bool:
        return 100 <= self.status < 200 and self.status != 101

    # -- events from the connection -------------------------------------------------

    def feed(self, data: bytes) -> None:
        self.received = True
        self._last_read = self._loop.time()
        try:
            self._parser.feed_data(data)
        except ExchangeError as exc:
            self._fail(exc)
        except (httptools.HttpParserError, zlib.error) as exc:
            cause = exc.__context__ if isinstance(exc.__context__, ExchangeError) else None
            self._fail(cause or ExchangeError("broken", f"unreadable response ({exc})",
                                              received=True))

    def lost(self, exc: Exception | None) -> None:
        if self.done:
            return
        if self.head_done and not self._has_length and exc is None:
            self.on_message_complete()  # a body delimited by the connection's close
            self.keep_alive = False
            return
        detail = f"the connection closed ({type(exc).__name__})" if exc else "the connection closed"
        self._fail(ExchangeError("broken", detail, received=self.received))

    def _check(self) -> None:
        left = self._timeout if self._paused else self._timeout - (self._loop.time()
                                                                   - self._last_read)
        if left > 0:
            self._timer = self._loop.call_later(left, self._check)
            return
        self._timer = None
        self._fail(ExchangeError("timeout", "the upstream model timed out",
                                 received=self.received))

    # -- the reader's side ----------------------------------------------------------

    async def head(self) -> None:
        while not self.head_done:
            await self._wait()

    async def chunk(self) -> bytes | None:
        """The next body bytes (or b"" when the body is empty), None when the body ended."""
        while not self._chunks:
            if self.done:
                if self.error is not None:
                    raise self.error
                return None
            await self._wait()
        data = b"".join(self._chunks) if len(self._chunks) > 1 else self._chunks[0]
        self._chunks.clear()
        self._buffered = 0
        if self._paused:
            self._pause(False)
        return data

    async def body(self) -> bytes:
        parts = []
        while (data := await self.chunk()) is not None:
            parts.append(data)
        return b"".join(parts)

    async def _wait(self) -> None:
        if self.error is not None:
            raise self.error
        self._waiter = self._loop.create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None
        if self.error is not None:
            raise self.error

    # -- internals ------------------------------------------------------------------

    def _pause(self, paused: bool) -> None:
        transport = self._connection.transport
        if transport is None or transport.is_closing():
            return
        self._paused = paused
        if paused:
            transport.pause_reading()
        else:
            self._last_read = self._loop.time()
            transport.resume_reading()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _finish(self, error: ExchangeError | None) -> None:
        if self.done:
            return
        self.done = True
        self.error = error
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._wake()

    def _fail(self, error: ExchangeError) -> None:
        self._finish(error)
        self._connection.close()
