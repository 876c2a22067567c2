"""Error pages and the one request-wide input check (DESIGN.md §7), for every face of the app.

- Before any view runs, every query and form parameter (name and value) and every URL part is
  checked once: NUL and other control characters are refused with 400 and a message page, so no
  view, filter or database ever sees them. CR, LF and tab are allowed only in form values (free
  text in a textarea); in a URL or a field name they are never meant (and a CR/LF would reach a
  Location header).
- 400, 403, 404 and 405 render a page with the message.
- Anything unexpected (a database error included) renders "Something went wrong" with a
  reference; the detail, SQL and parameters included, goes only to the log under that reference.

The checks raise werkzeug's BadRequest, so a blueprint that answers in another format (the API:
JSON) registers its own `errorhandler(400)` and gets the same message.
"""

import logging
import secrets

from flask import Flask, render_template, request
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError

from extensions import db
from models.bounds import control_character_refusal

log = logging.getLogger(__name__)

_TITLES = {400: "The request was refused", 403: "Not allowed", 404: "Not found",
           405: "Not allowed this way"}


def init_error_pages(app: Flask) -> None:
    app.before_request(refuse_control_characters)
    app.register_error_handler(HTTPException, _http_error_page)
    app.register_error_handler(InternalServerError, _unexpected_error_page)


# Blueprints that check their own parameters and answer in their own terms (the WHMCS API answers
# JSON with WHMCS's messages; api/params.py and api/auth.py refuse control characters there).
SELF_CHECKING_BLUEPRINTS = {"api"}


def refuse_control_characters() -> None:
    if request.blueprint in SELF_CHECKING_BLUEPRINTS:
        return
    for name, value in (request.view_args or {}).items():
        _check(str(value), f"The address part {name!r}", line_breaks=False)
    for name in request.args:
        _check(name, "A parameter name in the address", line_breaks=False)
        for value in request.args.getlist(name):
            _check(value, f"The address parameter {_shown(name)}", line_breaks=False)
    if request.method in ("POST", "PUT", "PATCH"):
        if request.mimetype == "application/x-www-form-urlencoded":
            # Keep the raw body for whoever reads it after us (the API parses it itself): parsing
            # the form from a cached body leaves request.get_data() intact.
            request.get_data(cache=True)
        for name in request.form:
            _check(name, "A form field name", line_breaks=False)
            for value in request.form.getlist(name):
                _check(value, f"The form field {_shown(name)}", line_breaks=True)


def _shown(name: str) -> str:
    return repr(name if len(name) <= 60 else name[:60] + "...")


def _check(value: str, what: str, line_breaks: bool) -> None:
    message = control_character_refusal(value, what=what, line_breaks=line_breaks)
    if message:
        raise BadRequest(message)


def new_reference() -> str:
    """A short id for an error, shown to the admin and written to the log with the detail."""
    return secrets.token_hex(4).upper()


def log_unexpected(exc: BaseException, level: int = logging.ERROR) -> str:
    """Log `exc` with its detail under a new reference; the reference is what the admin sees."""
    reference = new_reference()
    what = "Unexpected error" if level >= logging.ERROR else "Refused by the database"
    log.log(level, "%s, reference %s, on %s %s", what, reference, request.method, request.path,
            exc_info=(type(exc), exc, exc.__traceback__))
    return reference


def _http_error_page(exc: HTTPException):
    if exc.code is None or exc.code >= 500:
        return _unexpected_error_page(exc)
    if exc.code < 400:  # a RequestRedirect (trailing slash) and friends answer as they are
        return exc
    if exc.response is not None:  # a response of its own (the API's JSON 429): that is the answer
        return exc.response
    response = exc.get_response()
    response.set_data(render_template("admin/error.html", title=_TITLES.get(exc.code, exc.name),
                                      message=exc.description, reference=None))
    response.content_type = "text/html; charset=utf-8"
    return response


def _unexpected_error_page(exc: HTTPException):
    db.session.rollback()
    original = getattr(exc, "original_exception", None) or exc
    reference = log_unexpected(original)
    html = render_template("admin/error.html", title="Something went wrong", reference=reference,
                           message="The request could not be completed; nothing was changed by it. "
                                   "If it happens again, give the administrator this reference.")
    return html, 500
