"""Extensions, created unbound here and bound to the app in the factory."""
from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ForumSQLAlchemy(SQLAlchemy):
    """Flask-SQLAlchemy whose end-of-request cleanup never fails the request.

    With the database gone, the rollback inside ``session.remove()`` can raise after the response was made, outside
    Flask's error handlers (the server then sends its own bare 500 page); the session is dropped all the same.
    """

    def _teardown_session(self, exc: BaseException | None) -> None:
        try:
            self.session.remove()
        except Exception:  # noqa: BLE001 - the connection is dead; the pool replaces it on the next checkout
            self.session.registry.clear()


db = ForumSQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
