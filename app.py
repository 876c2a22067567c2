"""Application factory and CLI commands.

    flask --app app run              serve the back office
    flask --app app create-admin     create an admin user
    flask --app app seed-demo        load demo data
    flask --app app worker / sweep / audit-side-effects   side effects (docs/side-effects.md)
    flask --app app daily            the daily automation: renewal invoices, auto-cancel (docs/automation.md)
    flask --app app create-api-credential --role R [--allow-ip CIDR]   an API identifier + secret
    flask --app app rotate-encryption-key [--batch-size N]   re-encrypt secrets with ENCRYPTION_KEY
"""

import sqlite3

import click
from flask import Flask
from jinja2 import FileSystemBytecodeCache
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

import models  # noqa: F401 - registers every table on the metadata
from actions.daily_stats import keep_daily_stats_current
from config import hook_allowed_networks, key_settings, load_config, side_effect_settings_problem
from extensions import csrf, db, limiter, login_manager, migrate
from models.base import configure_encryption
from models.planner_stats import OPTIMIZE_ANALYSIS_LIMIT, optimize_due, optimize_sqlite


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    # SQLite: enforce foreign keys, let readers and a writer work at once, wait on locks.
    if isinstance(dbapi_connection, sqlite3.Connection):
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=5000")
        if sqlite3.sqlite_version_info >= (3, 46):  # 0x10000 (every table, not just used ones) is 3.46's
            cur.execute(f"PRAGMA analysis_limit={OPTIMIZE_ANALYSIS_LIMIT}")
            cur.execute("PRAGMA optimize=0x10002")
        cur.close()


@event.listens_for(Engine, "close")
def _sqlite_optimize_on_close(dbapi_connection, _record):
    # SQLite's advice: PRAGMA optimize before closing a connection (models/planner_stats.py).
    optimize_sqlite(dbapi_connection)


@event.listens_for(Engine, "checkin")
def _sqlite_optimize_now_and_then(dbapi_connection, record):
    # ... and now and then on a long-lived one: a pooled connection of a web process may never close.
    if dbapi_connection is not None and optimize_due(record.info):
        optimize_sqlite(dbapi_connection)


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    # Templates compiled once per process (Flask re-reads them only in debug: TEMPLATES_AUTO_RELOAD)
    # and kept compiled across restarts, keyed by their source, so a new worker starts warm.
    app.jinja_options = {**app.jinja_options, "bytecode_cache": FileSystemBytecodeCache()}
    app.config.update(load_config())
    if config:
        app.config.update(config)
    problem = side_effect_settings_problem(app.config)
    if problem:
        raise RuntimeError(f"Configuration refused: {problem}")
    app.config["HOOK_ALLOWED_NETWORKS"] = hook_allowed_networks(app.config)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # Keep PostgreSQL sessions in UTC so timestamps never shift with the server's zone.
        options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        options.setdefault("connect_args", {"options": "-c timezone=utc"})

    app.config["SECRET_KEY"], app.config["ENCRYPTION_KEY"], app.config["ENCRYPTION_OLD_KEYS"] = (
        key_settings(app.config))
    configure_encryption(app.config["ENCRYPTION_KEY"], app.config["ENCRYPTION_OLD_KEYS"])
    if app.config.get("TRUSTED_PROXY_COUNT"):
        hops = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config.get("REDIS_URL") or "memory://"
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)  # Redis down: still throttled
    limiter.init_app(app)

    from admin import init_admin
    from admin.errors import init_error_pages

    init_error_pages(app)
    init_admin(app)
    from api import init_api

    init_api(app)
    from jobs.dashboard import init_rq_dashboard
    from jobs.dispatcher import init_dispatcher

    init_dispatcher(app)
    keep_daily_stats_current()
    init_rq_dashboard(app)
    register_commands(app)
    return app


