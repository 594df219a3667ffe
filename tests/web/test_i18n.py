"""The dashboard's three languages: every message in every language with the same placeholders, every key the
templates and views use exists, numbers and dates per locale, the scoring engine's reasons translated."""

from __future__ import annotations

import re
import string
from datetime import date
from importlib import resources

import pytest

from cityscore.scoring import ScoringPolicy
from cityscore.standard import Standard
from cityscore.web.i18n import LANGS, Locale, messages, parse_lang

TEMPLATES = resources.files("cityscore.web").joinpath("templates")
SOURCES = [resources.files("cityscore.web").joinpath(n) for n in ("views.py", "pages.py")]


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_has_three_languages_with_the_same_placeholders() -> None:
    for key, entry in messages().items():
        assert set(entry) == set(LANGS), f"{key}: languages {sorted(entry)}"
        assert all(isinstance(v, str) for v in entry.values()), key
        assert all(v.strip() or key == "unit.count" for v in entry.values()), f"{key}: empty translation"
        assert placeholders(entry["kk"]) == placeholders(entry["en"]) == placeholders(entry["ru"]), key


def test_every_key_used_exists() -> None:
    used: set[str] = set()
    for path in TEMPLATES.iterdir():
        used |= set(re.findall(r"L\.t\('([a-z_.0-9]+)'\s*[,)]", path.read_text(encoding="utf-8")))
    for path in SOURCES:
        used |= set(re.findall(r"loc\.t\(f?\"([a-z_.0-9]+)\"", path.read_text(encoding="utf-8")))
    assert len(used) > 120
    missing = sorted(k for k in used if k not in messages())
    assert not missing, f"keys used but not in locales/messages.yaml: {missing}"


def test_keys_built_at_run_time_exist(std: Standard) -> None:
    built = [f"band.{b.id}.description" for b in std.bands]  # band names come from the catalog
    built += [f"category.{c}.{form}" for c in ("republican", "oblast", "district")
              for form in ("plural", "singular", "genitive")]
    built += [f"bonus.criterion.{c.id}" for c in std.bonus.criteria]
    built += [f"policy.{r['field']}" for r in ScoringPolicy.describe()]
    built += [f"monitor.{w}" for w in ("day", "week", "month", "quarter")]
    built += [f"kpi.direction.{d}" for d in ("higher_is_better", "lower_is_better")]
    built += [f"periodicity.{k.periodicity}" for k in std.kpis if k.periodicity]
    built += [f"unit.{k.unit}" for k in std.kpis]
    built += [f"error.{k}_{s}" for k in ("title", "text") for s in (404, 422, 503)]
    missing = sorted({k for k in built if k not in messages()})
    assert not missing


@pytest.mark.parametrize(("lang", "decimal", "pct", "long_date"), [
    ("ru", "1\xa0234,6", "98,5\xa0%", "22 марта 2026\u202fг."),
    ("kk", "1\xa0234,6", "98,5\xa0%", "2026\u202fж. 22 наурыз"),
    ("en", "1,234.6", "98.5%", "March 22, 2026"),
])
def test_numbers_and_dates_per_locale(lang: str, decimal: str, pct: str, long_date: str) -> None:
    loc = Locale(lang)  # type: ignore[arg-type]
    assert loc.num(1234.56, 1) == decimal
    assert loc.pct(98.46, 1) == pct
    assert loc.date(date(2026, 3, 22)) == long_date
    assert loc.num(None) == loc.pct(None) == "—"
    assert loc.smart(1234.5) == loc.num(1234.5, 0) and loc.smart(12.34) == loc.num(12.34, 1)
    assert loc.smart(1.234) == loc.num(1.234, 2) and loc.smart(7.0) == loc.num(7, 0)


@pytest.mark.parametrize(("reason", "ru", "en"), [
    ("initiative 7 is due from 2027", "инициатива 7 внедряется с 2027 года", "initiative 7 is due from 2027"),
    ("does not apply to district settlements", "не применяется для районных центров и городов районного значения",
     "does not apply to district centres and towns"),
    ("no target for oblast settlements", "нет цели для городов областного значения",
     "no target for cities of oblast significance"),
    ("near-duplicate of 4.1 (counted once)", "почти повторяет 4.1 (учитывается один раз)",
     "near-duplicate of 4.1 (counted once)"),
    ("qualitative target «по возможности» (no level to measure)",
     "качественная цель «по возможности» (нет уровня для измерения)",
     "qualitative target «по возможности» (no level to measure)"),
    ("no data", "нет данных", "no data"),
    ("something new", "something new", "something new"),
])
def test_reasons_of_the_scoring_engine_are_translated(reason: str, ru: str, en: str) -> None:
    assert Locale("ru").reason(reason) == ru
    assert Locale("en").reason(reason) == en
    assert Locale("kk").reason(reason) != ""


def test_movement_reads_as_words() -> None:
    ru = Locale("ru")
    assert (ru.movement(2), ru.movement(-1), ru.movement(0), ru.movement(None)) == ("▲\xa02", "▼\xa01", "=", "—")
    assert ru.movement_text(2) == "выше на 2" and Locale("en").movement_text(-3) == "down 3"


def test_parse_lang() -> None:
    assert [parse_lang(v) for v in ("ru", "KK", "en-GB", "de", "", None)] == ["ru", "kk", "en", None, None, None]
