"""Dagster's SQLite event log, keeping its database engines instead of making one per event.

``SqliteEventLogStorage`` creates, initialises and disposes a SQLAlchemy engine on every
connection: each stored event opens the run's file, then the cross-run index, ≈ 10 ms a time.
One bailleur's re-drop stores ≈ 500 events (its planned, materialized and checked assets):
pyinstrument put 5 of its 37 s in that ``_connect``. This storage keeps the engines of the
index and of the last few runs. Connections are still taken one at a time under the storage's
lock, and SQLite (WAL) shares the files between the webserver, the daemon and the run
workers as before. It is the event log of ``<data>/.dagster`` (campaign.prepare_instance);
``_connect`` and ``_initdb`` are private API of the dagster version locked in uv.lock, and
tests/test_event_log.py fails if they change.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection, Engine

# The index, the run being executed, and a few runs the webserver is showing.
MAX_ENGINES = 4


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> PooledSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            with self._engine(shard).connect() as conn, conn.begin():
                yield conn

    def _engine(self, shard: str) -> Engine:
        """The shard's engine, most recently used last; the oldest beyond MAX_ENGINES closed."""
        engine = self._engines.pop(shard, None)
        if engine is None:
            engine = create_engine(self.conn_string_for_shard(shard),
                                   connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
        self._engines[shard] = engine
        while len(self._engines) > MAX_ENGINES:
            self._engines.popitem(last=False)[1].dispose()
        return engine

    def dispose(self) -> None:
        super().dispose()
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()
