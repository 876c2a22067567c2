"""Export a list grid to CSV or XLSX: exactly the rows its filters and search select, streamed.

Flask-Admin's own export loads every row into a list first (and XLSX through tablib in memory);
at 1,000,000 orders that is the whole table in the web process. Here the grid's own query (the same
get_list the page runs, so the rows are exactly what the filters select) is read in batches
(`yield_per`, a server-side cursor on PostgreSQL) and written as it is read: CSV to the response a
batch at a time, XLSX through XlsxWriter's constant-memory mode into a temporary file that is then
streamed. Memory stays flat whatever the number of rows.

A grid that declares `export_values` (the orders grid) is read as plain rows: its export columns
selected by name, each related value (the client's name, the invoice's status) through one outer
join, so no ORM object and no eager load per row (at a million orders building the objects was
most of the time). Other grids read their model objects in batches through their formatters.

Needs the view's permission and *Export Lists*; every export is written to the activity log
(who, which list, the filters and the number of rows). Values that a spreadsheet would run as a
formula (=, +, -, @ first) are written as text.
"""

import csv
import io
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask import Response, abort, flash, redirect, request, stream_with_context, url_for
from flask_admin import expose
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select
from werkzeug.utils import secure_filename

from actions.activity import list_exported
from actions.actor import Actor
from admin.base import has_permission
from extensions import db
from models import Permission

FORMATS = ("csv", "xlsx")
BATCH = 1000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell_text(value) -> str:
    """A value as the export shows it: plain text, never a formula."""
    if value is None:
        return ""
    if isinstance(value, Markup):
        value = value.striptags()
    if isinstance(value, datetime):
        value = value.strftime("%Y-%m-%d %H:%M:%S")
    elif isinstance(value, date):
        value = value.isoformat()
    if isinstance(value, int | float | Decimal):
        return str(value)  # a negative amount is a number, not a formula
    text = str(getattr(value, "value", value))  # our vocabularies are StrEnums
    return "'" + text if text.startswith(_FORMULA_START) else text


@dataclass(frozen=True)
class ExportValue:
    """An export column read with SQL: what it selects, the table it joins (an alias, outer-joined
    on `on`) and how the selected values become the cell's value."""

    select: tuple
    value: Callable
    join: object = None
    on: object = None


class ExportMixin:
    """`GET <list>/export/csv/` and `/export/xlsx/` with the list's own query string."""

    export_permission = Permission.EXPORT_LISTS

    def can_export_list(self) -> bool:
        return has_permission(self.export_permission)

    def _export_statement(self):
        """The grid's own query for its current filters, search and sort, every page."""
        args = self._get_list_extra_args()
        sort = self._get_column_by_idx(args.sort)
        _, query = self.get_list(None, sort[0] if sort else None, args.sort_desc, args.search, args.filters,
                                 execute=False, page_size=False)
        return query.statement  # a 2.0 statement (loader options kept): legacy Query refuses yield_per

    # Export column -> ExportValue for the columns that are not the model's own; None: the export
    # reads model objects through get_export_value (the formatters) instead.
    export_values: dict[str, ExportValue] | None = None

    def _stream(self, statement):
        """Rows in batches; yield_per keeps no strong reference to a written row, so memory stays flat."""
        return db.session.scalars(statement, execution_options={"yield_per": BATCH, "stream_results": True})

    def _export_rows(self, statement, columns):
        """Each row's cell texts, in the columns' order."""
        if self.export_values is None:
            for model in self._stream(statement):
                yield [cell_text(self.get_export_value(model, column)) for column, _ in columns]
            return
        plain, readers = self._plain_statement(statement, columns)
        rows = db.session.execute(plain, execution_options={"yield_per": BATCH, "stream_results": True})
        for row in rows:
            yield [cell_text(read(row)) for read in readers]

    def _plain_statement(self, statement, columns):
        """The grid's statement (same WHERE and ORDER BY) selecting the export columns as plain
        values; returns it and, per column, how to read its value from a row."""
        selected, readers, joins = [], [], []
        for name, _ in columns:
            extra = self.export_values.get(name)
            if extra is None:
                selected.append(getattr(self.model, name))
                readers.append(_item(len(selected) - 1))
                continue
            first = len(selected)
            selected.extend(extra.select)
            readers.append(_call(extra.value, first, len(selected)))
            if extra.join is not None and all(extra.join is not known for known, _ in joins):
                joins.append((extra.join, extra.on))
        # The grid's eager-load options stay on the statement but load nothing: no entity is selected.
        plain = statement.with_only_columns(*selected, maintain_column_froms=False)
        for target, on in joins:
            plain = plain.outerjoin_from(self.model, target, on)
        return plain, readers

    def _export_columns_now(self) -> list[tuple[str, str]]:
        return [(name, str(label)) for name, label in self.get_export_columns()]

    # Replaces Flask-Admin's own export (same URL), which would load every row first.
    @expose("/export/<export_type>/")
    def export(self, export_type):
        fmt = export_type
        if fmt not in FORMATS:
            abort(404)
        if not self.can_export_list():
            abort(403)
        if self.list_filters().errors:  # an export of "nothing matched" would mislead: refuse it
            flash("Nothing was exported: a filter could not be applied. Correct it on the list first.",
                  "error")
            return redirect(url_for(".index_view", **request.args))
        columns = self._export_columns_now()
        statement = self._export_statement()
        # Recorded (and committed) before the first byte: an export cut short is still logged.
        rows = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
        list_exported(db.session, Actor.admin(current_user), self.endpoint, fmt, request.args.to_dict(), rows)
        db.session.commit()
        name = secure_filename(f"{self.endpoint}-{datetime.now():%Y%m%d-%H%M%S}.{fmt}")
        write = self._csv if fmt == "csv" else self._xlsx
        return Response(stream_with_context(write(statement, columns)),
                        mimetype="text/csv" if fmt == "csv" else
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f"attachment; filename={name}"})

    def _csv(self, statement, columns):
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")  # BOM: Excel reads UTF-8
        writer.writerow([label for _, label in columns])
        # A chunk per batch, not per row: each chunk is a write to the socket.
        for number, values in enumerate(self._export_rows(statement, columns), start=1):
            writer.writerow(values)
            if number % BATCH == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    def _xlsx(self, statement, columns):
        import xlsxwriter

        handle, path = tempfile.mkstemp(suffix=".xlsx")
        os.close(handle)
        try:
            book = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False,
                                              "strings_to_urls": False, "tmpdir": tempfile.gettempdir()})
            sheet = book.add_worksheet(self.name[:31] if self.name else "Export")
            sheet.write_row(0, 0, [label for _, label in columns])
            for number, values in enumerate(self._export_rows(statement, columns), start=1):
                sheet.write_row(number, 0, values)
            book.close()
            with open(path, "rb") as done:
                while chunk := done.read(64 * 1024):
                    yield chunk
        finally:
            os.unlink(path)


def _item(index: int):
    return lambda row: row[index]


def _call(value: Callable, first: int, last: int):
    return lambda row: value(*row[first:last])
