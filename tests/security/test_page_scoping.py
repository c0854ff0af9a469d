"""Nobody sees or stops another repository's sessions through the Agents page or its API: every route,
for a person signed in through the fake GitHub who can access one repository of an installation.

The sessions they may not see are in a repository of the same installation that GitHub does not
grant them, and in another installation altogether; their ids are guessed outright.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import db
from tests import web_index
from tests.html_page import Page
from tests.test_web_signin import csrf_of, make_bot, sign_in

TITLE = "Secret migration plan"  # the title of every pull request alice may not see


@pytest.fixture
def scene(fake_github, app_key, database_url):
    fake_github.add_installation(7, "octo", ["octo/alpha", "octo/beta"])
    fake_github.add_installation(8, "mallory", ["mallory/vault"])
    fake_github.add_user("alice", user_id=1001)
    fake_github.grant("alice", "octo/alpha")
    fake_github.callback_url = "http://localhost/signin/callback"
    repo = {name: fake_github.repositories[name]["id"] for name in ("octo/alpha", "octo/beta", "mallory/vault")}
    bot = make_bot(fake_github, app_key, database_url)
    browser = bot.app.test_client()
    sign_in(browser, fake_github)
    mine = web_index.session(bot.engine, 1, repository_id=repo["octo/alpha"], elsewhere=(7, "octo/alpha"),
                             state="in_progress")
    hidden = [web_index.session(bot.engine, run, repository_id=repo[name], elsewhere=(installation, name),
                                state="in_progress", pr=run, starter="alice")
              for run, (installation, name) in ((2, (7, "octo/beta")), (3, (8, "mallory/vault")))]
    with bot.engine.begin() as conn:
        for row in hidden:
            fake_github.permissions[(row.repository, "alice")] = "admin"  # her role is not what hides them
            conn.execute(db.pull_requests.update().where(db.pull_requests.c.repository_id == row.repository_id)
                         .values(title=TITLE))
    yield bot, browser, mine, hidden, fake_github
    bot.dispose()


def test_the_lists_show_only_her_repository_whatever_the_filter(scene):
    bot, browser, mine, hidden, _ = scene
    for query in ("", "?repository=octo/beta", "?repository=mallory/vault", f"?q={TITLE}", "?state=in_progress",
                  "?person=alice"):
        page = Page(browser.get(f"/sessions{query}").get_data(as_text=True))  # (the form echoes the query)
        assert {int(r["data-session-id"]) for r in page.find("tr") if "data-session-id" in r} <= {mine.id}, query
        assert TITLE not in page.all_text and "mallory" not in page.all_text, query
        assert not [a for a in page.find("a") if any(a.get("href", "").endswith(f"/sessions/{h.id}") for h in hidden)]
        api = browser.get(f"/api/sessions{query}").get_json()
        assert {s["id"] for s in api["sessions"]} <= {mine.id}, query
        assert sum(c["count"] for c in api["counts"]) <= 1 and set(api["repositories"]) <= {"octo/alpha"}, query


def test_a_guessed_id_is_the_same_404_as_one_that_does_not_exist(scene):
    bot, browser, _mine, hidden, _ = scene
    missing = max(row.id for row in hidden) + 1000
    for path in ("/sessions/{}", "/api/sessions/{}"):
        nothing = browser.get(path.format(missing))
        for row in hidden:
            guessed = browser.get(path.format(row.id))
            assert (guessed.status_code, guessed.get_data()) == (nothing.status_code, nothing.get_data()) \
                and nothing.status_code == 404, path


def test_she_cannot_stop_them_through_the_page_or_the_api(scene):
    bot, browser, _mine, hidden, fake = scene
    token = csrf_of(browser)
    for row in hidden:
        page = browser.post(f"/sessions/{row.id}/stop", data={"csrf_token": token})
        api = browser.post(f"/api/sessions/{row.id}/stop", headers={"X-CSRF-Token": token})
        assert (page.status_code, api.status_code) == (404, 404)
    bot.drain()
    with bot.engine.connect() as conn:
        assert conn.execute(select(db.session_stops)).all() == []
    assert not fake.calls("POST", "*/cancel")
