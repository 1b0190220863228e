"""RFC 8785 (JSON Canonicalization Scheme) bytes, fast for the values evidence holds.

Every ledger entry is canonicalised before it is hashed, and the reference
implementation (the ``rfc8785`` package, pure Python, character by character)
was over half of an append's CPU. This module produces the same bytes for plain
``dict``/``list``/``tuple``/``str``/``int``/``float``/``bool``/``None`` values using
the standard library's C JSON string encoder, whose escaping is the one RFC 8785
prescribes (ECMAScript ``JSON.stringify``: ``\\"``, ``\\\\``, ``\\b\\f\\n\\r\\t``, other
controls as lowercase ``\\u00xx``). Anything else — another Mapping type, a str or
int subclass, a lone surrogate, an integer beyond 2**53, a non-finite float —
goes to the reference implementation, which gives its own answer or error.
``tests/unit/ledger/test_canonical.py`` checks byte equality with it on
generated values.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import rfc8785

__all__ = ["canonical_bytes"]

_MAX_SAFE_INT = 2**53 - 1
_encode_str = json.encoder.encode_basestring


class _Unsupported(Exception):
    """A value outside the fast path: let the reference implementation decide."""


def canonical_bytes(value: Any) -> bytes:
    """RFC 8785 bytes of ``value`` (raises like ``rfc8785.dumps`` on what JSON cannot hold)."""
    parts: list[str] = []
    try:
        _write(value, parts)
        return "".join(parts).encode("utf-8")
    except (_Unsupported, UnicodeEncodeError, RecursionError):
        return bytes(rfc8785.dumps(value))


def _write(value: Any, out: list[str]) -> None:
    kind = type(value)
    if kind is str:
        out.append(_string(value))
    elif value is None:
        out.append("null")
    elif kind is bool:
        out.append("true" if value else "false")
    elif kind is int:
        if not -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
            raise _Unsupported
        out.append(str(value))
    elif kind is float:
        out.append(_number(value))
    elif kind is dict:
        _object(value, out)
    elif kind is list or kind is tuple:
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise _Unsupported


def _object(value: dict[Any, Any], out: list[str]) -> None:
    for key in value:
        if type(key) is not str:
            raise _Unsupported
    # members sorted by their names' UTF-16 code units (RFC 8785 section 3.2.3); for
    # ASCII names that is plain string order
    if all(key.isascii() for key in value):
        keys = sorted(value)
    else:
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
    out.append("{")
    for i, key in enumerate(keys):
        if i:
            out.append(",")
        out.append(_string(key))
        out.append(":")
        _write(value[key], out)
    out.append("}")


def _string(text: str) -> str:
    if not text.isascii():
        text.encode("utf-8")  # a lone surrogate raises UnicodeEncodeError: reference path
    return str(_encode_str(text))


def _number(x: float) -> str:
    """ECMAScript Number::toString of a finite double (RFC 8785 section 3.2.2.3)."""
    if not math.isfinite(x):
        raise _Unsupported
    if x == 0.0:
        return "0"
    sign = "-" if x < 0 else ""
    # repr() is the shortest round-trip form, as ECMAScript's; only the layout differs
    _, digits_tuple, exponent = Decimal(repr(abs(x))).as_tuple()
    digits = "".join(map(str, digits_tuple)).rstrip("0")  # x != 0: a non-zero digit remains
    assert isinstance(exponent, int)
    k = len(digits)
    n = exponent + len(digits_tuple)  # the decimal point sits after n digits
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
        e = n - 1
        body = f"{mantissa}e{'+' if e > 0 else '-'}{abs(e)}"
    return sign + body
