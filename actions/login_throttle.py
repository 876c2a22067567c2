"""Failed admin logins, counted per account and per client IP in Flask-Limiter's storage (Redis
when REDIS_URL is set, so every process shares the counts; memory in the embedded mode).

    login_wait(email, ip) -> int | None      seconds until another try is allowed, None: go on
    count_failure(email, ip) -> None         a wrong password or second-factor code
    forget_failures(email) -> None           a login that succeeded clears its account's count

The form asks login_wait before it checks anything, so a throttled try costs no password check.
The per-account count covers unknown emails too: the answer never tells which accounts exist.
"""

import logging
import math
import time

from flask import current_app
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from redis.exceptions import RedisError

from extensions import limiter

log = logging.getLogger(__name__)

# Redis unreachable: this process still throttles, on its own counts.
_fallback = FixedWindowRateLimiter(MemoryStorage())


def _rules(email: str, ip: str):
    config = current_app.config
    return ((parse(config["LOGIN_ACCOUNT_FAILURE_LIMIT"]), ("admin-login-account", email.lower())),
            (parse(config["LOGIN_IP_FAILURE_LIMIT"]), ("admin-login-ip", ip or "unknown")))


def _run(call):
    try:
        return call(limiter.limiter)
    except RedisError as exc:
        log.warning("Login throttle storage unreachable (%s): counting in this process", exc)
        return call(_fallback)


def login_wait(email: str, ip: str) -> int | None:
    waits = []
    for item, key in _rules(email, ip):
        if not _run(lambda strategy, item=item, key=key: strategy.test(item, *key)):
            stats = _run(lambda strategy, item=item, key=key: strategy.get_window_stats(item, *key))
            reset_at = stats.reset_time
            waits.append(max(1, math.ceil(reset_at - time.time())))
    return max(waits) if waits else None


def count_failure(email: str, ip: str) -> None:
    for item, key in _rules(email, ip):
        _run(lambda strategy, item=item, key=key: strategy.hit(item, *key))


def forget_failures(email: str) -> None:
    item, key = _rules(email, "")[0]
    _run(lambda strategy: strategy.clear(item, *key))


def wait_message(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    wait = f"{seconds} seconds" if seconds < 60 else f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"Too many failed login attempts. Try again in {wait}."
