"""The outbox pipeline end to end: after-commit dispatch, a real RQ worker, embedded mode."""

from rq import Queue
from sqlalchemy import event, select

from actions.side_effects import PENDING_KEY
from extensions import db
from models import EmailLog, OrderEvent, Server, Service, ServiceStatus, SideEffect, SideEffectStatus
from tests import factories
from tests.jobs_support import (
    TEST_REDIS_URL,
    WEBHOOK_SECRET,
    app_context_for,
    connect_redis,
    fresh,
    record_create,
    run_burst,
    webhook_product,
)
from tests.modules_support.http_stub import StubServer
from tests.modules_support.webhook_receiver import ReceiverHandler, ReceiverState


def test_create_runs_on_a_real_worker_after_commit(app_ctx, database_url):
    connection = connect_redis()
    connection.flushdb()
    with app_context_for(database_url, TEST_REDIS_URL) as app:
        order = factories.make_order()
        effect = record_create(order)
        effect_id, service_id = effect.id, order.services[0].id
        queue_name = app.config["RQ_QUEUE"]
        # Nothing reaches Redis before the commit: a worker cannot see uncommitted rows.
        assert connection.llen(f"rq:queue:{queue_name}") == 0
        db.session.commit()
        assert connection.lrange(f"rq:queue:{queue_name}", 0, -1) == [b"side-effect-%d" % effect_id]

        run_burst(app, connection)

        done = fresh(SideEffect, effect_id)
        assert done.status == SideEffectStatus.SUCCEEDED, done.last_error
        assert done.attempts == 1
        assert fresh(Service, service_id).status == ServiceStatus.ACTIVE
        verbs = db.session.scalars(select(OrderEvent.verb).where(OrderEvent.order_id == order.id)).all()
        assert "side_effect_succeeded" in verbs
    connection.flushdb()


def test_nothing_reaches_redis_before_the_database_commit(app_ctx, database_url):
    """Looked at the moment the database commits: a job enqueued any earlier (at flush, in
    before_commit) could run before its row is visible."""
    connection = connect_redis()
    connection.flushdb()
    with app_context_for(database_url, TEST_REDIS_URL) as app:
        key = f"rq:queue:{app.config['RQ_QUEUE']}"
        seen_at_commit = []

        def at_commit(conn):
            seen_at_commit.append(connection.llen(key))

        event.listen(db.engine, "commit", at_commit)
        try:
            effect = record_create(factories.make_order())
            db.session.commit()
        finally:
            event.remove(db.engine, "commit", at_commit)
        assert seen_at_commit == [0]
        assert connection.lrange(key, 0, -1) == [b"side-effect-%d" % effect.id]
    connection.flushdb()


def test_the_job_follows_the_payload_production_writes(app_ctx, database_url):
    """The create goes to the server chosen when accepting (payload server_id, not the product's
    default) with the username chosen then, and the welcome email the payload asks for follows."""
    connection = connect_redis()
    connection.flushdb()
    default, chosen = ReceiverState(WEBHOOK_SECRET), ReceiverState(WEBHOOK_SECRET)
    with (
        StubServer(ReceiverHandler, default) as default_url,
        StubServer(ReceiverHandler, chosen) as chosen_url,
        app_context_for(database_url, TEST_REDIS_URL) as app,
    ):
        order = factories.make_order(product=webhook_product(default_url.url))
        server = Server(name="chosen", hostname="web2.example", module="webhook", url=chosen_url.url,
                        secret=WEBHOOK_SECRET)
        db.session.add(server)
        db.session.flush()
        effect = record_create(order, server_id=server.id)
        service = order.services[0]
        service_id, username, client_email = service.id, service.username, order.client.email
        db.session.commit()
        run_burst(app, connection)

        assert default.bodies == []
        [body] = chosen.bodies
        assert body["service"]["server"]["id"] == server.id and body["service"]["username"] == username
        assert fresh(SideEffect, effect.id).status == SideEffectStatus.SUCCEEDED
        assert fresh(Service, service_id).status == ServiceStatus.ACTIVE
        [welcome] = db.session.scalars(select(EmailLog).where(EmailLog.order_id == order.id)).all()
        assert welcome.to == client_email and welcome.status == "stored" and username in welcome.body
    connection.flushdb()


