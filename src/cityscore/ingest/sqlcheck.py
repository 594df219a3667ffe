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
from ..records.personal import sql_holds_identifier, sql_mask

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
    """SQL: whether the cell ``col`` (trimmed text) is blank."""
    return f"({col} IS NULL OR {col} = '')"


# The typing functions below take the cell's text trimmed already (:func:`typed_select` trims each cell once).
def number_expr(col: str) -> str:
    """A DOUBLE (perhaps non-finite: the checks reject those), or NULL. Plain numbers take the fast cast, decimal
    commas a replace; only the others (spaces between thousands, both separators) go through the slower cleaning."""
    cleaned = f"regexp_replace({col}, '[\\s\\x{{a0}}\\x{{202f}}'']', '', 'g')"
    slow = (f"TRY_CAST(CASE WHEN contains({cleaned}, '.') AND contains({cleaned}, ',') "
            f"THEN replace({cleaned}, ',', '') ELSE replace({cleaned}, ',', '.') END AS DOUBLE)")
    return f"COALESCE(TRY_CAST({col} AS DOUBLE), TRY_CAST(replace({col}, ',', '.') AS DOUBLE), {slow})"


def int_from_number(value: str) -> str:
    """A BIGINT from the DOUBLE ``value`` when it is whole (TRY_CAST gives NULL for NaN, inf and numbers beyond
    BIGINT)."""
    return f"CASE WHEN {value} = floor({value}) THEN TRY_CAST({value} AS BIGINT) END"


def date_expr(col: str) -> str:
    return (f"COALESCE(TRY_CAST(TRY_CAST({col} AS TIMESTAMP) AS DATE), "
            f"TRY_CAST(try_strptime({col}, '%d.%m.%Y') AS DATE))")


def offset_minutes(text: str) -> str:
    """Minutes of the UTC offset written at the end of ``text`` (0 for Z), or NULL when there is none."""
    sign = f"regexp_extract({text}, '([+-])[0-9]{{2}}(:?[0-9]{{2}})?$', 1)"
    hours = f"TRY_CAST(regexp_extract({text}, '[+-]([0-9]{{2}})(:?([0-9]{{2}}))?$', 1) AS INTEGER)"
    minutes = f"COALESCE(TRY_CAST(regexp_extract({text}, '[+-][0-9]{{2}}:?([0-9]{{2}})$', 1) AS INTEGER), 0)"
    return f"(CASE WHEN {text} LIKE '%Z' THEN 0 WHEN {sign} <> '' THEN {hours} * 60 + {minutes} END)"


# Kazakhstan civil time (Asia/Almaty) has had a fixed offset since DST ended on 31 October 2004: UTC+6, then UTC+5
# from 1 March 2024 00:00 (the clocks went back to 29 February 23:00; the repeated hour is read as UTC+5, as ICU
# does). Those spans are converted by arithmetic; everything else goes through ICU's time zone data. A test checks
# both agree for every hour of the plausible window.
CIVIL_SPANS = (("2024-02-29 23:00:00", None, 5), ("2004-11-01 00:00:00", "2024-02-29 23:00:00", 6))


def civil_to_utc(naive: str) -> str:
    """SQL: the naive timestamp ``naive`` read as Kazakhstan civil time, as a UTC instant (naive)."""
    cases = []
    for start, end, hours in CIVIL_SPANS:
        condition = f"{naive} >= TIMESTAMP '{start}'" + (f" AND {naive} < TIMESTAMP '{end}'" if end else "")
        cases.append(f"WHEN {condition} THEN {naive} - INTERVAL {hours} HOUR")
    return f"CASE {' '.join(cases)} ELSE timezone('UTC', timezone({lit(CIVIL_ZONE)}, {naive})) END"


def has_offset(text: str) -> str:
    """SQL: whether the trimmed text ``text`` ends with a UTC offset (``Z``, ``±HH``, ``±HHMM``, ``±HH:MM``). A
    cheap look at the last characters first; the regular expression only where one may be."""
    tail = f"right({text}, 6)"
    return (f"(CASE WHEN length({text}) > 10 AND (ends_with({text}, 'Z') OR contains({tail}, '+') OR "
            f"contains({tail}, '-')) THEN regexp_matches({text}, '{OFFSET_RE}') ELSE FALSE END)")


