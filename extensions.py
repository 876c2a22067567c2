"""Extension objects, created unbound and bound to the app in create_app()."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
# No default limits: only the views that ask are throttled (the API's failed logins).
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def read_columns(statement, parameters=None):
    """Rows of plain columns, read on the session's connection (its transaction) without the ORM's
    result machinery, which costs a page about half a millisecond per statement (BENCHMARKS.md, the
    lean grid). For reads of columns, not objects, on pages every admin opens; no autoflush."""
    return db.session.connection().execute(statement, parameters)
