"""SQL that types and checks a whole staged file at once (DuckDB).

Every cell arrives as text. :func:`typed_columns` parses each column to its type — numbers with decimal commas and
spaces between thousands, dates as ``YYYY-MM-DD`` or ``DD.MM.YYYY``, timestamps with an offset (converted to UTC;
offsets beyond ±14:00 are refused) or without one (read as Kazakhstan civil time and converted to UTC) — and keeps
the text of a cell (``<column>__raw``) only where its value is missing, unparseable or implausible, so that the
error can quote it. The projection has no join, no IN list and no window, so DuckDB keeps the rows in file order
(the loader numbers them by position). :func:`error_queries` yields one query per kind of problem, each returning
``(row, column, code, message)``; every quoted value is masked for personal data (:func:`.pii.sql_mask`).

Values (decisions.md D-42): non-finite numbers (``NaN``, ``inf``, ``1e400``) are rejected everywhere; every numeric
column has a plausible range (``cityscore tables NAME``); timestamps and dates outside the plausible window (default
2000-01-01 … 2100-01-01, ``CITYSCORE_INGEST_EARLIEST`` / ``CITYSCORE_INGEST_LATEST``) are rejected, and so are the
special words ``infinity``, ``epoch``, ``now``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from ..records import Column, Schema
from ..records.personal import sql_mask

TRUE_WORDS = ("true", "t", "yes", "y", "1", "да", "д", "иә", "ия")
FALSE_WORDS = ("false", "f", "no", "n", "0", "нет", "н", "жоқ")
CIVIL_ZONE = "Asia/Almaty"
OFFSET_RE = r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)$"
MAX_OFFSET_MINUTES = 14 * 60


@dataclass(frozen=True)
class TimeWindow:
    """The plausible window of timestamps and dates: ``earliest`` ≤ t < ``latest``."""

    earliest: date = date(2000, 1, 1)
    latest: date = date(2100, 1, 1)

    def text(self) -> str:
        return f"{self.earliest.isoformat()} … {self.latest.isoformat()}"


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def blank(col: str) -> str:
    return f"({col} IS NULL OR trim({col}) = '')"


def number_expr(col: str) -> str:
    """A DOUBLE (perhaps non-finite: the checks reject those), or NULL. Plain numbers take the fast cast; only the
    others (decimal commas, spaces between thousands) go through the slower cleaning."""
    cleaned = f"regexp_replace(trim({col}), '[\\s\\x{{a0}}\\x{{202f}}'']', '', 'g')"
    slow = (f"TRY_CAST(CASE WHEN contains({cleaned}, '.') AND contains({cleaned}, ',') "
            f"THEN replace({cleaned}, ',', '') ELSE replace({cleaned}, ',', '.') END AS DOUBLE)")
    return f"COALESCE(TRY_CAST({col} AS DOUBLE), {slow})"


def int_expr(col: str) -> str:
    value = number_expr(col)  # TRY_CAST gives NULL for NaN, inf and numbers beyond BIGINT
    return f"CASE WHEN {value} = floor({value}) THEN TRY_CAST({value} AS BIGINT) END"


def date_expr(col: str) -> str:
    return (f"COALESCE(TRY_CAST(TRY_CAST(trim({col}) AS TIMESTAMP) AS DATE), "
            f"TRY_CAST(try_strptime(trim({col}), '%d.%m.%Y') AS DATE))")


def offset_minutes(text: str) -> str:
    """Minutes of the UTC offset written at the end of ``text`` (0 for Z), or NULL when there is none."""
    sign = f"regexp_extract({text}, '([+-])[0-9]{{2}}(:?[0-9]{{2}})?$', 1)"
    hours = f"TRY_CAST(regexp_extract({text}, '[+-]([0-9]{{2}})(:?([0-9]{{2}}))?$', 1) AS INTEGER)"
    minutes = f"COALESCE(TRY_CAST(regexp_extract({text}, '[+-][0-9]{{2}}:?([0-9]{{2}})$', 1) AS INTEGER), 0)"
    return f"(CASE WHEN {text} LIKE '%Z' THEN 0 WHEN {sign} <> '' THEN {hours} * 60 + {minutes} END)"


def timestamp_expr(col: str) -> str:
    """UTC instant: offset given → converted (NULL beyond ±14:00); none → Kazakhstan civil time → UTC."""
    text = f"trim({col})"
    naive = (f"COALESCE(TRY_CAST({text} AS TIMESTAMP), try_strptime({text}, '%d.%m.%Y %H:%M:%S'), "
             f"try_strptime({text}, '%d.%m.%Y %H:%M'), try_strptime({text}, '%d.%m.%Y'))")
    return (f"CASE WHEN regexp_matches({text}, '{OFFSET_RE}') AND length({text}) > 10 "
            f"THEN CASE WHEN {offset_minutes(text)} <= {MAX_OFFSET_MINUTES} "
            f"THEN TRY_CAST({text} AS TIMESTAMPTZ) AT TIME ZONE 'UTC' END "
            f"WHEN regexp_matches(lower({text}), '^[a-z]') THEN NULL "  # infinity, epoch, now, today …
            f"ELSE timezone('UTC', timezone({lit(CIVIL_ZONE)}, {naive})) END")


def bool_expr(col: str) -> str:
    """A CASE over the words, not IN: DuckDB plans a long IN list as a join, which does not keep the rows' order."""
    cases = [f"WHEN {lit(w)} THEN TRUE" for w in TRUE_WORDS] + [f"WHEN {lit(w)} THEN FALSE" for w in FALSE_WORDS]
    return f"CASE lower(trim({col})) {' '.join(cases)} END"