def timestamp_expr(col: str) -> str:
    """UTC instant: offset given → converted (NULL beyond ±14:00); none → Kazakhstan civil time → UTC. A text not
    starting with a digit is no timestamp (``infinity``, ``epoch``, ``now`` …)."""
    text = col
    naive = (f"COALESCE(TRY_CAST({text} AS TIMESTAMP), try_strptime({text}, '%d.%m.%Y %H:%M:%S'), "
             f"try_strptime({text}, '%d.%m.%Y %H:%M'), try_strptime({text}, '%d.%m.%Y'))")
    return (f"CASE WHEN NOT (left({text}, 1) BETWEEN '0' AND '9') THEN NULL "
            f"WHEN {has_offset(text)} "
            f"THEN CASE WHEN {offset_minutes(text)} <= {MAX_OFFSET_MINUTES} "
            f"THEN TRY_CAST({text} AS TIMESTAMPTZ) AT TIME ZONE 'UTC' END "
            f"ELSE {civil_to_utc(naive)} END")


def bool_expr(col: str) -> str:
    """A CASE over the words, not IN: DuckDB plans a long IN list as a join, which does not keep the rows' order."""
    cases = [f"WHEN {lit(w)} THEN TRUE" for w in TRUE_WORDS] + [f"WHEN {lit(w)} THEN FALSE" for w in FALSE_WORDS]
    return f"CASE lower({col}) {' '.join(cases)} END"


def typed_expr(column: Column, col: str) -> str:
    """Expression giving ``column`` typed (NULL when blank or unparseable) from the text expression ``col``."""
    if column.type == "float":
        return number_expr(col)
    if column.type == "int":
        return number_expr(col)  # made whole by int_from_number, a level up
    if column.type == "bool":
        return bool_expr(col)
    if column.type == "date":
        return date_expr(col)
    if column.type == "timestamp":
        return timestamp_expr(col)
    if column.choices:
        return f"lower(NULLIF({col}, ''))"
    return f"NULLIF({col}, '')"


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


NUMERIC_TYPES = ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
                 "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")


def native_expr(column: Column, col: str, dtype: str) -> str | None:
    """The typed value of ``column`` from a cell that is already a value of the DuckDB type ``dtype`` (a Parquet
    column), converted as its text would be; None when the type does not fit (the cell is then read as text)."""
    dtype = dtype.upper()
    if column.type in ("float", "int") and dtype.split("(")[0] in NUMERIC_TYPES:
        return f"CAST({col} AS DOUBLE)"
    if column.type == "bool" and dtype == "BOOLEAN":
        return col
    if column.type == "date" and dtype == "DATE":
        return col
    if column.type == "timestamp" and dtype in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        return f"({col} AT TIME ZONE 'UTC')"
    if column.type == "timestamp" and dtype in ("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS",
                                                "DATETIME"):
        return civil_to_utc(f"CAST({col} AS TIMESTAMP)")  # no offset: Kazakhstan civil time, as in text
    return None


