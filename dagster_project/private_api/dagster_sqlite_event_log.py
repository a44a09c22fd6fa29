"""Dagster's SQLite event log, keeping its database engines instead of making one per event.

Private API of dagster 1.13.27 (``SqliteEventLogStorage._connect``, ``_initdb``,
``_initialized_dbs``, ``_db_lock``). The stock storage creates, initialises and disposes a
SQLAlchemy engine on every connection: each stored event opens the run's file, then the
cross-run index. This storage keeps the engines of the index and of the last few runs.
Connections are still taken one at a time under the storage's lock, and SQLite (WAL) shares
the files between the webserver, the daemon and the run workers as before. It is the event
log of ``<data>/.dagster`` (``campaign.INSTANCE_YAML``). Measured gain: docs/benchmark.md,
"Private API".
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from dagster_project.private_api import disabled, written_for

written_for("dagster", "1.13.27")

from dagster._core.storage.event_log.sqlite.sqlite_event_log import (  # noqa: E402
    SqliteEventLogStorage,
)
from dagster._core.storage.sql import create_engine  # noqa: E402
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS  # noqa: E402
from dagster._serdes import ConfigurableClassData  # noqa: E402
from sqlalchemy.engine import Connection, Engine  # noqa: E402

NAME = "dagster_sqlite_event_log"
# The index, the run being executed, and a few runs the webserver is showing.
MAX_ENGINES = 4


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._stock = disabled(NAME)  # the benchmark's "without" measure
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> PooledSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        if self._stock:
            with super()._connect(shard) as conn:
                yield conn
            return
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
