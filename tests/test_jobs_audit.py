"""`flask --app app audit-side-effects`: services whose state disagrees with their last successful
module call, listed, and with --fix put right through compensating terminates (embedded mode: they
run in-process right after the fix commits)."""

from sqlalchemy import select

from actions.accept import accept_order
from actions.actor import Actor
from actions.cancel import cancel_order
from extensions import db
from models import Order, Service, SideEffect, SideEffectKind
from tests import factories

ADMIN = Actor("admin", 1, "Audit Test")


def active_order() -> Order:
    """Accepted with Run Module Create; the create ran (embedded) and the service is Active."""
    order = factories.make_order()
    accept_order(db.session, order, None, ADMIN)
    db.session.commit()
    db.session.expire_all()
    assert order.services[0].status == "Active"
    return order


def test_audit_lists_and_fixes_accounts_left_behind(app_ctx):
    left_behind = active_order()
    left_behind.services[0].status = "Cancelled"  # changed outside the actions: no terminate
    bulk_cancelled = active_order()
    bulk_cancelled.status = "Cancelled"  # a status-only change: the service stays Active
    consistent = active_order()
    cancel_order(db.session, consistent, ADMIN)  # its terminate runs after the commit
    db.session.commit()
    runner = app_ctx.test_cli_runner()

    listed = runner.invoke(args=["audit-side-effects"])
    assert listed.exit_code == 1
    lines = listed.output.splitlines()
    assert [line.split(",")[0] for line in lines[:2]] == [
        f"order {left_behind.id} (Active)", f"order {bulk_cancelled.id} (Cancelled)"]
    assert "account was created and never terminated; fix: terminate, then Cancelled" in lines[0]
    assert "live on an ended order; fix: terminate, then Cancelled" in lines[1]
    assert "2 disagreement(s)" in lines[2]

    fixed = runner.invoke(args=["audit-side-effects", "--fix"])
    assert fixed.exit_code == 0 and "Recorded 2 compensating terminate(s)" in fixed.output
    db.session.expire_all()
    for order in (left_behind, bulk_cancelled, consistent):
        terminates = db.session.scalars(select(SideEffect).where(
            SideEffect.order_id == order.id, SideEffect.kind == SideEffectKind.MODULE_TERMINATE)).all()
        assert [t.status for t in terminates] == ["succeeded"]
        assert db.session.get(Service, order.services[0].id).status == "Cancelled"
    again = runner.invoke(args=["audit-side-effects"])
    assert again.exit_code == 0 and "No disagreements" in again.output
