"""`/session start <prompt…>`: start a Copilot task on this pull request's branch, as the commenter.

GitHub's Agent tasks API takes only a person's own token, so the task is started with the token of
the comment's author (the delivery's sender, by GitHub user id), and only if they chose to keep it
on the Agents page (bot/people/tokens.py); anyone else is told where to sign in. Who may: people
with write access, and the people and teams the repository's config lists under `stop` (a start has
no session, so no starter to fall back on).

The task goes to the pull request's branch: `head_ref` is its head branch and `base_ref` its base
branch, since GitHub's description says that with both "the agent looks up open PR context for
`head_ref` targeting `base_ref` and commits to `head_ref`". (Issue 19 said both should be the head
branch; that would make the agent look for a pull request of the branch into itself.) Its run then
arrives by webhook and joins the status comment like any session.

Nothing doubled: GitHub has no idempotency key, so the command run is marked `starting` before the
POST, and an attempt that finds that mark (an earlier one may have started the task, then failed)
looks among the person's tasks of this repository since the comment for one with this prompt on this
branch before starting another. The prompt is outside text: redacted when the comment's line was
kept (bot/handlers/comments.py), never logged, and never repeated in the reply.
"""

from __future__ import annotations

import time

from bot.commands import policies, task_starts
from bot.commands.arguments import Reason
from bot.commands.registry import command
from bot.commands.runs import update_run
from bot.errors import TransientError
from bot.github import api
from bot.github.oauth import OAuthUnavailable
from bot.inert import code_span, one_line
from bot.people.tokens import Tokens

# An earlier attempt's task was started at most this long before GitHub's clock says the comment came.
SKEW = 300.0
LOOKED_AT = 10  # of the person's recent tasks in the repository, when looking for an earlier attempt's

POLICY = policies.ChosenByConfig(policies.writers_or_listed((), ()),
                                 lambda config: policies.writers_or_listed(config.stop_users, config.stop_teams))


@command("start", arguments=(Reason(name="prompt", required=True),), policy=POLICY, done="started",
         summary="Start a Copilot task on this pull request's branch, as you (with your GitHub token kept on the "
                 "Agents page); the rest of the line is the prompt.")
def start(invocation, args) -> str:
    """Start the task (the policy has run) and say where; or why not."""
    runtime, run = invocation.runtime, invocation.run
    token = _kept_token(runtime, run.sender_id)
    if token is None:
        return _sign_in(runtime)
    pull = api.pull_request(invocation.client, run.repository, run.pr_number)
    head, base = pull["head"], pull["base"]
    if (head.get("repo") or {}).get("id") != run.repository_id:
        return "this pull request's branch is in another repository (a fork): Copilot works on this repository's branches only."
    if pull.get("state") != "open":
        return "this pull request is closed: Copilot commits to an open pull request's branch only."
    target = task_starts.Target(run.installation_id, run.repository_id, run.repository)
    person = (run.sender_id, run.sender_login)
    prompt = args.prompt
    row = _started_before(runtime, token, target, run, prompt, head["ref"]) if run.state == "starting" else None
    if row is None:
        update_run(runtime.engine, run.id, state="starting")
        try:
            row = task_starts.start(runtime, token, target, prompt, person=person, base_ref=base["ref"],
                                    head_ref=head["ref"], create_pull_request=False)
        except task_starts.TaskRefused as refused:
            return _refusal(runtime, refused)
    link = f": {row.html_url}" if (row.html_url or "").startswith(runtime.settings.github_url.rstrip("/") + "/") else ""
    return (f"started a Copilot task on this pull request's branch {code_span(head['ref'])}, as you{link}. "
            "Its session shows in this pull request's status comment once its run starts.")


def _kept_token(runtime, user_id: int) -> str | None:
    """The commenter's kept token, or None (no sign-in here at all, or none kept)."""
    if not runtime.settings.sign_in:
        return None
    try:
        return Tokens(runtime.engine, runtime.settings).kept_access_token(user_id)
    except OAuthUnavailable:  # renewing it needs GitHub's web host: worth another try, like any outage
        raise TransientError("GitHub could not be asked to renew the commenter's token") from None


def _sign_in(runtime) -> str:
    """The reply to someone whose token the bot does not keep: where to sign in and keep it."""
    if not runtime.settings.sign_in:
        return ("this bot has no GitHub sign-in configured, so it keeps nobody's token; a Copilot task can be "
                "started only with your own token. Its operator can turn sign-in on.")
    where = (f"sign in at {runtime.settings.public_url.rstrip('/')}/account" if runtime.settings.public_url
             else "sign in on the Agents page (this bot's web page)")
    return ("GitHub starts a Copilot task only with your own token, and I use yours only if you keep it with me: "
            f"{where}, choose to keep your token, then comment again.")


def _refusal(runtime, refused: task_starts.TaskRefused) -> str:
    said = f" GitHub said: “{one_line(refused.said, 200)}”" if refused.said else ""
    if refused.kind == task_starts.TOKEN:
        return f"could not start a task: GitHub no longer accepts your kept token (it expired or was revoked).{said} " \
               + _sign_in(runtime)
    return f"could not start a task. {refused.reason}{said}"


def _started_before(runtime, token: str, target, run, prompt: str, head_ref: str):
    """The task an earlier attempt of this command started, recorded; None when there is none."""
    client = runtime.github.user(token)
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(run.created_at - SKEW))
    for index, listed in enumerate(api.repository_tasks(client, target.repository, since=since,
                                                         creator_id=run.sender_id)):
        if index >= LOOKED_AT:
            break
        found = api.repository_task(client, target.repository, str(listed["id"]))
        if any(isinstance(s, dict) and s.get("prompt") == prompt and s.get("head_ref") == head_ref
               for s in found.get("sessions") or []):
            return task_starts.record(runtime, target, found, person=(run.sender_id, run.sender_login))
    return None
