"""Pieces shared by the commands: error handling at the edge, common options, dates, the loaded standard."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console

from ..errors import CityScoreError, NotFoundError
from ..publishing.window import DAYS_TEXT, YEARS_TEXT, in_days, in_years
from ..settings import get_settings
from ..settlements import Registry, Settlement
from ..standard import Standard, load_standard
from .output import OutputFormat

P = ParamSpec("P")
R = TypeVar("R")

state = {"debug": False}
err_console = Console(stderr=True, highlight=False)

FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)]
StandardOption = Annotated[
    str | None,
    typer.Option(
        "--standard",
        help="Catalog to use: a standard id (e.g. 469/НК-2025), an imported amendment's id, or a catalog directory. "
        "Default: $CITYSCORE_STANDARD or 469/НК-2025.",
        show_default=False,
    ),
]
LangOption = Annotated[str, typer.Option("--lang", help="Language of names: ru, kk or en.")]


def domain_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a :class:`CityScoreError` into a one-line message on stderr and exit status 1 (``--debug``: re-raise)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except CityScoreError as exc:
            if state["debug"]:
                raise
            err_console.print(f"[bold red]Error:[/] {exc}")
            raise typer.Exit(1) from None

    return wrapper


def home() -> Path:
    return get_settings().home


def standard(ref: str | None) -> Standard:
    """The catalog chosen by ``--standard`` (or the settings' default)."""
    return load_standard(ref or get_settings().standard, home())


def check_lang(lang: str) -> str:
    if lang not in ("ru", "kk", "en"):
        raise typer.BadParameter("use ru, kk or en", param_hint="--lang")
    return lang


def check_year(year: int) -> int:
    """The callback of every ``--year`` option: a year outside the window the API accepts too (2000–2100:
    :mod:`cityscore.publishing.window`) is a usage error that says the allowed range (exit status 2)."""
    if not in_years(year):
        raise typer.BadParameter(f"{year} is outside {YEARS_TEXT}")
    return year


def parse_day(text: str, option: str) -> date:
    """The day of a ``YYYY-MM-DD`` option, inside the window the API accepts too (2000-01-01 … 2100-12-31:
    :mod:`cityscore.publishing.window`); otherwise a usage error that says the allowed range (exit status 2)."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter("write the date as YYYY-MM-DD", param_hint=option) from None
    if not in_days(day):
        raise typer.BadParameter(f"{text} is outside {DAYS_TEXT}", param_hint=option)
    return day


def find_settlement(registry: Registry, key: str) -> Settlement:
    """The settlement named by a ``--settlement`` option (KATO code or unique name), or a clear error."""
    found = registry.resolve(key)
    if found is None:
        raise NotFoundError(f"No settlement '{key}'; find its KATO code with `cityscore settlements --search NAME`.")
    return found


def judged_at(year: int, as_of: date | None) -> datetime | None:
    """The UTC instant the data of ``year`` is judged at: the end of the civil day ``as_of`` when given, now for
    the running year, else None (the measures use the end of the year; decisions.md D-45)."""
    from ..measures.civil import civil_python, day_end_utc

    if as_of is not None:
        return day_end_utc(as_of)
    now = datetime.now(UTC).replace(tzinfo=None)
    return now if civil_python(now).year == year else None
