#!/usr/bin/env python3
"""Regenerate the generated documents, or check that they are fresh (``--check``, exit 1 when stale).

- ``docs/standard.md``: the catalog of the standard, rendered by :func:`cityscore.standard.markdown.render_markdown`;
- ``docs/cli.md``: the ``--help`` of every command;
- ``docs/data-reference.md``: the raw record tables and the KPI measures;
- ``src/cityscore/web/decisions.md``: a copy of ``docs/decisions.md`` shipped in the package for the dashboard's
  methodology page.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cityscore.cli.reference import render_cli_reference
from cityscore.measures.reference import render_data_reference
from cityscore.standard import load_standard
from cityscore.standard.markdown import render_markdown

ROOT = Path(__file__).resolve().parents[1]


def generated() -> dict[Path, str]:
    return {
        ROOT / "docs" / "standard.md": render_markdown(load_standard()),
        ROOT / "docs" / "cli.md": render_cli_reference(),
        ROOT / "docs" / "data-reference.md": render_data_reference(load_standard()),
        ROOT / "src" / "cityscore" / "web" / "decisions.md": (ROOT / "docs" / "decisions.md").read_text("utf-8"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 if a document is stale")
    args = parser.parse_args(argv)
    stale = []
    for path, text in generated().items():
        current = path.read_text("utf-8") if path.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(path)
        else:
            path.write_text(text, "utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    for path in stale:
        print(f"{path.relative_to(ROOT)} is stale: run `python scripts/gen_docs.py`", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
