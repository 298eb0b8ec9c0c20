"""Service settings, read from the environment (``LPS_*``) or passed to :func:`api.app.create_app`.

Every limit the service enforces lives here, so that a 4xx answer can name the limit it
hit and an operator can change it without touching code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path


class SettingsError(ValueError):
    """An ``LPS_*`` environment variable that cannot be used (bad number, bad choice)."""


def _env_int(env: dict, name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not an integer") from None
    if value < minimum:
        raise SettingsError(f"{name}={value} must be at least {minimum}")
    return value


def _env_float(env: dict, name: str, default: float, minimum: float = 0.0) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if not value >= minimum:
        raise SettingsError(f"{name}={value} must be at least {minimum}")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything the service can be configured with.

    Attributes
    ----------
    data_dir : Path
        Holds the SQLite database ``lps.sqlite3`` (jobs, results, cache). ``LPS_DATA_DIR``.
    workers : int
        Solver processes (the pool that runs jobs). ``LPS_WORKERS``.
    api_keys : tuple of str
        Accepted bearer keys; empty means no authentication. ``LPS_API_KEYS``
        (comma-separated).
    max_body_bytes : int
        Largest request body (413 above). ``LPS_MAX_BODY_BYTES``.
    max_rows : int
        Most data rows in a spec (422). ``LPS_MAX_ROWS``.
    max_features : int
        Most input features (columns of ``data.x``) in a spec (422). ``LPS_MAX_FEATURES``.
    max_width : int
        Widest layer (``in_features`` or ``out_features``) in a spec (422). ``LPS_MAX_WIDTH``.
    max_layers : int
        Most layers in a spec (422). ``LPS_MAX_LAYERS``.
    max_paths : int
        Most homotopy paths one request may ask for (422 with the counts). ``LPS_MAX_PATHS``.
    max_variables : int
        Most unknowns of a system sent to ``/systems/solve`` (422). ``LPS_MAX_VARIABLES``.
    max_jobs_per_key : int
        Queued plus running jobs one API key may have (429). ``LPS_MAX_JOBS_PER_KEY``.
    max_queue : int
        Queued plus running jobs overall; beyond it the service answers 503 with
        ``Retry-After``. ``LPS_MAX_QUEUE``.
    wait_seconds : float
        How long ``POST /solve`` waits for a result before answering 202. ``LPS_WAIT_SECONDS``.
    max_wait_seconds : float
        Upper bound for the ``wait`` query parameter. ``LPS_MAX_WAIT_SECONDS``.
    job_timeout_seconds : float
        A job running longer is stopped and failed with the reason. ``LPS_JOB_TIMEOUT``.
    restart_running : str
        What a restart does with a job that was running: ``"rerun"`` (queue it again, up to
        ``max_attempts`` runs in all) or ``"fail"`` (mark it failed with the reason).
        ``LPS_RESTART_RUNNING``.
    max_attempts : int
        Runs a job gets across restarts before it is failed. ``LPS_MAX_ATTEMPTS``.
    warmup : bool
        Each solver process loads the engine (and Numba's cache) before its first job.
        ``LPS_WARMUP`` (1/0).
    """

    data_dir: Path = field(default_factory=lambda: Path("lps-data"))
    workers: int = 1
    api_keys: tuple[str, ...] = ()
    max_body_bytes: int = 8 * 1024 * 1024
    max_rows: int = 10_000
    max_features: int = 1024
    max_width: int = 1024
    max_layers: int = 64
    max_paths: int = 1_000_000
    max_variables: int = 64
    max_jobs_per_key: int = 8
    max_queue: int = 1000
    wait_seconds: float = 2.0
    max_wait_seconds: float = 30.0
    job_timeout_seconds: float = 3600.0
    restart_running: str = "rerun"
    max_attempts: int = 2
    warmup: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        object.__setattr__(self, "api_keys", tuple(k for k in self.api_keys if k))
        if self.restart_running not in ("rerun", "fail"):
            raise SettingsError(f"restart_running must be 'rerun' or 'fail', not {self.restart_running!r}")
        if self.workers < 1:
            raise SettingsError("workers must be at least 1")
        if self.max_attempts < 1:
            raise SettingsError("max_attempts must be at least 1")

    @property
    def db_path(self) -> Path:
        """The SQLite database file."""
        return self.data_dir / "lps.sqlite3"

    @property
    def auth_enabled(self) -> bool:
        return bool(self.api_keys)

    def with_(self, **changes) -> "Settings":
        """A copy with some fields changed."""
        return replace(self, **changes)

    def limits(self) -> dict:
        """The limits as reported by ``GET /health`` and in 4xx bodies."""
        names = (
            "max_body_bytes", "max_rows", "max_features", "max_width", "max_layers", "max_paths",
            "max_variables", "max_jobs_per_key", "max_queue", "max_wait_seconds", "job_timeout_seconds",
        )
        return {n: getattr(self, n) for n in names}

    @classmethod
    def from_env(cls, env: dict | None = None, **overrides) -> "Settings":
        """Read ``LPS_*`` variables (``os.environ`` by default); ``overrides`` win.

        Raises
        ------
        SettingsError
            A variable that is not a valid number or choice.
        """
        env = dict(os.environ if env is None else env)
        d = cls()
        keys = tuple(k.strip() for k in env.get("LPS_API_KEYS", "").split(",") if k.strip())
        values = dict(
            data_dir=Path(env.get("LPS_DATA_DIR") or d.data_dir),
            workers=_env_int(env, "LPS_WORKERS", d.workers, 1),
            api_keys=keys,
            max_body_bytes=_env_int(env, "LPS_MAX_BODY_BYTES", d.max_body_bytes, 1),
            max_rows=_env_int(env, "LPS_MAX_ROWS", d.max_rows, 1),
            max_features=_env_int(env, "LPS_MAX_FEATURES", d.max_features, 1),
            max_width=_env_int(env, "LPS_MAX_WIDTH", d.max_width, 1),
            max_layers=_env_int(env, "LPS_MAX_LAYERS", d.max_layers, 1),
            max_paths=_env_int(env, "LPS_MAX_PATHS", d.max_paths, 1),
            max_variables=_env_int(env, "LPS_MAX_VARIABLES", d.max_variables, 1),
            max_jobs_per_key=_env_int(env, "LPS_MAX_JOBS_PER_KEY", d.max_jobs_per_key, 1),
            max_queue=_env_int(env, "LPS_MAX_QUEUE", d.max_queue, 1),
            wait_seconds=_env_float(env, "LPS_WAIT_SECONDS", d.wait_seconds),
            max_wait_seconds=_env_float(env, "LPS_MAX_WAIT_SECONDS", d.max_wait_seconds),
            job_timeout_seconds=_env_float(env, "LPS_JOB_TIMEOUT", d.job_timeout_seconds, 1e-3),
            restart_running=env.get("LPS_RESTART_RUNNING", d.restart_running).strip() or d.restart_running,
            max_attempts=_env_int(env, "LPS_MAX_ATTEMPTS", d.max_attempts, 1),
            warmup=env.get("LPS_WARMUP", "1").strip() not in ("0", "false", "no", "off"),
        )
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise SettingsError(f"unknown settings: {sorted(unknown)}")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
