"""Pages that show the scores of a run say so, in the reader's language, while data changed after the run (a banner
naming when the scores were computed); with fresh scores, and on pages without scores, there is none."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cityscore.api.app import create_app
from cityscore.store import Warehouse
from cityscore.store.warehouse import utcnow
from cityscore.web.i18n import Locale

from ..conftest import Demo

ASTANA = "710000000"
SCORE_PAGES = ["/", f"/settlements/{ASTANA}", "/settlements/391610000", "/kpis/1.8"]
LANGS = ("ru", "kk", "en")
BANNER = 'class="warning stale-banner"'
# a few words of the banner in each language, written out here (not read from messages.yaml)
WORDS = {"ru": "Исходные данные изменились после расчёта оценок",
         "kk": "бастапқы деректер өзгерді",
         "en": "The source data changed after these scores were computed"}


def _created(db: Path) -> datetime:
    with Warehouse(db, read_only=True) as wh:
        created: datetime = wh.scalar("SELECT max(created_at) FROM score_runs WHERE year = 2026")
    return created


@pytest.fixture(scope="module")
def stale_db(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo warehouse with one batch deleted after its scoring run (as `cityscore batches --delete` records
    it)."""
    db = tmp_path_factory.mktemp("stale") / "cityscore.duckdb"
    shutil.copy(demo.db, db)
    with Warehouse(db) as wh:
        batch = wh.scalar("SELECT min(batch_id) FROM batches")
        wh.con.execute("INSERT INTO data_changes (change_id, kind, table_name, batch_id, by_batch, settlement, "
                       "first_at, last_at, rows, changed_at, note) SELECT nextval('change_ids'), 'deleted', "
                       "table_name, batch_id, NULL, ?, TIMESTAMP '2026-03-01', TIMESTAMP '2026-03-31 23:59', 40, ?, "
                       "NULL FROM batches WHERE batch_id = ?", [ASTANA, utcnow(), batch])
    return db


@pytest.fixture
def stale_client(stale_db: Path) -> Iterator[TestClient]:
    with TestClient(create_app(stale_db)) as client:
        yield client


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("url", SCORE_PAGES)
def test_stale_scores_show_the_banner(stale_client: TestClient, stale_db: Path, url: str, lang: str) -> None:
    response = stale_client.get(url, params={"lang": lang})
    assert response.status_code == 200
    html = response.text
    assert html.count(BANNER) == 1, url
    loc = Locale(lang)  # type: ignore[arg-type]
    created = _created(stale_db)
    assert loc.t("stale.banner", when=loc.moment(created)) in html
    assert WORDS[lang] in html
    # when the scores were computed, in Kazakhstan's time (UTC+5 since March 2024)
    local = created + timedelta(hours=5)
    assert f"{local:%H:%M} UTC+5" in html and loc.date(local.date()) in html


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("url", SCORE_PAGES)
def test_fresh_scores_show_no_banner(page_client: TestClient, url: str, lang: str) -> None:
    html = page_client.get(url, params={"lang": lang}).text
    assert BANNER not in html and WORDS[lang] not in html


@pytest.mark.parametrize("url", ["/methodology", "/fragments/rankings", f"/fragments/monitor/{ASTANA}",
                                 "/settlements/999999999"])
def test_pages_without_scores_of_a_run_show_no_banner(stale_client: TestClient, url: str) -> None:
    assert BANNER not in stale_client.get(url).text


def test_the_moment_is_civil_time() -> None:
    assert Locale("ru").moment(datetime(2026, 3, 22, 10, 5, 33)) == "22 марта 2026\u202fг., 15:05 UTC+5"
    assert Locale("en").moment(datetime(2023, 3, 22, 10, 5)) == "March 22, 2023, 16:05 UTC+6"
    assert Locale("kk").moment(None) == "—"
