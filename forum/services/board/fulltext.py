"""Full-text matching of threads behind one interface, with a backend per database.

``backend()`` gives the engine for the current database; ``terms_of`` turns any user text into plain word
terms first, so no engine ever sees query syntax from a user:

- SQLite: the FTS5 table ``thread_fts`` (see migrations); every term is quoted for ``MATCH`` (raw text such
  as ``"unbalanced``, ``AND``, ``OPS-306``, ``foo:bar`` or ``*`` is an FTS5 syntax error otherwise), and the
  score is ``bm25`` with the title weighted above the body.
- PostgreSQL: the generated ``thread.search_vector`` with its GIN index, matched by
  ``websearch_to_tsquery('english', ...)`` on the cleaned text and scored by ``ts_rank`` (title weight A).

Either way a query means "every word", and ``ranked(where, terms, cap, among)`` gives (thread id, score)
rows, higher scores better, for the newest ``cap`` matching threads that pass ``where`` (visibility and
filters): ranking every match of a very common word would cost hundreds of milliseconds at 100k threads.
``among``, when given, is a select of the thread ids that pass some of ``where``'s conditions, answered by
an index; an engine may use it to drop hits before reading their rows, never instead of ``where``.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, bindparam, column, func, literal_column, select, table, text

from ...extensions import db
from ...fulltext_schema import FTS_TABLE, PG_COLUMN
from ...models import Thread

MAX_QUERY_CHARS = 200
MAX_TERMS = 12
MAX_TERM_CHARS = 60
TITLE_WEIGHT = 10.0  # bm25 column weights on SQLite: a title hit counts ten body hits
# Words PostgreSQL's english configuration drops; SQLite drops them too so both find the same threads.
STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between
both but by can did do does doing down during each few for from further had has have having he her here
hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now
of off on once only or other our ours ourselves out over own same she should so some such than that the
their theirs them themselves then there these they this those through to too under until up very was we
were what when where which while who whom why will with you your yours yourself yourselves
""".split())
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Terms:
    """A query reduced to words: ``phrases`` are the user's chunks as words (``OPS-306`` -> ``ops 306``),
    ``chunks`` the same chunks as typed (without double quotes), for PostgreSQL's own parser."""

    phrases: tuple[str, ...]
    chunks: tuple[str, ...]
    cleaned: str  # the text with control characters removed (for the semantic query)

    @property
    def words(self) -> list[str]:
        return [w for p in self.phrases for w in p.split()]

    def __bool__(self) -> bool:
        return bool(self.phrases)


def clean_text(raw: str | None) -> str:
    """User text without NUL, control characters or lone surrogates, at most ``MAX_QUERY_CHARS`` long."""
    kept = [ch for ch in (raw or "")[: MAX_QUERY_CHARS * 4]
            if unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn") or ch in " \t"]
    return " ".join("".join(kept).split())[:MAX_QUERY_CHARS]


def terms_of(raw: str | None) -> Terms:
    """Split user text into at most ``MAX_TERMS`` word phrases (stopwords dropped unless nothing else is left)."""
    cleaned = clean_text(raw)
    found: dict[str, str] = {}
    for chunk in cleaned.lower().split():
        words = [w[:MAX_TERM_CHARS] for w in _WORD.findall(chunk)]
        phrase = " ".join(words)
        if phrase and phrase not in found:
            found[phrase] = chunk.replace('"', " ").strip()
    content = [p for p in found if not (" " not in p and p in STOPWORDS)] or list(found)
    kept = content[:MAX_TERMS]
    return Terms(tuple(kept), tuple(found[p] for p in kept), cleaned)


class SqliteFullText:
    """FTS5 over the external-content table ``thread_fts``."""

    _fts = table(FTS_TABLE, column("rowid"))

    def ranked(self, where: list[ColumnElement], terms: Terms, cap: int, among: Select | None = None) -> Select:
        """(thread id, score) of the newest ``cap`` threads passing ``where`` that match every term."""
        fts = self._fts
        # Each phrase in double quotes (inner quotes doubled): FTS5 reads it as plain tokens, never syntax.
        match = literal_column(FTS_TABLE).op("MATCH")(
            bindparam("fts_match", " ".join('"' + p.replace('"', '""') + '"' for p in terms.phrases)))
        # Newest matches first, each checked against ``where`` by primary key, stopping at ``cap``: a common
        # word matching 40% of 100k threads costs ~10 ms here instead of ~300 ms for ranking them all.
        hits = select(fts.c.rowid.label("id")).where(match).order_by(fts.c.rowid.desc()).subquery("hits")
        # Finding a hit's thread row costs ~2 us, 50 ms for a common word: a hit outside ``among`` is dropped
        # first. "+ 0" again, or SQLite hands the ids to FTS5 as one MATCH per id.
        prefilter = [(hits.c.id + 0).in_(among)] if among is not None else []
        candidates = (select(Thread.id).join_from(hits, Thread, Thread.id == hits.c.id).where(*prefilter, *where)
                      .order_by(hits.c.id.desc()).limit(cap).cte("candidates").prefix_with("MATERIALIZED"))
        # bm25() works only where the FTS table drives the statement: it does, bounded below by the oldest
        # candidate; "rowid + 0" keeps SQLite from turning IN into one MATCH lookup per candidate (seconds).
        score = -func.bm25(literal_column(FTS_TABLE), TITLE_WEIGHT, 1.0)
        return (select(fts.c.rowid.label("id"), score.label("score"))
                .where(match, fts.c.rowid >= select(func.min(candidates.c.id)).scalar_subquery(),
                       (fts.c.rowid + 0).in_(select(candidates.c.id))))


class PostgresFullText:
    """The generated tsvector column, matched with websearch_to_tsquery."""

    def ranked(self, where: list[ColumnElement], terms: Terms, cap: int, among: Select | None = None) -> Select:
        """(thread id, score) of the newest ``cap`` threads passing ``where`` that match every term.

        ``among`` itself is not joined: ``where`` holds the same conditions, which PostgreSQL answers by
        combining their indexes with the GIN index (BitmapAnd), cheaper than a join with a list of ids.
        """
        # websearch_to_tsquery never raises on syntax; each chunk still goes in double quotes (as a phrase),
        # so "-x" or "or" typed by a user means the words themselves, as on SQLite. The chunks keep their
        # punctuation because PostgreSQL's parser reads "OPS-306" as "ops" and "-306" in documents too.
        phrases = " ".join(f'"{c}"' for c in terms.chunks)
        tsquery = func.websearch_to_tsquery(text("'english'::regconfig"), bindparam("ts_query", phrases))
        vector = literal_column(f"thread.{PG_COLUMN}")
        # ts_rank reads each row's tsvector: rank only the newest ``cap`` matches, as on SQLite.
        # With an indexed filter the planner may still walk the primary key backwards testing every row,
        # underrating the cost of @@ on each (140 ms for "ledger" in product Ledger at 100k threads, 55 ms
        # by BitmapAnd): ordering by an expression takes that path away. The order itself is the same.
        newest = Thread.id + 0 if among is not None else Thread.id
        candidates = (select(Thread.id, vector.label("vector")).where(*where, vector.op("@@")(tsquery))
                      .order_by(newest.desc()).limit(cap).subquery("candidates"))
        return select(candidates.c.id, func.ts_rank(candidates.c.vector, tsquery).label("score"))


def backend() -> SqliteFullText | PostgresFullText:
    """The full-text engine of the database in use."""
    if db.session.get_bind().dialect.name == "postgresql":
        return PostgresFullText()
    return SqliteFullText()
