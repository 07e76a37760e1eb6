"""Database engine per app, one SQLAlchemy session per request (cached on ``g``).

Domain functions take a ``Session`` and never commit; the view or CLI command that owns the
unit of work commits. A request that raised is rolled back at teardown.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    String,
    any_,
    bindparam,
    cast,
    create_engine,
    event,
    exc,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, sessionmaker

from arena.errors import ConfigError

_EXT = "arena_db"
_AUTOCOMMIT = "arena_db_autocommit"
#: Seconds a request waits for a free pooled connection before it fails; with the pool sized
#: to the thread count this happens only if connections leak or the database stalls.
POOL_TIMEOUT_S = 10
#: A pooled PostgreSQL connection idle for longer than this is pinged before it is used (a
#: restarted or failed-over server leaves dead connections in the pool; the pool then opens a
#: new one). A connection in steady use is not: SQLAlchemy's pool_pre_ping would cost a
#: database round trip on every request. A server restart inside this window costs at most
#: the requests that meet a dead connection (500, then the pool is invalidated).
PING_AFTER_IDLE_S = 1.0


def pool_size(*, max_connections: int, reserved: int, hosts: int, workers: int,
              threads: int) -> int:
    """Connections one web process may hold, so the deployment never exceeds the database's.

    ``(max_connections - reserved) // (hosts x workers)``, at most ``threads`` (a request holds
    one connection at a time, so more would never be used); no overflow above it. Raises
    :class:`ConfigError` when that leaves a process no connection at all.
    """
    budget = (max_connections - reserved) // max(1, hosts * workers)
    if budget < 1:
        raise ConfigError(
            f"Config DB_MAX_CONNECTIONS={max_connections} minus DB_RESERVED_CONNECTIONS="
            f"{reserved} leaves no connection for each of HOSTS x WORKERS = "
            f"{hosts * workers} web processes.")
    return min(budget, max(1, threads))


def make_engine(url: str, *, pool: int = 5) -> Engine:
    """Create an engine with the settings this app relies on for each backend.

    ``pool`` is the most connections the engine opens (PostgreSQL; no overflow beyond it).
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # WAL lets readers proceed while a vote is written; foreign keys are off by default.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    engine = create_engine(url, pool_size=pool, max_overflow=0, pool_timeout=POOL_TIMEOUT_S)
    event.listen(engine, "checkin", _mark_idle)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


