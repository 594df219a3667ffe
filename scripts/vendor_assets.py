"""Vendor the dashboard's front-end assets from npm into the package (``src/cityscore/web/static/vendor``).

The dashboard and the API documentation never load anything from the internet: every script and stylesheet is a
file of the package. This script fetches the pinned npm packages once (``npm pack``), copies the files the pages
use with the package's licence, and writes ``VENDORED.md`` with versions and SHA-256 sums. Run it only to upgrade:

    python scripts/vendor_assets.py
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "src" / "cityscore" / "web" / "static" / "vendor"

# package@version → (folder, files inside the package → name in the folder)
PACKAGES: dict[str, tuple[str, dict[str, str]]] = {
    "htmx.org@2.0.11": ("htmx", {"dist/htmx.min.js": "htmx.min.js", "LICENSE": "LICENSE"}),
    "echarts@6.1.0": ("echarts", {"dist/echarts.min.js": "echarts.min.js", "LICENSE": "LICENSE",
                                  "NOTICE": "NOTICE"}),
    "swagger-ui-dist@5.35.0": ("swagger-ui", {"swagger-ui-bundle.js": "swagger-ui-bundle.js",
                                              "swagger-ui.css": "swagger-ui.css", "LICENSE": "LICENSE",
                                              "NOTICE": "NOTICE"}),
}


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for spec, (folder, files) in PACKAGES.items():
            out = subprocess.run(["npm", "pack", spec, "--silent"], cwd=tmp, check=True, capture_output=True,
                                 text=True).stdout.strip().splitlines()[-1]
            target = VENDOR / folder
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            with tarfile.open(Path(tmp) / out) as archive:
                for inner, name in files.items():
                    member = archive.extractfile(f"package/{inner}")
                    if member is None:
                        raise SystemExit(f"{spec}: no file {inner}")
                    data = member.read()
                    (target / name).write_bytes(data)
                    rows.append((spec, f"{folder}/{name}", len(data), hashlib.sha256(data).hexdigest()))
    lines = ["# Vendored front-end assets", "",
             "Copied from npm by `python scripts/vendor_assets.py`; served from `/static/vendor/`. "
             "Nothing is loaded from a CDN.", "",
             "| npm package | file | bytes | sha256 |", "|---|---|---:|---|"]
    lines += [f"| {spec} | {path} | {size:,} | `{digest}` |" for spec, path, size, digest in rows]
    (VENDOR / "VENDORED.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(rows)} files vendored into {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
