"""The database ETag store: a second conditional GET of an unchanged resource is a 304."""

from bot.github.auth import AppAuth
from bot.github.cache import DatabaseETagStore
from bot.github.client import GitHub


def test_conditional_get_survives_across_stores_on_one_database(engine, fake_github, app_key):
    fake_github.add_installation(7, "octo", ["octo/alpha"])
    github = GitHub(fake_github.url, AppAuth(fake_github.app_id, app_key.pem), sleep=lambda s: None)
    client = github.installation(7)

    first, changed = client.get_conditional("/repos/octo/alpha", store=DatabaseETagStore(engine))
    again, changed_again = client.get_conditional("/repos/octo/alpha", store=DatabaseETagStore(engine))

    assert changed and not changed_again
    assert again == first and first["full_name"] == "octo/alpha"
    assert [r.status for r in fake_github.calls("GET", "/repos/octo/alpha")] == [200, 304]
    github.close()