def _mark_idle(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    since = record.info.get("idle_since")
    if since is None or time.monotonic() - since <= PING_AFTER_IDLE_S:
        return
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        dbapi_connection.rollback()
    except Exception as error:
        # The pool discards this connection and checks out (or opens) another.
        raise exc.DisconnectionError() from error


def init_app(app: Flask) -> None:
    c = app.config
    pool = pool_size(max_connections=int(c["DB_MAX_CONNECTIONS"]),
                     reserved=int(c["DB_RESERVED_CONNECTIONS"]), hosts=int(c["HOSTS"]),
                     workers=int(c["WORKERS"]), threads=int(c["THREADS"]))
    engine = make_engine(c["DATABASE_URL"], pool=pool)
    app.extensions[_EXT] = sessionmaker(bind=engine, expire_on_commit=False)
    if engine.dialect.name == "postgresql":
        # Same pool; a connection checked out through it is in autocommit until returned.
        app.extensions[_AUTOCOMMIT] = engine.execution_options(isolation_level="AUTOCOMMIT")
    app.teardown_appcontext(_close_session)


def autocommit_engine(app: Flask | None = None) -> Engine | None:
    """On PostgreSQL, the engine whose connections are in autocommit (same pool); None
    elsewhere. For a write that is one statement (see :func:`statement_connection`)."""
    engine: Engine | None = (app or current_app).extensions.get(_AUTOCOMMIT)
    return engine


def engine_for(app: Flask | None = None) -> Engine:
    factory = (app or current_app).extensions[_EXT]
    return factory.kw["bind"]


def session() -> Session:
    """The request's (or app context's) session, created on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions[_EXT]()
    return g.db_session


#: What domain functions that only read, or write one statement, accept: the request's
#: ``Session`` or (PostgreSQL) its autocommit connection (:func:`statement_connection`).
Database = Session | Connection


def connection_of(db: Database) -> Connection:
    """``db`` itself, or the connection of a ``Session`` (which begins its transaction)."""
    return db if isinstance(db, Connection) else db.connection()


def statement_connection() -> Connection | None:
    """On PostgreSQL, the request's connection in autocommit, outside any ``Session``; None
    elsewhere. Closed at teardown.

    For a request whose writes are one statement (a vote): each statement commits on its own,
    so psycopg sends neither ``BEGIN`` nor ``COMMIT``, and the ``Session``'s bookkeeping
    (transaction objects, a ``commit()`` with nothing to send, close) is not paid for either.

    A pooled connection of the app's engine whose psycopg connection is switched to
    autocommit directly, and switched back before it goes back to the pool
    (:func:`release_statement_connection`); the same as the :func:`autocommit_engine`'s
    connections, at half the cost: that engine switches through its isolation-level
    execution option (an event on checkout, the characteristic's reset on return).
    """
    conn: Connection | None = g.get("db_statements")
    if conn is None:
        if autocommit_engine() is None:
            return None
        conn = engine_for().connect()
        dbapi_connection = conn.connection.dbapi_connection
        assert dbapi_connection is not None
        try:
            dbapi_connection.autocommit = True
        except BaseException as error:
            conn.invalidate()  # state unknown: never back to the pool in autocommit
            conn.close()
            dbapi_error = conn.dialect.loaded_dbapi.Error
            if isinstance(error, dbapi_error):  # e.g. closed: an outage (503), as elsewhere
                raise exc.DBAPIError.instance(None, None, error, dbapi_error) from error
            raise
        g.db_statements = conn
    return conn


def release_statement_connection() -> None:
    """Hand the request's autocommit connection back to the pool now (before the request
    goes on in a Session: a request never holds two pooled connections at once), out of
    autocommit; one that cannot be switched back (a lost connection) is discarded."""
    conn: Connection | None = g.pop("db_statements", None)
    if conn is None:
        return
    try:
        if not conn.invalidated:
            dbapi_connection = conn.connection.dbapi_connection
            if dbapi_connection is not None:
                dbapi_connection.autocommit = False
    except Exception:
        conn.invalidate()  # e.g. a lost connection: the pool opens a new one when needed
    finally:
        conn.close()


@contextmanager
def new_session(app: Flask | None = None) -> Iterator[Session]:
    """A session outside the request's one (background work, streaming generators)."""
    factory = (app or current_app).extensions[_EXT]
    db = factory()
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    finally:
        db.close()


def _close_session(exc: BaseException | None) -> None:
    release_statement_connection()
    db = g.pop("db_session", None)
    if db is not None:
        if exc is not None:
            db.rollback()
        db.close()


#: Values per ``IN (…)`` list elsewhere (SQLite's default limit is 32,766 parameters).
IN_CHUNK = 500
#: Values per array parameter on PostgreSQL.
ARRAY_CHUNK = 20_000


def id_chunks(db: Session, column: Any, values: Sequence[Any]) -> Iterator[Any]:
    """``column`` among ``values``, as one condition per chunk of ``values``.

    PostgreSQL gets ``column = ANY(:values)``: one array parameter, so the SQL text is the same
    for every chunk (prepared once, no per-value placeholders to expand and parse); other
    databases get ``IN (…)`` lists of :data:`IN_CHUNK` values.
    """
    if db.get_bind().dialect.name == "postgresql":
        strings = bool(values) and isinstance(values[0], str)
        for start in range(0, len(values), ARRAY_CHUNK):
            chunk = list(values[start:start + ARRAY_CHUNK])
            if strings:
                yield column == any_(bindparam("values", chunk, type_=ARRAY(String),
                                               unique=True))
            else:  # integers as one array literal: psycopg dumps long lists item by item
                literal = "{" + ",".join(str(int(v)) for v in chunk) + "}"
                yield column == any_(cast(bindparam("values", literal, type_=String,
                                                    unique=True), ARRAY(BigInteger)))
        return
    for start in range(0, len(values), IN_CHUNK):
        yield column.in_(values[start:start + IN_CHUNK])


#: The pooled connection's ``info`` key of the cursor :class:`Prebuilt` statements reuse.
_CURSOR = "arena_prebuilt_cursor"
#: A statement compiled for one dialect: the compiled form, its SQL, bind processors and
#: constant column defaults.
_Compiled = tuple[Any, str, list[tuple[str, Any]], dict[str, Any]]


class Prebuilt:
    """A Core statement of a hot path, compiled once per dialect and run on the DBAPI cursor
    of a :class:`~sqlalchemy.Connection` (its pooled connection, its transaction state).

    The SQL text, bind and result processing are SQLAlchemy's (the statement's types still
    convert values, e.g. :class:`arena.models.UTCDateTime`); skipped are the per-execution
    layers around them: the cache key, the execution context, the result object, and
    ``cursor.description`` (psycopg builds one ``Column`` object per result column for it,
    on every statement). Engine ``before_cursor_execute`` listeners still see the statement;
    ``before_execute`` ones do not (the sampler's watch for writes to ``contender``: so no
    Prebuilt statement writes that table). A driver error is raised as SQLAlchemy's
    (``IntegrityError``, ``OperationalError``, …) and a lost connection is invalidated, as
    ``Connection.execute`` does.
    """

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}
        #: Result processors per dialect, from the first run's ``cursor.description`` (some
        #: depend on the driver's type code, e.g. PostgreSQL's numerics).
        self._results: dict[str, list[Any]] = {}

    def _for(self, dialect: Any) -> _Compiled:
        done = self._compiled.get(dialect.name)
        if done is None:
            compiled = self.statement.compile(dialect=dialect)
            binds = [(key, proc) for key, proc in compiled._bind_processors.items()
                     if proc is not None]
            # Column defaults an INSERT/UPDATE leaves to SQLAlchemy (the execution context
            # fills them): constants only, which is all the hot paths' tables have.
            defaults = {}
            for column, default in [*((c, c.default) for c in compiled.insert_prefetch),
                                    *((c, c.onupdate) for c in compiled.update_prefetch)]:
                if not getattr(default, "is_scalar", False):
                    raise TypeError(f"Prebuilt: {column} has a default that is not a constant")
                defaults[compiled._within_exec_param_key_getter(column)] = default.arg
            done = (compiled, compiled.string, binds, defaults)
            self._compiled[dialect.name] = done
        return done

    def first(self, conn: Connection, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """The first row of the statement (one that returns rows) run with ``params``; None
        if it returned none."""
        compiled, sql, binds, defaults = self._for(conn.dialect)
        values = compiled.construct_params({**defaults, **params} if defaults else params)
        for key, process in binds:
            values[key] = process(values[key])
        if compiled.positional:  # SQLite's qmark style
            values = tuple(values[key] for key in compiled.positiontup)
        pooled = conn.connection
        dbapi_connection = pooled.dbapi_connection
        assert dbapi_connection is not None
        # As Connection.execute: else conn.commit() does nothing. Not on a connection in
        # autocommit (statement_connection): nothing to commit, and closing it would then
        # roll back a transaction object for nothing. ``is True``: Python 3.12+'s sqlite3
        # reports its default, implicit transactions, as -1 (LEGACY_TRANSACTION_CONTROL).
        autocommit = getattr(dbapi_connection, "autocommit", False) is True
        if not conn.in_transaction() and not autocommit:
            conn.begin()
        # psycopg: one cursor per pooled connection, reused by every Prebuilt statement (a
        # new cursor starts with an empty cache of parameter dumpers). Its result is wholly
        # client-side, so keeping it holds nothing on the server. Other drivers (sqlite3:
        # an unfinished SELECT keeps its read snapshot) get a cursor per statement.
        reuse = conn.dialect.name == "postgresql"
        cursor = pooled.info.get(_CURSOR) if reuse else None
        if cursor is None or cursor.connection is not dbapi_connection or cursor.closed:
            cursor = dbapi_connection.cursor()
            if reuse:
                pooled.info[_CURSOR] = cursor
        try:
            if conn._has_events or conn.engine._has_events:
                conn.dispatch.before_cursor_execute(conn, cursor, sql, values, None, False)
            cursor.execute(sql, values)
            row = cursor.fetchone()
            results = self._results.get(conn.dialect.name)
            if results is None:  # once: cursor.description builds a Column per column
                results = self._results[conn.dialect.name] = [
                    column.type._cached_result_processor(conn.dialect, described[1])
                    for column, described in zip(compiled._result_columns,
                                                 cursor.description, strict=True)]
        except BaseException as error:
            if reuse:
                pooled.info.pop(_CURSOR, None)  # whatever state it was left in
            try:
                if not isinstance(error, conn.dialect.loaded_dbapi.Error):
                    raise
                if conn.dialect.is_disconnect(error, dbapi_connection, cursor):
                    conn.invalidate(error)
                raise exc.DBAPIError.instance(sql, values, error,
                                              conn.dialect.loaded_dbapi.Error) from error
            finally:
                cursor.close()
        if not reuse:
            cursor.close()
        if row is None:
            return None
        return tuple(value if process is None else process(value)
                     for value, process in zip(row, results, strict=True))
