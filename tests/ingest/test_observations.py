"""Observation files as analysts have them, and every bad row reported with file, row, column and code."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cityscore.ingest import InputFileError, read_evidence, read_observations
from cityscore.ingest.values import CellError, parse_bool, parse_date, parse_number
from cityscore.settlements import load_registry
from cityscore.standard import Standard

HEADER = "settlement,kpi,period_start,period_end,value,numerator,denominator,baseline\n"


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_parse_cells() -> None:
    assert parse_number("1 234,5") == 1234.5
    assert parse_number("1\u00a0234,5") == 1234.5
    assert parse_number("1,234.5") == 1234.5
    assert parse_number("12,5") == 12.5
    assert parse_number("") is None
    with pytest.raises(CellError):
        parse_number("двенадцать")
    assert str(parse_date("31.01.2026")) == "2026-01-31"
    assert str(parse_date("2026-01-31T10:00:00")) == "2026-01-31"
    with pytest.raises(CellError):
        parse_date("2026-02-30")
    assert parse_bool("да") is True and parse_bool("жоқ") is False and parse_bool("0") is False


def test_windows_1251_semicolons_decimal_commas(tmp_path: Path, std: Standard) -> None:
    text = ("settlement;kpi;period_start;period_end;value\n"
            "Шымкент;1.9;01.01.2026;31.12.2026;78,5\n")
    path = write(tmp_path, "obs.csv", text, "cp1251")
    rows, report = read_observations(path, std, load_registry())
    assert report.errors == [] and report.notes == ["read as cp1251"]
    assert rows[0].settlement == "790000000" and rows[0].value == 78.5


def test_every_bad_row_is_reported(tmp_path: Path, std: Standard) -> None:
    text = HEADER + "\n".join([
        "710000000,1.8,2026-01-01,2026-06-30,,170000,190000,",   # line 2: good
        "Атлантида,1.8,2026-01-01,2026-12-31,80,,,",             # 3: unknown settlement
        "710000000,99.9,2026-01-01,2026-12-31,80,,,",            # 4: unknown KPI
        "710000000,1.9,2026-02-30,2026-12-31,80,,,",             # 5: impossible date
        "710000000,1.9,2026-12-31,2026-01-01,80,,,",             # 6: period backwards
        "710000000,1.9,2026-06-01,2027-05-31,80,,,",             # 7: crosses a year
        "710000000,1.9,2026-01-01,2026-12-31,,,,",               # 8: no value
        "710000000,1.9,2026-01-01,2026-12-31,180,,,",            # 9: not a percentage
        "710000000,4.1,2026-01-01,2026-12-31,-3,,,",             # 10: negative duration
        "710000000,1.8,2026-01-01,2026-06-30,,1,2,",             # 11: duplicate of line 2
        "710000000,1.8,2026-06-01,2026-07-31,,1,2,",             # 12: overlaps line 2
        "710000000,1.8,2026-07-01,2026-12-31,,5,4,",             # 13: numerator > denominator
        "710000000,1.9,2026-01-01,2026-12-31,80,,,,extra",        # 14: extra cell
        "710000000,1.10,2026-01-01,2026-12-31,7,,,",             # 15: outside the 0–5 scale
        "710000000,1.9,2026-01-01",                              # 16: truncated line
    ]) + "\n"
    rows, report = read_observations(write(tmp_path, "obs.csv", text), std, load_registry())
    assert len(rows) == 1 and report.accepted == 1 and report.rejected == 14
    found = [(e.row, e.column, e.code) for e in report.errors]
    assert (3, "settlement", "unknown-settlement") in found
    assert (4, "kpi", "unknown-kpi") in found
    assert (5, "period_start", "not-a-date") in found
    assert (6, "period_end", "period-order") in found
    assert (7, "period_end", "period-crosses-year") in found
    assert (8, "value", "missing-value") in found
    assert (9, "value", "out-of-range") in found
    assert (10, "value", "negative") in found
    assert (11, "period_start", "duplicate") in found
    assert (12, "period_start", "overlap") in found
    assert (13, "numerator", "out-of-range") in found
    assert (14, None, "extra-cells") in found
    assert (15, "value", "out-of-range") in found
    assert (16, None, "short-row") in found
    assert all(e.file.endswith("obs.csv") and e.message for e in report.errors)


def test_missing_columns_are_reported_once(tmp_path: Path, std: Standard) -> None:
    path = write(tmp_path, "obs.csv", "settlement,kpi,value\n710000000,1.8,90\n")
    rows, report = read_observations(path, std, load_registry())
    assert rows == []
    assert [(e.row, e.column, e.code) for e in report.errors] == [
        (1, "period_start", "missing-column"), (1, "period_end", "missing-column")]


def test_parquet_and_json(tmp_path: Path, std: Standard) -> None:
    table = pa.table({"settlement": [710000000], "kpi": ["1.8"], "period_start": ["2026-01-01"],
                      "period_end": ["2026-12-31"], "numerator": [90.0], "denominator": [100.0]})
    pq.write_table(table, tmp_path / "obs.parquet")
    rows, report = read_observations(tmp_path / "obs.parquet", std, load_registry())
    assert report.errors == [] and rows[0].settlement == "710000000"
    (tmp_path / "obs.json").write_text(json.dumps([{"settlement": "Алматы", "kpi": "1.9", "period_start":
                                                    "2026-01-01", "period_end": "2026-12-31", "value": 81}]))
    rows, report = read_observations(tmp_path / "obs.json", std, load_registry())
    assert report.errors == [] and rows[0].settlement == "750000000"
    (tmp_path / "obs.ndjson").write_text('{"settlement": "710000000", "kpi": "1.9", "period_start": "2026-01-01", '
                                         '"period_end": "2026-12-31", "value": "x"}\n')
    _, report = read_observations(tmp_path / "obs.ndjson", std, load_registry())
    assert [(e.row, e.column, e.code) for e in report.errors] == [(1, "value", "not-a-number")]


def test_unreadable_files(tmp_path: Path, std: Standard) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        read_observations(tmp_path / "missing.csv", std, load_registry())
    with pytest.raises(InputFileError, match="unknown file type"):
        read_observations(write(tmp_path, "obs.docx", "x"), std, load_registry())
    with pytest.raises(InputFileError, match="not JSON"):
        read_observations(write(tmp_path, "obs.json", "{"), std, load_registry())


def test_component_rows(tmp_path: Path, std: Standard) -> None:
    text = ("settlement,kpi,period_start,period_end,value,component\n"
            "710000000,1.4,2026-01-01,2026-12-31,0.5,safety\n"
            "710000000,1.4,2026-01-01,2026-12-31,0.5,transport\n"
            "710000000,1.8,2026-01-01,2026-12-31,90,safety\n")
    rows, report = read_observations(write(tmp_path, "obs.csv", text), std, load_registry())
    assert len(rows) == 1
    assert [(e.row, e.code) for e in report.errors] == [(3, "unknown-component"), (4, "unexpected-component")]


def test_evidence(tmp_path: Path) -> None:
    text = ("settlement,name,sphere,in_roadmap,report_signed,indicator_count,started,completed\n"
            "710000000,Цифровой двойник,Управление городом,да,да,2,2026-01-10,2026-11-30\n"
            "710000000,Без даты,Экология,может быть,да,1.5,2026-01-10,\n")
    items, report = read_evidence(write(tmp_path, "extra.csv", text), load_registry())
    assert [i.name for i in items] == ["Цифровой двойник"]
    assert sorted((e.row, e.column, e.code) for e in report.errors) == [
        (3, "in_roadmap", "not-a-boolean"), (3, "indicator_count", "not-an-integer")]
