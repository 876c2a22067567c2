"""Settings from the environment, with safe defaults for the embedded mode (`make run`)."""

import math
import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("ORDERDESK_INSTANCE", BASE_DIR / "instance"))


def _instance_secret_key() -> str:
    """A random key kept in instance/ so sessions and encrypted columns survive restarts."""
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{INSTANCE_DIR / 'orderdesk.db'}"
    # Heroku-style URLs; we use psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def load_config() -> dict:
    """The configuration mapping create_app() starts from."""
    return {
        # "production": SECRET_KEY and ENCRYPTION_KEY must be given (never generated); anything
        # else is the embedded mode (`make run`), which keeps a generated key in instance/.
        "ORDERDESK_ENV": os.environ.get("ORDERDESK_ENV", "embedded"),
        # None: create_app uses instance/secret_key (embedded mode) or refuses to start (production).
        "SECRET_KEY": os.environ.get("SECRET_KEY") or None,
        # Encrypts service passwords, EPP codes and gateway secrets; defaults to SECRET_KEY
        # outside production.
        "ENCRYPTION_KEY": os.environ.get("ENCRYPTION_KEY"),
        # Keys that still decrypt (comma- or space-separated) while `rotate-encryption-key`
        # re-encrypts everything with ENCRYPTION_KEY; drop them once it reports nothing left.
        "ENCRYPTION_OLD_KEYS": os.environ.get("ENCRYPTION_OLD_KEYS", ""),
        "SQLALCHEMY_DATABASE_URI": _database_url(),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "RQ_QUEUE": os.environ.get("RQ_QUEUE", "orderdesk"),
        "SIDE_EFFECT_MAX_ATTEMPTS": int(os.environ.get("SIDE_EFFECT_MAX_ATTEMPTS", "5")),
        # Back-off between attempts: base, 2x base, 4x base ... capped (seconds).
        "SIDE_EFFECT_RETRY_BASE_SECONDS": float(os.environ.get("SIDE_EFFECT_RETRY_BASE_SECONDS", "30")),
        "SIDE_EFFECT_RETRY_MAX_SECONDS": float(os.environ.get("SIDE_EFFECT_RETRY_MAX_SECONDS", "3600")),
        # RQ stops a side-effect job running longer than this, and the sweeper then takes the
        # attempt as lost and retries it: a job killed with its worker is retried within this plus
        # one sweep interval. Must exceed MODULE_TIMEOUT_SECONDS (checked at start).
        "SIDE_EFFECT_RUNNING_TIMEOUT_SECONDS": float(
            os.environ.get("SIDE_EFFECT_RUNNING_TIMEOUT_SECONDS", "120")
        ),
        # Every worker sweeps in turn, once per interval across all of them (0: this app's workers
        # never sweep; then run `flask --app app sweep` from cron).
        "SIDE_EFFECT_SWEEP_INTERVAL_SECONDS": float(
            os.environ.get("SIDE_EFFECT_SWEEP_INTERVAL_SECONDS", "60")
        ),
        # The daily automation (renewal invoices, auto-cancel) is queued by the workers from this
        # hour (UTC) each day; without workers run `flask --app app daily` from cron.
        "DAILY_AUTOMATION_HOUR": min(max(int(os.environ.get("DAILY_AUTOMATION_HOUR", "0")), 0), 23),
        "MODULE_TIMEOUT_SECONDS": float(os.environ.get("MODULE_TIMEOUT_SECONDS", "10")),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": os.environ.get("MAIL_USE_TLS", "") == "1",
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "orders@orderdesk.local"),
        # An admin's login ends after this many minutes without a request, and this many hours
        # after it began whatever the activity (actions/admin_sessions.py).
        "ADMIN_SESSION_IDLE_MINUTES": float(os.environ.get("ADMIN_SESSION_IDLE_MINUTES", "60")),
        "ADMIN_SESSION_LIFETIME_HOURS": float(os.environ.get("ADMIN_SESSION_LIFETIME_HOURS", "12")),
        # Bulk Send Message: at most this many clients per message (each is an email log row and a
        # job); a bigger campaign is split by filter.
        "MASS_MAIL_MAX_RECIPIENTS": int(os.environ.get("MASS_MAIL_MAX_RECIPIENTS", "5000")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "") == "1",
        "WTF_CSRF_ENABLED": True,
        # The WHMCS-compatible API (docs/api.md). Callers whose credential has no IP allow-list of
        # its own (and legacy admin logins) must come from one of these (IPs or CIDR ranges).
        # Reverse proxies in front of gunicorn whose X-Forwarded-For/-Proto/-Host are believed
        # (docs/deploy.md); 0: none, the connection's own address is the client's. Never more than
        # are really there, or a client can choose its own IP (the API allow-list, login throttle).
        "TRUSTED_PROXY_COUNT": min(max(int(os.environ.get("TRUSTED_PROXY_COUNT", "0")), 0), 5),
        "API_ALLOWED_IPS": os.environ.get("API_ALLOWED_IPS", "127.0.0.1 ::1"),
        # WHMCS's $api_access_key: a request carrying it as `accesskey` skips the IP check. Unset: off.
        "API_ACCESS_KEY": os.environ.get("API_ACCESS_KEY") or None,
        # Failed API logins per caller IP before further calls are refused (Flask-Limiter syntax).
        "API_AUTH_FAILURE_LIMIT": os.environ.get("API_AUTH_FAILURE_LIMIT", "10 per minute"),
        # Failed admin logins (wrong password or second-factor code) before the login form refuses,
        # without checking the password, until the window ends: per account and per client IP.
        "LOGIN_ACCOUNT_FAILURE_LIMIT": os.environ.get("LOGIN_ACCOUNT_FAILURE_LIMIT", "5 per 15 minutes"),
        "LOGIN_IP_FAILURE_LIMIT": os.environ.get("LOGIN_IP_FAILURE_LIMIT", "20 per 15 minutes"),
        # "Remember this browser" at the second factor (off unless the admin ticks it) lasts this long.
        "TWO_FACTOR_REMEMBER_DAYS": int(os.environ.get("TWO_FACTOR_REMEMBER_DAYS", "30")),
        # Internal networks (IPs or CIDR ranges) event hook endpoints may reach (docs/hooks.md).
        # Unset: none in production (public addresses only), this host in the embedded mode.
        "HOOK_ALLOWED_NETWORKS": os.environ.get("HOOK_ALLOWED_NETWORKS"),
        "API_MAX_BODY_BYTES": int(os.environ.get("API_MAX_BODY_BYTES", str(1024 * 1024))),
        # Throttling counters (Flask-Limiter): Redis when REDIS_URL is set (shared by every
        # process), else this process's memory. create_app fills it in when not given.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or None,
    }


