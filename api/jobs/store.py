"""The job store: jobs, their progress and results, and the result cache, in one SQLite file.

SQLite runs in WAL mode so the web process reads while the solver processes write progress.
Every process opens its own :class:`JobStore` (a connection is not shared across processes
or threads). A job moves ``queued -> running -> done | failed``, or to ``cancelled`` from
either of the first two. ``attempts`` counts the runs a job was given; a worker's writes
carry the attempt it was given, so a run that was superseded (re-queued after a restart,
or cancelled) can no longer change the job.

Results are stored once per canonical spec hash in ``results`` (the cache); a job that is
done points at its result through ``spec_hash``. A family job's result (hash
``family:<id>``) is replaced by the next one: it describes a file that can change.

A queued job may run ``after`` another (the column ``after_job``): a network job waits for
the family job that solves its architecture's generic member. It is not handed out while
that job is queued or running; once it is final (done, failed, cancelled, or deleted) the
job runs whatever the outcome, so that it never waits forever.

Database files of earlier versions get the columns added since (:data:`_ADDED_COLUMNS`)
when they are opened.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

STATUSES = ("queued", "running", "done", "failed", "cancelled")
ACTIVE = ("queued", "running")
FINAL = ("done", "failed", "cancelled")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    owner            TEXT NOT NULL,
    spec_hash        TEXT NOT NULL,
    request          TEXT NOT NULL,
    status           TEXT NOT NULL,
    progress_done    INTEGER NOT NULL DEFAULT 0,
    progress_total   INTEGER,
    progress_unit    TEXT,
    error            TEXT,
    note             TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    paths            INTEGER,
    created          REAL NOT NULL,
    started          REAL,
    finished         REAL,
    updated          REAL,
    after_job        TEXT
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status, created);
CREATE INDEX IF NOT EXISTS jobs_owner ON jobs(owner, status);
CREATE INDEX IF NOT EXISTS jobs_hash ON jobs(spec_hash, status);
CREATE TABLE IF NOT EXISTS results (
    spec_hash   TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    job_id      TEXT,
    result      TEXT NOT NULL,
    created     REAL NOT NULL
);
"""


#: columns added to ``jobs`` after its first release: ``(name, declaration)``, added to an
#: older file when it is opened
_ADDED_COLUMNS = (("after_job", "TEXT"),)

#: every job read: the row and the status of the job it runs after
_SELECT_JOBS = "SELECT j.*, a.status AS after_status FROM jobs j LEFT JOIN jobs a ON a.id = j.after_job"


class StaleAttempt(Exception):
    """The job is no longer this worker's: it was cancelled or given to another attempt."""


