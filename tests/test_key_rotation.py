"""Issue 17, secrets at rest: key rotation (old keys still decrypt, `rotate-encryption-key`
re-encrypts in batches, resumable after being killed) and no generated key in production."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import InvalidToken
from sqlalchemy import Text, create_engine, insert, select, text, type_coerce

from actions.encryption_rotation import encrypted_columns, rotation_batches
from app import create_app
from extensions import db
from models import CustomField, CustomFieldValue, Domain, Gateway, Server, Service
from models.base import configure_encryption, encryption_ciphers, fernet_for
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
OLD_KEY = "test-secret-key"  # what the test app encrypts with (tests/conftest.py)
NEW_KEY = "the-new-encryption-key"
SECRETS = 10_000


def _seed(count: int) -> dict[tuple[str, str, int], str]:
    """`count` secrets spread over every encrypted column, written under OLD_KEY; -> their values."""
    order = factories.make_order()
    db.session.commit()
    service, domain = order.services[0], order.domains[0] if order.domains else None
    quarter = count // 5  # servers, gateways, services, custom field answers; the rest domains
    db.session.execute(insert(Server), [{"name": f"srv{n}", "secret": f"server-secret-{n}"}
                                        for n in range(quarter)])
    db.session.execute(insert(Gateway), [
        {"name": f"gw{n}", "display_name": f"GW {n}", "module": "banktransfer",
         "settings": f'{{"secret_key": "sk_{n}"}}'} for n in range(quarter)])
    db.session.execute(insert(Service), [
        {"client_id": service.client_id, "product_id": service.product_id, "billing_cycle": "monthly",
         "password": f"service-password-{n}"} for n in range(quarter)])
    # A password custom field's answers: one field per answer, all on the order's service.
    field_ids = db.session.scalars(insert(CustomField).returning(CustomField.id), [
        {"applies_to": "product", "product_id": service.product_id, "name": f"Root {n}",
         "field_type": "password"} for n in range(quarter)]).all()
    db.session.execute(insert(CustomFieldValue), [
        {"field_id": field_id, "service_id": service.id, "secret": f"custom-secret-{n}"}
        for n, field_id in enumerate(field_ids)])
    db.session.execute(insert(Domain), [{"client_id": order.client_id, "name": f"d{n}.example",
                                         "epp_code": f"EPP-{n}"} for n in range(count - 4 * quarter)])
    if domain is not None:
        domain.epp_code = None
    service.password = None  # only the seeded values carry secrets
    db.session.commit()
    return _raw_values(fernet_for(OLD_KEY))


def _raw_values(cipher) -> dict[tuple[str, str, int], str]:
    """Every stored secret, decrypted with `cipher` alone (InvalidToken if one is not under it)."""
    found = {}
    for table, column in encrypted_columns():
        key = table.primary_key.columns.values()[0]
        for row_id, token in db.session.execute(select(key, type_coerce(column, Text))
                                                .where(column.isnot(None), column != "")):
            found[(table.name, column.name, row_id)] = cipher.decrypt(token.encode()).decode()
    return found


def _under(cipher) -> int:
    """How many stored secrets `cipher` reads."""
    count = 0
    for _table, column in encrypted_columns():
        for (token,) in db.session.execute(select(type_coerce(column, Text)).where(column.isnot(None))):
            try:
                cipher.decrypt(token.encode())
            except InvalidToken:
                continue
            count += 1
    return count


def test_old_keys_still_decrypt_and_new_values_use_the_current_key(app_ctx, session):
    server = Server(name="web1", secret="whsec-1")
    session.add(server)
    session.commit()
    try:
        configure_encryption(NEW_KEY, [OLD_KEY])
        session.expire_all()
        assert session.get(Server, server.id).secret == "whsec-1"  # written under the old key
        session.get(Server, server.id).secret = "whsec-2"
        session.commit()
        (token,) = session.execute(select(type_coerce(Server.secret, Text))).one()
        assert fernet_for(NEW_KEY).decrypt(token.encode()) == b"whsec-2"
        configure_encryption(NEW_KEY)
        session.expire_all()
        assert session.get(Server, server.id).secret == "whsec-2"
    finally:
        configure_encryption(OLD_KEY)


def test_rotation_over_10000_secrets_loses_none(app_ctx, session):
    before = _seed(SECRETS)
    assert len(before) == SECRETS
    stray = Server(name="stray")
    session.add(stray)
    session.flush()
    stray_id = stray.id
    session.execute(text("UPDATE servers SET secret = :token WHERE id = :id"),
                    {"token": fernet_for("a key nobody has").encrypt(b"lost").decode(), "id": stray_id})
    session.commit()

    batches = []
    for batch in rotation_batches(session, NEW_KEY, [OLD_KEY], batch_size=1000):
        session.commit()
        batches.append(batch)
    assert sum(b.rotated for b in batches) == SECRETS
    assert [i for b in batches for i in b.unreadable_ids] == [stray_id]  # counted, left as it was
    stray_now = session.scalar(select(type_coerce(Server.secret, Text)).where(Server.id == stray_id))
    assert fernet_for("a key nobody has").decrypt(stray_now.encode()) == b"lost"
    session.execute(Server.__table__.delete().where(Server.id == stray_id))
    assert _raw_values(fernet_for(NEW_KEY)) == before  # every one, with the new key alone
    again = list(rotation_batches(session, NEW_KEY, [OLD_KEY], batch_size=1000))
    assert sum(b.rotated for b in again) == 0 and sum(b.current for b in again) == SECRETS


def _rotate_command(database_url, tmp_path, batch_size):
    env = {name: value for name, value in os.environ.items() if name != "REDIS_URL"}
    env.update(DATABASE_URL=database_url, SECRET_KEY=OLD_KEY, ENCRYPTION_KEY=NEW_KEY,
               ENCRYPTION_OLD_KEYS=f"some-older-key, {OLD_KEY}", ORDERDESK_INSTANCE=str(tmp_path),
               MAIL_SERVER="")
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "rotate-encryption-key",
                             "--batch-size", str(batch_size)], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def test_the_command_killed_after_its_first_batch_resumes_where_it_was(app_ctx, session, database_url,
                                                                        tmp_path):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("holds the second batch's rows with SELECT ... FOR UPDATE: PostgreSQL's row locks")
    before = _seed(SECRETS)
    batch_size = 100
    # The first encrypted column the seed fills (the command walks the columns in this order; the
    # ones before it hold nothing, e.g. admins' TOTP secrets).
    for table, column in encrypted_columns():
        key = table.primary_key.columns.values()[0]
        ids = list(session.scalars(select(key).where(column.isnot(None), column != "").order_by(key)))
        if ids:
            break
    # Another connection holds the second batch's rows: the command commits its first batch,
    # then waits on the lock, and is killed there - mid-way, whatever the machine's speed.
    holder = create_engine(db.engine.url)
    with holder.connect() as locker:
        locker.execute(select(key).where(key.in_(ids[batch_size:2 * batch_size])).with_for_update())
        command = _rotate_command(database_url, tmp_path, batch_size)
        try:
            first = command.stdout.readline()
            assert first.startswith(f"{table.name}.{column.name} up to id {ids[batch_size - 1]}: "
                                    f"{batch_size} re-encrypted"), first + command.stderr.read()
        finally:
            os.killpg(command.pid, signal.SIGKILL)
            command.wait()
        locker.rollback()
    holder.dispose()
    session.expire_all()
    assert _under(fernet_for(NEW_KEY)) == batch_size  # the committed batch, and only it
    assert _raw_values(encryption_ciphers(NEW_KEY, [OLD_KEY])) == before  # the rest: still the old key

    rerun = _rotate_command(database_url, tmp_path, 1000)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, out + err
    assert (f"Done: {SECRETS - batch_size} re-encrypted, {batch_size} already current, "
            "0 changed by the app meanwhile, 0 unreadable.") in out
    session.expire_all()
    assert _raw_values(fernet_for(NEW_KEY)) == before


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ENCRYPTION_KEY"])
def test_production_refuses_to_start_without_its_keys(monkeypatch, tmp_path, database_url, missing):
    import config

    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    keys = {"SECRET_KEY": "a-session-key", "ENCRYPTION_KEY": "an-encryption-key"}
    keys[missing] = None
    try:
        with pytest.raises(RuntimeError, match=f"ORDERDESK_ENV=production needs {missing}"):
            create_app({"ORDERDESK_ENV": "production", "SQLALCHEMY_DATABASE_URI": database_url, **keys})
        assert not (tmp_path / "secret_key").exists()  # nothing generated
        # The embedded mode keeps generating its key in instance/ (make run on a fresh clone).
        create_app({"SQLALCHEMY_DATABASE_URI": database_url, **keys})
        assert (tmp_path / "secret_key").exists() == (missing == "SECRET_KEY")
    finally:
        configure_encryption(OLD_KEY)
