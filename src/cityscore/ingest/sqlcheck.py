"""SQL that types and checks a whole staged file at once (DuckDB).

The staging table holds every cell as text. :func:`typed_select` parses each column to its type — numbers with
decimal commas and spaces between thousands, dates as ``YYYY-MM-DD`` or ``DD.MM.YYYY``, timestamps with an offset
(converted to UTC) or without one (read as Kazakhstan civil time and converted to UTC) —, and :func:`error_queries`
yields one query per kind of problem, each returning ``(row, column, code, message)``.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..records import Column, Schema

TRUE_WORDS = ("true", "t", "yes", "y", "1", "да", "д", "иә", "ия")
FALSE_WORDS = ("false", "f", "no", "n", "0", "нет", "н", "жоқ")
CIVIL_ZONE = "Asia/Almaty"


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def blank(col: str) -> str:
    return f"({col} IS NULL OR trim({col}) = '')"


def number_expr(col: str) -> str:
    cleaned = f"regexp_replace(trim({col}), '[\\s\\x{{a0}}\\x{{202f}}'']', '', 'g')"
    return (f"TRY_CAST(CASE WHEN contains({cleaned}, '.') AND contains({cleaned}, ',') "
            f"THEN replace({cleaned}, ',', '') ELSE replace({cleaned}, ',', '.') END AS DOUBLE)")


def date_expr(col: str) -> str:
    return (f"COALESCE(TRY_CAST(TRY_CAST(trim({col}) AS TIMESTAMP) AS DATE), "
            f"TRY_CAST(try_strptime(trim({col}), '%d.%m.%Y') AS DATE))")


def timestamp_expr(col: str) -> str:
    """UTC instant: offset given → converted; none → Kazakhstan civil time → UTC."""
    text = f"trim({col})"
    naive = (f"COALESCE(TRY_CAST({text} AS TIMESTAMP), try_strptime({text}, '%d.%m.%Y %H:%M:%S'), "
             f"try_strptime({text}, '%d.%m.%Y %H:%M'), try_strptime({text}, '%d.%m.%Y'))")
    return (f"CASE WHEN regexp_matches({text}, '(Z|[+-][0-9]{{2}}(:?[0-9]{{2}})?)$') AND length({text}) > 10 "
            f"THEN TRY_CAST({text} AS TIMESTAMPTZ) AT TIME ZONE 'UTC' "
            f"ELSE timezone('UTC', timezone({lit(CIVIL_ZONE)}, {naive})) END")


def bool_expr(col: str) -> str:
    words = f"lower(trim({col}))"
    return (f"CASE WHEN {words} IN ({', '.join(lit(w) for w in TRUE_WORDS)}) THEN TRUE "
            f"WHEN {words} IN ({', '.join(lit(w) for w in FALSE_WORDS)}) THEN FALSE END")


def typed_expr(column: Column, source: str) -> str:
    """Expression giving ``column`` typed (NULL when blank or unparseable)."""
    col = f"{source}.{q(column.name)}"
    if column.type == "float":
        return number_expr(col)
    if column.type == "int":
        return f"CAST(CASE WHEN {number_expr(col)} = floor({number_expr(col)}) THEN {number_expr(col)} END AS BIGINT)"
    if column.type == "bool":
        return bool_expr(col)
    if column.type == "date":
        return date_expr(col)
    if column.type == "timestamp":
        return timestamp_expr(col)
    if column.choices:
        return f"CASE WHEN {blank(col)} THEN NULL ELSE lower(trim({col})) END"
    return f"CASE WHEN {blank(col)} THEN NULL ELSE trim({col}) END"


def typed_select(schema: Schema, staging: str = "stg") -> str:
    columns = ", ".join(f"{typed_expr(c, 's')} AS {q(c.name)}" for c in schema.columns)
    return f"SELECT s._row, {columns} FROM {staging} s"


_TYPE_PROBLEM = {
    "float": ("not-a-number", "'%s' is not a number (write e.g. 12.5 or 12,5)"),
    "int": ("not-an-integer", "'%s' is not a whole number"),
    "bool": ("not-a-boolean", "'%s' is not yes/no (write true/false, да/нет or 1/0)"),
    "date": ("not-a-date", "'%s' is not a date (write YYYY-MM-DD or DD.MM.YYYY)"),
    "timestamp": ("not-a-timestamp", "'%s' is not a date and time (write YYYY-MM-DD HH:MM:SS, optionally with an "
                                     "offset such as +05:00)"),
}


def error_queries(schema: Schema, staging: str = "stg", typed: str = "typed") -> Iterator[str]:
    """Queries returning ``(_row, column, code, message)`` for every problem in the staged file."""
    join = f"FROM {staging} s JOIN {typed} t USING (_row)"
    for column in schema.columns:
        raw, val, name = f"s.{q(column.name)}", f"t.{q(column.name)}", lit(column.name)
        if column.required:
            yield (f"SELECT s._row, {name}, 'missing-value', {lit(f'{column.name} is empty; every row needs it')} "
                   f"FROM {staging} s WHERE {blank(raw)}")
        if column.type in _TYPE_PROBLEM:
            code, message = _TYPE_PROBLEM[column.type]
            yield (f"SELECT s._row, {name}, {lit(code)}, printf({lit(message)}, {raw}) {join} "
                   f"WHERE NOT {blank(raw)} AND {val} IS NULL")
        if column.choices:
            allowed = ", ".join(lit(c) for c in column.choices)
            listing = ", ".join(column.choices)
            message = lit(f"%s is not one of: {listing}")
            yield (f"SELECT s._row, {name}, 'not-allowed', printf({message}, {raw}) {join} "
                   f"WHERE {val} IS NOT NULL AND {val} NOT IN ({allowed})")
        if column.minimum is not None:
            code = "negative" if column.minimum == 0 else "too-small"
            yield (f"SELECT s._row, {name}, {lit(code)}, printf({lit(f'%s is below {column.minimum:g}')}, {raw}) "
                   f"{join} WHERE {val} < {column.minimum}")
        if column.maximum is not None:
            yield (f"SELECT s._row, {name}, 'too-large', printf({lit(f'%s is above {column.maximum:g}')}, {raw}) "
                   f"{join} WHERE {val} > {column.maximum}")
    for code, column_name, condition, message in schema.checks:
        yield f"SELECT t._row, {lit(column_name)}, {lit(code)}, {lit(message)} FROM {typed} t WHERE {condition}"
    if schema.key is not None:
        key = q(schema.key)
        yield (f"SELECT _row, {lit(schema.key)}, 'duplicate-id', printf('%s repeats the id of row %d', {key}, first) "
               f"FROM (SELECT _row, {key}, min(_row) OVER (PARTITION BY {key}) AS first FROM {typed} "
               f"WHERE {key} IS NOT NULL) WHERE _row > first")
        message = lit("%s is already in the warehouse (batch %d)")
        yield (f"SELECT t._row, {lit(schema.key)}, 'already-stored', printf({message}, t.{key}, r.batch_id) "
               f"FROM {typed} t JOIN raw_{schema.table} r ON r.{key} = t.{key}")
