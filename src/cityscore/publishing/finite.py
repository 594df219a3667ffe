"""Non-finite numbers out: a NaN or an infinity stored in the warehouse is "no value" in everything published.

JSON has no NaN or Infinity (a response with one cannot be rendered), spreadsheets and pages have no use for them,
and a score of NaN means nothing to a reader; so the read model turns them into ``None`` where it reads them, and
every serialiser (JSON responses, CSV/XLSX, the charts' JSON on pages) does so again for whatever else it is given.
"""

from __future__ import annotations

import json
import math
from typing import Any


def finite(value: Any) -> Any:
    """``value`` with every non-finite float (NaN, ±inf), however deeply nested in dicts, lists and tuples (which
    become lists), replaced by ``None``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def _number(text: str) -> float | None:
    number = float(text)
    return number if math.isfinite(number) else None


def loads(text: str) -> Any:
    """JSON text as data, its ``NaN`` / ``Infinity`` constants and overflowing numbers (``1e999``) as ``None``."""
    return json.loads(text, parse_constant=lambda _: None, parse_float=_number)


def dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` that writes non-finite floats as ``null``: always valid JSON (the clean case costs nothing
    extra)."""
    try:
        return json.dumps(value, allow_nan=False, **kwargs)
    except ValueError:
        return json.dumps(finite(value), allow_nan=False, **kwargs)
