"""Re-encrypting every secret at rest with the current key (`flask --app app rotate-encryption-key`).

    encrypted_columns() -> list of (table, column)     every EncryptedText column of the models
    rotation_batches(session, key, old_keys, batch_size=500) -> iterator of RotationBatch
        walks each encrypted column in primary-key order, `batch_size` rows at a time, and
        re-encrypts with `key` every value an old key reads (one not already under `key`);
        flushes each batch and yields its counts: the caller commits at each yield, so a run that
        is stopped keeps every batch it committed, and a new run finds those values current and
        goes on with the rest (nothing is ever re-encrypted twice, nothing lost).

A value none of the keys can read is counted as unreadable and left exactly as it is. Each row is
written only if it still holds the ciphertext read (a value the app changed meanwhile is already
under the current key: the app writes with it), so a rotation can run while the app serves.
The raw ciphertext is read and written past EncryptedText (type_coerce to Text), so values are
never decrypted into the session's objects. Flushes, never commits.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Column, Table, Text, and_, bindparam, select, type_coerce, update
from sqlalchemy.orm import Session

from models.base import Base, EncryptedText, encryption_ciphers, fernet_for


@dataclass
class RotationBatch:
    column: str  # "table.column"
    last_id: int | str  # the batch's last primary key (a table may be keyed by a name)
    rotated: int = 0
    current: int = 0  # already under the current key
    changed_meanwhile: int = 0  # written by the app while this batch ran: left as the app wrote it
    unreadable_ids: list[int | str] = field(default_factory=list)


def encrypted_columns() -> list[tuple[Table, Column]]:
    return [(table, column) for table in Base.metadata.sorted_tables for column in table.columns
            if isinstance(column.type, EncryptedText)]


def _is_current(current: Fernet, token: bytes) -> bool:
    try:
        current.decrypt(token)
    except InvalidToken:
        return False
    return True


def _rotate_batch(session: Session, current: Fernet, ciphers: MultiFernet, table: Table, column: Column,
                  after_id: int | str | None, batch_size: int) -> RotationBatch | None:
    key = table.primary_key.columns.values()[0]
    raw = type_coerce(column, Text)
    query = select(key, raw).where(column.isnot(None), column != "")
    if after_id is not None:  # None: from the first row, whatever the key's type
        query = query.where(key > after_id)
    rows = session.execute(query.order_by(key).limit(batch_size)).all()
    if not rows:
        return None
    batch = RotationBatch(column=f"{table.name}.{column.name}", last_id=rows[-1][0])
    changes = []
    for row_id, token in rows:
        if _is_current(current, token.encode()):
            batch.current += 1
            continue
        try:
            rotated = ciphers.rotate(token.encode()).decode()
        except InvalidToken:
            batch.unreadable_ids.append(row_id)
            continue
        changes.append({"row_id": row_id, "was": token, "now": rotated})
    if changes:
        # One executemany; its row count is the sum of the rows each guarded UPDATE wrote.
        written = session.execute(
            update(table).where(and_(key == bindparam("row_id"), raw == bindparam("was", type_=Text)))
            .values({column.name: bindparam("now", type_=Text)}),
            changes,
        ).rowcount
        batch.rotated, batch.changed_meanwhile = written, len(changes) - written
    session.flush()
    return batch


def rotation_batches(session: Session, key: str, old_keys: Sequence[str],
                     batch_size: int = 500) -> Iterator[RotationBatch]:
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    current, ciphers = fernet_for(key), encryption_ciphers(key, old_keys)
    for table, column in encrypted_columns():
        after_id = None
        while (batch := _rotate_batch(session, current, ciphers, table, column, after_id,
                                      batch_size)) is not None:
            yield batch
            after_id = batch.last_id
