"""The vocabulary of rejected rows: every error code and what to do about it.

An error's message says what is wrong with this cell; its ``fix`` (one per code, here) says what to do. Both are in
the report, the quarantine table and ``--format json``.
"""

from __future__ import annotations

FIXES: dict[str, str] = {
    "missing-column": "add the column (or one of its other names: `cityscore tables TABLE`) and send the file again",
    "missing-value": "fill in the cell; the column is required",
    "not-a-number": "write a finite number, e.g. 12.5 or 12,5",
    "not-an-integer": "write a whole number",
    "not-a-boolean": "write true/false, да/нет, иә/жоқ or 1/0",
    "not-a-date": "write the date as YYYY-MM-DD or DD.MM.YYYY",
    "not-a-timestamp": "write YYYY-MM-DD HH:MM:SS, optionally with an offset such as +05:00",
    "bad-offset": "write the UTC offset of the clock that took the time (Kazakhstan: +05:00), or none",
    "implausible-time": "check the date; a date this far off is a typing or export error",
    "not-allowed": "use one of the allowed values (`cityscore tables TABLE`)",
    "negative": "a count or a duration cannot be negative; check the sign",
    "too-small": "check the value: it is below the column's plausible range (`cityscore tables TABLE`)",
    "too-large": "check the value and its unit: it is above the column's plausible range (`cityscore tables TABLE`)",
    "duplicate-id": "every record needs its own id; remove the repeated row or give it its id",
    "already-stored": "this record is already in the warehouse; to replace a file, delete its batch "
                      "(`cityscore batches --delete N`) and send the corrected file",
    "unknown-settlement": "use the 9-digit KATO code (`cityscore settlements --search NAME`)",
    "ambiguous-settlement": "use the 9-digit KATO code: the name is shared by several settlements",
    "invalid-phone": "write a Kazakhstan number (+7 and ten digits) or leave the cell empty",
    "invalid-iin": "write the 12-digit ИИН (its control digit is checked) or leave the cell empty",
    "personal-data": "remove the phone number or ИИН from this column: personal identifiers belong only in the "
                     "columns meant for them, which are pseudonymised",
    "encoding": "save the file as UTF-8 and send it again",
    "extra-cells": "check the separators and the quotes of the line",
    "short-row": "the line may be cut off; check it and its quotes",
    "malformed-csv": "check the quotes of the line: a quoted value must end with a quote",
    "line-too-long": "a line this long is not a table row; check the quotes of the lines before it",
    "not-an-object": "write each record as a JSON object {\"column\": value, …}",
    "not-json": "write one JSON object per line",
    "nested-value": "use a flat record: one plain value per column",
    "formula-without-value": "open the workbook in Excel or LibreOffice and save it (so formulas get values), or "
                             "paste the values",
    "cell-error": "correct the formula that gives the error",
    "outside-period": "the row is outside the period the file declares (--period); check the dates or the period",
}


def fix_for(code: str) -> str:
    return FIXES.get(code, "correct the row and send the file again")
