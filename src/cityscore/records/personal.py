"""Personal data found wherever it is: ИИН and Kazakhstan phone numbers in any text cell, masked in every message.

Designated columns (``caller_phone``, ``applicant_iin`` …) are pseudonymised by ``cityscore.ingest.pseudonym``.
This module finds the same identifiers anywhere else — an ИИН used as ``call_id``, a phone typed into ``channel`` —
and masks them in everything that is kept or shown about a rejected row (the quarantine's raw row, error messages).

What counts (documented in docs/data-reference.md and decisions.md D-41):

- **phone**: a Kazakhstan number written in any of the usual ways — ``+7 701 123 45 67``, ``8 (701) 123-45-67``,
  ``87011234567``, ``+77011234567``, ``7011234567``: an optional ``+7``/``7``/``8`` prefix, then ten digits starting
  with 6 or 7 (the country's ranges), separated by spaces, hyphens, dots or brackets, with no digit right before or
  after.
- **ИИН** (and БИН, which has the same form): twelve digits in a row, no digit right before or after. Detection in a
  cell requires the control digit to be correct; masking in messages masks every run of twelve digits.

Both patterns exist twice, as Python ``re`` and as RE2 for DuckDB (which has no look-around, so the digit boundaries
are groups); a test checks they agree.
"""

from __future__ import annotations

import re


def iin_is_valid(iin: str) -> bool:
    """The control digit of an ИИН/БИН (12 digits; weights 1…11, then 3…11,1,2 when the first sum gives 10)."""
    if len(iin) != 12 or not iin.isdigit():
        return False
    digits = [int(d) for d in iin]
    check = sum(d * w for d, w in zip(digits[:11], range(1, 12), strict=True)) % 11
    if check == 10:
        weights = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]
        check = sum(d * w for d, w in zip(digits[:11], weights, strict=True)) % 11
        if check == 10:
            return False
    return check == digits[11]


PHONE_MASK = "[phone number]"
IIN_MASK = "[ИИН]"

_SEP = r"[\s\-.]?"
_PHONE_BODY = (r"(?:\+\s?7|7|8)?" + _SEP + r"\(?[67][0-9]{2}\)?" + _SEP + r"[0-9]{3}" + _SEP + r"[0-9]{2}" + _SEP
               + r"[0-9]{2}")
PHONE_RE = re.compile(r"(?<![0-9+])" + _PHONE_BODY + r"(?![0-9])")
IIN_RE = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")

# RE2 (DuckDB): the boundaries are captured groups \1 and \2, put back by the replacement.
SQL_PHONE_RE = r"(^|[^0-9+])" + _PHONE_BODY + r"([^0-9]|$)"
SQL_IIN_RE = r"(^|[^0-9])[0-9]{12}([^0-9]|$)"


def find_phone(text: str) -> str | None:
    match = PHONE_RE.search(text)
    return match.group(0) if match else None


def find_iin(text: str) -> str | None:
    """The first run of twelve digits with a correct control digit."""
    for match in IIN_RE.finditer(text):
        if iin_is_valid(match.group(0)):
            return match.group(0)
    return None


def personal_kind(text: str | None) -> str | None:
    """``"iin"``, ``"phone"`` or None: what personal identifier ``text`` holds."""
    if not text:
        return None
    if find_iin(text):
        return "iin"
    if find_phone(text):
        return "phone"
    return None


def mask(text: str) -> str:
    """``text`` with every phone number and every run of twelve digits replaced by a placeholder."""
    if not text or not any(c.isdigit() for c in text):
        return text
    return PHONE_RE.sub(PHONE_MASK, IIN_RE.sub(IIN_MASK, text))


def sql_mask(expr: str) -> str:
    """SQL (DuckDB) giving ``expr`` masked like :func:`mask`. Each replacement runs twice: a match consumes the
    character after it, so a second identifier right behind the first is caught by the second pass."""
    out = expr
    for pattern, placeholder in ((SQL_IIN_RE, IIN_MASK), (SQL_PHONE_RE, PHONE_MASK)):
        for _ in range(2):
            out = f"regexp_replace({out}, '{pattern}', '\\1{placeholder}\\2', 'g')"
    return out


def sql_may_hold_identifier(expr: str) -> str:
    """A cheap SQL test that is TRUE for every cell :func:`personal_kind` would flag (and for a few more): ten or
    more digits in the cell. Used to skip the exact checks for the cells that cannot hold one."""
    return f"regexp_matches({expr}, '[0-9](?:[^0-9]{{0,3}}[0-9]){{9}}')"


def sql_iin_candidate(expr: str) -> str:
    """SQL giving the first run of twelve digits in ``expr`` (or '' when there is none)."""
    return f"regexp_extract({expr}, '{SQL_IIN_RE}', 0)"


def sql_has_phone(expr: str) -> str:
    return f"regexp_matches({expr}, '{SQL_PHONE_RE}')"


def sql_iin_valid(n: str) -> str:
    """SQL: TRUE when the text ``n`` is twelve digits with a correct control digit (see :func:`iin_is_valid`)."""
    x = f"TRY_CAST({n} AS BIGINT)"

    def weighted(weights: list[int]) -> str:
        return "((" + " + ".join(f"(({x} // {10 ** (11 - i)}) % 10) * {w}" for i, w in enumerate(weights)) + ") % 11)"

    c1, c2 = weighted(list(range(1, 12))), weighted([3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2])
    return (f"(regexp_full_match({n}, '[0-9]{{12}}') AND CASE WHEN {c1} < 10 THEN {c1} = {x} % 10 "
            f"WHEN {c2} < 10 THEN {c2} = {x} % 10 ELSE FALSE END)")


def sql_holds_identifier(expr: str) -> str:
    """SQL: TRUE when the text ``expr`` holds a phone number or an ИИН with a correct control digit (what
    :func:`personal_kind` finds); the cheap test of ten digits runs first."""
    digits = f"regexp_replace({sql_iin_candidate(expr)}, '[^0-9]', '', 'g')"
    return (f"({expr} IS NOT NULL AND {sql_may_hold_identifier(expr)} AND ({sql_has_phone(expr)} OR "
            f"{sql_iin_valid(digits)}))")
