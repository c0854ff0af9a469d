"""Every webhook handler and job kind, by concern. Importing this package registers them all.

Where a delivery goes (`@on("event.action")` in the module named):
- `installations`  installation*: which installations and repositories the App covers;
- `authorizations` github_app_authorization.revoked, installation.deleted: what sign-in keeps of people;
- `backfill`       installation.created / repositories added: past agent runs into the index;
- `index`          workflow_run, workflow_job, pull_request: the session index;
- `timeline`       (job) a pull request's timeline into the index: who started each session;
- `status_comment` workflow_run, workflow_job, pull_request: the one status comment per PR;
- `log_followups`  workflow_run.completed: the log summaries people asked for while it ran;
- `finish_summaries` workflow_run.completed: the summary on finish (folded into the status comment);
- `insights`       workflow_run.completed: a finished run's jobs' time; (periodic) stored summaries' causes;
- `comments`       issue_comment: command lines into command jobs (`bot/commands/` answers them);
- `watchdog`       (periodic job) stuck sessions marked, their starter told once, auto-stop;
- `task_refresh`   (periodic job) Copilot tasks read with people's kept tokens: state, usage, artifacts.

Handlers of one event run in the order of `ORDER`, and that order matters: the backfill reads the
repositories `installations` just listed, and the status comment reads what `index` just wrote.
A test checks the registry follows it.
"""

from bot.handlers import (installations, authorizations, backfill, index, timeline, status_comment, log_followups,
                          finish_summaries, insights, comments, watchdog, task_refresh)

ORDER = (installations, authorizations, backfill, index, timeline, status_comment, log_followups, finish_summaries,
         insights, comments, watchdog, task_refresh)

# Job kinds that are not webhook handlers' own.
from bot import retention  # noqa: E402,F401  (periodic: the daily prune)
from bot.commands import dispatch  # noqa: E402,F401  (the `command` job and every command)
from bot.deliveries import recovery  # noqa: E402,F401  (periodic: missed-delivery recovery)
from bot import notices  # noqa: E402,F401  (the `notice.post` job: a comment that mentions someone once)
