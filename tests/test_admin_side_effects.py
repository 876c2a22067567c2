"""The Jobs menu: failed side effects across orders, the badge, bulk Retry / Cancel, permissions."""

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actions.side_effect_outcomes import fail_side_effect, start_side_effect
from extensions import db
from jobs.sweeper import sweep
from models import (
    EmailLog,
    OrderEvent,
    Permission,
    Role,
    Service,
    ServiceStatus,
    SideEffect,
    SideEffectStatus,
)
from tests import factories
from tests.conftest import make_test_app
from tests.jobs_support import (
    TEST_REDIS_URL,
    WEBHOOK_SECRET,
    app_context_for,
    fresh,
    job_config,
    record_create,
    webhook_product,
)
from tests.modules_support.http_stub import StubServer
from tests.modules_support.webhook_receiver import ReceiverHandler, ReceiverState

LIST = "/admin/side-effects/"
FAILED = LIST + "?flt0_status_equals=failed"
ACTION = LIST + "action/"


def failed_create(error: str = "Server said no") -> SideEffect:
    """A module_create whose last attempt failed, recorded through the same actions the job uses."""
    order = factories.make_order()
    effect = record_create(order)
    start_side_effect(db.session, effect.id)
    fail_side_effect(db.session, effect, error)
    return effect


def badge(html: str) -> int | None:
    found = re.search(r'id="failed-side-effects-badge"[^>]*>([^<]+)<', html)
    return int(found.group(1)) if found else None


def statuses(*effects) -> list[str]:
    return [fresh(SideEffect, e.id).status for e in effects]


def test_support_gets_403_and_no_jobs_menu(client_as, session):
    effect = failed_create()
    client = client_as(factories.make_admin("Support"))
    session.commit()
    assert client.get(FAILED).status_code == 403
    assert client.post(ACTION, data={"action": "retry", "rowid": [str(effect.id)]}).status_code == 403
    home = client.get("/admin/").get_data(as_text=True)
    assert "Failed side effects" not in home and "All side effects" not in home and badge(home) is None
    assert statuses(effect) == [SideEffectStatus.FAILED]


def test_failed_list_shows_only_failed_rows_with_order_links_and_a_badge(admin_client, session):
    long_error = "Connection refused by web1.example " * 10
    failed = [failed_create(long_error), failed_create()]
    order = factories.make_order()
    queued = record_create(order)  # runs (and succeeds) after the commit: not a failed row
    session.commit()
    response = admin_client.get(FAILED)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert badge(html) == 2
    assert f'href="/admin/orders/details/?id={failed[0].order_id}"' in html
    assert f'href="/admin/orders/details/?id={order.id}"' not in html  # its row is not failed
    assert f">{long_error[:80]}…</span>" in html  # cut in the cell, whole in its tooltip
    assert "1/5" in html  # attempts / the configured limit
    assert statuses(queued) == [SideEffectStatus.SUCCEEDED]
    # "All side effects" lists every row.
    all_rows = admin_client.get(LIST).get_data(as_text=True)
    assert f'href="/admin/orders/details/?id={order.id}"' in all_rows


