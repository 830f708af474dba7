"""The database's plan for a statement, to check which index it uses (SQLite and PostgreSQL)."""
from __future__ import annotations

from sqlalchemy import Table, text
from sqlalchemy.sql.util import find_tables

from forum.extensions import db


def query_plan(statement) -> str:
    """The plan's rows as text; the session is rolled back afterwards."""
    sql = str(statement.compile(db.session.get_bind(), compile_kwargs={"literal_binds": True}))
    tables = sorted({t.name for t in find_tables(statement, include_aliases=True, include_joins=True)
                     if isinstance(t, Table)})
    # Statistics of the test's own rows, as a live database keeps them (autovacuum; ANALYZE after a mining run):
    # DELETE between tests keeps an earlier test's, which can make another index the cheaper plan for data this
    # test does not have. VACUUM also sets PostgreSQL's visibility map, which index-only scans need.
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for name in tables:
            conn.execute(text(f'VACUUM ANALYZE "{name}"' if conn.dialect.name == "postgresql" else f'ANALYZE "{name}"'))
    if db.session.get_bind().dialect.name == "postgresql":
        # A handful of rows make a sequential scan the cheaper plan; forbid it to see which index matches.
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        prefix = "EXPLAIN "
    else:
        prefix = "EXPLAIN QUERY PLAN "
    rows = db.session.connection().exec_driver_sql(prefix + sql).all()
    db.session.rollback()
    return "\n".join(" ".join(str(v) for v in row) for row in rows)
