"""Writing the API log: one row per call, in a transaction of its own after the call's own commit
or rollback, so a refused call is logged while everything it tried is undone. Never secrets or
card data: the action, who (once known), the IP, the result, the message and the duration."""

import logging
from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from models import ApiCredential, ApiLogEntry, utcnow

log = logging.getLogger(__name__)

# last_used_at is refreshed at most this often, so busy credentials do not serialise on one row.
LAST_USED_RESOLUTION = timedelta(seconds=60)


def write_api_log(
    session: Session,
    *,
    action: str,
    credential_id: int | None,
    admin_user_id: int | None,
    caller: str,
    ip_address: str,
    result: str,
    http_status: int,
    message: str,
    duration_ms: int,
    order_id: int | None,
) -> None:
    try:
        session.add(
            ApiLogEntry(
                action=action[:64],
                credential_id=credential_id,
                admin_user_id=admin_user_id,
                caller=caller[:255],
                ip_address=ip_address[:45],
                result=result,
                http_status=http_status,
                message=message[:500],
                duration_ms=duration_ms,
                order_id=order_id,
            )
        )
        if result == "success" and credential_id is not None:
            now = utcnow()
            session.execute(
                update(ApiCredential)
                .where(
                    ApiCredential.id == credential_id,
                    or_(
                        ApiCredential.last_used_at.is_(None),
                        ApiCredential.last_used_at < now - LAST_USED_RESOLUTION,
                    ),
                )
                .values(last_used_at=now)
                .execution_options(synchronize_session=False)
            )
        session.commit()
    except Exception:  # noqa: BLE001 - the answer to the caller must not depend on the log
        session.rollback()
        log.exception("Could not write the API log row for %s", action)
