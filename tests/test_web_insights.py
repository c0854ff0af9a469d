"""`/insights`: the report's page renders for whoever may see it, narrowed to their repositories, escapes
outside text, draws its chart as SVG with no inline script or style, and has its numbers in tables."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from bot.app import create_app, runtime_of
from bot.config import Settings
from bot.db import repositories, sessions
from bot.web import insights, pages
from bot.web.viewer import Viewer
from tests import web_index
from tests.html_page import Page

TOKEN = "operator-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
HOSTILE = "<img src=x onerror=alert(1)>"
NOW = web_index.T0 + 3600


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setattr(insights.time, "time", lambda: NOW)  # the window ends an hour after the index's T0
    made = create_app(Settings(database_url=f"sqlite:///{tmp_path}/bot.sqlite3", log_format="text",
                               admin_token=TOKEN))
    yield made
    runtime_of(made).dispose()


@pytest.fixture
def index(app):
    engine = runtime_of(app).engine
    web_index.install(engine)
    rows = [web_index.session(engine, 1, state="completed", starter=HOSTILE),
            web_index.session(engine, 2, state="failed"),
            web_index.session(engine, 3, state="in_progress", repository_id=102),
            web_index.session(engine, 4, state="failed", repository_id=201, starter="mallory")]
    with engine.begin() as conn:  # a name GitHub would never give, to see it escaped
        conn.execute(update(repositories).where(repositories.c.id == 102).values(full_name=f"octo-org/{HOSTILE}"))
        conn.execute(update(sessions).where(sessions.c.run_id == 3).values(stuck="running"))
    return rows


def get(client, path, **headers):
    response = client.get(path, headers={**BEARER, **headers})
    return response, Page(response.get_data(as_text=True))


def figures(page: Page, table: str, key: str) -> dict[str, dict[str, str]]:
    """A table's rows (by their `data-<key>`) as figure → value, read from the cells' data attributes."""
    found, current = {}, None
    for tag, attrs in page.elements:
        if tag == "table":
            current = attrs.get("id")
        elif current == table and tag == "tr":  # the totals' row has no key: its own
            row = found.setdefault(attrs.get(f"data-{key}", "*"), {})
        elif current == table and tag == "td" and "data-figure" in attrs:
            row[attrs["data-figure"]] = attrs["data-value"]
    return found


def test_the_page_shows_the_report_of_every_repository_to_the_operator(app, index):
    response, page = get(app.test_client(), "/insights")
    assert response.status_code == 200 and "default-src 'none'" in response.headers["Content-Security-Policy"]
    rows = figures(page, "repositories", "repository")
    assert set(rows) == {"octo-org/app", f"octo-org/{HOSTILE}", "mallory/secret", "*"}
    assert rows["*"]["sessions"] == "4" and rows["*"]["run_seconds"] == "75.000"
    assert rows["octo-org/app"] == {"sessions": "2", "completed": "1", "failed": "1", "cancelled": "0",
                                    "timed_out": "0", "running": "0", "stuck": "0", "run_seconds": "50.000",
                                    "usage": "—"}
    assert rows[f"octo-org/{HOSTILE}"]["stuck"] == "1" and rows[f"octo-org/{HOSTILE}"]["run_seconds"] == "0.000"
    assert page.one("a", id="insights-link", aria_current="page")
    assert [c["data-cause"] for c in page.find("li", data_cause="unknown")] == ["unknown", "unknown"]


def test_outside_text_is_escaped_and_nothing_runs_inline(app, index):
    response, page = get(app.test_client(), "/insights")
    html = response.get_data(as_text=True)
    assert HOSTILE in page.all_text and "<img" not in html
    assert not page.find("img") and not page.find("style") and not page.find("script")
    assert not any("style" in attrs or any(name.startswith("on") for name in attrs) for _, attrs in page.elements)
    assert [link["href"] for link in page.find("link", rel="stylesheet")] == ["/static/style.css",
                                                                            "/static/insights.css"]


def test_the_chart_is_svg_with_a_pattern_per_outcome_and_the_numbers_in_a_table(app, index):
    _, page = get(app.test_client(), "/insights?since=2d")
    svg = page.one("svg", id="per-day-chart")
    assert svg["role"] == "img" and svg["aria-labelledby"] == "per-day-chart-title" and svg["data-total"] == "4"
    assert {p["id"] for p in page.find("pattern")} == {f"fill-{o}" for o in insights.report.OUTCOMES}
    assert [(s["data-outcome"], s["data-count"], s["fill"]) for s in page.find("rect", class_="segment")] == [
        ("completed", "1", "url(#fill-completed)"), ("failed", "2", "url(#fill-failed)"),
        ("running", "1", "url(#fill-running)")]
    days = [row["data-day"] for row in page.find("tr") if "data-day" in row]
    assert days == ["2025-06-13", "2025-06-14", "2025-06-15"]
    assert page.one("td", data_outcome="failed", data_count="2")
    assert [li["data-outcome"] for li in page.find("li") if "data-outcome" in li] == list(insights.report.OUTCOMES)


def test_a_person_sees_only_their_repositories(app, index, monkeypatch):
    monkeypatch.setattr(pages, "current_viewer", lambda: None)
    monkeypatch.setattr(insights, "current_viewer",
                        lambda: Viewer(login="monalisa", user_id=1, repository_ids=frozenset({101, 102})))
    page = Page(app.test_client().get("/insights").get_data(as_text=True))
    assert "mallory" not in page.all_text and set(figures(page, "repositories", "repository")) == {
        "octo-org/app", f"octo-org/{HOSTILE}", "*"}
    response = app.test_client().get("/insights?repository=mallory/secret")
    page = Page(response.get_data(as_text=True))
    assert response.status_code == 200 and "mallory" not in page.all_text and page.one(id="no-insights")


def test_one_repository_and_a_window(app, index):
    _, page = get(app.test_client(), "/insights?repository=OCTO-ORG/app&since=12h")
    assert set(figures(page, "repositories", "repository")) == {"octo-org/app", "*"}  # "*": the header row
    assert [o["value"] for o in page.find("option") if "selected" in o] == ["12h", "octo-org/app"]
    assert page.one(id="window")["data-since"] == "2025-06-15T04:06:40Z"


@pytest.mark.parametrize("query", ["since=forever", "since=0d", "since=400d", "repository=" + "x" * 300])
def test_a_choice_the_page_cannot_read_is_a_400(app, query):
    response, page = get(app.test_client(), f"/insights?{query}")
    assert response.status_code == 400 and page.one(id="error-message")


def test_nobody_sees_no_data(app, index):
    page = Page(app.test_client().get("/insights").get_data(as_text=True))
    assert "octo-org" not in page.all_text and "Authorization: Bearer $ADMIN_TOKEN" in page.all_text


def test_an_empty_index_says_so(app):
    _, page = get(app.test_client(), "/insights")
    assert page.one(id="no-insights") and page.one(id="no-failures")
    assert page.one("svg", id="per-day-chart")["data-total"] == "0"