@dataclass(frozen=True)
class Job:
    """One row of ``jobs``; ``request`` and ``error`` are decoded JSON."""

    id: str
    kind: str
    owner: str
    spec_hash: str
    request: dict
    status: str
    progress_done: int
    progress_total: int | None
    progress_unit: str | None
    error: dict | None
    note: str | None
    attempts: int
    paths: int | None
    created: float
    started: float | None
    finished: float | None
    after: str | None = None
    after_status: str | None = None

    @property
    def waiting_for(self) -> str | None:
        """The job this queued job waits for while that one is queued or running."""
        return self.after if self.status == "queued" and self.after_status in ACTIVE else None

    def view(self) -> dict:
        """The public JSON of the job, without its result (see :func:`render_job`)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "progress": {"done": self.progress_done, "total": self.progress_total, "unit": self.progress_unit},
            "attempts": self.attempts,
            "spec_hash": self.spec_hash,
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
            "note": self.note,
            "error": self.error,
            "after": self.after,
            "waiting_for": self.waiting_for,
        }


def render_job(job: Job, result_text: str | None, cached: bool) -> bytes:
    """The job's JSON with the stored result spliced in verbatim (no re-encoding).

    The result is kept as JSON text in the database; a cache hit sends it as it is,
    which is what keeps a cached answer about as cheap as ``GET /health``.
    """
    head = job.view()
    head["cached"] = cached
    text = json.dumps(head, separators=(",", ":"))
    return (text[:-1] + ',"result":' + (result_text if result_text is not None else "null") + "}").encode()


def _row_to_job(row: sqlite3.Row) -> Job:
    columns = row.keys()  # a plain ``SELECT *`` has no after_status
    return Job(
        id=row["id"],
        kind=row["kind"],
        owner=row["owner"],
        spec_hash=row["spec_hash"],
        request=json.loads(row["request"]),
        status=row["status"],
        progress_done=row["progress_done"],
        progress_total=row["progress_total"],
        progress_unit=row["progress_unit"],
        error=json.loads(row["error"]) if row["error"] else None,
        note=row["note"],
        attempts=row["attempts"],
        paths=row["paths"],
        created=row["created"],
        started=row["started"],
        finished=row["finished"],
        after=row["after_job"] if "after_job" in columns else None,
        after_status=row["after_status"] if "after_status" in columns else None,
    )


class JobStore:
    """A connection to the job database (one per process and thread).

    Parameters
    ----------
    path : Path
        The SQLite file; its folder is created.
    busy_timeout_ms : int
        How long a write waits for another process's write lock.
    """

    def __init__(self, path: Path | str, busy_timeout_ms: int = 10_000) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # autocommit mode: every statement commits unless inside an explicit transaction
        self.db = sqlite3.connect(str(self.path), timeout=busy_timeout_ms / 1000, isolation_level=None,
                                  check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        mode = self.db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise RuntimeError(f"SQLite refused WAL mode for {self.path} (got {mode!r})")
        # NORMAL is durable across process crashes in WAL mode (only an OS crash can lose
        # the last commits), and much cheaper than FULL.
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Add the columns of :data:`_ADDED_COLUMNS` that an older file lacks (checked again
        under the write lock: another process may be opening the same file)."""
        def missing() -> list[tuple[str, str]]:
            have = {row[1] for row in self.db.execute("PRAGMA table_info(jobs)")}
            return [(name, decl) for name, decl in _ADDED_COLUMNS if name not in have]

        if not missing():
            return
        with self._tx():
            for name, decl in missing():
                self.db.execute(f"ALTER TABLE jobs ADD COLUMN {name} {decl}")

    def close(self) -> None:
        self.db.close()

    # transactions ------------------------------------------------------------------
    def _tx(self) -> "_Tx":
        return _Tx(self.db)

    # creating and reading ------------------------------------------------------------
    def create(self, kind: str, owner: str, spec_hash: str, request: dict, status: str = "queued",
               note: str | None = None, progress_total: int | None = None, progress_unit: str | None = None,
               after: str | None = None) -> Job:
        """Insert a new job and return it (``progress_total``: the work known up front;
        ``after``: the id of a job it must not start before, see the module's docstring)."""
        now = time.time()
        job_id = uuid.uuid4().hex
        self.db.execute(
            "INSERT INTO jobs (id, kind, owner, spec_hash, request, status, note, progress_total, progress_unit,"
            " created, updated, after_job) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (job_id, kind, owner, spec_hash, json.dumps(request, separators=(",", ":")), status, note,
             progress_total, progress_unit, now, now, after),
        )
        job = self.get(job_id)
        assert job is not None
        return job

    def create_cached(self, kind: str, owner: str, spec_hash: str, request: dict) -> Job:
        """A new job of ``owner``'s, done at once: it answers from the result already
        cached under ``spec_hash`` (its own id and timestamps, nobody else's)."""
        now = time.time()
        job_id = uuid.uuid4().hex
        self.db.execute(
            "INSERT INTO jobs (id, kind, owner, spec_hash, request, status, note, created, started, finished,"
            " updated) VALUES (?, ?, ?, ?, ?, 'done', ?, ?, ?, ?, ?)",
            (job_id, kind, owner, spec_hash, json.dumps(request, separators=(",", ":")),
             "answered from the result cache", now, now, now, now),
        )
        job = self.get(job_id)
        assert job is not None
        return job

    def get(self, job_id: str) -> Job | None:
        row = self.db.execute(f"{_SELECT_JOBS} WHERE j.id = ?", (job_id,)).fetchone()
        return _row_to_job(row) if row else None

    def result_text(self, spec_hash: str) -> str | None:
        """The cached result (JSON text) for a spec hash, if any."""
        row = self.db.execute("SELECT result FROM results WHERE spec_hash = ?", (spec_hash,)).fetchone()
        return row[0] if row else None

    def cached(self, spec_hash: str, owner: str) -> tuple[Job | None, str] | None:
        """``(job, result_text)`` of the cached result for a spec hash, or None; ``job`` is
        ``owner``'s latest done job for it, None when only other owners solved it."""
        row = self.db.execute("SELECT result FROM results WHERE spec_hash = ?", (spec_hash,)).fetchone()
        if row is None:
            return None
        own = self.db.execute(
            f"{_SELECT_JOBS} WHERE j.spec_hash = ? AND j.owner = ? AND j.status = 'done' ORDER BY j.created LIMIT 1",
            (spec_hash, owner),
        ).fetchone()
        return (_row_to_job(own) if own else None), row[0]

    def delete_expired(self, max_age_seconds: float) -> dict[str, int]:
        """Delete final jobs that finished more than ``max_age_seconds`` ago, then the
        results no remaining job points to and that are that old too.

        Returns
        -------
        dict
            ``{"jobs": n, "results": m}`` deleted.
        """
        cutoff = time.time() - max_age_seconds
        with self._tx():
            jobs = self.db.execute(
                "DELETE FROM jobs WHERE status IN ('done', 'failed', 'cancelled') AND COALESCE(finished, updated)"
                " < ?", (cutoff,)).rowcount
            results = self.db.execute(
                "DELETE FROM results WHERE created < ? AND NOT EXISTS"
                " (SELECT 1 FROM jobs WHERE jobs.spec_hash = results.spec_hash)", (cutoff,)).rowcount
        return {"jobs": int(jobs), "results": int(results)}

    def size_bytes(self) -> int:
        """Bytes of the database on disk, its write-ahead log included."""
        total = 0
        for suffix in ("", "-wal", "-shm"):
            try:
                total += (self.path.parent / (self.path.name + suffix)).stat().st_size
            except OSError:
                pass
        return total

    def active_for(self, owner: str, spec_hash: str) -> Job | None:
        """A queued or running job of this owner for the same spec (to attach to it)."""
        row = self.db.execute(
            f"{_SELECT_JOBS} WHERE j.spec_hash = ? AND j.owner = ? AND j.status IN ('queued', 'running')"
            " ORDER BY j.created LIMIT 1",
            (spec_hash, owner),
        ).fetchone()
        return _row_to_job(row) if row else None

    def latest(self, spec_hash: str) -> Job | None:
        """The newest job for a spec hash, whoever owns it (an active one first)."""
        row = self.db.execute(
            f"{_SELECT_JOBS} WHERE j.spec_hash = ? ORDER BY j.status IN ('queued', 'running') DESC, j.created DESC"
            " LIMIT 1",
            (spec_hash,),
        ).fetchone()
        return _row_to_job(row) if row else None

    def recent(self, kind: str, limit: int) -> list[Job]:
        """Jobs of one kind: the active ones, then the most recent others, newest first."""
        rows = self.db.execute(
            f"{_SELECT_JOBS} WHERE j.kind = ? ORDER BY j.status IN ('queued', 'running') DESC, j.created DESC LIMIT ?",
            (kind, int(limit)),
        ).fetchall()
        return [_row_to_job(r) for r in rows]

    def owned(self, owner: str, limit: int) -> list[Job]:
        """The ``limit`` most recent jobs of ``owner`` (the ``jobs_owner`` index), newest first."""
        rows = self.db.execute(f"{_SELECT_JOBS} WHERE j.owner = ? ORDER BY j.created DESC LIMIT ?",
                               (owner, int(limit))).fetchall()
        return [_row_to_job(r) for r in rows]

    def count_active(self, owner: str | None = None) -> int:
        if owner is None:
            q, args = "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')", ()
        else:
            q, args = "SELECT COUNT(*) FROM jobs WHERE owner = ? AND status IN ('queued', 'running')", (owner,)
        return int(self.db.execute(q, args).fetchone()[0])

    def counts_by_status(self) -> dict[str, int]:
        out = {s: 0 for s in STATUSES}
        for status, n in self.db.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status"):
            out[status] = int(n)
        return out

    def paths_tracked(self) -> int:
        """Paths tracked by all finished jobs (their ``paths`` column)."""
        return int(self.db.execute("SELECT COALESCE(SUM(paths), 0) FROM jobs WHERE status = 'done'").fetchone()[0])

    def cache_size(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM results").fetchone()[0])

    def queued(self, limit: int) -> list[str]:
        """Ids of the queued jobs that may start now, oldest first: not those that run after
        a job still queued or running."""
        rows = self.db.execute(
            "SELECT j.id FROM jobs j WHERE j.status = 'queued' AND NOT EXISTS (SELECT 1 FROM jobs a"
            " WHERE a.id = j.after_job AND a.status IN ('queued', 'running')) ORDER BY j.created LIMIT ?",
            (int(limit),),
        ).fetchall()
        return [r[0] for r in rows]

    def jobs_with_status(self, status: str) -> Iterator[Job]:
        for row in self.db.execute(f"{_SELECT_JOBS} WHERE j.status = ?", (status,)).fetchall():
            yield _row_to_job(row)

    # state changes -------------------------------------------------------------------
    def claim(self, job_id: str) -> int | None:
        """Move a queued job to running; returns its attempt number, or None if not queued."""
        now = time.time()
        with self._tx():
            cur = self.db.execute(
                "UPDATE jobs SET status = 'running', attempts = attempts + 1, started = ?, updated = ?,"
                " progress_done = 0 WHERE id = ? AND status = 'queued'",
                (now, now, job_id),
            )
            if cur.rowcount != 1:
                return None
            return int(self.db.execute("SELECT attempts FROM jobs WHERE id = ?", (job_id,)).fetchone()[0])

    def progress(self, job_id: str, attempt: int, done: int, total: int | None, unit: str | None) -> None:
        """Record progress of a running attempt.

        Raises
        ------
        StaleAttempt
            The job is no longer running under this attempt (cancelled, re-queued).
        """
        cur = self.db.execute(
            "UPDATE jobs SET progress_done = ?, progress_total = ?, progress_unit = COALESCE(?, progress_unit),"
            " updated = ? WHERE id = ? AND attempts = ? AND status = 'running'",
            (int(done), None if total is None else int(total), unit, time.time(), job_id, attempt),
        )
        if cur.rowcount != 1:
            raise StaleAttempt(job_id)

    def finish_done(self, job_id: str, attempt: int, result_text: str, paths: int | None) -> bool:
        """Store the result in the cache and mark the attempt done; False if it was stale."""
        now = time.time()
        with self._tx():
            row = self.db.execute(
                "SELECT kind, spec_hash FROM jobs WHERE id = ? AND attempts = ? AND status = 'running'",
                (job_id, attempt),
            ).fetchone()
            if row is None:
                return False
            # a spec's result is deterministic: the first stays; a family's is replaced
            self.db.execute(
                "INSERT INTO results (spec_hash, kind, job_id, result, created) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(spec_hash) DO UPDATE SET job_id = excluded.job_id, result = excluded.result,"
                " created = excluded.created WHERE excluded.kind = 'family'",
                (row["spec_hash"], row["kind"], job_id, result_text, now),
            )
            self.db.execute(
                "UPDATE jobs SET status = 'done', finished = ?, updated = ?, paths = ?,"
                " progress_done = COALESCE(progress_total, progress_done) WHERE id = ?",
                (now, now, paths, job_id),
            )
        return True

    def finish_failed(self, job_id: str, attempt: int | None, error: dict) -> bool:
        """Mark a running (or, with ``attempt=None``, any active) job failed with a reason."""
        now = time.time()
        if attempt is None:
            cur = self.db.execute(
                "UPDATE jobs SET status = 'failed', error = ?, finished = ?, updated = ?"
                " WHERE id = ? AND status IN ('queued', 'running')",
                (json.dumps(error), now, now, job_id),
            )
        else:
            cur = self.db.execute(
                "UPDATE jobs SET status = 'failed', error = ?, finished = ?, updated = ?"
                " WHERE id = ? AND attempts = ? AND status = 'running'",
                (json.dumps(error), now, now, job_id, attempt),
            )
        return cur.rowcount == 1

    def cancel(self, job_id: str) -> str | None:
        """Cancel a queued or running job; returns the status it had, or None if it was final."""
        now = time.time()
        with self._tx():
            row = self.db.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None or row[0] not in ACTIVE:
                return None
            self.db.execute(
                "UPDATE jobs SET status = 'cancelled', finished = ?, updated = ?,"
                " error = ? WHERE id = ?",
                (now, now, json.dumps({"reason": "cancelled by request"}), job_id),
            )
            return row[0]

    def requeue(self, job_id: str, note: str, refund_attempt: bool = False) -> bool:
        """Put a running job back in the queue (restart recovery, graceful shutdown)."""
        cur = self.db.execute(
            "UPDATE jobs SET status = 'queued', note = ?, updated = ?, started = NULL, progress_done = 0,"
            " attempts = attempts - ? WHERE id = ? AND status = 'running'",
            (note, time.time(), 1 if refund_attempt else 0, job_id),
        )
        return cur.rowcount == 1

    def recover(self, restart_running: str, max_attempts: int) -> dict[str, int]:
        """After a restart: re-queue or fail the jobs that were running.

        Queued jobs stay queued and run again. A running job is re-queued when
        ``restart_running == "rerun"`` and it has had fewer than ``max_attempts`` runs,
        else it is failed with the reason.

        Returns
        -------
        dict
            ``{"requeued": n, "failed": m, "queued": k}``.
        """
        requeued = failed = 0
        for job in list(self.jobs_with_status("running")):
            if restart_running == "rerun" and job.attempts < max_attempts:
                note = f"re-queued after a server restart interrupted attempt {job.attempts}"
                requeued += self.requeue(job.id, note)
            else:
                why = (
                    f"the server restarted while the job was running (attempt {job.attempts} of {max_attempts})"
                    if restart_running == "rerun"
                    else "the server restarted while the job was running (LPS_RESTART_RUNNING=fail)"
                )
                failed += self.finish_failed(job.id, None, {"reason": why, "attempts": job.attempts})
        queued = self.db.execute("SELECT COUNT(*) FROM jobs WHERE status = 'queued'").fetchone()[0]
        return {"requeued": requeued, "failed": failed, "queued": int(queued)}


class _Tx:
    """``BEGIN IMMEDIATE ... COMMIT`` (or ROLLBACK on error) on an autocommit connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
