"""Open-standard adapters: read a published format and present it as rows of a raw record table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..reading import Source


@dataclass(frozen=True)
class Adapter:
    name: str
    table: str
    description: str
    open: Callable[..., Source]


ADAPTERS: dict[str, Adapter] = {}


def register(adapter: Adapter) -> Adapter:
    ADAPTERS[adapter.name] = adapter
    return adapter


def open_adapter(name: str, path: Path, *, settlement: str | None = None) -> Source:
    return ADAPTERS[name].open(Path(path), settlement=settlement)
