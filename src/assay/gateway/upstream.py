"""The HTTP client for the upstream model server: a keep-alive pool of HTTP/1.1 connections.

Our own small client (connections in :mod:`assay.gateway.http1`) rather than a
general-purpose one, because the gateway's own work per request is a fraction of
a millisecond and a general client's bookkeeping was the largest share of it
(httpx's pool managed ~320 requests/s at 50 in flight; aiohttp's client was
~30 % of the gateway's CPU; figures in docs/BENCHMARKS.md). Scope is what an
OpenAI-compatible upstream needs: GET and POST over http or https, at most
``max_connections`` per upstream, a connect timeout and a per-read timeout,
responses of any framing with gzip/deflate. No cookies (one pool serves every
client: nothing from one client's call may ride along on another's), no
redirects, no proxies.
"""

from __future__ import annotations

import asyncio
import functools
import json
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from assay.gateway.http1 import Connection, Exchange, ExchangeError, request_head

__all__ = ["Reply", "StreamReply", "Upstream", "UpstreamError"]

_Key = tuple[str, str, int]  # scheme, host, port


class UpstreamError(Exception):
    """The upstream timed out, was unreachable, or broke off."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind  # timeout | unreachable | broken


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # names in lower case
    content: bytes


@dataclass(frozen=True)
class _Target:
    key: _Key
    host_header: str
    path: str  # the request target: path and query
    tls: ssl.SSLContext | None


@functools.cache
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


@functools.lru_cache(maxsize=512)
def _target(url: str) -> _Target:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UpstreamError("unreachable", f"{url!r} is not an http(s) URL")
    https = parts.scheme == "https"
    try:
        port = parts.port or (443 if https else 80)
    except ValueError:
        raise UpstreamError("unreachable", f"{url!r} has an invalid port") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target((parts.scheme, parts.hostname, port), parts.netloc.rpartition("@")[2], path,
                   _tls() if https else None)


def _as_upstream_error(exc: ExchangeError, kind: str) -> UpstreamError:
    return UpstreamError("timeout" if exc.kind == "timeout" else kind, str(exc))


class StreamReply:
    """An open streamed response: iterate its lines, then ``close()``."""

    def __init__(self, exchange: Exchange, release: Callable[[], None]) -> None:
        self._exchange = exchange
        self._release = release
        self.status = exchange.status
        self.headers = exchange.headers

    async def lines(self) -> AsyncIterator[str]:
        pending = b""
        try:
            while (data := await self._exchange.chunk()) is not None:
                *complete, pending = (pending + data).split(b"\n")
                for raw in complete:
                    yield raw.decode("utf-8", "replace").rstrip("\r")
        except ExchangeError as exc:
            raise UpstreamError("broken", str(exc)) from exc
        if pending:
            yield pending.decode("utf-8", "replace").rstrip("\r")

    async def read(self) -> bytes:
        try:
            return await self._exchange.body()
        except ExchangeError as exc:
            raise UpstreamError("broken", str(exc)) from exc

    def close(self) -> None:
        self._release()


class Upstream:
    """One pool per gateway process, used from its event loop only."""

    def __init__(self, timeout: float, max_connections: int = 256,
                 connect_timeout: float = 10.0) -> None:
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._max_connections = max_connections
        self._idle: dict[_Key, list[Connection]] = {}
        self._slots: dict[_Key, asyncio.Semaphore] = {}
        self._open: set[Connection] = set()

    async def request(
        self, method: str, url: str, headers: dict[str, str], body: Any = None
    ) -> Reply:
        """``body``: JSON-able data, or bytes already encoded (sent as they are)."""
        exchange, release = await self._send(method, url, headers, body)
        try:
            content = await exchange.body()
        except ExchangeError as exc:
            raise _as_upstream_error(exc, "unreachable") from exc
        finally:
            release()
        return Reply(exchange.status, exchange.headers, content)

    async def stream(self, url: str, headers: dict[str, str], body: Any) -> StreamReply:
        """Send a POST and return once the response's head has arrived."""
        return StreamReply(*await self._send("POST", url, headers, body))

    async def close(self) -> None:
        for connection in list(self._open):
            connection.close()
        self._idle.clear()

    def lost(self, connection: Connection) -> None:
        """Called by a connection when it closes (idle lists skip it lazily)."""
        self._open.discard(connection)

    # -- internals ------------------------------------------------------------------

    async def _send(
        self, method: str, url: str, headers: dict[str, str], body: Any
    ) -> tuple[Exchange, Callable[[], None]]:
        """Send the request on a pooled connection and wait for the response's head.

        A reused idle connection that the upstream had already closed yields no byte
        at all: the request is then sent once more on a fresh connection.
        """
        target = _target(url)
        data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
        try:
            head = request_head(method, target.path, target.host_header, headers,
                                None if data is None else len(data))
        except ValueError as exc:
            raise UpstreamError("unreachable", str(exc)) from None
        slots = self._slots.get(target.key)
        if slots is None:
            slots = self._slots[target.key] = asyncio.Semaphore(self._max_connections)
        await slots.acquire()
        try:
            return await self._exchange(target, head, data, slots)
        except BaseException:
            slots.release()
            raise

    async def _exchange(
        self, target: _Target, head: bytes, data: bytes | None, slots: asyncio.Semaphore
    ) -> tuple[Exchange, Callable[[], None]]:
        while True:
            connection, reused = await self._checkout(target)
            exchange = connection.start(head, data, self._timeout)
            try:
                await exchange.head()
            except ExchangeError as exc:  # the exchange has closed the connection
                if reused and not exc.received:
                    continue
                raise _as_upstream_error(exc, "unreachable") from exc
            except BaseException:
                connection.close()
                raise
            return exchange, self._releaser(target.key, connection, exchange, slots)

    def _releaser(self, key: _Key, connection: Connection, exchange: Exchange,
                  slots: asyncio.Semaphore) -> Callable[[], None]:
        """Give the connection back (kept only after a complete keep-alive response)."""
        released = False

        def release() -> None:
            nonlocal released
            if released:
                return
            released = True
            connection.exchange = None
            if exchange.done and exchange.error is None and exchange.keep_alive \
                    and connection.usable:
                self._idle.setdefault(key, []).append(connection)
            else:
                connection.close()
            slots.release()

        return release

    async def _checkout(self, target: _Target) -> tuple[Connection, bool]:
        idle = self._idle.get(target.key)
        while idle:
            connection = idle.pop()
            if connection.usable:
                return connection, True
        scheme, host, port = target.key
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, connection = await loop.create_connection(
                    lambda: Connection(self), host, port, ssl=target.tls
                )
        except TimeoutError:
            raise UpstreamError(
                "timeout", f"no connection to {scheme}://{host}:{port} within "
                f"{self._connect_timeout:g} s") from None
        except OSError as exc:
            raise UpstreamError(
                "unreachable", f"{type(exc).__name__}: {exc.strerror or exc}") from None
        self._open.add(connection)
        return connection, False
