"""The world the browser tests (and `make screenshots`) look at: the real bot under gunicorn, signed in
through the fake GitHub's web host, with Copilot sessions in every state that GitHub's webhooks told it of.

`Scene.build(database)` starts the fake GitHub, the bot (its sign-in pointing at the fake) on a fresh SQLite
file or PostgreSQL database, and delivers installations, pull requests and runs as GitHub would, waiting
until the bot has handled them. `stop()` ends it all. Only 127.0.0.1 is ever reached.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from urllib.parse import quote

import requests
from sqlalchemy import select

from bot import db
from bot.jobs import Queue
from tests import agentlogs
from tests import sessions_payloads as hooks
from tests.copilot_pr import comment_payload, settle
from tests.fakegithub import payloads
from tests.harness.stack import Stack
from tests.integration.conftest import QUICK

VIEWER = "monalisa"  # the person the browser signs in as
SECRET_KEY = "browser-tests-secret-key-0123456789abcdef"
VISIBLE = {41: ("octo-org", ["octo-org/storefront", "octo-org/design-system", "octo-org/infra"])}
HIDDEN = {42: ("acme-corp", ["acme-corp/payments"])}  # installed, but the viewer can reach none of it


@dataclass(frozen=True)
class Task:
    """One Copilot session of the scene: its pull request, its run, and how far it got."""

    key: str
    repo: str
    pr: int
    run_id: int
    title: str
    starter: str
    minutes_ago: int       # when it was asked for
    state: str             # queued | in_progress | completed | failed | cancelled | timed_out
    minutes: int = 0       # how long it ran, once finished
    commits: tuple[str, ...] = ()


TASKS = (
    Task("live", "octo-org/storefront", 412, 7001, "Add a dark mode toggle to the account settings page", VIEWER, 9,
         "in_progress", commits=("Initial plan", "Add ThemeToggle component and wire it to user preferences")),
    Task("stoppable", "octo-org/storefront", 415, 7002,
         "Fix race condition when two tabs submit the same cart at checkout", VIEWER, 4, "in_progress",
         commits=("Initial plan",)),
    Task("queued", "octo-org/design-system", 91, 7003, "Document focus styles for every interactive component",
         "hubot", 1, "queued"),
    Task("done", "octo-org/design-system", 88, 7004, "Migrate Button and Link to CSS custom properties", VIEWER, 95,
         "completed", 23, commits=("Initial plan", "Move Button colours to custom properties",
                                   "Move Link colours to custom properties", "Update the visual regression snapshots")),
    Task("failed", "octo-org/infra", 23, 7005, "Bump the Terraform AWS provider to 5.x and fix deprecations", "octocat",
         180, "failed", 31, commits=("Initial plan", "Bump hashicorp/aws to 5.31")),
    Task("cancelled", "octo-org/storefront", 409, 7006, "Paginate the order history API", VIEWER, 300, "cancelled", 6,
         commits=("Initial plan",)),
    Task("timed_out", "octo-org/infra", 19, 7007, "Add retry with backoff to the nightly backup job", "hubot", 1500,
         "timed_out", 60, commits=("Initial plan", "Wrap the backup upload in a retry loop")),
    Task("hidden", "acme-corp/payments", 7, 7008, "Rotate the webhook signing secret", "mallory", 12, "in_progress"),
)
CONCLUSION = {"completed": "success", "failed": "failure", "cancelled": "cancelled", "timed_out": "timed_out"}


class Scene:
    """The bot, the fake GitHub and the sessions; `url` is the bot's address."""

    def __init__(self, stack: Stack):
        self.stack, self.fake = stack, stack.fake
        self.runs: dict[str, dict] = {}

    @classmethod
    def build(cls, database: str = "sqlite") -> "Scene":
        """The whole scene on "sqlite" or "pg" (a throwaway database on the test server), ready to browse."""
        # The insights job on (QUICK turns it off): `classify()` runs an occurrence of it now.
        stack = Stack.create(database=database, **{**QUICK, "INSIGHTS_INTERVAL_SECONDS": 300}, BACKFILL_DAYS=0)
        scene = cls(stack)
        try:
            scene._people()
            stack.env.update(GITHUB_URL=scene.fake.web_url, GITHUB_CLIENT_ID=scene.fake.client_id,
                             GITHUB_CLIENT_SECRET=scene.fake.client_secret, SECRET_KEY=SECRET_KEY)
            stack.start_web(workers=2)
            scene.fake.callback_url = stack.web.url + "/signin/callback"
            # A comment typed on the fake's pull-request pages reaches the bot (tests/fakegithub/pull_pages.py).
            scene.fake.webhook_url, scene.fake.webhook_secret = stack.webhook_url, stack.secret
            scene._sessions()
        except BaseException:
            stack.stop()
            raise
        return scene

    @property
    def url(self) -> str:
        return self.stack.web.url

    def stop(self) -> None:
        self.stack.stop()

    # -- what the scene holds -----------------------------------------------------------------------

    def _people(self) -> None:
        fake = self.fake
        for installation, (account, repos) in {**VISIBLE, **HIDDEN}.items():
            fake.add_installation(installation, account, repos)
        fake.add_user(VIEWER, user_id=583231, name="Mona Lisa Octocat")
        fake.grant(VIEWER, *visible_repositories())
        for repo in visible_repositories():  # a writer: Stop is hers on every session she sees
            fake.permissions[(repo.lower(), VIEWER)] = "write"
        fake.add_user("mallory", user_id=666)
        fake.grant("mallory", *HIDDEN[42][1])

    def _sessions(self) -> None:
        deliveries = [("installation", self._installed(installation)) for installation in {**VISIBLE, **HIDDEN}]
        for task in TASKS:
            deliveries += self._open(task)
        settle(self.stack, deliveries)
        # A summary of a finished session's log is kept once someone asks for it on the pull request.
        done = self.task("done")
        _, asked = comment_payload(self.fake, "/session log", login=VIEWER, installation=installation_of(done.repo),
                                   repo=done.repo, pr=done.pr)
        settle(self.stack, [("issue_comment", asked)])

    def _installed(self, installation: int) -> dict:
        """`installation.created`, listing the installation's repositories."""
        created = payloads.with_installation(payloads.example("installation", "created"), installation)
        created["installation"]["account"] = self.fake.installations[installation]["account"]
        created["repositories"] = [{k: self.fake.repositories[name.lower()][k]
                                    for k in ("id", "node_id", "name", "full_name", "private")}
                                   for name in self.fake.installation_repositories[installation]]
        return created

    def _open(self, task: Task) -> list[tuple[str, dict]]:
        """The task's pull request, timeline and run at the fake; the deliveries that tell the bot."""
        fake, installation = self.fake, installation_of(task.repo)
        asked = float(int(time.time()) - task.minutes_ago * 60)
        finished = task.state in CONCLUSION
        branch = f"copilot/{task.key.replace('_', '-')}-{task.pr}"
        status = "completed" if finished else task.state
        run = fake.add_run(task.repo, task.run_id, status=status, conclusion=CONCLUSION.get(task.state),
                           pull_requests=[task.pr], created_at=asked + 5, run_started_at=asked + 8,
                           updated_at=asked + 8 + task.minutes * 60, triggering_actor=task.starter,
                           head_branch=branch)
        pull = fake.add_pull(task.repo, task.pr, title=f"[WIP] {task.title}" if not finished else task.title,
                             created_at=asked + 20, head_branch=branch, assignees=[task.starter])
        fake.add_timeline_event(task.repo, task.pr, "copilot_work_started", actor=task.starter, created_at=asked + 30)
        for n, message in enumerate(task.commits):
            fake.add_commit(task.repo, task.pr, message, at=asked + 60 * (n + 1))
        if finished:
            fake.set_run_log(task.repo, task.run_id, agent_log(task))
        self.runs[task.key] = run
        action = {"queued": "requested", "in_progress": "in_progress"}.get(task.state, "completed")
        return [("pull_request", hooks.pull_request("opened", fake, pull, installation)),
                ("workflow_run", hooks.workflow_run(action, fake, run, installation))]

    # -- what tests do to it ------------------------------------------------------------------------

    def task(self, key: str) -> Task:
        return next(task for task in TASKS if task.key == key)

    def session_id(self, key: str) -> int:
        """The bot's id of a task's session (what `/sessions/<id>` and `data-session-id` use)."""
        task = self.task(key)
        with self.stack.engine.connect() as conn:
            return conn.execute(select(db.sessions.c.id).where(db.sessions.c.run_id == task.run_id)).scalar_one()

    def finish(self, key: str, conclusion: str = "success") -> None:
        """The task's run ends with `conclusion`, its log ready, and GitHub says so (`workflow_run.completed`).
        Returns at once: the bot handles the delivery in its own time."""
        task, run = self.task(key), self.runs[key]
        done = hooks.run_at(run, "completed", conclusion=conclusion)
        self.fake.actions.runs[task.repo.lower()][task.run_id] = done
        self.fake.set_run_log(task.repo, task.run_id, agent_log(task))
        self.runs[key] = done
        self.report(key)

    def report(self, key: str) -> None:
        """GitHub tells the bot of the task's run as the fake now has it (after a cancel: completed, cancelled)."""
        task = self.task(key)
        run = copy.deepcopy(self.fake.actions.runs[task.repo.lower()][task.run_id])
        action = "completed" if run["status"] == "completed" else "in_progress"
        assert self.stack.deliver("workflow_run", hooks.workflow_run(action, self.fake, run,
                                                                     installation_of(task.repo))).status_code == 202

    def cancels(self, key: str) -> list:
        """The cancel requests GitHub received for the task's run."""
        task = self.task(key)
        return self.fake.calls("POST", f"/repos/{task.repo}/actions/runs/{task.run_id}/*cancel")

    def pull_url(self, key: str) -> str:
        """The task's pull request on the fake GitHub's web host: its comments, and a form to add one."""
        task = self.task(key)
        return f"{self.fake.web_url}/{task.repo}/pull/{task.pr}"

    def comment(self, key: str, body: str, timeout: float = 30.0) -> dict:
        """Comment `body` through the task's pull-request page, as a person would; the bot's reply, once made."""
        task = self.task(key)
        posted = requests.post(self.pull_url(key) + "/comments", data={"body": body}, allow_redirects=False,
                               timeout=10)
        assert posted.status_code == 303, posted.text
        made = max(c["id"] for c in self.fake.comments_on(task.repo, task.pr))
        deadline = time.time() + timeout
        while time.time() < deadline:
            replies = [c for c in self.fake.comments_on(task.repo, task.pr)
                       if c["body"].startswith(f"<!-- session-bot:reply {made}:")]
            if replies:
                return replies[0]
            time.sleep(0.25)
        raise AssertionError(f"no reply to {body!r} on {task.repo}#{task.pr} within {timeout} s")

    def classify(self) -> None:
        """The failed task's log summary kept (someone asks `/session log` on its pull request), then the
        bot's periodic `insights` job run now: the summary's cause, and whether its repository has
        copilot-setup-steps.yml (it has not), for the insights page."""
        failed = self.task("failed")
        if not self.stack.count(db.session_summaries, db.session_summaries.c.run_id == failed.run_id):
            self.comment("failed", "/session log")
        with self.stack.engine.begin() as conn:
            Queue(self.stack.engine, lease=30.0, retry_base=1.0, max_attempts=3).enqueue(conn, "insights")
        self.stack.wait_until(lambda: self.stack.count(db.setup_steps_cache) > 0,
                              what="the failed session classified and its repository's setup steps looked up")

    def signin_path(self, after: str = "/sessions") -> str:
        """The bot's sign-in, coming back to `after`."""
        return "/signin?next=" + quote(after, safe="")