def typed_expr(column: Column, col: str) -> str:
    """Expression giving ``column`` typed (NULL when blank or unparseable) from the text expression ``col``."""
    if column.type == "float":
        return number_expr(col)
    if column.type == "int":
        return int_expr(col)
    if column.type == "bool":
        return bool_expr(col)
    if column.type == "date":
        return date_expr(col)
    if column.type == "timestamp":
        return timestamp_expr(col)
    if column.choices:
        return f"CASE WHEN {blank(col)} THEN NULL ELSE lower(trim({col})) END"
    return f"CASE WHEN {blank(col)} THEN NULL ELSE trim({col}) END"


def raw_name(column: Column) -> str:
    return q(f"{column.name}__raw")


def _suspect(column: Column, value: str, window: TimeWindow) -> str:
    """TRUE where the typed ``value`` of a non-blank cell will be reported (so its text must be kept)."""
    conditions = [f"{value} IS NULL"]
    if column.type in ("float", "int"):
        conditions.append(f"NOT isfinite({value})")
        if column.minimum is not None:
            conditions.append(f"{value} < {column.minimum!r}")
        if column.maximum is not None:
            conditions.append(f"{value} > {column.maximum!r}")
    if column.type in ("date", "timestamp"):
        conditions.append(f"{value} < DATE '{window.earliest}' OR {value} >= DATE '{window.latest}'")
    return " OR ".join(f"({c})" for c in conditions)


def typed_columns(schema: Schema, sources: dict[str, str], window: TimeWindow,
                  defaults: dict[str, str] | None = None) -> tuple[str, str]:
    """The projection of the typed table, as (outer, inner) select lists.

    The inner one is over the text expressions ``sources`` (column → SQL; a column without one is NULL): every
    column typed, its text beside it. The outer one is over the inner: ``__raw`` text kept only where it will be
    quoted, ``_empty`` for a record whose cells are all blank (not a data row). ``defaults`` gives a column a value
    for its blank cells (``--settlement``)."""
    inner = []
    outer = []
    for column in schema.columns:
        name = q(column.name)
        text = sources.get(column.name, "CAST(NULL AS VARCHAR)")
        if defaults and column.name in defaults:
            text = f"COALESCE(NULLIF(trim({text}), ''), {lit(defaults[column.name])})"
        inner.append(f"{typed_expr(column, text)} AS {name}")
        if column.type == "text":
            outer.append(name)
            continue
        inner.append(f"{text} AS {raw_name(column)}")
        outer.append(name)
        outer.append(f"CASE WHEN NOT {blank(raw_name(column))} AND ({_suspect(column, name, window)}) "
                     f"THEN {raw_name(column)} END AS {raw_name(column)}")
    empty = " AND ".join(blank(text) for text in sources.values()) or "FALSE"
    inner.append(f"{empty} AS _empty")
    return ", ".join(outer) + ", _empty", ", ".join(inner)


