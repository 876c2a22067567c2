"""Multiple currencies: the currencies table (the default one made from the currency settings),
a currency on clients, price rows, orders and invoices (with the rate of the day on orders and
invoices), and fixed promotion amounts per currency (promotion_amounts)

Revision ID: c3a7e1f05d92
Revises: fb2e61c00136
Create Date: 2026-12-01 18:55:00.000000

"""
from alembic import op
from contextlib import contextmanager

import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3a7e1f05d92'
down_revision = 'fb2e61c00136'
branch_labels = None
depends_on = None

# The price rows: (table, old unique constraint, its columns without the currency).
PRICE_TABLES = (
    ('product_prices', 'uq_product_prices_product_cycle', ['product_id', 'cycle']),
    ('tld_prices', 'uq_tld_prices_tld_years', ['tld_id', 'years']),
    ('addon_prices', 'uq_addon_prices_addon_cycle', ['addon_id', 'cycle']),
    ('config_option_prices', 'uq_config_option_prices_choice_cycle', ['choice_id', 'cycle']),
)


def _rate_one() -> str:
    # The Rate type keeps whole millionths on SQLite (models/base.py), NUMERIC(18,6) on PostgreSQL.
    return '1000000' if op.get_bind().dialect.name == 'sqlite' else '1'


def _default_currency_id() -> int:
    """The default currency, made from the settings one currency used to be."""
    bind = op.get_bind()
    values = dict(bind.execute(sa.text(
        "SELECT key, value FROM settings WHERE key IN ('currency', 'currency_prefix', 'currency_suffix')")).all())
    code = (values.get('currency') or 'USD').strip().upper()[:3]
    bind.execute(sa.text(
        "INSERT INTO currencies (code, prefix, suffix, format, rate, is_default) "
        "VALUES (:code, :prefix, :suffix, 2, :rate, :yes)"),
        {'code': code, 'prefix': values.get('currency_prefix', '$')[:10],
         'suffix': values.get('currency_suffix', ' USD')[:10], 'rate': int(_rate_one()), 'yes': True})
    return bind.execute(sa.text("SELECT id FROM currencies WHERE code = :code"), {'code': code}).scalar_one()


def _add_currency(table: str, default_id: int, rate: bool = False, index: bool = False) -> None:
    """currency_id (every existing row in the default currency) and, for orders and invoices, the rate.

    Nullable columns (the models always write them), so neither database rebuilds the table:
    SQLite's batch rebuild would drop the clients' search triggers and expression indexes.
    PostgreSQL: a constant default fills existing rows without rewriting them, then it is dropped.
    SQLite refuses a REFERENCES column with a non-null default while foreign keys are on: a plain
    ADD COLUMN, then one UPDATE."""
    fk = f'fk_{table}_currency_id_currencies'
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f"ALTER TABLE {table} ADD COLUMN currency_id INTEGER "
                   f"CONSTRAINT {fk} REFERENCES currencies (id)")
        assignments = f"currency_id = {default_id}"
        if rate:
            op.add_column(table, sa.Column('currency_rate', sa.Numeric(precision=18, scale=6), nullable=True))
            assignments += f", currency_rate = {_rate_one()}"
        op.execute(f"UPDATE {table} SET {assignments}")
    else:
        op.add_column(table, sa.Column('currency_id', sa.Integer(), nullable=True, server_default=str(default_id)))
        op.alter_column(table, 'currency_id', server_default=None)
        op.create_foreign_key(op.f(fk), table, 'currencies', ['currency_id'], ['id'])
        if rate:
            op.add_column(table, sa.Column('currency_rate', sa.Numeric(precision=18, scale=6), nullable=True,
                                           server_default=_rate_one()))
            op.alter_column(table, 'currency_rate', server_default=None)
    if index:
        op.create_index(op.f(f'ix_{table}_currency_id'), table, ['currency_id'], unique=False)


@contextmanager
def _foreign_keys_off():
    """A SQLite rebuild drops and recreates a table other tables' rows point at: with foreign keys
    enforced the DROP TABLE fails on them. SQLite's own recipe: commit, keys off (a pragma that is
    ignored inside a transaction), rebuild and commit, keys on, then check every key."""
    bind = op.get_bind()
    bind.commit()
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        yield
        bind.commit()
    except BaseException:
        bind.rollback()
        raise
    finally:
        bind.exec_driver_sql("PRAGMA foreign_keys=ON")
    broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"The rebuild left rows pointing at nothing: {broken[:5]}")


