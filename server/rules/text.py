"""Text the server refuses: the NUL character (U+0000). PostgreSQL cannot store it in a text or JSONB value
(the statement fails) and SQLite stores it as sent, so it is refused before anything is written, on both
engines alike: in a request's parameters and body (server/api/nul.py) and in an op's args (parse_args) and
envelope (sync push)."""

from __future__ import annotations

from typing import Any

import msgspec

NUL = "\x00"
ESCAPED_NUL = b"\\u0000"  # how JSON writes a NUL (a text `\u0000` is written `\\u0000`: it holds this too)
_encode = msgspec.json.Encoder().encode
REPLACEMENT = "\ufffd"  # what a refused op's record keeps in place of a NUL


def nul_at(value: Any, path: str = "") -> str | None:
    """The path (`args.serial`, `items[2].part`) of the first string or key in `value` (decoded JSON, or a
    string) that holds a NUL; None when there is none. A key holding one is named with `\\0` for it. Encoding
    it as JSON (in C) and looking for `\\u0000` tells quickly that there is none: an op's args cost ~1 µs."""
    if ESCAPED_NUL not in _encode(value):
        return None
    return _walk(value, path)


def _walk(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return path if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            name = str(key)
            inner = f"{path}.{name}" if path else name
            if NUL in name:
                return inner.replace(NUL, "\\0")
            if (found := _walk(item, inner)) is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if (found := _walk(item, f"{path}[{index}]")) is not None:
                return found
    return None


def without_nul(value: Any) -> Any:
    """`value` (decoded JSON) with every NUL replaced by U+FFFD: what a refused op's record keeps of it."""
    if isinstance(value, str):
        return value.replace(NUL, REPLACEMENT)
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    return value


def nul_message(field: str) -> str:
    return f"{field}: must not contain the NUL character (U+0000)"
