"""Where catalogs live: the ones shipped in the package and the amended ones a user imported.

An imported catalog is validated completely before anything is written; it is then copied into a temporary
directory inside the store and renamed into place in one step, so a failed or interrupted import never leaves a
broken or half-written catalog, and the catalogs already stored are untouched.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from ..errors import CatalogError, NotFoundError
from .loader import load_catalog, validate_catalog
from .measurecheck import TableColumns
from .models import Standard
from .yamlsource import read_yaml

DEFAULT_STANDARD_ID = "469/НК-2025"
_TRANSLIT = dict(zip("АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ", [
    "A", "B", "V", "G", "D", "E", "E", "Zh", "Z", "I", "Y", "K", "L", "M", "N", "O", "P", "R", "S", "T", "U", "F",
    "Kh", "Ts", "Ch", "Sh", "Shch", "", "Y", "", "E", "Yu", "Ya"], strict=True))


@dataclass(frozen=True)
class CatalogRef:
    """A catalog known to the store."""

    id: str
    slug: str
    path: Path
    origin: Literal["packaged", "imported"]


def slugify(standard_id: str) -> str:
    """Directory name of a standard id: ``"469/НК-2025"`` → ``"469-NK-2025"``, ``"…/изм-1"`` → ``"…-izm-1"``."""
    latin = "".join(
        _TRANSLIT[ch] if ch in _TRANSLIT else _TRANSLIT[ch.upper()].lower() if ch.upper() in _TRANSLIT else ch
        for ch in standard_id
    )
    return re.sub(r"[^A-Za-z0-9]+", "-", latin).strip("-")


def packaged_root() -> Path:
    return Path(str(resources.files("cityscore.standard").joinpath("catalogs")))


def imported_root(home: Path) -> Path:
    return Path(home) / "standards"


def list_catalogs(home: Path) -> list[CatalogRef]:
    """Every catalog in the package and in ``home``, packaged first."""
    refs = []
    for origin, root in (("packaged", packaged_root()), ("imported", imported_root(home))):
        if not root.is_dir():
            continue
        for path in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            std_id = _read_id(path)
            if std_id is not None:
                refs.append(CatalogRef(std_id, path.name, path, origin))  # type: ignore[arg-type]
    return refs


def resolve(ref: str | Path | None, home: Path) -> Path:
    """The directory of the catalog ``ref``: a directory path, a standard id or its slug (default: 469/НК-2025)."""
    if ref is None or ref == "":
        ref = DEFAULT_STANDARD_ID
    candidate = Path(ref)
    if candidate.is_dir() and (candidate / "standard.yaml").is_file():
        return candidate
    wanted = str(ref)
    for catalog in reversed(list_catalogs(home)):  # imported catalogs win over packaged ones of the same id
        if wanted in (catalog.id, catalog.slug):
            return catalog.path
    known = ", ".join(sorted({c.id for c in list_catalogs(home)})) or "none"
    raise NotFoundError(
        f"No catalog '{ref}'. Known: {known}. Give a standard id, or the path of a catalog directory "
        "(see `cityscore standard versions`)."
    )


def load_standard(ref: str | Path | None = None, home: Path | None = None) -> Standard:
    """Load the catalog ``ref`` (default: the packaged 469/НК-2025)."""
    path = resolve(ref, home or Path(tempfile.gettempdir()) / "cityscore-no-home")
    return _load_cached(str(path.resolve()), _fingerprint(path))


@lru_cache(maxsize=8)
def _load_cached(path: str, fingerprint: tuple[tuple[str, int, int], ...]) -> Standard:
    return load_catalog(Path(path))


def _fingerprint(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and modification times of the catalog's files: a changed file means a fresh load."""
    out = []
    for path in sorted(directory.rglob("*.yaml")):
        stat = path.stat()
        out.append((path.relative_to(directory).as_posix(), stat.st_size, stat.st_mtime_ns))
    return tuple(out)


def import_catalog(source: Path, home: Path, *, replace: bool = False,
                   tables: TableColumns | None = None) -> CatalogRef:
    """Validate ``source`` (its measures against ``tables`` when given) and store it under ``home``; raise
    :class:`CatalogError` and write nothing if invalid."""
    source = Path(source)
    report = validate_catalog(source, tables)
    if not report.ok:
        raise CatalogError(
            f"Not imported: the catalog in {source} has {len(report.errors)} error(s); nothing was changed. "
            f"Run `cityscore standard validate {source}` for the report.",
            findings=report.errors,
        )
    std_id = report.standard_id or ""
    slug = slugify(std_id)
    if any(c.origin == "packaged" and c.id == std_id for c in list_catalogs(home)):
        raise CatalogError(
            f"Not imported: '{std_id}' is the id of the catalog shipped with CityScore-KZ. An amended catalog needs "
            "its own id: change `id:` in standard.yaml (e.g. \"469/НК-2025/изм-1\") and set `amends:` to the id it "
            "amends."
        )
    root = imported_root(home)
    root.mkdir(parents=True, exist_ok=True)
    target = root / slug
    if target.exists() and not replace:
        raise CatalogError(
            f"Not imported: a catalog '{std_id}' is already stored at {target}. Use --replace to overwrite it, "
            "or give the amendment a new id."
        )
    staging = Path(tempfile.mkdtemp(prefix=f".{slug}-", dir=root))
    try:
        for path in sorted(source.rglob("*")):
            if path.is_file() and (path.suffix in (".yaml", ".yml", ".md")):
                dest = staging / path.relative_to(source)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dest)
        if not validate_catalog(staging, tables).ok:  # the copy must be as valid as the source
            raise CatalogError(f"Not imported: copying {source} did not reproduce a valid catalog.")
        if target.exists():
            retired = root / f".{slug}.replaced"
            shutil.rmtree(retired, ignore_errors=True)
            os.replace(target, retired)
            os.replace(staging, target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return CatalogRef(std_id, slug, target, "imported")


def export_catalog(ref: str | Path | None, home: Path, destination: Path) -> Path:
    """Copy the catalog ``ref`` to ``destination`` (which must not exist) for editing."""
    source = resolve(ref, home)
    destination = Path(destination)
    if destination.exists():
        raise CatalogError(f"{destination} already exists; give a new directory to export into.")
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__", ".*"))
    return destination


def _read_id(directory: Path) -> str | None:
    std_file = directory / "standard.yaml"
    if not std_file.is_file():
        return None
    try:
        data = read_yaml(std_file).data
    except (ValueError, OSError):
        return None
    return str(data.get("id")) if isinstance(data, dict) and data.get("id") else None