def typed_select(schema: Schema, sources: dict[str, str], window: TimeWindow, source: str, *,
                 defaults: dict[str, str] | None = None, key: bytes | None = None, row: str | None = None,
                 natives: dict[str, tuple[str, str]] | None = None) -> str:
    """The query typing a whole file: a pure projection (nested levels, each evaluating an expression once) over
    ``source`` (a relation aliased ``s``), so that DuckDB keeps the rows in order.

    ``sources`` gives each column the SQL of its text (a column without one is NULL); ``row`` the SQL of the row
    number ``_row``, when the source has one. Every cell is trimmed once, then typed; its text is kept
    (``<column>__raw``) only where it will be quoted; ``_empty`` marks a record whose cells are all blank (not a data
    row). ``defaults`` gives a column a value for its blank cells (``--settlement``). With ``key``, personal
    identifiers never leave the query in clear: a designated column (``pseudonymise``) becomes its pseudonym, with
    ``<column>__invalid`` (the value partly masked) where it is not a valid phone number or ИИН; an id column
    (``if_personal = pseudonymise``) holding one becomes a pseudonym too. ``natives`` gives columns whose cells are
    values already (column → (SQL, DuckDB type): a Parquet file's typed columns); those that fit the column's type
    are converted without going through text (:func:`native_expr`), the others are read from ``sources``."""
    from .pseudonym import sql_normal, sql_partial_mask, sql_token, sql_valid

    trimmed, typed, middle, outer, given = [], [], [], [], []

    def place(column: Column, value: str) -> None:
        """The typed value of ``column``; an integer is made whole a level up (its number is used twice)."""
        if column.type == "int":
            number = q(column.name + "__number")
            typed.append(f"{value} AS {number}")
            middle.append(f"{int_from_number(number)} AS {q(column.name)}")
        else:
            typed.append(f"{value} AS {q(column.name)}")

    if row is not None:
        trimmed.append(f"{row} AS _row")
        outer.append("_row")
    for column in schema.columns:
        name = q(column.name)
        cell = q(column.name + "__t")  # the trimmed text
        native = natives.get(column.name) if natives else None
        converted = native_expr(column, cell, native[1]) if native else None
        if native and converted and not (defaults and column.name in defaults):
            trimmed.append(f"{native[0]} AS {cell}")  # the value itself
            given.append(f"{cell} IS NULL")
            place(column, converted)
            outer.append(name)
            outer.append(f"CASE WHEN {cell} IS NOT NULL AND ({_suspect(column, name, window)}) "
                         f"THEN CAST({cell} AS VARCHAR) END AS {raw_name(column)}")
            continue
        if column.name in sources:
            text = f"trim({sources[column.name]})"
            if defaults and column.name in defaults:  # the cell as given tells a blank record, not the default
                trimmed.append(f"{text} AS {q(column.name + '__given')}")
                given.append(blank(q(column.name + "__given")))
                text = f"COALESCE(NULLIF({text}, ''), {lit(defaults[column.name])})"
            else:
                given.append(blank(cell))
        else:
            text = (lit(defaults[column.name]) if defaults and column.name in defaults
                    else "CAST(NULL AS VARCHAR)")
        trimmed.append(f"{text} AS {cell}")
        if column.pseudonymise and key is not None:
            kind, digits, normal = column.pseudonymise, q(column.name + "__digits"), q(column.name + "__normal")
            typed.append(f"regexp_replace({cell}, '[^0-9]', '', 'g') AS {digits}")
            middle.append(f"{sql_normal(kind, digits, digits_given=True)} AS {normal}")
            valid = sql_valid(kind, normal)
            token = sql_token(kind, f"CASE WHEN {valid} THEN {normal} ELSE {cell} END", key)
            outer.append(f"CASE WHEN {blank(cell)} THEN NULL ELSE {token} END AS {name}")
            # an invalid value is shown partly masked, unless it is another identifier (an ИИН in a phone column)
            shown = f"CASE WHEN {sql_mask(cell)} <> {cell} THEN {sql_mask(cell)} ELSE {sql_partial_mask(cell)} END"
            outer.append(f"CASE WHEN NOT {blank(cell)} AND NOT {valid} THEN {shown} END "
                         f"AS {q(column.name + '__invalid')}")
            continue
        place(column, typed_expr(column, cell))
        if column.type == "text":
            if column.if_personal == "pseudonymise" and key is not None:
                outer.append(f"CASE WHEN {sql_holds_identifier(name)} THEN {sql_token('cell', name, key)} "
                             f"ELSE {name} END AS {name}")
            else:
                outer.append(name)
            continue
        outer.append(name)
        outer.append(f"CASE WHEN NOT {blank(cell)} AND ({_suspect(column, name, window)}) "
                     f"THEN {cell} END AS {raw_name(column)}")
    outer.append(f"{' AND '.join(given) or 'FALSE'} AS _empty")
    return (f"SELECT {', '.join(outer)} FROM (SELECT *{''.join(', ' + m for m in middle)} FROM "
            f"(SELECT *, {', '.join(typed)} FROM (SELECT {', '.join(trimmed)} FROM {source} s)))")


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
