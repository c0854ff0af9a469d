"""The intake's outbox: a delivery and its job are written together, once per delivery id."""

from __future__ import annotations

from sqlalchemy import create_engine, select, text

from bot import db
from bot.jobs import Queue
from bot.outbox import Outbox


def test_a_delivery_is_stored_once_with_a_job_the_queue_can_claim(engine, database_url):
    outbox = Outbox(db.make_engine(database_url, pre_ping=False))

    assert outbox.store("d-1", "issue_comment", "created", 7, b'{"a": 1}') is True
    assert outbox.store("d-1", "issue_comment", "created", 7, b'{"a": 1}') is False

    job = Queue(engine, lease=30, retry_base=1, max_attempts=3).claim("w")
    with engine.connect() as conn:
        delivery = conn.execute(select(db.deliveries)).one()
    assert (job.kind, job.args, job.delivery_id) == ("delivery", {}, delivery.id)
    assert (delivery.guid, delivery.action, delivery.installation_id, delivery.body) == \
        ("d-1", "created", 7, b'{"a": 1}')


def test_a_connection_the_server_dropped_is_replaced_without_losing_the_delivery(empty_postgres_url):
    outbox = Outbox(db.make_engine(empty_postgres_url, pre_ping=False))
    assert outbox.store("before", "push", None, None, b"{}")
    admin = create_engine(empty_postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # what a database restart or failover does to pooled connections
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    admin.dispose()

    assert outbox.store("after", "push", None, None, b"{}") is True

    with db.make_engine(empty_postgres_url).connect() as conn:
        assert conn.execute(select(db.deliveries.c.guid).order_by(db.deliveries.c.id)).scalars().all() == \
            ["before", "after"]
        assert len(conn.execute(select(db.jobs.c.delivery_id)).scalars().all()) == 2


def test_on_postgresql_only_a_delivery_with_work_to_do_waits_for_the_disk(empty_postgres_url):
    outbox = Outbox(create_engine(empty_postgres_url, pool_size=1, max_overflow=0))

    def setting() -> str:
        raw = outbox.engine.raw_connection()  # the pool's one connection: the one the outbox wrote on
        try:
            return raw.driver_connection.execute("SHOW synchronous_commit").fetchone()[0]
        finally:
            raw.close()

    assert outbox.store("ignored", "star", "created", None, b"{}", job_priority=None)
    assert setting() == "off"
    assert outbox.store("with-a-job", "pull_request", "opened", None, b"{}")
    assert setting() == "on"
    with outbox.engine.connect() as conn:
        assert conn.execute(select(db.deliveries.c.outcome).order_by(db.deliveries.c.id)).scalars().all() == \
            ["ignored", "queued"]