def sign_in(page, scene: Scene, after: str = "/sessions") -> None:
    """Sign the browser in as VIEWER through the fake GitHub (already signed in there: GitHub approves at
    once), landing on `after`."""
    scene.fake.sign_in_as(VIEWER)
    page.goto(scene.url + scene.signin_path(after))
    page.wait_for_url(scene.url + after)


def visible_repositories() -> list[str]:
    return [name for _, repos in VISIBLE.values() for name in repos]


def installation_of(repo: str) -> int:
    return next(i for i, (_, repos) in {**VISIBLE, **HIDDEN}.items() if repo in repos)


def agent_log(task: Task) -> bytes:
    """The run's log archive: the agent at work, ending in a summary of this task."""
    log = agentlogs.AgentLog()
    agentlogs.opening(log)
    if task.state == "failed":  # it could not install what the project needs (the insights page says why)
        log.bash("npm ci", "npm ERR! code ENOTFOUND\nnpm ERR! request to https://npm.internal.example/ failed", exit_code=1)
    else:
        log.bash("npm test", "Tests: 48 passed, 48 total")
    log.final(f"{task.title}.\n\n## Summary\n- Made the change the issue asked for\n- Added tests for it")
    log.pr_title(task.title, f"{task.title}.")
    log.line("Completed agent run.")
    return agentlogs.run_logs_zip(log.sink.getvalue())
