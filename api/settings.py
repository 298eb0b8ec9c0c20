"""Service settings: environment variables ``LPS_*`` or keyword arguments.

Every limit the service enforces lives here, so that a 4xx answer can name the limit it
hit and an operator can change it without touching code. One pydantic-settings class
reads, types and bounds them; keyword arguments (what ``lps serve``'s options and the
tests pass) win over the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: the limits reported by ``GET /health``
LIMIT_NAMES = (
    "max_body_bytes", "max_rows", "max_features", "max_width", "max_layers", "max_paths",
    "max_variables", "family_max_paths", "max_jobs_per_key", "max_queue", "max_wait_seconds",
    "job_timeout_seconds",
    "max_system_chars", "max_terms", "max_degree", "max_digits", "max_nesting",
    "precheck_seconds", "precheck_memory_mb", "max_parameters", "max_result_bytes",
    "retention_days", "rate_limit_per_minute", "auth_failures_per_minute",
)


class Settings(BaseSettings):
    """Everything the service can be configured with (env var in brackets).

    Attributes
    ----------
    data_dir : Path
        Holds the SQLite database ``lps.sqlite3`` (jobs, results, cache). [``LPS_DATA_DIR``]
    workers : int
        Solver processes (the pool that runs jobs). [``LPS_WORKERS``]
    api_keys : tuple of str
        Accepted bearer keys; empty means no authentication. [``LPS_API_KEYS``,
        comma-separated]
    max_body_bytes : int
        Largest request body (413 above). [``LPS_MAX_BODY_BYTES``]
    max_rows, max_features, max_width, max_layers : int
        Most data rows, input features, features of the widest layer and layers in a spec
        (422). [``LPS_MAX_ROWS``, ``LPS_MAX_FEATURES``, ``LPS_MAX_WIDTH``, ``LPS_MAX_LAYERS``]
    max_paths : int
        Most homotopy paths one request may ask for (422 with the counts). [``LPS_MAX_PATHS``]
    family_max_paths : int
        Most linear-product paths of a spec's network start system for which the service
        solves the spec's missing family (exact mode) as a job of its own; above, the
        request is refused (422 naming this and ``max_paths``). The family is solved once
        and stored for every later request of the architecture. [``LPS_FAMILY_MAX_PATHS``]
    max_variables : int
        Most unknowns of a system sent to ``/systems/solve`` (422). [``LPS_MAX_VARIABLES``]
    max_jobs_per_key : int
        Queued plus running jobs one API key may have (429). [``LPS_MAX_JOBS_PER_KEY``]
    max_queue : int
        Queued plus running jobs overall; beyond it the service answers 503 with
        ``Retry-After``. [``LPS_MAX_QUEUE``]
    wait_seconds : float
        How long a solve request waits for its result before answering 202.
        [``LPS_WAIT_SECONDS``]
    max_wait_seconds : float
        Upper bound for the ``wait`` query parameter. [``LPS_MAX_WAIT_SECONDS``]
    job_timeout_seconds : float
        A job running longer is stopped and failed with the reason. [``LPS_JOB_TIMEOUT``]
    restart_running : {"rerun", "fail"}
        What a restart does with a job that was running: queue it again (up to
        ``max_attempts`` runs in all) or mark it failed. [``LPS_RESTART_RUNNING``]
    max_attempts : int
        Runs a job gets across restarts before it is failed. [``LPS_MAX_ATTEMPTS``]
    warmup : bool
        Each solver process loads the engine (and Numba's cache) before its first job.
        [``LPS_WARMUP``, 1/0]
    worker_niceness : int
        How much lower than the web process the solver processes run (``nice``), so that
        answers from the cache stay fast while the cores solve. [``LPS_WORKER_NICENESS``]
    max_system_chars, max_terms, max_degree, max_digits, max_nesting : int
        Parser limits of a PHC text (422 with line and column): characters of the text,
        terms of one polynomial, degree of one polynomial, digits of one number, depth of
        nested parentheses. [``LPS_MAX_SYSTEM_CHARS``, ``LPS_MAX_TERMS``,
        ``LPS_MAX_DEGREE``, ``LPS_MAX_DIGITS``, ``LPS_MAX_NESTING``]
    precheck_seconds, precheck_memory_mb : float, int
        Time and address-space cap of one path count before a job is queued (the
        structure search, a mixed volume); it runs in a child process that is killed and
        replaced when over either (422 naming the limit). [``LPS_PRECHECK_SECONDS``,
        ``LPS_PRECHECK_MEMORY_MB``]
    max_parameters : int
        Most trainable parameters of a layer spec (422). [``LPS_MAX_PARAMETERS``]
    max_result_bytes : int
        Largest stored result (JSON); a job whose result is larger fails with the reason.
        [``LPS_MAX_RESULT_BYTES``]
    retention_days, cleanup_interval_seconds : float
        Finished jobs and their results are deleted this long after they finished; the
        cleanup runs every ``cleanup_interval_seconds``. [``LPS_RETENTION_DAYS``,
        ``LPS_CLEANUP_INTERVAL_SECONDS``]
    rate_limit_per_minute : int
        Requests per minute one key may make (429 with ``Retry-After``).
        [``LPS_RATE_LIMIT_PER_MINUTE``]
    auth_failures_per_minute : int
        Failed authentications per minute from one client address before its requests
        are refused with 429. [``LPS_AUTH_FAILURES_PER_MINUTE``]
    dask_scheduler : str, optional
        A Dask scheduler (``tcp://host:8786``): the job workers track their paths on its
        cluster (:mod:`solver.engine.executors`). Unreachable at start, the service runs on
        its local pool and says so in ``/health``. [``LPS_DASK_SCHEDULER``]
    """

    # empty variables count as unset (the defaults), as a shell's ``LPS_X=`` means
    model_config = SettingsConfigDict(env_prefix="LPS_", env_ignore_empty=True, frozen=True,
                                      validate_by_name=True, extra="ignore")

    data_dir: Path = Path("lps-data")
    workers: int = Field(1, ge=1, le=1024)
    # NoDecode: a comma-separated list, not JSON
    api_keys: Annotated[tuple[str, ...], NoDecode] = ()
    max_body_bytes: int = Field(8 * 1024 * 1024, ge=1)
    max_rows: int = Field(10_000, ge=1)
    max_features: int = Field(1024, ge=1)
    max_width: int = Field(1024, ge=1)
    max_layers: int = Field(64, ge=1)
    max_paths: int = Field(1_000_000, ge=1)
    max_variables: int = Field(64, ge=1)
    family_max_paths: int = Field(300_000, ge=1, le=100_000_000)
    max_jobs_per_key: int = Field(8, ge=1)
    max_queue: int = Field(1000, ge=1)
    # the ``wait`` query parameter accepts at most an hour
    wait_seconds: float = Field(2.0, ge=0, le=3600)
    max_wait_seconds: float = Field(30.0, ge=0, le=3600)
    job_timeout_seconds: float = Field(3600.0, ge=1e-3, validation_alias="LPS_JOB_TIMEOUT")
    restart_running: Literal["rerun", "fail"] = "rerun"
    max_attempts: int = Field(2, ge=1, le=100)
    warmup: bool = True
    worker_niceness: int = Field(5, ge=0, le=19)
    # parser limits (see solver.engine.formats.phc.ParseLimits)
    max_system_chars: int = Field(1_000_000, ge=1, le=100_000_000)
    max_terms: int = Field(100_000, ge=1, le=10_000_000)
    max_degree: int = Field(256, ge=1, le=1_000_000)
    max_digits: int = Field(400, ge=1, le=100_000)
    max_nesting: int = Field(100, ge=1, le=10_000)
    precheck_seconds: float = Field(1.0, gt=0, le=3600)
    precheck_memory_mb: int = Field(2048, ge=256, le=1_048_576)
    max_parameters: int = Field(1_000_000, ge=1)
    max_result_bytes: int = Field(64 * 1024 * 1024, ge=1024)
    retention_days: float = Field(30.0, gt=0, le=36500)
    cleanup_interval_seconds: float = Field(3600.0, ge=0.1, le=86400 * 7)
    rate_limit_per_minute: int = Field(1200, ge=1)
    auth_failures_per_minute: int = Field(20, ge=1)
    dask_scheduler: str | None = None

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else value
        return tuple(k.strip() for k in items if k and k.strip())

    @property
    def db_path(self) -> Path:
        """The SQLite database file."""
        return self.data_dir / "lps.sqlite3"

    @property
    def family_dir(self) -> Path:
        """Where the service stores the generic solutions of network families (shared by
        every caller: they hold no caller's data)."""
        return self.data_dir / "families"

    @property
    def auth_enabled(self) -> bool:
        """Whether bearer keys are required (any key configured)."""
        return bool(self.api_keys)

    @property
    def retention_seconds(self) -> float:
        """How long finished jobs and results are kept."""
        return self.retention_days * 86400.0

    def parse_limits(self) -> dict[str, int]:
        """Keyword arguments of the PHC parser's ``ParseLimits``."""
        return {"max_chars": self.max_system_chars, "max_terms": self.max_terms, "max_degree": self.max_degree,
                "max_digits": self.max_digits, "max_nesting": self.max_nesting}

    def limits(self) -> dict[str, int | float]:
        """The limits as reported by ``GET /health``."""
        return {n: getattr(self, n) for n in LIMIT_NAMES}
