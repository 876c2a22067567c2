"""The outbox pipeline end to end: after-commit dispatch, a real RQ worker, embedded mode."""

from sqlalchemy import select

from actions.side_effects import PENDING_KEY
from extensions import db
from models import OrderEvent, Service, ServiceStatus, SideEffect, SideEffectStatus
from tests import factories
from tests.jobs_support import (
    TEST_REDIS_URL,
    app_context_for,
    connect_redis,
    fresh,
    record_create,
    run_burst,
)


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
