"""Email side effects (templates, merge fields, the email log), the sweeper CLI, back-off."""

from datetime import timedelta

from sqlalchemy import select

from actions.side_effects import record_email
from jobs.run import retry_delay
from models import (
    EmailLog,
    EmailStatus,
    EmailTemplate,
    Service,
    ServiceStatus,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
)
from tests import factories
from tests.jobs_support import fresh, record_confirmation


def test_order_confirmation_is_rendered_and_kept_in_the_email_log(session):
    order = factories.make_order()
    effect = record_confirmation(order)
    session.commit()  # embedded mode: runs right after the commit; no MAIL_SERVER: stored, not sent
    assert fresh(SideEffect, effect.id).status == SideEffectStatus.SUCCEEDED
    log = fresh(EmailLog, effect.target_id)
    assert log.status == EmailStatus.STORED and log.sent_at is None
    assert log.subject == "Order Confirmation" and log.to == order.client.email
    assert f"Order Number: {order.order_number}" in log.body
    assert f"Dear {order.client.full_name}," in log.body
    assert order.services[0].product.name in log.body


def test_product_welcome_picks_the_template_for_the_product_type(session):
    order = factories.make_order(services=[ServiceStatus.ACTIVE])
    service = order.services[0]
    service.username = "ada1234"
    effect = record_email(
        session,
        template="Product Welcome",
        to=order.client.email,
        client_id=order.client_id,
        order_id=order.id,
        context={"service_id": service.id},
    )
    session.commit()
    log = fresh(EmailLog, effect.target_id)
    assert log.template == "Hosting Account Welcome Email" and log.subject == "New Account Information"
    assert "Username: ada1234" in log.body and f"Domain: {service.domain}" in log.body


def test_edited_template_is_used_and_sandboxed(session):
    template = session.scalar(select(EmailTemplate).where(EmailTemplate.name == "Order Confirmation"))
    template.subject = "Thanks for order {{ order_number }}"
    template.body = "Hi {{ client_first_name }} {{ ''.__class__.__mro__ }}"
    order = factories.make_order()
    effect = record_confirmation(order)
    session.commit()
    done = fresh(SideEffect, effect.id)
    # Python internals are off limits in admin-edited templates: a clear, final failure.
    assert done.status == SideEffectStatus.FAILED and done.attempts == 1
    assert "does not render" in done.last_error
    assert fresh(EmailLog, effect.target_id).status == EmailStatus.FAILED

    template.body = "Hi {{ client_first_name }}"
    effect = record_confirmation(order)
    session.commit()
    log = fresh(EmailLog, effect.target_id)
    assert (log.subject, log.body) == (f"Thanks for order {order.order_number}", "Hi Ada")


def test_unknown_template_fails_at_once_without_retrying(session):
    effect = record_email(
        session, template="No Such Template", to="x@example.com", client_id=None, order_id=None
    )
    session.commit()
    done = fresh(SideEffect, effect.id)
    assert (done.status, done.attempts) == (SideEffectStatus.FAILED, 1)
    assert "No email template named" in done.last_error


def test_sweep_command_runs_rows_nobody_ran(session, app_ctx):
    order = factories.make_order()
    # A row committed without going through the dispatcher (as after a crash right after commit).
    effect = SideEffect(
        kind=SideEffectKind.MODULE_CREATE,
        order_id=order.id,
        target_type="service",
        target_id=order.services[0].id,
        idempotency_key="module_create-swept",
    )
    session.add(effect)
    session.commit()
    assert fresh(SideEffect, effect.id).status == SideEffectStatus.QUEUED

    result = app_ctx.test_cli_runner().invoke(args=["sweep"])
    assert result.exit_code == 0, result.output
    assert "1 run in-process" in result.output
    assert fresh(SideEffect, effect.id).status == SideEffectStatus.SUCCEEDED
    assert fresh(Service, order.services[0].id).status == ServiceStatus.ACTIVE
    again = app_ctx.test_cli_runner().invoke(args=["sweep"])
    assert "0 run in-process" in again.output


def test_retry_delay_doubles_up_to_the_cap(app_ctx):
    app_ctx.config.update(SIDE_EFFECT_RETRY_BASE_SECONDS=30, SIDE_EFFECT_RETRY_MAX_SECONDS=3600)
    try:
        assert [retry_delay(n) for n in (1, 2, 3, 4)] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
        assert retry_delay(20) == timedelta(hours=1)
    finally:
        app_ctx.config.update(SIDE_EFFECT_RETRY_BASE_SECONDS=30, SIDE_EFFECT_RETRY_MAX_SECONDS=3600)
