"""The non-CSV readers: XLSX, JSON, NDJSON, Parquet read completely and streamed; each problem a row or file error."""

from __future__ import annotations

import datetime as dt
import json
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cityscore.ingest.loader import ingest_file
from cityscore.ingest.observations import read_observations
from cityscore.ingest.pseudonym import Pseudonymiser
from cityscore.ingest.reading import Source, open_source
from cityscore.ingest.tabular import InputFileError
from cityscore.settlements import load_registry
from cityscore.standard import Standard
from cityscore.store import Warehouse

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = 'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"'
TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def raw_xlsx(path: Path, sheets: list[tuple[str, str]]) -> Path:
    """A workbook written as raw XML, as a program that does not use a spreadsheet library would write it."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", f'<Types xmlns="{TYPES}"><Default Extension="xml" ContentType='
                   f'"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="{MAIN}.sheet.main+xml"/>'
                   + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{MAIN}.worksheet+xml"/>'
                             for i in range(1, len(sheets) + 1)) + "</Types>")
        z.writestr("_rels/.rels", f'<Relationships {PKG}><Relationship Id="rId1" Type="{REL}/officeDocument" '
                   'Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<workbook {NS} xmlns:r="{REL}"><sheets>' + "".join(
            f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>' for i, (name, _) in enumerate(sheets, 1))
            + "</sheets></workbook>")
        z.writestr("xl/_rels/workbook.xml.rels", f"<Relationships {PKG}>" + "".join(
            f'<Relationship Id="rId{i}" Type="{REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(sheets) + 1)) + "</Relationships>")
        for i, (_, body) in enumerate(sheets, 1):
            z.writestr(f"xl/worksheets/sheet{i}.xml", f"<worksheet {NS}>{body}</worksheet>")
    return path


def row(number: int, *cells: object) -> str:
    out = []
    for column, value in zip("ABCDEFGH", cells, strict=False):
        if isinstance(value, str):
            out.append(f'<c r="{column}{number}" t="inlineStr"><is><t>{value}</t></is></c>')
        elif value is not None:
            out.append(f'<c r="{column}{number}"><v>{value}</v></c>')
    return f'<row r="{number}">' + "".join(out) + "</row>"


HEADER = ("settlement", "date", "type", "count")


def everything(src: Source) -> tuple[list[tuple[int, list[str | None]]], dict[int, tuple[str, str]]]:
    rows: list[tuple[int, list[str | None]]] = []
    problems: dict[int, tuple[str, str]] = {}
    for batch in src.batches:
        rows += batch.rows
        problems.update(batch.problems)
    assert set(problems) <= {n for n, _ in rows}  # a rejected row is always yielded too
    return rows, problems


def peak_mib(path: Path) -> float:
    """The peak of Python memory while opening and reading ``path`` in batches of 1000 rows."""
    tracemalloc.start()
    try:
        for _ in open_source(path, batch_rows=1000).batches:
            pass
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


# --- XLSX -----------------------------------------------------------------------------------------------------
def test_xlsx_reads_every_row_whatever_the_dimension_tag(tmp_path: Path) -> None:
    body = ('<dimension ref="A1:H2"/><sheetData>' + row(1, *HEADER)
            + "".join(row(n, "710000000", f"2026-01-0{n}", "fire", n) for n in range(2, 6)) + "</sheetData>")
    rows, problems = everything(open_source(raw_xlsx(tmp_path / "dim.xlsx", [("Data", body)])))
    assert [n for n, _ in rows] == [2, 3, 4, 5] and problems == {}
    assert rows[-1] == (5, ["710000000", "2026-01-05", "fire", "5"])


def test_xlsx_row_numbers_are_the_sheets_also_when_rows_are_skipped(tmp_path: Path) -> None:
    body = ('<dimension ref="A2:D9"/><sheetData>' + row(2, *HEADER) + row(4, "710000000", "2026-01-01", "fire", 1)
            + '<row r="7"><c r="A7" s="0"/></row>' + row(9, "750000000", None, "flood", 2)
            + '<row><c t="inlineStr"><is><t>790000000</t></is></c><c/><c t="inlineStr"><is><t>fire</t></is></c>'
              "<c><v>3</v></c></row></sheetData>")
    src = open_source(raw_xlsx(tmp_path / "sparse.xlsx", [("Data", body)]))
    rows, _ = everything(src)
    assert src.header == list(HEADER) and "header in row 2" in src.notes[0]
    assert rows == [(4, ["710000000", "2026-01-01", "fire", "1"]), (9, ["750000000", None, "flood", "2"]),
                    (10, ["790000000", None, "fire", "3"])]


def test_xlsx_data_sheet_is_chosen_by_its_header_and_the_others_named(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "Справка"
    notes.append(["Как заполнять файл"])
    notes.append(["Одна строка — один день"])
    numbers = book.create_sheet("Итоги")
    numbers.append([2026, 15])
    data = book.create_sheet("Данные")
    data.append(list(HEADER))
    data.append(["710000000", "2026-01-01", "fire", 3])
    book.create_sheet("Пусто")
    book.save(tmp_path / "book.xlsx")
    src = open_source(tmp_path / "book.xlsx")
    assert src.header == list(HEADER) and src.notes[0] == "sheet 'Данные'"
    assert [n.split(":")[0] for n in src.notes[1:]] == ["sheet 'Справка' skipped", "sheet 'Итоги' skipped",
                                                        "sheet 'Пусто' skipped"]
    assert "names more known columns" in src.notes[1] and "numbers" in src.notes[2] and "empty" in src.notes[3]
    assert everything(src)[0] == [(2, ["710000000", "2026-01-01", "fire", "3"])]


def test_xlsx_without_a_header_sheet_is_a_file_error(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append([1, 2, 3])
    book.create_sheet("Пусто")
    book.save(tmp_path / "numbers.xlsx")
    with pytest.raises(InputFileError, match="no sheet of the workbook starts with a row of column names"):
        open_source(tmp_path / "numbers.xlsx")


def test_xlsx_formula_without_cached_value_rejects_the_row_precisely(tmp_path: Path) -> None:
    body = ("<sheetData>" + row(1, *HEADER)
            + '<row r="2"><c r="A2" t="inlineStr"><is><t>710000000</t></is></c><c r="C2" t="str"><f>"fi"&amp;"re"'
              '</f><v>fire</v></c><c r="D2"><f>B2*2</f><v>6</v></c></row>'
            + '<row r="5"><c r="A5" t="inlineStr"><is><t>710000000</t></is></c>'
              '<c r="D5"><f t="shared" ref="D5:D6" si="0">B5*2</f></c></row>'
            + '<row r="6"><c r="A6" t="inlineStr"><is><t>750000000</t></is></c><c r="D6"><f t="shared" si="0"/>'
              "<v></v></c></row></sheetData>")
    rows, problems = everything(open_source(raw_xlsx(tmp_path / "formulas.xlsx", [("Отчёт", body)])))
    assert rows[0] == (2, ["710000000", None, "fire", "6"]) and 2 not in problems  # cached values are used
    assert [n for n, _ in rows] == [2, 5, 6]
    code, message = problems[5]
    assert code == "formula-without-value"
    assert "sheet 'Отчёт'" in message and "cell D5" in message and "=B5*2" in message
    assert "open the file in Excel or LibreOffice and save it, or paste values" in message
    assert problems[6][0] == "formula-without-value" and "cell D6" in problems[6][1] and "=B6*2" in problems[6][1]


def test_xlsx_error_cells_reject_the_row(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(HEADER))
    sheet.append(["710000000", "2026-01-01", "fire", "#DIV/0!"])
    sheet.append(["710000000", "2026-01-02", "fire", 4])
    sheet.append(["710000000", "#N/A", "fire", "#REF!"])
    book.save(tmp_path / "errors.xlsx")
    rows, problems = everything(open_source(tmp_path / "errors.xlsx"))
    assert [n for n, _ in rows] == [2, 3, 4] and set(problems) == {2, 4}
    assert problems[2][0] == "cell-error" and "cell D2" in problems[2][1] and "#DIV/0!" in problems[2][1]
    assert "#N/A" in problems[4][1] and "#REF!" in problems[4][1]


def test_xlsx_merged_cells_give_every_cell_the_top_left_value(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(HEADER))
    for day in range(1, 5):
        sheet.append(["Алматы" if day == 1 else None, f"2026-01-0{day}", "fire", day])
    sheet.append([None, None, None, None])
    sheet.merge_cells("A2:A6")  # over the four data rows and an empty one
    sheet.merge_cells("C8:D8")
    sheet["A8"], sheet["B8"], sheet["C8"] = "Астана", "2026-01-09", "flood"
    book.save(tmp_path / "merged.xlsx")
    src = open_source(tmp_path / "merged.xlsx")
    rows, problems = everything(src)
    assert rows == [(2, ["Алматы", "2026-01-01", "fire", "1"]), (3, ["Алматы", "2026-01-02", "fire", "2"]),
                    (4, ["Алматы", "2026-01-03", "fire", "3"]), (5, ["Алматы", "2026-01-04", "fire", "4"]),
                    (8, ["Астана", "2026-01-09", "flood", "flood"])]
    merged = next(n for n in src.notes if n.startswith("merged cells"))
    assert problems == {} and "A2:A6" in merged and "C8:D8" in merged and "top-left value" in merged


def test_xlsx_dates_times_and_booleans_become_iso_text(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["settlement", "day", "at", "time", "ok", "n"])
    sheet.append(["710000000", dt.date(2026, 1, 5), dt.datetime(2026, 1, 5, 10, 30), dt.time(7, 15), True, 2.0])
    book.save(tmp_path / "dates.xlsx")
    rows, _ = everything(open_source(tmp_path / "dates.xlsx"))
    assert rows == [(2, ["710000000", "2026-01-05 00:00:00", "2026-01-05 10:30:00", "07:15:00", "true", "2"])]


def test_xlsx_that_is_not_a_workbook_or_is_damaged_is_a_file_error(tmp_path: Path) -> None:
    (tmp_path / "old.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    with pytest.raises(InputFileError, match=r"\.xls\) or a password-protected"):
        open_source(tmp_path / "old.xlsx")
    with zipfile.ZipFile(tmp_path / "doc.xlsx", "w") as z:
        z.writestr("word/document.xml", "<document/>")
    with pytest.raises(InputFileError, match="not an Excel workbook"):
        open_source(tmp_path / "doc.xlsx")
    rows = "".join(row(n, "710000000", "2026-01-01", "fire", n) for n in range(2, 30_000))  # > 1 MiB of XML
    body = "<sheetData>" + row(1, *HEADER) + rows + '<row r="30000"><c r="A3"></row>'
    src = open_source(raw_xlsx(tmp_path / "cut.xlsx", [("Data", body)]))  # the damage is past the header
    with pytest.raises(InputFileError, match=r"sheet 'Data' is damaged .*line 1, column"):
        everything(src)


def test_xlsx_through_the_loader_keeps_the_invariant(tmp_path: Path, std: Standard) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(HEADER))
    sheet.append(["Алматы", "2026-01-01", "fire", 3])
    sheet.append([None, "2026-01-02", "fire", "=D2+1"])
    sheet.append([None, "2026-01-03", "fire", "#N/A"])
    sheet.merge_cells("A2:A4")
    book.save(tmp_path / "incidents.xlsx")
    with Warehouse(tmp_path / "wh.duckdb") as wh:
        report = ingest_file(wh, tmp_path / "incidents.xlsx", std=std, registry=load_registry(),
                             pseudonymiser=Pseudonymiser(b"k" * 32))
        assert (report.rows, report.accepted, report.rejected) == (3, 1, 2)
        assert {(e.row, e.code) for e in report.errors} == {(3, "formula-without-value"), (4, "cell-error")}
        assert wh.scalar("SELECT count(*) FROM quarantine") == 2


# --- JSON -----------------------------------------------------------------------------------------------------
def test_json_is_streamed_with_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"rows": [{"settlement": "710000000", "kpi": "1.8", "value": i, "note": "x" * 40}
                                         for i in range(30_000)]}))
    assert peak_mib(path) < 6  # json.loads of this 3 MiB file needs 15 MiB; memory here does not grow with rows
    src = open_source(path)
    rows, problems = everything(src)
    assert len(rows) == 30_000 and rows[-1] == (30_000, ["710000000", "1.8", "29999", "x" * 40]) and not problems


def test_json_header_rows_and_per_row_problems(tmp_path: Path) -> None:
    path = tmp_path / "mixed.json"
    deep = "[" * 100_000 + "]" * 100_000
    path.write_text('{"meta": {"x": [1]}, "data": [{"ignored": 1}], "rows": [{"Settlement": "710000000", "v": 1.0},'
                    f' 5, {deep}, {{"settlement": {{"kato": "750000000"}}, "value": [1, 2], "extra": {{"a": 1}}}},'
                    f' {{"v": 2.5, "deep": {deep}}}, {{"v": 3, "value": {deep}}}]}}')
    src = open_source(path)
    rows, problems = everything(src)
    assert src.header == ["settlement", "v", "value", "extra", "deep"]
    assert [n for n, _ in rows] == [1, 2, 3, 4, 5, 6] and rows[0][1] == ["710000000", "1", None, None, None]
    assert problems[2][0] == problems[3][0] == "not-an-object"
    # nested values reject a record only in a column a table may use; 'extra' and 'deep' are nobody's columns
    assert problems[4] == ("nested-value", "'settlement', 'value' hold an object or a list; use a flat object: one "
                                           "value per column")
    assert 5 not in problems and rows[4][1][1] == "2.5" and 1 not in problems
    assert problems[6][0] == "nested-value"


def test_open311_extended_attributes_do_not_reject_a_request(tmp_path: Path) -> None:
    """Open311 GeoReport v2 puts ``extended_attributes`` (an object) and ``media`` lists in a request; no table uses
    them, so they are left out, not a reason to reject the request (JSON and NDJSON alike)."""
    record = {"service_request_id": "r1", "status": "open", "extended_attributes": {"x": 1}, "media": [1],
              "requested_datetime": "2026-01-05T10:00:00+05:00"}
    (tmp_path / "open311.json").write_text(json.dumps([record]))
    (tmp_path / "open311.ndjson").write_text(json.dumps(record) + "\n")
    for name in ("open311.json", "open311.ndjson"):
        rows, problems = everything(open_source(tmp_path / name))
        assert len(rows) == 1 and not problems, (name, problems)


def test_json_invalid_in_the_middle_is_a_file_error_naming_the_position(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('[{"a": 1},\n {"a": 2}\n {"a": 3}]')
    with pytest.raises(InputFileError, match=r"not JSON at line 3, column 2 .*nothing of the file was loaded"):
        open_source(path)
    path.write_text("[" + ",".join(f'{{"a": {i}}}' for i in range(10)) + ', {"a": ' + "9" * 5000 + "}]")
    with pytest.raises(InputFileError, match="byte 99 starts a run of more than 4300 digits"):
        open_source(path)


def test_json_non_finite_numbers_arrive_as_text_a_number_check_rejects(tmp_path: Path, std: Standard) -> None:
    path = tmp_path / "obs.json"
    path.write_text('[{"settlement": "710000000", "kpi": "1.9", "period_start": "2026-01-01", "period_end": '
                    '"2026-12-31", "value": NaN, "baseline": Infinity, "component": "say \\"NaN\\""},'
                    ' {"value": -Infinity}, {"value": 1e400}]')
    rows, _ = everything(open_source(path))
    assert [r[1][4] for r in rows] == ["NaN", "-Infinity", "1E+400"] and rows[0][1][5:] == ["Infinity", 'say "NaN"']
    _, report = read_observations(path, std, load_registry())
    assert report.accepted == 0 and ("value", "not-a-number") in {(e.column, e.code) for e in report.errors if
                                                                    e.row == 1}


def test_json_encodings(tmp_path: Path) -> None:
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf" + '[{"город": "Алматы"}]'.encode())
    (tmp_path / "cp.json").write_bytes('[{"город": "Алматы"}]'.encode("cp1251"))
    for name in ("bom.json", "cp.json"):
        src = open_source(tmp_path / name)
        assert src.header == ["город"] and everything(src)[0] == [(1, ["Алматы"])]
    (tmp_path / "mixed.json").write_bytes('[{"a": "Алматы"},\n{"a": "'.encode() + "Астана".encode("cp1251")
                                          + b'"}]')
    with pytest.raises(InputFileError, match="byte 32 is not valid UTF-8"):
        open_source(tmp_path / "mixed.json")


# --- NDJSON ---------------------------------------------------------------------------------------------------
def test_ndjson_is_streamed_with_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.ndjson"
    with path.open("w") as f:
        for i in range(30_000):
            f.write(json.dumps({"settlement": "710000000", "kpi": "1.8", "value": i, "note": "x" * 40}) + "\n")
    assert peak_mib(path) < 6
    assert len(everything(open_source(path))[0]) == 30_000


def test_ndjson_bad_lines_are_rejected_rows(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    path = tmp_path / "lines.ndjson"
    path.write_bytes(b"\n".join([
        b'{"settlement": "710000000", "value": 1.0}', b"not json", b"", b'{"value": {"a": 1}}', deep.encode(),
        ('{"value": ' + deep + "}").encode(), '{"settlement": "Алматы"}'.encode("cp1251"), b'{"value": NaN}', b"[1]",
    ]) + b"\n")
    rows, problems = everything(open_source(path))
    assert [n for n, _ in rows] == [1, 2, 4, 5, 6, 7, 8, 9]
    assert rows[0][1] == ["710000000", "1"] and rows[6][1] == [None, "NaN"]
    assert {n: code for n, (code, _) in problems.items()} == {2: "not-json", 4: "nested-value", 5: "not-an-object",
                                                             6: "nested-value", 7: "encoding", 9: "not-an-object"}


# --- Parquet --------------------------------------------------------------------------------------------------
def test_parquet_nested_columns_are_text_and_rejected_only_where_used(tmp_path: Path) -> None:
    table = pa.table({
        "settlement": pa.array([{"kato": "710000000"}, None, {"kato": "750000000"}]),
        "date": ["2026-01-01", "2026-01-02", "2026-01-03"],
        "type": ["fire", "fire", "flood"],
        "count": pa.array([[1, 2], None, None], pa.list_(pa.int64())),
        "tags": pa.array([[("a", 1)], None, []], pa.map_(pa.string(), pa.int64())),
        "blob": pa.array([b"ok", b"\xff", None]),
    })
    pq.write_table(table, tmp_path / "nested.parquet")
    rows, problems = everything(open_source(tmp_path / "nested.parquet"))
    assert rows[0][1] == ['{"kato": "710000000"}', "2026-01-01", "fire", "[1, 2]", '[["a", 1]]', "ok"]
    assert rows[1][1] == [None, "2026-01-02", "fire", None, None, "\\xff"]
    assert set(problems) == {1, 3} and problems[1][0] == "nested-value" and "'settlement'" in problems[3][1]


def test_parquet_without_columns_with_repeated_ones_or_not_parquet_is_a_file_error(tmp_path: Path) -> None:
    pq.write_table(pa.table({"Settlement": ["710000000"], "settlement": ["750000000"]}), tmp_path / "twice.parquet")
    with pytest.raises(InputFileError, match="'Settlement' and 'settlement'"):
        open_source(tmp_path / "twice.parquet")
    pq.write_table(pa.table({}), tmp_path / "none.parquet")
    with pytest.raises(InputFileError, match="no columns"):
        open_source(tmp_path / "none.parquet")
    pq.write_table(pa.table({"settlement": [f"71{i:07d}" for i in range(50_000)]}), tmp_path / "page.parquet")
    data = bytearray((tmp_path / "page.parquet").read_bytes())
    data[2000:2400] = bytes(b ^ 0x5A for b in data[2000:2400])  # a damaged data page; the footer is intact
    (tmp_path / "page.parquet").write_bytes(bytes(data))
    with pytest.raises(InputFileError, match="the Parquet file is damaged after row 0"):
        everything(open_source(tmp_path / "page.parquet"))


# --- anything named like a data file --------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".xlsx", ".json", ".ndjson", ".parquet"])
def test_binary_garbage_is_a_file_error(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"garbage{suffix}"
    path.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(InputFileError, match="garbage"):
        everything(open_source(path))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(1, 256)) * 8)  # no NUL byte in the first kilobytes
    with pytest.raises(InputFileError, match="garbage"):
        everything(open_source(path))
