"""Whether a file was written by the simulator (``cityscore simulate``, ``cityscore demo``): its batches and the
results computed from them are then marked simulated (:mod:`cityscore.store.provenance`, decisions.md D-68)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

from ..simulate import MANIFEST_FILE
from ..simulate.writer import GENERATOR, GENERATOR_KEY


def simulated_file(path: Path) -> bool:
    """A Parquet file carrying the simulator's mark in its metadata, or a file that the ``manifest.json`` of a
    simulation in the same folder lists (``observations.csv``, ``additional.csv``, the Parquet files)."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".parquet" and (
                (pq.read_metadata(path).metadata or {}).get(GENERATOR_KEY) == GENERATOR):
            return True
        manifest = path.parent / MANIFEST_FILE
        if not manifest.is_file():
            return False
        data = json.loads(manifest.read_text("utf-8"))
    except (OSError, ValueError, pa.ArrowException):  # not readable as Parquet, or the manifest is not JSON
        return False
    if not isinstance(data, dict) or not {"year", "seed", "scale", "files"} <= data.keys():
        return False
    files = data["files"]
    return isinstance(files, dict) and path.name in {Path(str(f)).name for f in files.values()}
