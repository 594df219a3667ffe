"""Shared helpers of the file readers: the error for unreadable files, column-name normalisation, decoding."""

from __future__ import annotations

from ..errors import CityScoreError


class InputFileError(ValueError, CityScoreError):
    """The file cannot be read at all (missing, unknown format, not a table)."""


def normalise_column(name: object) -> str:
    """``" Period Start "`` → ``period_start``: trimmed, lower case, spaces as underscores, BOM removed."""
    return str(name).strip().lstrip("\ufeff").strip().lower().replace(" ", "_")


def decode(data: bytes) -> tuple[str, str]:
    """Text and encoding of ``data``: UTF-8 (BOM or not), else Windows-1251 (the usual Cyrillic export)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1251"), "cp1251"