def test_sales_operator_bulk_retry_runs_the_rows_and_the_badge_drops(client_as, session):
    first, second = failed_create(), failed_create()
    service_ids = [first.target_id, second.target_id]
    client = client_as(factories.make_admin("Sales Operator"))  # Retry permission, no job monitor
    session.commit()
    page = client.get(FAILED).get_data(as_text=True)
    assert badge(page) == 2 and "Jobs dashboard" not in page
    response = client.post(ACTION, data={"action": "retry", "rowid": [str(first.id), str(second.id)],
                                         "url": FAILED}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "2 retried, 0 refused." in html
    # Embedded mode: the manual module ran right after the commit, inside that request.
    assert statuses(first, second) == [SideEffectStatus.SUCCEEDED] * 2
    assert [fresh(Service, i).status for i in service_ids] == [ServiceStatus.ACTIVE] * 2
    assert badge(html) is None
    verbs = session.scalars(select(OrderEvent.verb).where(OrderEvent.order_id == first.order_id)).all()
    assert "side_effect_retried" in verbs


def test_retry_reports_rows_it_refuses(admin_client, session):
    failed = failed_create()
    done = record_create(factories.make_order())
    session.commit()
    assert statuses(done) == [SideEffectStatus.SUCCEEDED]
    html = admin_client.post(ACTION, data={"action": "retry", "rowid": [str(failed.id), str(done.id)]},
                             follow_redirects=True).get_data(as_text=True)
    assert "1 retried, 1 refused" in html
    assert f"#{done.id}: Only failed side effects can be retried" in html
    assert statuses(failed, done) == [SideEffectStatus.SUCCEEDED] * 2


def test_bulk_cancel_cancels_failed_rows(admin_client, session):
    first, second = failed_create(), failed_create()
    session.commit()
    html = admin_client.post(ACTION, data={"action": "cancel", "rowid": [str(first.id), str(second.id)]},
                             follow_redirects=True).get_data(as_text=True)
    assert "2 cancelled, 0 refused." in html
    assert statuses(first, second) == [SideEffectStatus.CANCELLED] * 2
    assert fresh(Service, first.target_id).status == ServiceStatus.PENDING  # nothing ran
    assert badge(admin_client.get(FAILED).get_data(as_text=True)) is None


def test_role_without_retry_permission_is_refused_and_nothing_changes(client_as, session):
    role = Role(name="Job Watcher", permissions=[Permission.VIEW_JOBS.value])
    session.add(role)
    session.flush()
    effect = failed_create()
    client = client_as(factories.make_admin("Job Watcher"))
    session.commit()
    page = client.get(FAILED)
    assert page.status_code == 200 and badge(page.get_data(as_text=True)) == 1
    assert 'name="rowid"' not in page.get_data(as_text=True)  # no bulk actions offered
    for verb in ("retry", "cancel"):
        assert client.post(ACTION, data={"action": verb, "rowid": [str(effect.id)]}).status_code == 403
    row = fresh(SideEffect, effect.id)
    assert (row.status, row.attempts) == (SideEffectStatus.FAILED, 1)
    assert session.scalar(select(func.count()).select_from(OrderEvent)
                          .where(OrderEvent.verb == "side_effect_retried")) == 0


def test_the_list_is_read_only(admin_client, session):
    effect = failed_create()
    session.commit()
    details = admin_client.get(LIST + f"details/?id={effect.id}")
    assert details.status_code == 200 and "Server said no" in details.get_data(as_text=True)
    assert admin_client.get(LIST + "new/").status_code == 403
    assert admin_client.get(LIST + f"edit/?id={effect.id}").status_code == 403
    assert admin_client.post(LIST + "delete/", data={"id": str(effect.id)}).status_code == 403
    assert statuses(effect) == [SideEffectStatus.FAILED]


def test_bulk_retry_needs_the_csrf_token(app_ctx, database_url):
    app = make_test_app(database_url, WTF_CSRF_ENABLED=True)
    with app.app_context():
        effect_id = failed_create().id
        admin = factories.make_admin()
        db.session.commit()
        assert admin.id  # loaded, so the test client can log it in after this block
        db.session.expunge_all()
    client = app.test_client(user=admin)
    response = client.post(ACTION, data={"action": "retry", "rowid": [str(effect_id)]})
    assert response.status_code == 400
    with app.app_context():
        assert fresh(SideEffect, effect_id).status == SideEffectStatus.FAILED
        page = client.get(FAILED).get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        ok = client.post(ACTION, data={"action": "retry", "rowid": [str(effect_id)], "csrf_token": token})
        assert ok.status_code == 302
        assert fresh(SideEffect, effect_id).status == SideEffectStatus.SUCCEEDED
        db.engine.dispose()


def test_jobs_dashboard_link_needs_redis_and_the_jobs_permission(admin_client, session, database_url):
    session.commit()
    assert "/admin/rq/" not in admin_client.get(FAILED).get_data(as_text=True)  # embedded: no Redis
    # The link is only rendered; nothing here talks to Redis.
    app = make_test_app(database_url, **job_config(TEST_REDIS_URL))
    with app.app_context():
        full, sales = factories.make_admin(), factories.make_admin("Sales Operator")
        db.session.commit()
        assert full.id and sales.id  # loaded, so the test clients can log them in after this block
        db.session.expunge_all()
    assert 'href="/admin/rq/"' in app.test_client(user=full).get(FAILED).get_data(as_text=True)
    sales_page = app.test_client(user=sales).get(FAILED)
    assert sales_page.status_code == 200 and "/admin/rq/" not in sales_page.get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()


def test_last_failed_create_emails_admins_and_shows_in_the_failed_list(app_ctx, database_url):
    state = ReceiverState(WEBHOOK_SECRET)
    state.plan("500", "500")
    with StubServer(ReceiverHandler, state) as receiver, \
            app_context_for(database_url, None, SIDE_EFFECT_MAX_ATTEMPTS=2) as app:
        admin = factories.make_admin()
        effect_id = record_create(factories.make_order(product=webhook_product(receiver.url))).id
        db.session.commit()  # embedded: attempt 1 runs now and fails (500), a retry is due at once

        def setup_failed_mails():
            return db.session.scalars(
                select(EmailLog).where(EmailLog.template == "Automatic Setup Failed")
            ).all()

        assert fresh(SideEffect, effect_id).status == SideEffectStatus.QUEUED
        assert setup_failed_mails() == []  # not the last attempt yet
        with Session(db.engine) as session:
            sweep(session, None)  # runs the due retry in-process: the last attempt
        row = fresh(SideEffect, effect_id)
        assert (row.status, row.attempts) == (SideEffectStatus.FAILED, 2)
        [mail] = setup_failed_mails()
        assert mail.to == admin.email and "Internal error" in mail.body
        html = app.test_client(user=admin).get(FAILED).get_data(as_text=True)
        assert badge(html) == 1 and "Internal error" in html
