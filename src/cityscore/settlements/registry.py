"""The settlement registry: the 213 settlements the standard rates, keyed by KATO code.

Shipped as ``data/settlements.csv`` and ``data/regions.csv`` (sources and licences in ``data/ATTRIBUTION.md``).
Lookups accept a KATO code or a name in Russian, Kazakh or English, compared without case, type prefixes
("г.", "с.") and the differences between Е/Ё and Kazakh/Russian letters that people type interchangeably. Former
and alternative names (Целиноград, Нур-Султан, Алма-Ата, Гурьев, Kustanay …) are kept as data in
``data/former_names.csv``; a current name always wins over a former one.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import SettlementRegistryError

SettlementCategory = Literal["republican", "oblast", "district"]
NameLang = Literal["ru", "kk", "en"]
Kind = Literal[
    "city_of_republican_significance",
    "oblast_centre",
    "city_of_oblast_significance",
    "district_centre",
    "town_of_district_significance",
]
KIND_CATEGORY: dict[str, SettlementCategory] = {
    "city_of_republican_significance": "republican",
    "oblast_centre": "oblast",
    "city_of_oblast_significance": "oblast",
    "district_centre": "district",
    "town_of_district_significance": "district",
}


class Region(BaseModel):
    """A first-level unit: an oblast or a city of republican significance."""

    model_config = ConfigDict(frozen=True)

    region_code: str
    name_ru: str
    name_kk: str
    name_en: str
    geometry_name: str | None = None
    population: int | None = None
    population_source: str | None = None

    @property
    def code(self) -> str:
        return self.region_code

    def name(self, lang: str) -> str:
        return {"kk": self.name_kk, "en": self.name_en}.get(lang, self.name_ru)


class Settlement(BaseModel):
    """One settlement rated by the standard."""

    model_config = ConfigDict(frozen=True)

    kato: str
    name_ru: str
    name_kk: str
    name_en: str
    name_kk_source: str
    name_en_source: str
    settlement_type: str
    category: SettlementCategory
    kind: Kind
    region_code: str
    district_ru: str | None = None
    population: int | None = None
    population_source: str | None = None
    population_date: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    coord_source: str | None = None
    geonameid: str | None = None
    osm_id: str | None = None
    note: str | None = None

    def name(self, lang: str) -> str:
        return {"kk": self.name_kk, "en": self.name_en}.get(lang, self.name_ru)

    @property
    def has_coordinates(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    def matches(self, query: str) -> bool:
        """True when ``query`` is this KATO code or part of one of its names."""
        q = normalise_name(query)
        return query.strip() == self.kato or any(q in normalise_name(n) for n in (self.name_ru, self.name_kk,
                                                                                   self.name_en))

    def to_json(self) -> dict[str, object]:
        return self.model_dump()


class FormerName(BaseModel):
    """A former or alternative name of a settlement (a row of ``data/former_names.csv``)."""

    model_config = ConfigDict(frozen=True)

    kato: str
    name: str
    lang: NameLang
    note: str | None = None


_FOLD = str.maketrans({"ё": "е", "ә": "а", "ғ": "г", "қ": "к", "ң": "н", "ө": "о", "ұ": "у", "ү": "у", "һ": "х",
                       "і": "и", "й": "и", "-": " ", "’": "", "'": "", "ʼ": ""})
_PREFIX = re.compile(r"^(г|с|п|пгт|село|город|посёлок|поселок|қ|ауыл|кент)\.?\s+|^(г|с|п)\.(?=\S)")


def normalise_name(name: str) -> str:
    """Fold a settlement name for matching: lower case, no type prefix, Kazakh letters and Ё folded, single spaces."""
    text = unicodedata.normalize("NFC", name).strip().lower()
    text = _PREFIX.sub("", text)
    text = re.sub(r"\s+(қаласы|ауылы|кенті|city|town|village)$", "", text)
    return re.sub(r"\s+", " ", text.translate(_FOLD)).strip()


class Registry:
    """All settlements and regions, with lookups by KATO code and by name."""

    def __init__(self, settlements: tuple[Settlement, ...], regions: tuple[Region, ...],
                 former_names: tuple[FormerName, ...] = ()) -> None:
        self.settlements = settlements
        self.regions = regions
        self.former_names = former_names
        self._by_kato = {s.kato: s for s in settlements}
        self._by_name: dict[str, list[Settlement]] = {}
        for s in settlements:
            for name in {normalise_name(n) for n in (s.name_ru, s.name_kk, s.name_en)}:
                self._by_name.setdefault(name, []).append(s)
        self._by_former_name: dict[str, list[Settlement]] = {}
        for former in former_names:
            settlement = self._by_kato.get(former.kato)
            if settlement is None:
                raise SettlementRegistryError(f"Former name {former.name!r}: no settlement with KATO code "
                                              f"{former.kato}")
            named = self._by_former_name.setdefault(normalise_name(former.name), [])
            if settlement not in named:
                named.append(settlement)
        self._regions = {r.code: r for r in regions}

    attribution_short = "KATO (BNS); GeoNames CC BY 4.0; © OpenStreetMap contributors (ODbL)"

    def __len__(self) -> int:
        return len(self.settlements)

    def get(self, kato: str) -> Settlement | None:
        return self._by_kato.get(kato.strip())

    def by_name(self, name: str) -> list[Settlement]:
        """Settlements whose ru, kk or en name equals ``name`` after folding (several when the name is shared); when
        no current name does, those of which it is a former or alternative name."""
        key = normalise_name(name)
        return list(self._by_name.get(key) or self._by_former_name.get(key, []))

    def resolve(self, key: str) -> Settlement | None:
        """A settlement by KATO code, or by name when exactly one settlement has that name."""
        found = self.get(key)
        if found is not None:
            return found
        named = self.by_name(key)
        return named[0] if len(named) == 1 else None

    def of_category(self, category: SettlementCategory) -> tuple[Settlement, ...]:
        return tuple(s for s in self.settlements if s.category == category)

    def region(self, code: str) -> Region | None:
        return self._regions.get(code)

    def region_name(self, code: str, lang: str = "ru") -> str:
        region = self.region(code)
        return region.name(lang) if region else code

    def find_region(self, key: str) -> Region | None:
        """A region by its 2-digit code or by (part of) its name in any language."""
        if key in self._regions:
            return self._regions[key]
        q = normalise_name(key)
        hits = [r for r in self.regions if any(q in normalise_name(n) for n in (r.name_ru, r.name_kk, r.name_en))]
        return hits[0] if len(hits) == 1 else None


def _read_csv(name: str) -> list[dict[str, str | None]]:
    text = resources.files("cityscore.settlements").joinpath("data", name).read_text("utf-8")
    return [{k: (v if v != "" else None) for k, v in row.items()} for row in csv.DictReader(text.splitlines())]


@cache
def load_registry() -> Registry:
    """The registry shipped with the package (loaded once)."""
    try:
        settlements = tuple(Settlement.model_validate(row) for row in _read_csv("settlements.csv"))
        regions = tuple(Region.model_validate(row) for row in _read_csv("regions.csv"))
        former_names = tuple(FormerName.model_validate(row) for row in _read_csv("former_names.csv"))
    except ValidationError as exc:
        raise SettlementRegistryError(f"The packaged settlement registry is malformed: {exc}") from exc
    for s in settlements:
        if KIND_CATEGORY[s.kind] != s.category:
            raise SettlementRegistryError(f"Settlement {s.kato}: kind {s.kind} does not belong to {s.category}")
    return Registry(settlements, regions, former_names)
