"""File names of downloads (`Content-Disposition`, RFC 6266), made from names people chose."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

MAX_STEM = 80  # characters of the name before the extension


def disposition(stem: str, extension: str, kind: str = "attachment") -> dict[str, str]:
    """The header of a download named `stem.extension`. Letters and digits of any script are kept, anything
    else (spaces, slashes, quotes, control characters) becomes `-`. A header is Latin-1: a name that is not
    plain ASCII goes as UTF-8 in `filename*`, with an ASCII `filename` (accents dropped, other letters left
    out) for clients that do not read it."""
    name = re.sub(r"[^\w.-]+", "-", stem).strip("-.")[:MAX_STEM] or "download"
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", folded).strip("-.") or "download"
    if ascii_name == name:
        return {"Content-Disposition": f'{kind}; filename="{name}.{extension}"'}
    encoded = quote(f"{name}.{extension}", safe="")
    return {"Content-Disposition": f"{kind}; filename=\"{ascii_name}.{extension}\"; filename*=UTF-8''{encoded}"}
