"""The invariant of ingestion, over generated files: every data row is stored once or quarantined with its reason,
``accepted + rejected == rows``, nothing of a failed file is stored, and no personal identifier reaches the
warehouse in clear.

Each example is a table of contact-centre calls whose every cell is drawn from good and bad values of its column —
broken numbers, non-finite and huge ones, implausible times and offsets, phone numbers and ИИН in any column, blank
records — written in one of the formats (CSV in every encoding, delimiter and line ending; XLSX with a wrong
dimension tag, other sheets, merged cells, formulas without a cached value; JSON; NDJSON; Parquet). An oracle knows
which rows must be rejected; the test checks the loader agrees row by row.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, Phase, given, settings

from cityscore.errors import CityScoreError
from cityscore.ingest.loader import ingest_file
from cityscore.records.personal import iin_is_valid, mask, personal_kind
from cityscore.settlements import load_registry
from cityscore.standard import Standard, load_standard
from cityscore.store import Warehouse

from .conftest import KEY

COLUMNS = ("call_id", "settlement", "received_at", "answered", "answer_seconds", "abandoned", "caller_phone",
           "channel", "weight")
IINS = [iin for iin in (f"90{m:02d}013{n:04d}{c}" for m in range(1, 13) for n in range(4) for c in range(10))
        if iin_is_valid(iin)][:20]
IIN = IINS[-1]
PHONES = ("+7 701 765 43 21", "8 (705) 111-22-33", "87471234567", "7012345678", "+77771112233")
PHONE_DIGITS = ("7017654321", "7051112233", "7471234567", "7012345678", "7771112233")
TRUE, FALSE = ("true", "да", "1", "Yes", "иә"), ("false", "нет", "0", "no")
# bounded for the suite: a dozen files per format; no shrinking (each example loads a file), the failing file is
# reported as generated
SETTINGS = settings(max_examples=12, deadline=None, phases=(Phase.explicit, Phase.reuse, Phase.generate),
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
STD = load_standard()
HASH = re.compile(r"([a-z]_)?[0-9a-f]{32}([0-9a-f]{32})?")


@dataclass
class Row:
    cells: dict[str, str | None]
    bad: bool
    formula: str | None = None  # a column written as a formula without a cached value (XLSX only)

    @property
    def blank(self) -> bool:
        return all(not (v or "").strip() for v in self.cells.values()) and self.formula is None


@dataclass
class Table:
    rows: list[Row]
    personal: list[str] = field(default_factory=list)  # identifiers written somewhere in the file


def choice(options: list[tuple[str | None, bool]]) -> st.SearchStrategy[tuple[str | None, bool]]:
    """A cell: mostly one of the good values, one time in eight a bad one (so that most rows are good and every
    row's fate hangs on few cells)."""
    good = [o for o in options if not o[1]]
    bad = [o for o in options if o[1]]
    if not good or not bad:
        return st.sampled_from(options)
    return st.integers(0, 7).flatmap(lambda n: st.sampled_from(bad if n == 0 else good))


SETTLEMENTS = [("750000000", False), ("Алматы", False), (" Шымкент ", False), ("Нур-Султан", False),
               ("Атлантида", True), ("", True), (f"Атлантида {PHONES[0]}", True)]
TIMES = [("2026-01-05 10:00:00", False), ("05.01.2026 10:00", False), ("2026-01-05T10:00:00+05:00", False),
         ("2026-03-01 00:30:00Z", False), ("infinity", True), ("2026-13-01 10:00:00", True),
         ("1999-12-31 23:00:00", True), ("2026-01-05 10:00:00+25:00", True), ("", True), ("294247-01-01", True),
         (IIN, True)]
SECONDS = [("12", False), ("12,5", False), ("1 200", False), ("0.25", False), ("NaN", True), ("inf", True),
           ("1e400", True), ("-1", True), ("90000", True), ("двенадцать", True), (PHONES[2], True)]
WEIGHTS = [("", False), ("1", False), ("0,5", False), ("inf", True), ("-1", True), ("1e7", True), ("-nan", True)]
CHANNELS = [("voice", False), ("", False), ("чат", False), ("мессенджер", False), (f"перезвонить {PHONES[1]}", True),
            (IIN, True), ("номер 8 705 111 22 33", True)]
ABANDONED = [("", False), ("нет", False), ("да", False), ("может быть", True)]
PHONE_CELLS = [("", False), *((p, False) for p in PHONES), ("12345", True), ("+1 202 555 0100", True)]


@st.composite
def rows(draw: st.DrawFn) -> Table:
    n = draw(st.integers(1, 14))
    out: list[Row] = []
    personal: list[str] = []
    for i in range(n):
        if draw(st.integers(0, 9)) == 0:
            out.append(Row(dict.fromkeys(COLUMNS, None if draw(st.booleans()) else " "), False))
            continue
        bad = False
        as_iin = draw(st.integers(0, 5)) == 0
        call_id = IINS[i % len(IINS)] if as_iin else f"c{i}"  # an ИИН as the id: pseudonymised, not rejected
        if as_iin:
            personal.append(call_id)
        cells: dict[str, str | None] = {"call_id": call_id}
        for column, options in (("settlement", SETTLEMENTS), ("received_at", TIMES), ("abandoned", ABANDONED),
                                ("caller_phone", PHONE_CELLS), ("channel", CHANNELS), ("weight", WEIGHTS)):
            value, wrong = draw(choice(options))
            cells[column] = value
            bad |= wrong
        answered = draw(st.sampled_from([*TRUE, *FALSE, "может"]))
        cells["answered"] = answered
        if answered in TRUE:
            value, wrong = draw(choice([*SECONDS, ("", True)]))  # answered needs a time
        elif answered in FALSE:
            value, wrong = draw(choice([("", False), ("0", False), ("12", True)]))  # not answered: no time
        else:  # not a boolean: the row is rejected whatever its time
            value, wrong = draw(choice(SECONDS))[0], True
        cells["answer_seconds"] = value
        bad |= wrong
        formula = None
        if draw(st.integers(0, 12)) == 0:
            formula = draw(st.sampled_from(["weight", "channel", "answer_seconds"]))
            bad = True
        for value in cells.values():
            if value and personal_kind(value):
                personal.append(value)
        out.append(Row(cells, bad, formula))
    return Table(out, personal)


# --- writers --------------------------------------------------------------------------------------------------
def write_csv(path: Path, table: Table, delimiter: str, encoding: str, newline: str) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    writer.writerow(COLUMNS)
    for row in table.rows:
        if row.blank and row.cells["call_id"] is None:
            buffer.write(newline)  # a blank line
        else:
            writer.writerow([row.cells[c] or "" for c in COLUMNS])
    text = buffer.getvalue()
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:  # Kazakh letters have no Windows-1251 code
        data = text.encode("utf-8")
    path.write_bytes(data)
    return path


def write_xlsx(path: Path, table: Table, wrong_dimension: bool, other_sheets: bool, merge: bool) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    if other_sheets:
        sheet.title = "Пояснения"
        sheet.append(["Выгрузка колл-центра"])
        sheet.append(["строки ниже", "не данные"])
        sheet = book.create_sheet("Звонки")
    sheet.append(list(COLUMNS))
    for row in table.rows:
        values: list[object] = [row.cells[c] if row.cells[c] not in ("", " ") else None for c in COLUMNS]
        if row.formula:
            values[COLUMNS.index(row.formula)] = "=1+1"  # openpyxl writes no cached value
        sheet.append(values)
    if merge and len(table.rows) >= 2:
        # a merged range gives every cell the top-left value: merge only where the rows agree
        column = COLUMNS.index("call_id") + 1
        for r in range(2, len(table.rows) + 1):
            a, b = table.rows[r - 2], table.rows[r - 1]
            if (a.cells["weight"] == b.cells["weight"] and a.cells["weight"] and not a.formula and not b.formula
                    and not a.blank and not b.blank):
                column = COLUMNS.index("weight") + 1
                sheet.merge_cells(start_row=r, start_column=column, end_row=r + 1, end_column=column)
                break
    if other_sheets:
        book.create_sheet("Итоги").append(["всего", len(table.rows)])
    book.save(path)
    if wrong_dimension:
        _rewrite_dimension(path)
    return path


def _rewrite_dimension(path: Path) -> None:
    """Make every sheet claim to be A1:B2 (what some exporters write)."""
    with zipfile.ZipFile(path) as z:
        items = [(info, z.read(info.filename)) for info in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in items:
            if info.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:B2"/>', data)
            z.writestr(info, data)


def write_json(path: Path, table: Table, wrapped: bool, ndjson: bool) -> Path:
    records = [{c: row.cells[c] for c in COLUMNS} for row in table.rows]
    if ndjson:
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    else:
        path.write_text(json.dumps({"rows": records} if wrapped else records, ensure_ascii=False), "utf-8")
    return path


def write_parquet(path: Path, table: Table) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({c: pa.array([row.cells[c] for row in table.rows], pa.string()) for c in COLUMNS}), path)
    return path


# --- the invariant --------------------------------------------------------------------------------------------
def expected(table: Table, fmt: str) -> tuple[int, set[int]]:
    """(data rows, the numbers of the rows to reject) as the file numbers them."""
    rejected, data = set(), 0
    for i, row in enumerate(table.rows):
        number = i + 2 if fmt in ("csv", "xlsx") else i + 1
        if row.blank:
            continue
        assert row.bad == (_bad_cells(row) or row.formula is not None)  # the oracle agrees with the generator
        bad = _bad_cells(row) or (fmt == "xlsx" and row.formula is not None)  # formulas are written to XLSX only
        data += 1
        if bad:
            rejected.add(number)
    return data, rejected


def _bad_cells(row: Row) -> bool:
    answered = row.cells["answered"]
    seconds = row.cells["answer_seconds"] or ""
    checks = [(row.cells["settlement"], SETTLEMENTS), (row.cells["received_at"], TIMES),
              (row.cells["abandoned"], ABANDONED), (row.cells["caller_phone"], PHONE_CELLS),
              (row.cells["channel"], CHANNELS), (row.cells["weight"], WEIGHTS)]
    if any(dict(options)[value] for value, options in checks):
        return True
    if answered in TRUE:
        return dict([*SECONDS, ("", True)])[seconds]
    if answered in FALSE:
        return seconds not in ("", "0")
    return True


def check_invariant(db: Path, path: Path, fmt: str, table: Table, std: Standard) -> None:
    data, rejected = expected(table, fmt)
    report = ingest_file(db, path, std=std, registry=load_registry(), pseudonymiser=KEY)
    assert report.rows == data, (report.rows, data, report.errors)
    assert report.accepted + report.rejected == report.rows
    assert {e.row for e in report.errors} == rejected, (sorted({e.row for e in report.errors}), sorted(rejected),
                                                        report.errors)
    for error in report.errors:
        assert error.file and error.row and error.code and error.message and error.fix is not None
        assert mask(error.message) == error.message, error.message
    with Warehouse(db, read_only=True) as wh:
        batch = report.batch_id
        assert wh.scalar("SELECT count(*) FROM raw_contact_center_calls WHERE batch_id = ?", [batch]) == \
            report.accepted
        stored = wh.rows("SELECT row_number, code, message, raw, fix FROM quarantine WHERE batch_id = ?", [batch])
        assert {r[0] for r in stored} == rejected
        assert all(r[1] and r[2] and r[4] for r in stored)
        numbered = {(i + 2 if fmt in ("csv", "xlsx") else i + 1): row for i, row in enumerate(table.rows)}
        for number, _, _, raw, _ in stored:  # each rejected row as written, masked, without the phone column
            cells = json.loads(raw)
            row = numbered[number]
            assert "caller_phone" not in cells
            for column in COLUMNS:
                if column == "caller_phone" or (fmt == "xlsx" and column == row.formula):
                    continue
                assert (cells.get(column) or "").strip() == mask((row.cells[column] or "").strip()), (column, cells)
        for table_name, column in wh.rows("SELECT table_name, column_name FROM information_schema.columns "
                                          "WHERE data_type = 'VARCHAR'"):
            for (stored_value,) in wh.rows(f'SELECT DISTINCT "{column}" FROM "{table_name}" '
                                           f'WHERE "{column}" IS NOT NULL'):
                # the audit log's summary is JSON: its values one by one (a file's SHA-256 among them)
                values = (_json_texts(json.loads(stored_value)) if (table_name, column) == ("audit_log", "summary")
                          else [str(stored_value)])
                for value in values:
                    if HASH.fullmatch(value):  # a pseudonym or a file digest may hold ten decimal digits in a row
                        continue
                    assert personal_kind(value) is None, (table_name, column, value)
                    assert mask(value) == value, (table_name, column, value)
    content = db.read_bytes()
    for identifier in [*table.personal, *PHONE_DIGITS, *IINS]:
        digits = re.sub(r"\D", "", identifier)
        for needle in {identifier, digits, digits[-10:]}:
            if len(re.sub(r"\D", "", needle)) >= 10:
                assert needle.encode() not in content, needle
    assert not list(db.parent.glob(".cityscore-staging-*")), "the staging directory was left behind"



def _json_texts(value: object) -> list[str]:
    """Every key and scalar of a JSON value, as text."""
    if isinstance(value, dict):
        return [*map(str, value), *(t for v in value.values() for t in _json_texts(v))]
    if isinstance(value, list):
        return [t for v in value for t in _json_texts(v)]
    return [str(value)]

@SETTINGS
@given(table=rows(), delimiter=st.sampled_from([",", ";", "\t", "|"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1251"]), newline=st.sampled_from(["\n", "\r\n", "\r"]))
def test_csv_invariant(tmp_path_factory: pytest.TempPathFactory, table: Table, delimiter: str,
                       encoding: str, newline: str) -> None:
    work = tmp_path_factory.mktemp("csv")
    path = write_csv(work / "calls.csv", table, delimiter, encoding, newline)
    check_invariant(work / "wh.duckdb", path, "csv", table, STD)


@SETTINGS
@given(table=rows(), wrong_dimension=st.booleans(), other_sheets=st.booleans(), merge=st.booleans())
def test_xlsx_invariant(tmp_path_factory: pytest.TempPathFactory, table: Table, wrong_dimension: bool,
                        other_sheets: bool, merge: bool) -> None:
    work = tmp_path_factory.mktemp("xlsx")
    path = write_xlsx(work / "calls.xlsx", table, wrong_dimension, other_sheets, merge)
    check_invariant(work / "wh.duckdb", path, "xlsx", table, STD)


@SETTINGS
@given(table=rows(), kind=st.sampled_from(["json", "json-rows", "ndjson", "parquet"]))
def test_json_and_parquet_invariant(tmp_path_factory: pytest.TempPathFactory, table: Table,
                                    kind: str) -> None:
    work = tmp_path_factory.mktemp(kind)
    if kind == "parquet":
        path = write_parquet(work / "calls.parquet", table)
    else:
        path = write_json(work / ("calls.ndjson" if kind == "ndjson" else "calls.json"), table,
                          wrapped=kind == "json-rows", ndjson=kind == "ndjson")
    check_invariant(work / "wh.duckdb", path, "json", table, STD)


@SETTINGS
@given(table=rows(), damage=st.sampled_from(["truncate-json", "garbage", "no-settlement-column", "empty"]))
def test_a_failed_file_stores_nothing(tmp_path_factory: pytest.TempPathFactory, table: Table,
                                      damage: str) -> None:
    work = tmp_path_factory.mktemp("failed")
    db = work / "wh.duckdb"
    first = write_csv(work / "first.csv", Table([Row(dict(zip(COLUMNS, (
        "first", "750000000", "2026-01-05 10:00:00", "да", "5", "нет", "", "voice", "1"), strict=True)), False)]),
        ";", "utf-8", "\n")
    ingest_file(db, first, std=STD, registry=load_registry(), pseudonymiser=KEY)
    before = _counts(db)
    if damage == "truncate-json":
        path = write_json(work / "calls.json", table, wrapped=False, ndjson=False)
        path.write_bytes(path.read_bytes()[:-1])
    elif damage == "garbage":
        path = work / "calls.csv"
        path.write_bytes(b"\x00\x01PK\x03\x04" + bytes(range(256)) * 4)
    elif damage == "no-settlement-column":
        path = write_csv(work / "calls.csv", table, ";", "utf-8", "\n")
        lines = path.read_text("utf-8").splitlines()
        path.write_text("\n".join([lines[0].replace("settlement", "место"), *lines[1:]]) + "\n", "utf-8")
    else:
        path = work / "calls.csv"
        path.write_bytes(b"")
    failure: CityScoreError | None = None
    try:
        report = ingest_file(db, path, std=STD, registry=load_registry(), pseudonymiser=KEY,
                             table="contact_center_calls")
    except CityScoreError as exc:  # a file error, with its reason
        failure = exc
    if failure is None:  # or a report without a batch (a required column is missing)
        assert report.batch_id is None and report.accepted == 0 and report.errors
    else:
        assert str(failure)
    assert _counts(db) == before


def test_a_failure_inside_the_commit_rolls_everything_back(std: Standard, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from cityscore.ingest import commit

    db = tmp_path / "wh.duckdb"
    table = Table([Row(dict(zip(COLUMNS, (f"c{i}", "750000000", "2026-01-05 10:00:00", "да", "5", "нет", "",
                                          "voice" if i else IIN, "1"), strict=True)), i == 0) for i in range(5)])
    path = write_csv(tmp_path / "calls.csv", table, ";", "utf-8", "\n")
    ingest_file(db, write_csv(tmp_path / "first.csv", Table(table.rows[1:2]), ";", "utf-8", "\n"), std=std,
                registry=load_registry(), pseudonymiser=KEY)
    before = _counts(db)

    def broken(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(commit, "record_loaded", broken)
    with pytest.raises(OSError, match="disk full"):
        ingest_file(db, path, std=std, registry=load_registry(), pseudonymiser=KEY)
    assert _counts(db) == before


def _counts(db: Path) -> dict[str, int]:
    with Warehouse(db, read_only=True) as wh:
        tables = wh.rows("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
                         "AND table_type = 'BASE TABLE'")
        return {t: int(wh.scalar(f'SELECT count(*) FROM "{t}"') or 0) for (t,) in tables}
