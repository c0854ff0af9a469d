"""The database ETag store: a second conditional GET of an unchanged resource is a 304, from any process."""

from bot.caches.etags import DatabaseETagStore
from tests.caches.conftest import INSTALLATION, REPO


def test_conditional_get_survives_across_stores_on_one_database(engine, fake_github, github):
    client = github.installation(INSTALLATION)

    first, changed = client.get_conditional(f"/repos/{REPO}", store=DatabaseETagStore(engine))
    again, changed_again = client.get_conditional(f"/repos/{REPO}", store=DatabaseETagStore(engine))

    assert changed and not changed_again
    assert again == first and first["full_name"] == REPO
    assert [r.status for r in fake_github.calls("GET", f"/repos/{REPO}")] == [200, 304]
