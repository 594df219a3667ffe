"""Secrets and settings of the server from the environment (decisions.md D-79): in production the server does not
start without a strong CITYSCORE_SECRET_KEY; in development it makes a random one per process and says so."""

from __future__ import annotations

import logging

import pytest
from typer.testing import CliRunner

from cityscore.api import security
from cityscore.api.app import create_app
from cityscore.cli import app as cli
from cityscore.settings import Settings, SettingsError, check_for_serving, get_settings, process_secret

from ..conftest import Demo

STRONG = "k3V9-xq2L7pZ0rT8mW4nB6yH1cJ5dF_sA"  # 34 characters, many distinct


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CITYSCORE_ENV", "CITYSCORE_SECRET_KEY", "CITYSCORE_CORS_ORIGINS", "CITYSCORE_MAX_UPLOAD_MB",
                 "CITYSCORE_HTTPS"):
        monkeypatch.delenv(name, raising=False)


def test_development_makes_one_random_secret_per_process() -> None:
    first, second = get_settings(), get_settings()
    assert first.env == "development" and first.secret_generated
    assert first.secret_key == second.secret_key == process_secret() and len(first.secret_key) >= 32
    assert first.secret_key not in repr(first)  # never in a log line or a traceback
    assert not first.secure_cookies


def test_the_server_says_in_its_log_that_the_secret_is_generated(demo: Demo, caplog: pytest.LogCaptureFixture,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(security, "_announced", False)
    with caplog.at_level(logging.WARNING, logger="cityscore.api"):
        create_app(demo.db, warm=False, settings=Settings())
    assert "CITYSCORE_SECRET_KEY is not set" in caplog.text
    assert process_secret() not in caplog.text


def test_a_secret_from_the_environment_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYSCORE_SECRET_KEY", STRONG)
    settings = get_settings()
    assert settings.secret_key == STRONG and not settings.secret_generated


@pytest.mark.parametrize(("secret", "problem"), [
    ("", "is not set"),
    ("changeme", "placeholder"),
    ("please-changethis-before-deploying-it-for-real", "placeholder"),
    ("Secret", "placeholder"),
    ("a1b2c3d4e5f6", "fewer than 32"),
    ("ab" * 20, "distinct characters"),
])
def test_production_refuses_a_missing_default_or_short_secret(secret: str, problem: str) -> None:
    settings = Settings(env="production", secret_key=secret)
    with pytest.raises(SettingsError, match=problem) as caught:
        check_for_serving(settings)
    assert "CITYSCORE_SECRET_KEY" in str(caught.value) and "token_urlsafe" in str(caught.value)


def test_production_with_a_strong_secret_serves_with_secure_cookies(demo: Demo) -> None:
    settings = Settings(env="production", secret_key=STRONG)
    check_for_serving(settings)
    assert settings.secure_cookies and not settings.secret_generated
    app = create_app(demo.db, warm=False, settings=settings)
    assert app.state.settings.secret_key == STRONG


def test_create_app_refuses_production_without_a_secret(demo: Demo) -> None:
    with pytest.raises(SettingsError, match="does not start in production"):
        create_app(demo.db, warm=False, settings=Settings(env="production"))


def test_serve_exits_1_with_the_reason(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYSCORE_ENV", "production")
    monkeypatch.setenv("CITYSCORE_SECRET_KEY", "changeme")
    monkeypatch.setenv("COLUMNS", "200")
    result = CliRunner().invoke(cli, ["serve", "--db", str(demo.db), "--port", "8799"])
    assert result.exit_code == 1
    assert "CITYSCORE_SECRET_KEY" in result.output and "Dashboard:" not in result.output
    assert "Traceback" not in result.output


def test_an_invalid_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYSCORE_ENV", "prod")
    with pytest.raises(SettingsError, match="CITYSCORE_ENV"):
        get_settings()
    monkeypatch.setenv("CITYSCORE_ENV", "Production")
    assert get_settings().env == "production"


@pytest.mark.parametrize("value", ["*", "https://akimat.example.kz/path", "akimat.example.kz", "ftp://x.kz"])
def test_cors_origins_must_be_exact_origins(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CITYSCORE_CORS_ORIGINS", value)
    with pytest.raises(SettingsError, match="CITYSCORE_CORS_ORIGINS"):
        get_settings()


def test_settings_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYSCORE_CORS_ORIGINS", "https://a.example.kz, http://localhost:3000/,")
    monkeypatch.setenv("CITYSCORE_MAX_UPLOAD_MB", "2.5")
    monkeypatch.setenv("CITYSCORE_HTTPS", "true")
    settings = get_settings()
    assert settings.cors_origins == ("https://a.example.kz", "http://localhost:3000")
    assert settings.max_upload_bytes == int(2.5 * 1024 * 1024)
    assert settings.secure_cookies  # development, but reached over HTTPS


def test_the_defaults() -> None:
    settings = get_settings()
    assert settings.cors_origins == () and settings.max_upload_mb == 100 and not settings.https
