"""Writing the simulated tables: Arrow schemas from the raw-table schemas, buffered Parquet writers, and vectorised
helpers for what every table needs (ids, civil time → UTC instants, valid phone numbers and ИИН).

Files are written deterministically: the same rows give the same bytes (no timestamps in the metadata, fixed
row-group size, zstd compression).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

from ..records import SCHEMAS
from .profiles import Arr

ARROW_TYPES = {"text": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(),
               "date": pa.date32(), "timestamp": pa.timestamp("us", tz="UTC")}
US_PER_SECOND = 1_000_000
US_PER_HOUR = 3600 * US_PER_SECOND
US_PER_DAY = 24 * US_PER_HOUR
SWITCH_LOCAL_US = int((datetime(2024, 3, 1) - datetime(1970, 1, 1)).total_seconds()) * US_PER_SECOND
FLUSH_ROWS = 262_144
MOBILE_CODES = np.array([700, 701, 702, 705, 707, 708, 747, 771, 775, 776, 777, 778], dtype=np.int64)


# the provenance mark in the key/value metadata of every Parquet file the simulator writes: `cityscore ingest` marks
# the batches of such a file simulated (store/provenance.py, decisions.md D-68)
GENERATOR_KEY, GENERATOR = b"cityscore:generator", b"cityscore simulate"


def arrow_schema(table: str) -> Any:
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.type]) for c in SCHEMAS[table].columns],
                     metadata={GENERATOR_KEY: GENERATOR})


class TableWriter:
    """Streams the chunks of one table to ``<out>/<table>.parquet``; the file exists only once a row is written."""

    def __init__(self, out: Path, table: str) -> None:
        self.path = out / f"{table}.parquet"
        self.table = table
        self.schema = arrow_schema(table)
        self.rows = 0
        self._buffer: list[Any] = []
        self._buffered = 0
        self._writer: Any = None

    def write(self, columns: dict[str, Any]) -> int:
        """Add rows given as ``{column: array}`` (a string: the same in every row); a column of the schema left
        out is all null."""
        n = next(len(v) for v in columns.values() if not isinstance(v, str))
        if not n:
            return 0
        arrays = [_as_array(columns.get(f.name), f.type, n) for f in self.schema]
        self._buffer.append(pa.Table.from_arrays(arrays, schema=self.schema))
        self._buffered += n
        self.rows += n
        if self._buffered >= FLUSH_ROWS:
            self._flush()
        return n

    def _flush(self) -> None:
        if not self._buffer:
            return
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, self.schema, compression="zstd")
        self._writer.write_table(pa.concat_tables(self._buffer), row_group_size=FLUSH_ROWS)
        self._buffer, self._buffered = [], 0

    def close(self) -> None:
        self._flush()
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _as_array(values: Any, kind: Any, n: int) -> Any:
    if values is None:
        return pa.nulls(n, kind)
    if isinstance(values, str):
        return pa.repeat(pa.scalar(values, kind), n)
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values.cast(kind) if values.type != kind else values
    if isinstance(values, np.ndarray):
        if pa.types.is_timestamp(kind):
            return pa.array(values.astype(np.int64), pa.int64()).cast(kind)
        if pa.types.is_date32(kind):
            return pa.array(values.astype(np.int32), pa.int32()).cast(kind)
        if values.dtype.kind == "f" and not pa.types.is_floating(kind):
            return pa.array(values, from_pandas=True).cast(kind)
        return pa.array(values, kind, from_pandas=True)
    return pa.array(values, kind)


def masked_timestamps(values: Arr, valid: Arr) -> Any:
    """Timestamps (µs) with nulls where ``valid`` is false."""
    return pa.array(values.astype(np.int64), pa.int64(), mask=~valid.astype(bool)).cast(ARROW_TYPES["timestamp"])


def masked(values: Arr, valid: Arr, kind: str) -> Any:
    return pa.array(values, ARROW_TYPES[kind], mask=~valid.astype(bool))


def masked_strings(values: Any, valid: Arr) -> Any:
    """A string array with nulls where ``valid`` is false."""
    return pc.if_else(pa.array(valid.astype(bool)), values, pa.scalar(None, pa.string()))


# --- time -----------------------------------------------------------------------------------------------------
def local_us(year: int, month: int = 1, day: int = 1) -> int:
    """Civil midnight of a date as microseconds of a naive clock (the epoch of civil time)."""
    return int((datetime(year, month, day) - datetime(1970, 1, 1)).total_seconds()) * US_PER_SECOND


def to_utc(civil: Arr) -> Arr:
    """Civil time of Kazakhstan (Asia/Almaty: UTC+6 before 1 March 2024, UTC+5 from then) → UTC instants (µs)."""
    civil = civil.astype(np.int64)
    return civil - np.where(civil < SWITCH_LOCAL_US, 6 * US_PER_HOUR, 5 * US_PER_HOUR)


def month_starts(year: int) -> Arr:
    """Civil midnight of the 1st of each month (µs), and of 1 January of the next year: 13 values."""
    return np.array([local_us(year, m) for m in range(1, 13)] + [local_us(year + 1)], dtype=np.int64)


def civil_times(rng: np.random.Generator, year: int, month: Arr, hourly: Arr) -> Arr:
    """Random civil instants (µs), one in each of the given months (0 … 11): uniform day, hour by ``hourly``,
    uniform within the hour."""
    starts = month_starts(year)
    n = len(month)
    days = (starts[month + 1] - starts[month]) // US_PER_DAY
    day = (rng.random(n) * days).astype(np.int64)
    hour = rng.choice(24, n, p=hourly)
    second = (rng.random(n) * 3600.0 * US_PER_SECOND).astype(np.int64)
    instants: Arr = (starts[month] + day * US_PER_DAY + hour * US_PER_HOUR + second).astype(np.int64)
    return instants


def epoch_days(year: int, month: int, day: Arr) -> Arr:
    """date32 values (days since 1970-01-01) of days ``day`` (0-based) of a month."""
    return (local_us(year, month) // US_PER_DAY + day).astype(np.int32)


# --- identifiers ----------------------------------------------------------------------------------------------
def ids(prefix: str, start: int, n: int) -> Any:
    """``prefix`` + a zero-padded running number: unique within the table when prefixes are."""
    numbers = pc.cast(pa.array(np.arange(start, start + n, dtype=np.int64)), pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(numbers, 8, "0"), "")


def labels(prefix: str, numbers: Arr, width: int) -> Any:
    """``prefix`` + zero-padded numbers (route and stop ids)."""
    text = pc.utf8_lpad(pc.cast(pa.array(numbers.astype(np.int64)), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, text, "")


def phones(rng: np.random.Generator, n: int, pool: int, base: int) -> Any:
    """Kazakh mobile numbers (+7 7xx …) of ``pool`` callers of one settlement, repeated as callers call again;
    about 5 % hidden (null)."""
    who = rng.integers(0, max(pool, 1), n) + base
    code = MOBILE_CODES[who % len(MOBILE_CODES)]
    number = 70_000_000_000 + code * 10_000_000 + (who * 7_919) % 10_000_000
    digits = pc.cast(pa.array(number.astype(np.int64)), pa.string())
    return masked_strings(pc.binary_join_element_wise("+", digits, ""), rng.random(n) >= 0.05)


IIN_WEIGHTS_1 = np.arange(1, 12, dtype=np.int64)
IIN_WEIGHTS_2 = np.array([3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2], dtype=np.int64)


def iins(rng: np.random.Generator, n: int) -> Any:
    """Valid ИИН (12 digits: birth date YYMMDD, century-and-sex digit, serial, control digit) of adults."""
    year = rng.integers(1945, 2008, n)
    month = rng.integers(1, 13, n)
    day = rng.integers(1, 29, n)
    century = np.where(year < 2000, 3, 5) + rng.integers(0, 2, n)
    serial = rng.integers(0, 10_000, n)
    digits = np.zeros((n, 12), dtype=np.int64)
    for i, (value, width) in enumerate(((year % 100, 2), (month, 2), (day, 2))):
        for j in range(width):
            digits[:, 2 * i + j] = value // 10 ** (width - 1 - j) % 10
    digits[:, 6] = century
    for _ in range(20):
        for j in range(4):
            digits[:, 7 + j] = serial // 10 ** (3 - j) % 10
        check = digits[:, :11] @ IIN_WEIGHTS_1 % 11
        second = digits[:, :11] @ IIN_WEIGHTS_2 % 11
        check = np.where(check == 10, second, check)
        bad = check == 10
        digits[:, 11] = np.where(bad, 0, check)
        if not bad.any():
            break
        serial = np.where(bad, (serial + 1) % 10_000, serial)
    number = digits @ (10 ** np.arange(11, -1, -1, dtype=np.int64))
    return pc.utf8_lpad(pc.cast(pa.array(number), pa.string()), 12, "0")
