"""The Agents page's data: filters from and back to the URL, the list and one session, on SQLite and PostgreSQL."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from sqlalchemy import event, text

from bot import db

from bot.commands import stop_requests
from bot.logs.reader import read_events
from bot.logs.summary import summarise
from bot.sessions import queries
from bot.web import markdown
from bot.web.listing import BadFilter, Filters, detail, load_listing
from bot.web.viewer import OPERATOR, Viewer
from tests import web_index
from tests.agentlogs import AgentLog
from tests.agentlogs import session as agent_session

OCTO = Viewer(login="monalisa", user_id=1, repository_ids=frozenset({101, 102}))


@pytest.fixture
def index(runtime):
    """The runtime over an index with both installations."""
    web_index.install(runtime.engine)
    return runtime


def listed(runtime, viewer=OPERATOR, **args) -> list[int]:
    return [row.id for row in load_listing(runtime, viewer, Filters.parse(args)).rows]


# -- filters ---------------------------------------------------------------------------------------

def test_filters_round_trip_through_the_query_string():
    filters = Filters.parse({"repository": "octo-org/app", "state": "failed", "person": "monalisa",
                             "q": "50% off_now & more", "per_page": "20", "utm": "ignored"})
    assert filters.query_string() == ("repository=octo-org/app&state=failed&person=monalisa"
                                      "&q=50%25%20off_now%20%26%20more&per_page=20")
    from urllib.parse import parse_qsl
    assert Filters.parse(dict(parse_qsl(filters.query_string()))) == filters
    assert filters.narrowed and not Filters().narrowed and Filters().query_string() == ""


def test_changing_a_filter_starts_from_the_first_page():
    filters = Filters(state="failed", cursor=queries._encode(1.0, 5))
    assert filters.changed(state="completed") == Filters(state="completed")
    assert "cursor=" not in filters.changed(person="hubot").query_string()


def test_empty_values_are_no_filter():
    assert Filters.parse({"repository": "", "state": " ", "q": ""}) == Filters()


@pytest.mark.parametrize("args, word", [
    ({"state": "running"}, "state"), ({"state": "x" * 10_000}, "state"),
    ({"repository": "no-slash"}, "repository"), ({"repository": "a/" + "b" * 101}, "repository"),
    ({"repository": "a/b/c"}, "repository"), ({"person": "mona lisa"}, "person"), ({"person": "x" * 101}, "person"),
    ({"q": "t" * 257}, "q"), ({"q": "nul\x00byte"}, "q"), ({"q": "lone \ud800"}, "q"),
    ({"cursor": "not-a-cursor"}, "cursor"), ({"cursor": "A" * 201}, "cursor"), ({"cursor": "é"}, "cursor"),
    ({"per_page": "0"}, "per_page"), ({"per_page": "101"}, "per_page"), ({"per_page": "ten"}, "per_page"),
])
def test_a_bad_filter_says_which_and_why(args, word):
    with pytest.raises(BadFilter) as raised:
        Filters.parse(args)
    assert raised.value.message.startswith(word + " ")


# -- the list --------------------------------------------------------------------------------------

def test_newest_first_with_counts_per_state_in_display_order(index):
    engine = index.engine
    for run_id, state in ((1, "completed"), (2, "failed"), (3, "in_progress"), (4, "queued"), (5, "in_progress"),
                          (6, "timed_out"), (7, "cancelled")):
        web_index.session(engine, run_id, state=state)
    listing = load_listing(index, OPERATOR, Filters())
    assert [row.id for row in listing.rows] == sorted((row.id for row in listing.rows), reverse=True)
    assert [(c.state, c.label, c.count) for c in listing.counts] == [
        ("queued", "queued", 1), ("in_progress", "running", 2), ("completed", "completed", 1),
        ("failed", "failed", 1), ("cancelled", "cancelled", 1), ("timed_out", "timed out", 1)]
    assert listing.total == 7 and not listing.total_more and listing.next_cursor is None
    # Filtered by a state, the counts stay those of every state (each links to its own filter).
    running = load_listing(index, OPERATOR, Filters(state="in_progress"))
    assert [row.state for row in running.rows] == ["in_progress", "in_progress"]
    assert running.counts == tuple(c.__class__(**{**c.__dict__, "selected": c.state == "in_progress"})
                                   for c in listing.counts)
    assert running.count("failed").query == "state=failed" and running.count("in_progress").selected


def test_a_row_carries_what_the_page_links_to(index):
    web_index.pull(index.engine, 7, "Fix the <login> page")
    web_index.session(index.engine, 1, pr=7, starter="hubot")
    web_index.session(index.engine, 2, pr=8, state="in_progress")  # its pull request not read yet
    second, first = load_listing(index, OPERATOR, Filters()).rows
    assert (first.repository, first.pr_number, first.pr_title, first.number, first.starter) == (
        "octo-org/app", 7, "Fix the <login> page", 1, "hubot")
    assert first.pr_url == "https://github.com/octo-org/app/pull/7"
    assert first.run_url == "https://github.com/octo-org/app/actions/runs/1"
    assert first.page_path == f"/sessions/{first.id}" and first.duration(0) == 25.0  # started 5 s in, finished at 30
    assert second.pr_title is None and second.pr_url == "https://github.com/octo-org/app/pull/8"
    assert second.running and second.label == "running" and second.duration(web_index.T0 + 185) == 60.0


def test_a_viewer_sees_only_its_repositories(index):
    web_index.session(index.engine, 1, repository_id=101)
    web_index.session(index.engine, 2, repository_id=102, state="failed")
    web_index.session(index.engine, 3, repository_id=201)
    mine = load_listing(index, OCTO, Filters())
    assert {row.repository for row in mine.rows} == {"octo-org/app", "octo-org/docs"}
    assert mine.total == 2 and mine.repositories == ("octo-org/app", "octo-org/docs")
    assert load_listing(index, OPERATOR, Filters()).repositories == ("mallory/secret", "octo-org/app", "octo-org/docs")
    # Naming the other installation's repository shows nothing of it, not even a count.
    theirs = load_listing(index, OCTO, Filters(repository="mallory/secret"))
    assert theirs.rows == () and theirs.total == 0
    nobody = Viewer(login="ghost", user_id=9, repository_ids=frozenset())
    assert load_listing(index, nobody, Filters()).rows == () and load_listing(index, nobody, Filters()).repositories == ()


def test_filter_by_repository_in_any_case_and_by_person(index):
    web_index.session(index.engine, 1, repository_id=101, starter="monalisa")
    web_index.session(index.engine, 2, repository_id=102, starter="hubot")
    web_index.session(index.engine, 3, repository_id=102, starter=None)
    assert [r.repository for r in load_listing(index, OPERATOR, Filters(repository="Octo-Org/DOCS")).rows] == [
        "octo-org/docs"] * 2
    assert [r.starter for r in load_listing(index, OPERATOR, Filters(person="hubot")).rows] == ["hubot"]


def test_a_repository_the_bot_has_no_row_for_matches_nothing(index):
    web_index.session(index.engine, 1, repository_id=102)
    with index.engine.begin() as conn:
        conn.execute(text("DELETE FROM repositories WHERE id = 102"))
    assert load_listing(index, OPERATOR, Filters(repository="octo-org/docs")).rows == ()  # never a scan by name
    assert len(load_listing(index, OPERATOR, Filters()).rows) == 1


def test_title_search_takes_percent_and_underscore_literally(index):
    for number, title in ((1, "Cut 100% of waste"), (2, "Cut 1000 of waste"), (3, "rename foo_bar"),
                          (4, "rename fooXbar"), (5, "a\\b path")):
        web_index.pull(index.engine, number, title)
        web_index.session(index.engine, number, pr=number)
    def titles(q):
        return sorted(row.pr_title for row in load_listing(index, OPERATOR, Filters(q=q)).rows)
    assert titles("100%") == ["Cut 100% of waste"]
    assert titles("O_B") == ["rename foo_bar"]  # any case, `_` one underscore, not any character
    assert titles("a\\b") == ["a\\b path"]
    assert titles("%") == ["Cut 100% of waste"] and titles("_") == ["rename foo_bar"]
    assert load_listing(index, OPERATOR, Filters(q="waste")).total == 2  # the counts follow the search


def test_paging_visits_every_session_once(index):
    created = web_index.T0
    for run_id in range(1, 24):  # some share a creation time: the id breaks the tie
        web_index.session(index.engine, run_id, created=created + (run_id // 3) * 60)
    seen, filters = [], Filters(per_page=5)
    while True:
        listing = load_listing(index, OPERATOR, filters)
        seen += [row.id for row in listing.rows]
        if listing.next_cursor is None:
            break
        filters = Filters.parse(dict(p.split("=") for p in listing.next_query.split("&")))
    assert len(seen) == len(set(seen)) == 23 and seen == sorted(seen, reverse=True)


def test_counts_stop_at_the_cap(index, monkeypatch):
    monkeypatch.setattr(queries, "COUNT_CAP", 2)
    for run_id in range(1, 5):
        web_index.session(index.engine, run_id)
    web_index.session(index.engine, 9, state="in_progress")
    listing = load_listing(index, OPERATOR, Filters())
    completed = listing.count("completed")
    assert (completed.count, completed.more, completed.text) == (2, True, "2+")
    assert listing.count("in_progress").text == "1" and (listing.total, listing.total_more) == (3, True)
    # A title search counts every state in one scan that stops at the cap: past it, each count is "at least".
    for number in range(101, 105):
        web_index.pull(index.engine, number, f"Fix {number}")
        web_index.session(index.engine, number, pr=number)
    searched = load_listing(index, OPERATOR, Filters(q="fix"))
    assert searched.total == 2 and all(count.more for count in searched.counts)
    assert load_listing(index, OPERATOR, Filters(q="fix 101")).count("completed").text == "1"


def test_the_version_changes_exactly_when_what_is_shown_does(index):
    row = web_index.session(index.engine, 1, state="in_progress", pr=7)
    first = load_listing(index, OPERATOR, Filters()).version
    assert load_listing(index, OPERATOR, Filters()).version == first
    web_index.pull(index.engine, 7, "A title arrives")
    titled = load_listing(index, OPERATOR, Filters()).version
    assert titled != first
    web_index.session(index.engine, row.run_id, state="completed", pr=7)
    assert load_listing(index, OPERATOR, Filters()).version != titled


# -- one session ----------------------------------------------------------------------------------

def test_a_session_the_viewer_may_not_see_is_one_that_does_not_exist(index):
    theirs = web_index.session(index.engine, 1, repository_id=201)
    assert detail(index, OCTO, theirs.id) is None
    assert detail(index, OCTO, theirs.id + 1000) is None
    assert detail(index, OPERATOR, theirs.id).row.repository == "mallory/secret"


def test_the_timeline_runs_from_queued_to_finished_with_commits_and_stops(index):
    row = web_index.session(index.engine, 1, state="cancelled", pr=7, attempt=2)
    web_index.commit(index.engine, row, "0" * 40, "Before the session", at=row.created_at - 100)
    web_index.commit(index.engine, row, "a" * 40, "Plan\n\nbody", at=row.created_at + 10)
    web_index.commit(index.engine, row, "b" * 40, "Fix <b>", at=row.created_at + 15)
    web_index.stop(index.engine, row, by="hubot", via="page", outcome="cancelled", at=row.created_at + 25)
    web_index.stop(index.engine, row, by="monalisa", via="comment", outcome="already_finished", at=row.created_at + 20)
    found = detail(index, OPERATOR, row.id)
    assert [(e.kind, e.text) for e in found.timeline] == [
        ("queued", "Queued"), ("started", "Started (attempt 2)"), ("commit", "Plan"), ("commit", "Fix <b>"),
        ("stop", "Stop asked for by monalisa in a comment: it had already finished"),
        ("stop", "Stop asked for by hubot on the Agents page: cancelled"),
        ("finished", "Finished: cancelled (conclusion: cancelled)")]
    assert found.timeline[-2].via == "page" and found.timeline[2].sha == "a" * 40
    assert not found.can_stop  # finished


def test_a_running_session_says_its_log_comes_when_the_run_ends(index, monkeypatch):
    row = web_index.session(index.engine, 1, state="in_progress")
    asked = []
    monkeypatch.setattr(stop_requests, "may_stop", lambda runtime, found, login: asked.append(login) or False)
    found = detail(index, OCTO, row.id)
    assert found.log_html is None and found.log_note == "The log summary comes when the run ends."
    assert found.can_stop is False and asked == ["monalisa"]


def test_a_finished_session_shows_its_kept_summary_sanitised(index):
    row = web_index.session(index.engine, 1, pr=7)
    assert detail(index, OPERATOR, row.id).log_note.startswith("No summary of this session's log is kept yet")
    log = AgentLog()
    agent_session(log, turns=2)
    data = summarise(read_events(log.stream())).to_dict()
    data["pr_title"] = 'Fix <script>alert(1)</script> <img src=x onerror="alert(2)"> [x](javascript:alert(3))'
    web_index.summary(index.engine, row, data)
    shown = detail(index, OPERATOR, row.id)
    html = str(shown.log_html)
    assert shown.log_note is None and "<details open" in html and "<summary>Progress: 2 reports</summary>" in html
    tags = elements(html)
    assert {tag for tag, _ in tags} <= markdown.TAGS
    assert all(name in ("href", "rel", "open") for _, attrs in tags for name, _ in attrs)
    assert all(value.startswith("https://") for _, attrs in tags for name, value in attrs if name == "href")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the title's markup is text
    assert "Copilot session log" in html and 'href="https://github.com/octo-org/app/actions/runs/1"' in html


def elements(html: str) -> list[tuple[str, list]]:
    """Every element of `html` with its attributes, as a browser's parser sees them."""
    found = []
    parser = HTMLParser()
    parser.handle_starttag = lambda tag, attrs: found.append((tag, attrs))
    parser.feed(html)
    return found


# -- the index's plans ------------------------------------------------------------------------------

@pytest.mark.parametrize("scope", [queries.Scope(), queries.Scope(state="failed"), queries.Scope(starter="hubot"),
                                   queries.Scope(repository_ids=frozenset({101})),
                                   queries.Scope(repository_ids=frozenset({101}), state="failed")])
def test_sqlite_reads_a_page_off_an_index_without_sorting(tmp_path, scope):
    engine = db.make_engine(f"sqlite:///{tmp_path}/plan.sqlite3")
    db.upgrade(engine)
    statements = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, statement, parameters, context, many: statements.append((statement, parameters)))
    with engine.connect() as conn:
        queries.find_sessions(conn, scope, cursor=queries._encode(web_index.T0, 10))
        statement, parameters = statements[-1]
        plan = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
    engine.dispose()
    assert any(line.startswith("SEARCH sessions USING INDEX ix_sessions_") for line in plan), plan
    assert not any("TEMP B-TREE" in line for line in plan), plan
