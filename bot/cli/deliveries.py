"""`flask --app app deliveries redeliver|prune`: recover missed deliveries now; prune old data."""

from __future__ import annotations

import click

from bot import retention
from bot.deliveries.plan import GITHUB_RETENTION
from bot.patterns import linear
from bot.runtime import current_runtime

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = linear(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*")


def parse_duration(text: str) -> float:
    """Seconds in "90s", "30m", "2h", "3d"; ValueError otherwise."""
    match = _DURATION.fullmatch(text.lower())
    if not match:
        raise ValueError(f"{text!r} is not a duration like 30m, 2h or 3d")
    return float(match.group(1)) * _UNITS[match.group(2)]


class Duration(click.ParamType):
    """A window back from now, within GitHub's 3-day retention, in seconds."""

    name = "duration"

    def convert(self, value, param, ctx):
        if isinstance(value, float):
            return value
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        if not 0 < seconds <= GITHUB_RETENTION:
            self.fail(f"{value} is outside GitHub's retention: at most 3d", param, ctx)
        return seconds


@click.group("deliveries", help="Webhook deliveries: recover missed ones, prune old ones.")
def deliveries_group():
    pass


@deliveries_group.command("redeliver", help="Ask GitHub to redeliver failed deliveries the bot never stored.")
@click.option("--since", type=Duration(), default="3d", show_default=True,
              help="How far back to look: 30m, 2h, 3d (GitHub keeps deliveries 3 days).")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many redeliveries "
              "[default: REDELIVERY_MAX_PER_RUN].")
@click.option("--max-attempts", type=click.IntRange(min=1), help="Redeliveries of one delivery before giving "
              "it up [default: REDELIVERY_MAX_ATTEMPTS]; raise it after an outage that used them up.")
@click.option("--dry-run", is_flag=True, help="List what would be redelivered; ask GitHub for nothing.")
def redeliver(since: float, limit: int | None, max_attempts: int | None, dry_run: bool):
    from bot.deliveries.recovery import recover

    runtime = current_runtime()
    if runtime.github is None:
        raise click.ClickException("setup mode: APP_ID, PRIVATE_KEY and WEBHOOK_SECRET are not configured")
    for line in recover(runtime, since=since, limit=limit, max_attempts=max_attempts, dry_run=dry_run).lines():
        click.echo(line)


@deliveries_group.command("prune", help="Delete done jobs and stored deliveries older than the retention.")
@click.option("--days", type=click.IntRange(min=3), help="Keep this many days [default: RETENTION_DAYS]; "
              "at least 3, the days GitHub keeps deliveries.")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
def prune(days: int | None, dry_run: bool):
    runtime = current_runtime()
    days = days or runtime.settings.retention_days
    if not days:
        raise click.ClickException("RETENTION_DAYS is 0 (keep everything): pass --days N to prune anyway")
    pruned = retention.prune(runtime.engine, days, dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"{verb} {pruned.jobs} done job(s), {pruned.deliveries} delivery(ies), "
               f"{pruned.redelivery_requests} redelivery request(s) and {pruned.cached_answers} cached answer(s) "
               f"older than {days} days")