def register_commands(app: Flask) -> None:
    @app.cli.command("create-admin")
    @click.argument("email")
    @click.option("--password", default=None,
                  help="At least 10 characters, hard to guess, not the email; generated if omitted.")
    @click.option("--role", default="Full Administrator", show_default=True)
    @click.option("--name", default="")
    def create_admin_command(email, password, role, name):
        """Create an admin user without prompting."""
        from actions.admin_users import AdminUserError, create_admin_user
        from actions.reference_data import ensure_reference_data

        ensure_reference_data(db.session)
        try:
            user, password = create_admin_user(db.session, email, password, role, name)
        except AdminUserError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from None
        db.session.commit()
        click.echo(f"Created admin {user.email} with role {user.role.name}. Password: {password}")

    @app.cli.command("ensure-first-admin")
    @click.option("--email", default="admin@example.com", show_default=True)
    def ensure_first_admin_command(email):
        """Create the first admin if there is none, printing its login once."""
        from sqlalchemy import select

        from actions.admin_users import create_admin_user
        from actions.reference_data import ensure_reference_data
        from models import AdminUser

        ensure_reference_data(db.session)
        if db.session.scalar(select(AdminUser.id).limit(1)) is not None:
            db.session.commit()
            return
        user, password = create_admin_user(db.session, email)
        db.session.commit()
        click.echo("=" * 64)
        click.echo("First admin created - this password is shown only once:")
        click.echo(f"  login:    {user.email}")
        click.echo(f"  password: {password}")
        click.echo("=" * 64)

    @app.cli.command("create-api-credential")
    @click.option("--role", required=True,
                  help="Role name; it needs API Access and each action's permission.")
    @click.option("--allow-ip", "allow_ip", multiple=True, help="IP or CIDR range allowed (repeatable; "
                  "none: API_ALLOWED_IPS).")
    @click.option("--description", default="", help="What the credential is for.")
    def create_api_credential_command(role, allow_ip, description):
        """Create an API credential and print its identifier and secret (shown this once)."""
        from actions.api_credentials import ApiCredentialError, create_api_credential
        from actions.reference_data import ensure_reference_data

        ensure_reference_data(db.session)
        try:
            credential, secret = create_api_credential(db.session, role, "\n".join(allow_ip), description)
        except ApiCredentialError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from None
        db.session.commit()
        click.echo(f"identifier: {credential.identifier}")
        click.echo(f"secret: {secret}")

    @app.cli.command("rotate-encryption-key")
    @click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 100_000),
                  help="Rows re-encrypted per transaction.")
    def rotate_encryption_key_command(batch_size):
        """Re-encrypt every stored secret with ENCRYPTION_KEY (ENCRYPTION_OLD_KEYS still decrypt).
        Commits each batch: safe to stop and run again, it goes on where it was."""
        from actions.encryption_rotation import rotation_batches

        old_keys = app.config["ENCRYPTION_OLD_KEYS"]
        if not old_keys:
            click.echo("ENCRYPTION_OLD_KEYS is empty: checking ENCRYPTION_KEY reads every secret.")
        totals = {"rotated": 0, "current": 0, "changed_meanwhile": 0}
        unreadable: list[str] = []
        for batch in rotation_batches(db.session, app.config["ENCRYPTION_KEY"], old_keys, batch_size):
            db.session.commit()
            for name in totals:
                totals[name] += getattr(batch, name)
            unreadable += [f"{batch.column} id {row_id}" for row_id in batch.unreadable_ids]
            click.echo(f"{batch.column} up to id {batch.last_id}: {batch.rotated} re-encrypted, "
                       f"{batch.current} already current, {len(batch.unreadable_ids)} unreadable (committed)")
        click.echo(f"Done: {totals['rotated']} re-encrypted, {totals['current']} already current, "
                   f"{totals['changed_meanwhile']} changed by the app meanwhile, "
                   f"{len(unreadable)} unreadable.")
        if unreadable:
            click.echo("No key reads these (left as they are): " + ", ".join(unreadable[:50])
                       + (" ..." if len(unreadable) > 50 else ""))
            raise SystemExit(1)
        click.echo("Every secret is under ENCRYPTION_KEY: ENCRYPTION_OLD_KEYS can be removed.")

    demo_count = click.IntRange(0, 10_000_000)  # a million takes minutes; ten a working day

    @app.cli.command("seed-demo")
    @click.option("--orders", default=200, show_default=True, type=demo_count, help="Number of demo orders.")
    @click.option("--clients", default=None, type=demo_count, help="Default: orders / 5, at least 20.")
    @click.option("--only-if-empty", is_flag=True, help="Do nothing when orders already exist.")
    def seed_demo_command(orders, clients, only_if_empty):
        """Load realistic demo data (idempotent: running it twice leaves the same data)."""
        from actions.daily_stats import rebuild_daily_stats
        from demo import seed_demo

        try:
            summary = seed_demo(db.session, orders=orders, clients=clients, only_if_empty=only_if_empty)
        except ValueError as exc:  # e.g. orders asked for with no clients to place them
            raise click.ClickException(str(exc)) from None
        rebuild_daily_stats(db.session)  # the demo rows were written set-based, past the listener
        db.session.commit()
        click.echo(summary)

    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
    @click.option("--sweep-interval", type=float, default=None,
                  help="Seconds between sweeps (default SIDE_EFFECT_SWEEP_INTERVAL_SECONDS; 0: none).")
    def worker_command(burst, sweep_interval):
        """Run side effects from Redis (needs REDIS_URL)."""
        if not app.config.get("REDIS_URL"):
            raise click.ClickException("REDIS_URL is not set: side effects run in-process, no worker needed.")
        from jobs.worker import run_worker

        run_worker(burst=burst, sweep_interval=sweep_interval)

    @app.cli.command("sweep")
    def sweep_command():
        """Re-enqueue side effects nobody is running (embedded: run them here)."""
        from jobs.worker import sweep_once

        try:
            click.echo(sweep_once())
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from None

    @app.cli.command("daily")
    @click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help="Run as of this day (default: today, UTC).")
    def daily_command(day):
        """The daily automation: renewal invoices, auto-cancel of stale unpaid orders (idempotent)."""
        from jobs.daily import run_daily

        click.echo(run_daily(db.session, day.date() if day else None))

    @app.cli.command("audit-side-effects")
    @click.option("--fix", is_flag=True, help="Record the compensating side effects (terminates).")
    def audit_side_effects_command(fix):
        """List services whose state disagrees with their last successful module call (exit status
        1 when there are any and --fix was not given)."""
        from actions.actor import Actor
        from actions.side_effect_audit import compensate, find_disagreements

        found = find_disagreements(db.session)
        db.session.rollback()
        for item in found:
            click.echo(str(item))
        if not found:
            click.echo("No disagreements: every service matches its last successful module call.")
            return
        if not fix:
            click.echo(f"{len(found)} disagreement(s); --fix records the compensating side effects.")
            raise SystemExit(1)
        actor = Actor.system("audit-side-effects")
        recorded = []
        for item in found:
            effect = compensate(db.session, item, actor)
            db.session.commit()  # one order at a time; the dispatcher hands each terminate to a worker
            if effect is not None:
                recorded.append(effect.id)
        click.echo(f"Recorded {len(recorded)} compensating terminate(s): side effects {recorded}.")