_TYPE_PROBLEM = {
    "float": ("not-a-number", "'%s' is not a number (write e.g. 12.5 or 12,5)"),
    "int": ("not-an-integer", "'%s' is not a whole number (or is too large)"),
    "bool": ("not-a-boolean", "'%s' is not yes/no (write true/false, да/нет or 1/0)"),
    "date": ("not-a-date", "'%s' is not a date (write YYYY-MM-DD or DD.MM.YYYY)"),
    "timestamp": ("not-a-timestamp", "'%s' is not a date and time (write YYYY-MM-DD HH:MM:SS, optionally with an "
                                     "offset such as +05:00)"),
}


def error_queries(schema: Schema, window: TimeWindow, typed: str = "typed") -> Iterator[str]:
    """Queries returning ``(_row, column, code, message)`` for every problem in the typed file."""
    rows = f"FROM {typed} t WHERE NOT t._empty AND"
    for column in schema.columns:
        val, name = f"t.{q(column.name)}", lit(column.name)
        raw = f"t.{raw_name(column)}" if column.type != "text" else val
        shown = sql_mask(raw)
        if column.required:
            empty = f"{val} IS NULL" + (f" AND {raw} IS NULL" if column.type != "text" else "")
            yield (f"SELECT t._row, {name}, 'missing-value', {lit(f'{column.name} is empty; every row needs it')} "
                   f"{rows} {empty}")
        if column.type == "timestamp":
            message = lit("%s has an offset beyond ±14:00; write the offset of the clock, e.g. +05:00")
            yield (f"SELECT t._row, {name}, 'bad-offset', printf({message}, {shown}) "
                   f"{rows} {val} IS NULL AND {raw} IS NOT NULL AND {offset_minutes(f'trim({raw})')} > "
                   f"{MAX_OFFSET_MINUTES}")
        if column.type in _TYPE_PROBLEM:
            code, message = _TYPE_PROBLEM[column.type]
            extra = (f" AND coalesce({offset_minutes(f'trim({raw})')}, 0) <= {MAX_OFFSET_MINUTES}"
                     if column.type == "timestamp" else "")
            yield (f"SELECT t._row, {name}, {lit(code)}, printf({lit(message)}, {shown}) "
                   f"{rows} {val} IS NULL AND {raw} IS NOT NULL{extra}")
        if column.type in ("float", "int"):
            yield (f"SELECT t._row, {name}, 'not-a-number', printf({lit('%s is not a finite number')}, {shown}) "
                   f"{rows} NOT isfinite({val})")
        if column.type in ("date", "timestamp"):
            message = lit(f"%s is outside the plausible window {window.text()} (set CITYSCORE_INGEST_EARLIEST / "
                          "CITYSCORE_INGEST_LATEST to widen it)")
            yield (f"SELECT t._row, {name}, 'implausible-time', printf({message}, {shown}) {rows} "
                   f"({val} < DATE '{window.earliest}' OR {val} >= DATE '{window.latest}')")
        if column.choices:
            allowed = ", ".join(lit(c) for c in column.choices)
            listing = ", ".join(column.choices)
            message = lit(f"%s is not one of: {listing}")
            yield (f"SELECT t._row, {name}, 'not-allowed', printf({message}, {shown}) "
                   f"{rows} {val} IS NOT NULL AND {val} NOT IN ({allowed})")
        if column.minimum is not None:
            code = "negative" if column.minimum == 0 else "too-small"
            yield (f"SELECT t._row, {name}, {lit(code)}, printf({lit(f'%s is below {column.minimum:g}')}, {shown}) "
                   f"{rows} isfinite({val}) AND {val} < {column.minimum!r}")
        if column.maximum is not None:
            yield (f"SELECT t._row, {name}, 'too-large', printf({lit(f'%s is above {column.maximum:g}')}, {shown}) "
                   f"{rows} isfinite({val}) AND {val} > {column.maximum!r}")
    for code, column_name, condition, message in schema.checks:
        yield f"SELECT t._row, {lit(column_name)}, {lit(code)}, {lit(message)} {rows} ({condition})"
    if schema.key is not None:
        key = q(schema.key)
        yield (f"SELECT t._row, {lit(schema.key)}, 'duplicate-id', printf('%s repeats the id of row %d', "
               f"{sql_mask('t.' + key)}, d.first) FROM {typed} t JOIN (SELECT {key}, min(_row) AS first FROM {typed} "
               f"WHERE NOT _empty AND {key} IS NOT NULL GROUP BY {key} HAVING count(*) > 1) d USING ({key}) "
               f"WHERE NOT t._empty AND t._row > d.first")