def key_settings(config) -> tuple[str, str, list[str]]:
    """(SECRET_KEY, encryption key, old encryption keys) for create_app. Production refuses to start
    without its keys rather than generate one: a generated key would sign sessions no other process
    accepts and encrypt secrets no other process can read."""
    production = config.get("ORDERDESK_ENV") == "production"
    missing = [name for name in ("SECRET_KEY", "ENCRYPTION_KEY") if not config.get(name)]
    if production and missing:
        raise RuntimeError(f"Configuration refused: ORDERDESK_ENV=production needs {' and '.join(missing)} "
                           "set (never generated in production)")
    secret_key = config.get("SECRET_KEY") or _instance_secret_key()
    old = config.get("ENCRYPTION_OLD_KEYS") or ""
    old_keys = old.replace(",", " ").split() if isinstance(old, str) else list(old)
    return secret_key, config.get("ENCRYPTION_KEY") or secret_key, old_keys


def hook_allowed_networks(config) -> list:
    """HOOK_ALLOWED_NETWORKS parsed, or the mode's default; a bad value stops the start-up."""
    from models.bounds import parse_networks

    value = config.get("HOOK_ALLOWED_NETWORKS")
    if value is None:
        value = "" if config.get("ORDERDESK_ENV") == "production" else "127.0.0.0/8 ::1"
    if not isinstance(value, str):
        return list(value)
    try:
        return parse_networks(value)
    except ValueError as exc:
        raise RuntimeError(f"Configuration refused: HOOK_ALLOWED_NETWORKS: {exc}") from None


def side_effect_settings_problem(config) -> str | None:
    """Why the side-effect settings cannot work, or None. A running timeout that does not exceed
    the module timeout would have RQ stop, and the sweeper re-run, calls that are still waiting
    for their answer."""
    running = float(config["SIDE_EFFECT_RUNNING_TIMEOUT_SECONDS"])
    module = float(config["MODULE_TIMEOUT_SECONDS"])
    interval = float(config["SIDE_EFFECT_SWEEP_INTERVAL_SECONDS"])
    if not all(math.isfinite(value) for value in (running, module, interval)):
        return "side-effect timeouts and the sweep interval must be finite numbers of seconds"
    if not running > module:
        return (
            f"SIDE_EFFECT_RUNNING_TIMEOUT_SECONDS ({running:g}) must exceed MODULE_TIMEOUT_SECONDS "
            f"({module:g}): a side effect still waiting for its module would be taken as lost and run again"
        )
    if interval < 0:
        return "SIDE_EFFECT_SWEEP_INTERVAL_SECONDS cannot be negative (0 turns the workers' sweep off)"
    return None
