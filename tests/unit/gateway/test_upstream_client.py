"""The gateway's own HTTP/1.1 client against a server that answers byte for byte as told."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import ssl
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from assay.gateway.upstream import Upstream, UpstreamError, _tls

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head, await reader.readexactly(length)


async def _serve(handler: Handler) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


@contextlib.asynccontextmanager
async def _upstream(handler: Handler, **options: Any) -> AsyncIterator[tuple[Upstream, str]]:
    """A server answering with ``handler`` and a client for it, both closed afterwards."""
    server, url = await _serve(handler)
    client = Upstream(**options)
    try:
        yield client, url
    finally:
        await client.close()
        server.close()


def _run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coro)


def _reply(body: bytes, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n%s\r\n%s" % (len(body), extra, body)


def test_keep_alive_reuses_one_connection_and_sends_the_body_as_given() -> None:
    connections: list[int] = []
    seen: list[tuple[bytes, bytes]] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        while not reader.at_eof():
            try:
                seen.append(await _read_request(reader))
            except asyncio.IncompleteReadError:
                break
            writer.write(_reply(b'{"ok": true}', b"x-upstream: yes\r\n"))
            await writer.drain()

    async def main() -> None:
        async with _upstream(handler, timeout=5) as (client, url):
            for body in (b'{"raw": 1}', {"json": 2}):
                reply = await client.request(
                    "POST", f"{url}/v1/x?q=1", {"authorization": "Bearer t"}, body
                )
                assert (reply.status, reply.content) == (200, b'{"ok": true}')
                assert reply.headers["x-upstream"] == "yes"

    _run(main())
    assert connections == [1]
    assert seen[0][0].startswith(b"POST /v1/x?q=1 HTTP/1.1\r\n")
    assert b"authorization: Bearer t\r\n" in seen[0][0]
    assert [body for _, body in seen] == [b'{"raw": 1}', b'{"json": 2}']


def test_chunked_gzip_and_close_delimited_bodies_are_read_whole() -> None:
    packed = gzip.compress(b"hello " * 1000)
    answers = [
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        _reply(packed, b"content-encoding: gzip\r\n"),
        _reply(zlib.compress(b"deflated"), b"content-encoding: deflate\r\n"),
        b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil the end",
    ]

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        answer = answers.pop(0)
        writer.write(answer)
        await writer.drain()
        writer.close()  # one answer per connection

    async def main() -> None:
        async with _upstream(handler, timeout=5) as (client, url):
            got = [(await client.request("GET", f"{url}/", {})).content for _ in range(4)]
            assert got == [b"hello world", b"hello " * 1000, b"deflated", b"until the end"]

    _run(main())


def test_a_stream_is_read_line_by_line_across_chunk_boundaries() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        for piece in (b"data: {\"a\"", b": 1}\r\n\r\nda", b"ta: [DONE]\n\n"):
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            await writer.drain()
            await asyncio.sleep(0.01)
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    async def main() -> None:
        async with _upstream(handler, timeout=5) as (client, url):
            reply = await client.stream(f"{url}/v1/chat/completions", {}, {"stream": True})
            lines = [line async for line in reply.lines()]
            reply.close()
            assert lines == ['data: {"a": 1}', "", "data: [DONE]", ""]

    _run(main())


def test_a_connection_dropped_mid_stream_is_a_broken_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n6\r\ndata: \r\n")
        await writer.drain()
        writer.transport.abort()

    async def main() -> None:
        async with _upstream(handler, timeout=5) as (client, url):
            reply = await client.stream(f"{url}/", {}, b"{}")
            with pytest.raises(UpstreamError) as caught:
                async for _ in reply.lines():
                    pass
            assert caught.value.kind == "broken"
            reply.close()

    _run(main())


def test_silence_longer_than_the_timeout_is_a_timeout() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        await asyncio.sleep(5)

    async def main() -> None:
        async with _upstream(handler, timeout=0.2) as (client, url):
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(UpstreamError) as caught:
                await client.request("POST", f"{url}/", {}, b"{}")
            assert caught.value.kind == "timeout"
            assert loop.time() - started < 2

    _run(main())


def test_a_reused_connection_closed_before_answering_is_retried_on_a_fresh_one() -> None:
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await _read_request(reader)
        writer.write(_reply(b"one"))
        await writer.drain()
        # a keep-alive timeout racing the next request: read it, close without a byte
        await _read_request(reader)
        writer.transport.abort()

    async def main() -> None:
        async with _upstream(handler, timeout=5) as (client, url):
            first = await client.request("GET", f"{url}/", {})
            second = await client.request("GET", f"{url}/", {})
            assert first.content == second.content == b"one"

    _run(main())
    assert connections == 2


def test_unreachable_upstream_bad_urls_and_header_injection_are_clear_errors() -> None:
    async def main() -> None:
        client = Upstream(timeout=5)
        with pytest.raises(UpstreamError, match="ConnectionRefusedError") as refused:
            await client.request("GET", "http://127.0.0.1:9/", {})
        assert refused.value.kind == "unreachable"
        with pytest.raises(UpstreamError, match="not an http"):
            await client.request("GET", "ftp://example.org/", {})
        with pytest.raises(UpstreamError, match="line break"):
            await client.request("GET", "http://127.0.0.1:9/", {"authorization": "a\r\nx: y"})
        await client.close()

    _run(main())


def test_connections_per_upstream_are_capped() -> None:
    open_now = 0
    most = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal open_now, most
        open_now += 1
        most = max(most, open_now)
        try:
            while True:
                await _read_request(reader)
                await asyncio.sleep(0.02)
                writer.write(_reply(b"x"))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            open_now -= 1

    async def main() -> None:
        async with _upstream(handler, timeout=5, max_connections=3) as (client, url):
            calls = (client.request("GET", f"{url}/", {}) for _ in range(12))
            replies = await asyncio.gather(*calls)
            assert all(r.content == b"x" for r in replies)

    _run(main())
    assert most == 3



def test_an_interim_1xx_answer_is_skipped() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 103 Early Hints\r\nlink: </style.css>\r\n\r\n" + _reply(b"ok"))
        await writer.drain()

    async def main() -> None:
        async with _upstream(handler, timeout=5) as (client, url):
            reply = await client.request("GET", f"{url}/", {})
            assert (reply.status, reply.content) == (200, b"ok")
            assert "link" not in reply.headers

    _run(main())


def _self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_https_is_verified_against_the_trusted_certificates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = _self_signed(tmp_path)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await _read_request(reader)
            writer.write(_reply(b"secure"))
            await writer.drain()

    async def fetch() -> bytes:
        server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=server_tls)
        port = server.sockets[0].getsockname()[1]
        client = Upstream(timeout=5)
        try:
            reply = await client.request("GET", f"https://localhost:{port}/v1/models", {})
            return reply.content
        finally:
            await client.close()
            server.close()

    _tls.cache_clear()
    with pytest.raises(UpstreamError, match="SSLCertVerificationError"):
        asyncio.run(fetch())
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    _tls.cache_clear()
    try:
        assert asyncio.run(fetch()) == b"secure"
    finally:
        _tls.cache_clear()


def test_bytes_after_an_answer_retire_the_connection() -> None:
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                await _read_request(reader)
                writer.write(_reply(b"ok") + _reply(b"unasked"))
                await writer.drain()

    async def main() -> None:
        async with _upstream(handler, timeout=5) as (client, url):
            for _ in range(2):
                assert (await client.request("GET", f"{url}/", {})).content == b"ok"

    _run(main())
    assert connections == 2
