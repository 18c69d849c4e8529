"""The queue between whoever asks for a job and the worker that runs it: huey.

Redis when `O2O_REDIS_URL` is set; else the database itself on PostgreSQL (huey's own tables,
LISTEN/NOTIFY: workers on any host, no service to add); else a SQLite file beside a SQLite
database (one host). The queue carries only job ids: what a job is, and where it got to, is in
the `job` table. A message lost with a dying worker is no loss: recovery re-queues the job.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from huey import Huey, PostgresHuey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer
from sqlalchemy.engine import Engine, make_url

from app.config import Settings
from app.db import make_engine
from app.jobs import recovery
from app.jobs.runner import execute
from app.migrations import QUEUE_TABLE_PREFIX

POLL_MAX_SECONDS = 1.0  # an idle SQLite-queue worker looks for work at least this often


class JobQueue:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.huey = _huey(settings)
        self._engine: Engine | None = None
        self._consumer: Consumer | None = None
        self._lock = threading.Lock()
        self._run = self.huey.task(name="o2o.job")(self._execute)
        self.huey.periodic_task(crontab(minute="*"), name="o2o.recover")(self.recover)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings)
        return self._engine

    def dispatch(self, job_id: int) -> None:
        self._run(job_id)
        if self.settings.job_workers_in_process:
            self.start_in_process()

    def recover(self) -> None:
        """Re-queue (or fail) the jobs whose worker died; send every queued job again."""
        recovery.recover(self.engine)
        for job_id in recovery.queued(self.engine):
            self._run(job_id)

    def consumer(self, *, workers: int) -> Consumer:
        return Consumer(
            self.huey, workers=workers, worker_type="thread", max_delay=POLL_MAX_SECONDS
        )

    def start_in_process(self) -> None:
        with self._lock:
            if self._consumer is None:
                self.recover()
                self._consumer = _ThreadConsumer(
                    self.huey, workers=self.settings.job_workers_in_process,
                    worker_type="thread", max_delay=POLL_MAX_SECONDS,
                )  # fmt: skip
                self._consumer.start()

    def close(self) -> None:
        """Stop this process's worker threads (a running job finishes first) and let go of
        the queue's and the database's connections."""
        with self._lock:
            if self._consumer is not None:
                self._consumer.stop(graceful=True)
                self._consumer = None
            self.huey.storage.close()
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None

    def _execute(self, job_id: int) -> None:
        execute(self.engine, self.settings, job_id)


class _ThreadConsumer(Consumer):  # type: ignore[misc]
    """A consumer inside the web process: its threads only; the server owns the signals."""

    def _set_signal_handlers(self) -> None:
        pass


def _huey(settings: Settings) -> Huey:
    # One database, one queue, whatever else shares the Redis server.
    name = "o2o-" + hashlib.sha256(settings.database_url.encode()).hexdigest()[:12]
    url = make_url(settings.database_url)
    if settings.redis_url:
        return RedisHuey(name, url=settings.redis_url, results=False)
    if url.get_backend_name() == "postgresql" and not settings.job_queue_path:
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return PostgresHuey(name, dsn=dsn, table_prefix=QUEUE_TABLE_PREFIX, results=False)
    return SqliteHuey(name, filename=str(queue_file(settings)), results=False)


def queue_file(settings: Settings) -> Path:
    if settings.job_queue_path:
        return Path(settings.job_queue_path)
    url = make_url(settings.database_url)
    assert url.database, "a SQLite database is a file"
    return Path(url.database).with_name(Path(url.database).name + ".jobs")


_queues: dict[str, JobQueue] = {}
_queues_lock = threading.Lock()


def queue_for(settings: Settings) -> JobQueue:
    """The one queue of these settings in this process (workers and dispatch share it)."""
    key = settings.model_dump_json()
    with _queues_lock:
        if key not in _queues:
            _queues[key] = JobQueue(settings)
        return _queues[key]


def close_queue(settings: Settings) -> None:
    """Stop this process's in-process workers (letting a running job finish) at shutdown."""
    key = settings.model_dump_json()
    with _queues_lock:
        found = _queues.pop(key, None)
    if found is not None:
        found.close()


def has_unfinished_jobs(engine: Engine) -> bool:
    return bool(recovery.queued(engine)) or recovery.any_running(engine)