def test_second_enqueue_of_a_row_is_a_no_op(app_ctx, database_url):
    from jobs.dispatcher import dispatch

    connection = connect_redis()
    connection.flushdb()
    with app_context_for(database_url, TEST_REDIS_URL) as app:
        effect = record_create(factories.make_order())
        db.session.commit()
        dispatch([effect.id])  # as a sweeper or a double dispatch would
        assert connection.llen(f"rq:queue:{app.config['RQ_QUEUE']}") == 1
        run_burst(app, connection)
        assert fresh(SideEffect, effect.id).attempts == 1
    connection.flushdb()


def test_a_large_commit_enqueues_a_bounded_number_itself_and_fans_out_the_rest(app_ctx, database_url):
    """A bulk change announced to a hook commits one delivery per order: the request enqueues the
    first ENQUEUED_IN_REQUEST and one fan-out job per FAN_OUT_BATCH of the rest; the fan-out jobs,
    run by a worker, enqueue each remaining first attempt once."""
    from rq.job import Job

    from jobs.dispatcher import ENQUEUED_IN_REQUEST, FAN_OUT_BATCH, FAN_OUT_FUNCTION, dispatch

    connection = connect_redis()
    connection.flushdb()
    with app_context_for(database_url, TEST_REDIS_URL) as app:
        queue = Queue(app.config["RQ_QUEUE"], connection=connection)
        ids = list(range(1, ENQUEUED_IN_REQUEST + FAN_OUT_BATCH + 501))  # jobs only: no rows needed
        dispatch(ids)
        queued = queue.job_ids
        assert queued[:ENQUEUED_IN_REQUEST] == [f"side-effect-{i}" for i in ids[:ENQUEUED_IN_REQUEST]]
        fan_outs = [Job.fetch(job_id, connection=connection) for job_id in queued[ENQUEUED_IN_REQUEST:]]
        assert [job.func_name for job in fan_outs] == [FAN_OUT_FUNCTION] * 2
        assert [len(job.args[0]) for job in fan_outs] == [FAN_OUT_BATCH, 500]
        assert [(job.retries_left, job.retry_intervals) for job in fan_outs] == [(3, [5, 30, 120])] * 2

        assert [job.perform() for job in fan_outs] == [FAN_OUT_BATCH, 500]
        side_effect_jobs = [job_id for job_id in queue.job_ids if job_id.startswith("side-effect-")]
        assert sorted(side_effect_jobs) == sorted(f"side-effect-{i}" for i in ids)
        assert fan_outs[0].perform() == 0  # run again while its jobs wait (a retried fan-out): none twice
    connection.flushdb()


def test_rollback_drops_pending_rows_and_nothing_is_enqueued(app_ctx, database_url):
    connection = connect_redis()
    connection.flushdb()
    with app_context_for(database_url, TEST_REDIS_URL) as app:
        record_create(factories.make_order())
        assert db.session.info[PENDING_KEY]
        db.session.rollback()
        assert PENDING_KEY not in db.session.info
        db.session.commit()
        assert connection.llen(f"rq:queue:{app.config['RQ_QUEUE']}") == 0
        assert db.session.scalar(select(SideEffect.id)) is None
    connection.flushdb()


def test_savepoint_release_does_not_dispatch(app_ctx, database_url):
    connection = connect_redis()
    connection.flushdb()
    with app_context_for(database_url, TEST_REDIS_URL) as app:
        order = factories.make_order()
        with db.session.begin_nested():
            effect = record_create(order)
        assert connection.llen(f"rq:queue:{app.config['RQ_QUEUE']}") == 0
        db.session.commit()
        queued = connection.lrange(f"rq:queue:{app.config['RQ_QUEUE']}", 0, -1)
        assert queued == [b"side-effect-%d" % effect.id]
    connection.flushdb()


def test_embedded_mode_runs_the_job_in_process_after_commit(session):
    order = factories.make_order()
    effect = record_create(order)
    service_id = order.services[0].id
    assert fresh(SideEffect, effect.id) is None  # not committed yet, so not run yet
    session.commit()
    done = fresh(SideEffect, effect.id)
    assert done.status == SideEffectStatus.SUCCEEDED, done.last_error
    assert fresh(Service, service_id).status == ServiceStatus.ACTIVE
