"""Reading an audit pack's zip members safely: once each, streamed, within size caps.

Standard library only (``zipfile``, ``hashlib``), so the verifier keeps its
promise of needing nothing but ``hashlib`` and ``cryptography``. Three attacks
on a naive reader (issue #19 items 6-8, 16):

* two members with one name — a verifier that hashes the last copy passes a pack
  whose first copy (what ``unzip -n`` extracts) is forged: refused outright;
* a zip bomb (2 MB that inflate to 2 GiB) — members are inflated in chunks,
  each up to :data:`MAX_MEMBER` bytes, and only the files the verifier parses are
  held, :data:`MAX_HELD` bytes in all;
* a damaged member (bad CRC, truncated deflate) — reported with its name.

Names are shown through :func:`printable`, so terminal escape codes in a member
name cannot rewrite the verifier's output.
"""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["MAX_HELD", "MAX_MEMBER", "Member", "MemberError", "printable", "read_members"]

#: The most bytes one member may inflate to.
MAX_MEMBER = 512 * 1024 * 1024
#: The most bytes of parsed members (manifest, entries, proofs, payloads…) held at once.
MAX_HELD = 512 * 1024 * 1024
_CHUNK = 1 << 20


class MemberError(Exception):
    """The pack's zip cannot be trusted or read; the message names the member."""


@dataclass(frozen=True, slots=True)
class Member:
    """One zip member: its SHA-256 (hex) and, for a member the verifier parses, its bytes."""

    sha256: str
    content: bytes | None


def printable(text: str) -> str:
    """``text`` with control, format and other non-printable characters escaped."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def read_members(archive: zipfile.ZipFile, keep: Callable[[str], bool]) -> dict[str, Member]:
    """Every member of ``archive`` hashed; the bytes of those ``keep`` accepts held."""
    infos = archive.infolist()
    twice = sorted(name for name, n in Counter(i.filename for i in infos).items() if n > 1)
    if twice:
        names = ", ".join(printable(n) for n in twice)
        raise MemberError(f"{names}: more than one member with this name (a second copy "
                          "could be extracted instead of the one verified)")
    members: dict[str, Member] = {}
    held = 0
    for info in infos:
        wanted = keep(info.filename)
        member = _read(archive, info, wanted)
        held += len(member.content or b"")
        if held > MAX_HELD:
            raise MemberError(f"{printable(info.filename)}: the pack's files inflate past "
                              f"{MAX_HELD} bytes")
        members[info.filename] = member
    return members


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, hold: bool) -> Member:
    name = printable(info.filename)
    digest = hashlib.sha256()
    parts: list[bytes] = []
    size = 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > MAX_MEMBER:
                    raise MemberError(f"{name}: inflates past {MAX_MEMBER} bytes (a zip bomb?)")
                digest.update(chunk)
                if hold:
                    parts.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError,
            RuntimeError) as exc:
        raise MemberError(f"{name}: damaged in the zip ({exc})") from None
    return Member(digest.hexdigest(), b"".join(parts) if hold else None)
