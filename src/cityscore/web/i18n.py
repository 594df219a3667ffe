"""The dashboard's languages: Russian (default), Kazakh and English.

Interface strings live in ``locales/messages.yaml``, one entry per key with its three translations side by side (a
test checks that none is missing). Numbers and dates are formatted per locale by Babel. Texts of the standard
that exist only in Russian (formulas, descriptions) are shown in Russian, marked ``lang="ru"``, in every language.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from babel.dates import format_date
from babel.numbers import format_decimal

Lang = Literal["ru", "kk", "en"]
LANGS: tuple[Lang, ...] = ("ru", "kk", "en")
DEFAULT_LANG: Lang = "ru"
LANG_NAMES: dict[Lang, str] = {"ru": "Русский", "kk": "Қазақша", "en": "English"}
DASH = "—"
_CYRILLIC = re.compile(r"[А-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі]")


@cache
def messages() -> dict[str, dict[str, str]]:
    text = resources.files("cityscore.web").joinpath("locales", "messages.yaml").read_text(encoding="utf-8")
    data: dict[str, dict[str, str]] = yaml.safe_load(text)
    return data


def parse_lang(value: str | None) -> Lang | None:
    if value is None:
        return None
    value = value.strip().lower()[:2]
    return next((lang for lang in LANGS if lang == value), None)


# Reasons a KPI does not count, as the scoring engine writes them (English), and their message keys.
_REASONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^does not apply to (?P<category>\w+) settlements$"), "reason.not_applicable"),
    (re.compile(r"^initiative (?P<initiative>\d+) is due from (?P<year>\d{4})$"), "reason.not_started"),
    (re.compile(r"^no target for (?P<category>\w+) settlements$"), "reason.no_target"),
    (re.compile(r"^no weight points \(lost in the text\)$"), "reason.no_weight"),
    (re.compile(r"^provisional KPI \(excluded by the policy\)$"), "reason.provisional"),
    (re.compile(r"^qualitative target «(?P<text>.*)» \(no level to measure\)$"), "reason.qualitative"),
    (re.compile(r"^unquantified target «(?P<text>.*)»$"), "reason.unquantified"),
    (re.compile(r"^near-duplicate of (?P<kpi>[\d.]+) \(counted once\)$"), "reason.near_duplicate"),
    (re.compile(r"^no data \((?P<note>.*)\)$"), "reason.no_data_note"),
    (re.compile(r"^no data$"), "reason.no_data"),
    (re.compile(r"^a \w+ target «(?P<text>.*)» is not monitored$"), "reason.not_monitored"),
    (re.compile(r"^target «(?P<text>.*)» has no level to compare with$"), "reason.no_level"),
    (re.compile(r"^no daily values$"), "reason.no_daily"),
)


class Locale:
    """Everything a template needs to speak one language."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang
        self._messages = messages()

    # --- text ------------------------------------------------------------------------------------------------
    def t(self, key: str, **values: Any) -> str:
        """The message ``key`` in this language, with ``{name}`` placeholders filled."""
        entry = self._messages.get(key)
        if entry is None:
            raise KeyError(f"No message '{key}' in locales/messages.yaml")
        text = entry.get(self.lang) or entry[DEFAULT_LANG]
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self._messages

    def name(self, obj: Any) -> str:
        """The name of a settlement, region, KPI, initiative, section … in this language."""
        if isinstance(obj, Mapping):
            return str(obj.get(f"name_{self.lang}") or obj.get("name_ru") or "")
        names = getattr(obj, "name", None)
        if names is not None and hasattr(names, "in_lang"):
            return str(names.in_lang(self.lang))
        return str(getattr(obj, f"name_{self.lang}", None) or getattr(obj, "name_ru", ""))

    def category(self, category: str, form: str = "plural") -> str:
        return self.t(f"category.{category}.{form}")

    def unit(self, unit: str | None) -> str:
        if not unit:
            return ""
        key = f"unit.{unit}"
        return self.t(key) if self.has(key) else unit

    def reason(self, text: str | None) -> str:
        """A reason from the scoring engine, in this language (the original when it is not a known one)."""
        if not text:
            return ""
        for pattern, key in _REASONS:
            match = pattern.match(text)
            if match:
                values = match.groupdict()
                if "category" in values:
                    values["category"] = self.category(values["category"], "genitive")
                if "note" in values:
                    values["note"] = self.reason(values["note"]) if values["note"].startswith("no ") else (
                        values["note"])
                return self.t(key, **values)
        return text

    @staticmethod
    def text_lang(text: str | None, lang: str) -> str:
        """The language a text of the catalog is written in (for ``lang`` attributes)."""
        return "ru" if text and _CYRILLIC.search(text) and lang != "ru" else lang

    # --- numbers and dates -------------------------------------------------------------------------------------
    def num(self, value: float | int | None, digits: int = 1) -> str:
        """``value`` with ``digits`` decimals and the locale's separators; a dash for no value (or a non-finite one)."""
        if value is None or not math.isfinite(value):
            return DASH
        pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
        return str(format_decimal(value, format=pattern, locale=self.lang))

    def smart(self, value: float | int | None) -> str:
        """A measured value with as many decimals as it needs to be read (≥ 100: none; ≥ 10: one; else two)."""
        if value is None or not math.isfinite(value):
            return DASH
        magnitude = abs(value)
        digits = 0 if magnitude >= 100 or float(value).is_integer() else 1 if magnitude >= 10 else 2
        return self.num(value, digits)

    def pct(self, value: float | None, digits: int = 0) -> str:
        """A value already in percent (0–100)."""
        if value is None or not math.isfinite(value):
            return DASH
        sep = "" if self.lang == "en" else "\u00a0"
        return f"{self.num(value, digits)}{sep}%"

    def date(self, value: date | str | None, form: str = "long") -> str:
        if value is None:
            return DASH
        if isinstance(value, str):
            value = date.fromisoformat(value)
        return str(format_date(value, format=form, locale=self.lang))

    def moment(self, instant: datetime | None) -> str:
        """A UTC instant of the warehouse as Kazakhstan's civil date and time, with the offset: «22 марта 2026 г.,
        15:05 UTC+5»."""
        if instant is None:
            return DASH
        from ..measures.civil import civil_python

        local = civil_python(instant)
        hours = round((local - instant).total_seconds() / 3600)
        return f"{self.date(local.date())}, {local:%H:%M} UTC+{hours}"

    def movement(self, value: int | None) -> str:
        """Rank movement as a person reads it: ▲ 2, ▼ 1, = (no change), — (no previous rank)."""
        if value is None:
            return DASH
        if value == 0:
            return "="
        return f"{'▲' if value > 0 else '▼'}\u00a0{abs(value)}"

    def movement_text(self, value: int | None) -> str:
        if value is None:
            return self.t("movement.none")
        if value == 0:
            return self.t("movement.same")
        return self.t("movement.up" if value > 0 else "movement.down", n=abs(value))
