"""Settings in one typed place, read from the environment (prefix ``CITYSCORE_``) with documented defaults.

The service's secrets and limits live here too (decisions.md D-79): ``CITYSCORE_ENV`` (``development``, the
default of the command line, the demo and the tests; or ``production``), ``CITYSCORE_SECRET_KEY`` (signs the
dashboard's session cookies; in development a random key is made once per process when it is not set, and the
server says so in its log; in production the server refuses to start without a strong one:
:func:`check_for_serving`), ``CITYSCORE_MAX_UPLOAD_MB``, ``CITYSCORE_CORS_ORIGINS`` and ``CITYSCORE_HTTPS``.
"""

from __future__ import annotations

import os
import re
import secrets
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .errors import CityScoreError

MIN_SECRET_LENGTH = 32
MIN_SECRET_DISTINCT = 10
# placeholders people copy from examples, refused in production: a key equal to one (case aside), or containing
# one of the "change …" phrases
PLACEHOLDER_SECRETS = ("secret", "secret_key", "secret-key", "password", "development", "default", "example",
                       "cityscore", "insecure", "test")
CHANGE_PHRASES = ("changeme", "change-me", "change_me", "changethis", "change-this", "change_this")
ENV_SECRET_KEY = "CITYSCORE_SECRET_KEY"
ORIGIN = re.compile(r"^https?://[^/\s?#@]+$")
_process_secret: str | None = None


class SettingsError(ValueError, CityScoreError):
    """A setting from the environment is invalid, or unsafe for how the program is run (a weak secret in
    production)."""


def process_secret() -> str:
    """The random secret of this process, made on first use (development without ``CITYSCORE_SECRET_KEY``)."""
    global _process_secret
    if _process_secret is None:
        _process_secret = secrets.token_urlsafe(48)
    return _process_secret


def _default_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "cityscore"


class Settings(BaseSettings):
    """Where CityScore-KZ keeps its state and which version of the standard it uses by default."""

    model_config = SettingsConfigDict(env_prefix="CITYSCORE_", extra="ignore")

    home: Path = Field(
        default_factory=_default_home,
        description="Directory for imported catalogs and other state (CITYSCORE_HOME; default "
        "$XDG_DATA_HOME/cityscore or ~/.local/share/cityscore).",
    )
    standard: str = Field(
        default="469/НК-2025",
        description="Default catalog: a standard id or a catalog directory (CITYSCORE_STANDARD).",
    )
    ingest_earliest: date = Field(
        default=date(2000, 1, 1),
        description="Earliest plausible date of a record; earlier timestamps and dates are rejected "
        "(CITYSCORE_INGEST_EARLIEST).",
    )
    ingest_latest: date = Field(
        default=date(2100, 1, 1),
        description="First implausible date: records on or after it are rejected (CITYSCORE_INGEST_LATEST).",
    )
    env: Literal["development", "production"] = Field(
        default="development",
        description="How the program runs (CITYSCORE_ENV): development (the default: the command line, the demo, "
        "the tests) or production (the server refuses to start without a strong CITYSCORE_SECRET_KEY; cookies "
        "are Secure).",
    )
    secret_key: str = Field(
        default="",
        repr=False,
        description="Key that signs the dashboard's session cookies (CITYSCORE_SECRET_KEY): at least "
        f"{MIN_SECRET_LENGTH} random characters, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`. "
        "Unset in development: a random key for each server process (sessions end when it stops).",
    )
    max_upload_mb: float = Field(
        default=100.0,
        gt=0,
        description="Largest request body the server reads, in MiB (CITYSCORE_MAX_UPLOAD_MB); a larger one is "
        "refused with 413 before it is read.",
    )
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Origins whose pages may call the API from a browser (CITYSCORE_CORS_ORIGINS: comma-separated "
        "exact origins such as https://akimat.example.kz). Empty (the default): no cross-origin access.",
    )
    https: bool = Field(
        default=False,
        description="The service is reached over HTTPS, e.g. behind a TLS proxy (CITYSCORE_HTTPS): cookies are "
        "Secure and responses carry Strict-Transport-Security even in development.",
    )
    _secret_generated: bool = PrivateAttr(default=False)

    @field_validator("env", mode="before")
    @classmethod
    def _env_lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, list | tuple):
            return value
        origins = []
        for item in value:
            origin = str(item).strip().removesuffix("/")
            if not origin:
                continue
            if not ORIGIN.match(origin):
                raise ValueError(f"{item!r} is not an origin: write scheme://host[:port], e.g. "
                                 "https://akimat.example.kz, without a path (`*` is not accepted: list the origins)")
            origins.append(origin)
        return tuple(origins)

    @model_validator(mode="after")
    def _development_secret(self) -> Settings:
        if not self.secret_key and self.env == "development":
            self.secret_key = process_secret()
            self._secret_generated = True
        return self

    @property
    def secret_generated(self) -> bool:
        """Whether :attr:`secret_key` is this process's random key (development without CITYSCORE_SECRET_KEY)."""
        return self._secret_generated

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def secure_cookies(self) -> bool:
        """Whether cookies get ``Secure``: in production, or when the service is reached over HTTPS
        (CITYSCORE_HTTPS). A request that arrived over HTTPS counts too (:func:`cityscore.api.security.
        cookie_secure`)."""
        return self.env == "production" or self.https


def secret_problem(settings: Settings) -> str | None:
    """Why the secret key is unsafe for production, or None when it is fine."""
    key = settings.secret_key
    if not key:
        return "CITYSCORE_SECRET_KEY is not set"
    lowered = key.lower()
    if lowered in PLACEHOLDER_SECRETS or any(p in lowered for p in CHANGE_PHRASES):
        return "CITYSCORE_SECRET_KEY is a placeholder or contains one (such as 'changeme' or 'secret')"
    if len(key) < MIN_SECRET_LENGTH:
        return f"CITYSCORE_SECRET_KEY has {len(key)} characters, fewer than {MIN_SECRET_LENGTH}"
    if len(set(key)) < MIN_SECRET_DISTINCT:
        return f"CITYSCORE_SECRET_KEY has fewer than {MIN_SECRET_DISTINCT} distinct characters"
    return None


def check_for_serving(settings: Settings) -> None:
    """Refuse to serve in production with a missing, placeholder or short secret (raises :class:`SettingsError`)."""
    if settings.env != "production":
        return
    problem = secret_problem(settings)
    if problem:
        raise SettingsError(f"{problem}; the server does not start in production (CITYSCORE_ENV=production) "
                            f"without a strong key. Set CITYSCORE_SECRET_KEY to at least {MIN_SECRET_LENGTH} random "
                            "characters, e.g. the output of `python -c 'import secrets; "
                            "print(secrets.token_urlsafe(48))'`.")


def get_settings() -> Settings:
    """The settings of the environment now; an invalid value is a :class:`SettingsError` that names the variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"CITYSCORE_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        raise SettingsError(f"Invalid setting: {problems}.") from None
