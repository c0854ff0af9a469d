"""`make demo`: the bot and the test suite's fake GitHub on this machine, with Copilot sessions to look at.

A local simulation, nothing reaches GitHub: the fake GitHub (tests/fakegithub/) serves the API, a sign-in
page and pull-request pages with a comment form, and delivers webhooks to the bot as GitHub would. The
bot runs as deployed (gunicorn, its own SQLite file) with the sessions of tests/browser/scene.py: running,
queued, finished, failed, cancelled and timed out, one with a real agent log. Ctrl-C stops everything.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

from tests.browser.scene import TASKS, VIEWER, Scene, installation_of
from tests.copilot_pr import comment_payload

BANNER = """
  session-bot demo: a LOCAL SIMULATION. The GitHub here is the test suite's fake, on 127.0.0.1.

  The Agents page     {bot}/sessions   (sign in: the fake GitHub signs you in as {viewer})
  A pull request      {pull}
                      comment `/session list`, `/session log`, `/session stop` there, then reload it
  From a shell        env $(cat {env}) .venv/bin/flask --app app receive --event issue_comment {payload}
                      (the bot run in your shell, on a copy of the demo's sessions; its reply lands on the page)

  Ctrl-C stops the bot and the fake GitHub.
"""


class Demo:
    """The scene (its fake's pull-request pages deliver comments to the bot), and the files `receive` needs."""

    def __init__(self):
        self.scene = Scene.build("sqlite")
        self.scene.fake.sign_in_as(VIEWER)
        self.env_file, self.payload_file = self._files(Path(self.scene.stack.tmp))

    def pull_url(self, key: str = "live") -> str:
        """A task's pull request on the fake GitHub's web host."""
        return self.scene.pull_url(key)

    def banner(self) -> str:
        return BANNER.format(bot=self.scene.url, viewer=VIEWER, pull=self.pull_url(), env=self.env_file,
                             payload=self.payload_file)

    def stop(self) -> None:
        self.scene.stop()

    def _files(self, folder: Path) -> tuple[Path, Path]:
        """The bot's settings as `receive` needs them, and a `/session list` comment on the live pull request."""
        stack = self.scene.stack
        key = folder / "app.private-key.pem"
        key.write_text(stack.env["PRIVATE_KEY"])
        # `receive` runs the bot in the shell, on a copy of the demo's index: the running bot would take
        # its jobs from a shared queue, and nothing would be printed.
        copy = folder / "receive.sqlite3"
        with closing(sqlite3.connect(stack.database_url.removeprefix("sqlite:///"))) as source, \
                closing(sqlite3.connect(copy)) as target:
            source.backup(target)
        settings = {"APP_ID": stack.env["APP_ID"], "PRIVATE_KEY_PATH": key, "WEBHOOK_SECRET": stack.env["WEBHOOK_SECRET"],
                    "GITHUB_API_URL": stack.env["GITHUB_API_URL"], "DATABASE_URL": f"sqlite:///{copy}"}
        env = folder / "demo.env"  # one NAME=value a line, no spaces: for `env $(cat demo.env)`
        env.write_text("".join(f"{name}={value}\n" for name, value in settings.items()))
        task = next(t for t in TASKS if t.key == "live")
        _made, payload = comment_payload(self.scene.fake, "/session list", login=VIEWER,
                                         installation=installation_of(task.repo), repo=task.repo, pr=task.pr)
        payload_file = folder / "session-list.json"
        payload_file.write_text(json.dumps(payload, indent=1))
        return env, payload_file


def main() -> None:
    demo = Demo()
    print(demo.banner(), flush=True)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    try:
        stopped.wait()
    finally:
        print("stopping the demo…", flush=True)
        demo.stop()


if __name__ == "__main__":
    main()
