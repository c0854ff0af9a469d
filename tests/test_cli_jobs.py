"""`flask --app app jobs list|retry`: what an operator types and reads."""

from __future__ import annotations

import pytest

from bot.app import create_app, runtime_of


@pytest.fixture
def app(settings):
    app = create_app(settings)
    with app.app_context():  # as `flask --app app …` runs its commands
        yield app
    runtime_of(app).dispose()


def dead_job(app) -> int:
    queue = runtime_of(app).queue
    with queue.engine.begin() as conn:
        job_id = queue.enqueue(conn, "delivery", {})
    queue.fail(queue.claim("cli-test"), "GitHub answered 502", permanent=True)
    return job_id


def run(app, *args):
    return app.test_cli_runner().invoke(args=["jobs", *args])


def test_retry_queues_a_dead_job_again(app):
    job_id = dead_job(app)
    result = run(app, "retry", str(job_id))
    assert (result.exit_code, result.stdout) == (0, f"job {job_id}: queued again\n")
    again = run(app, "retry", str(job_id))
    assert (again.exit_code, again.stdout) == (0, f"job {job_id}: queued, not dead: left alone\n")


def test_retry_of_a_job_that_does_not_exist_says_so_and_fails(app):
    job_id = dead_job(app)
    result = run(app, "retry", str(job_id), "424242")
    assert result.exit_code == 1
    assert result.stdout == f"job {job_id}: queued again\n"
    assert result.stderr.startswith("job 424242: no such job")