def _restore_client_search() -> None:
    """What a SQLite rebuild of clients drops: the substring search's triggers (its FTS5 table and
    rowids stay) and the prefix search's expression indexes, which batch mode cannot reflect."""
    from models import Client
    from models.substring_index import INDEXES

    index = INDEXES[Client]
    for event in ('insert', 'delete', 'update'):
        op.execute(f"DROP TRIGGER IF EXISTS {index.fts}_{event}")
    for statement in index.sqlite_ddl()[1:]:  # the triggers; the virtual table is still there
        op.execute(statement)
    for declared in Client.__table__.indexes:
        if declared.name.endswith('_lower'):
            declared.create(op.get_bind(), checkfirst=True)


def upgrade():
    op.create_table('currencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=3), nullable=False),
    sa.Column('prefix', sa.String(length=10), nullable=False),
    sa.Column('suffix', sa.String(length=10), nullable=False),
    sa.Column('format', sa.Integer(), nullable=False),
    sa.Column('rate', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.CheckConstraint('format BETWEEN 1 AND 4', name=op.f('ck_currencies_format_known')),
    sa.CheckConstraint('rate > 0', name=op.f('ck_currencies_rate_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_currencies')),
    sa.UniqueConstraint('code', name=op.f('uq_currencies_code'))
    )
    with op.batch_alter_table('currencies', schema=None) as batch_op:
        batch_op.create_index('uq_currencies_one_default', ['is_default'], unique=True,
                              sqlite_where=sa.text('is_default'), postgresql_where=sa.text('is_default'))
    default_id = _default_currency_id()

    _add_currency('clients', default_id, index=True)
    _add_currency('orders', default_id, rate=True)
    _add_currency('invoices', default_id, rate=True)
    for table, old, columns in PRICE_TABLES:
        # Small tables: rebuilt on SQLite, so they get the foreign key and lose the default too.
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('currency_id', sa.Integer(), nullable=False,
                                          server_default=str(default_id)))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('currency_id', server_default=None)
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_currency_id_currencies'), 'currencies',
                                        ['currency_id'], ['id'])
            batch_op.drop_constraint(old, type_='unique')
            batch_op.create_unique_constraint(f'{old}_currency', [*columns, 'currency_id'])

    op.create_table('promotion_amounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('promotion_id', sa.Integer(), nullable=False),
    sa.Column('currency_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.CheckConstraint('value >= 0', name=op.f('ck_promotion_amounts_value_not_negative')),
    sa.ForeignKeyConstraint(['currency_id'], ['currencies.id'],
                            name=op.f('fk_promotion_amounts_currency_id_currencies')),
    sa.ForeignKeyConstraint(['promotion_id'], ['promotions.id'],
                            name=op.f('fk_promotion_amounts_promotion_id_promotions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promotion_amounts')),
    sa.UniqueConstraint('promotion_id', 'currency_id', name='uq_promotion_amounts_promotion_currency')
    )


def downgrade():
    # Only the default currency's rows survive: prices in other currencies would clash on the
    # old (item, cycle) unique constraints.
    op.drop_table('promotion_amounts')
    keep = "(SELECT id FROM currencies WHERE is_default)"
    for table, old, columns in PRICE_TABLES:
        op.execute(f"DELETE FROM {table} WHERE currency_id <> {keep}")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'{old}_currency', type_='unique')
            batch_op.create_unique_constraint(old, columns)
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_currency_id_currencies'), type_='foreignkey')
            batch_op.drop_column('currency_id')
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table in ('invoices', 'orders', 'clients'):
        if table == 'clients':
            op.drop_index(op.f('ix_clients_currency_id'), table_name='clients')
        else:
            op.drop_column(table, 'currency_rate')
        if sqlite:  # DROP COLUMN refuses a column with a foreign key: rebuild (loses no data)
            with _foreign_keys_off(), op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.drop_column('currency_id')
            if table == 'clients':
                _restore_client_search()
        else:
            op.drop_constraint(op.f(f'fk_{table}_currency_id_currencies'), table, type_='foreignkey')
            op.drop_column(table, 'currency_id')
    with op.batch_alter_table('currencies', schema=None) as batch_op:
        batch_op.drop_index('uq_currencies_one_default')
    op.drop_table('currencies')
