"""Whether a file was written by the simulator: :func:`cityscore.ingest.provenance.simulated_file` (re-exported
for the command line)."""

from __future__ import annotations

from ..ingest.provenance import simulated_file as simulated_file
