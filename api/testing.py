"""A real service process on a free loopback port, for the tests and the benchmark.

``ServiceProcess`` runs ``python -m api.cli_serve`` as a child process (the same command
the Docker image runs), waits until ``/health`` answers, and stops it by its own process
id, gracefully or with SIGKILL (to test restart recovery).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class ServiceProcess:
    """``lps serve`` in a child process.

    Parameters
    ----------
    data_dir : Path
        ``LPS_DATA_DIR`` (the server log goes to ``data_dir/server.log``).
    env : dict, optional
        Extra ``LPS_*`` settings.
    port : int, optional
        Default: a free port (kept across :meth:`restart`).
    workers : int
    """

    def __init__(self, data_dir: Path | str, env: dict | None = None, port: int | None = None,
                 workers: int = 1, host: str = "127.0.0.1") -> None:
        self.data_dir = Path(data_dir)
        self.env = dict(env or {})
        self.host = host
        self.port = port or free_port(host)
        self.workers = workers
        self.proc: subprocess.Popen | None = None
        self.log_path = self.data_dir / "server.log"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 300.0, wait_workers: bool = True) -> "ServiceProcess":
        """Start and wait until ``/health`` answers (and, by default, every worker has
        loaded the engine: the first start after a change of the engine's sources compiles
        the Numba kernels, which takes a while on a busy machine)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update({"LPS_DATA_DIR": str(self.data_dir), "PYTHONUNBUFFERED": "1"})
        env.update({k: str(v) for k, v in self.env.items()})
        root = Path(__file__).resolve().parents[1]
        env["PYTHONPATH"] = str(root) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli_serve", "--host", self.host, "--port", str(self.port),
             "--workers", str(self.workers), "--log-level", "warning"],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=str(root),
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the service exited with code {self.proc.returncode}:\n{self.log_tail()}")
            try:
                r = httpx.get(self.url + "/health", timeout=2)
                if r.status_code == 200 and (not wait_workers or r.json()["workers"]["ready"] >= self.workers):
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the service did not answer /health within {timeout} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM (graceful: running jobs go back to the queue) and wait."""
        return self._signal(signal.SIGTERM, timeout)

    def kill(self) -> int | None:
        """SIGKILL: a crash, as far as the database is concerned."""
        return self._signal(signal.SIGKILL, 10.0)

    def _signal(self, sig: int, timeout: float) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)

    def restart(self, kill: bool = False, env: dict | None = None) -> "ServiceProcess":
        """Stop (or kill) and start again on the same port and data folder."""
        self.kill() if kill else self.stop()
        if env:
            self.env.update(env)
        # the workers die with the server (PR_SET_PDEATHSIG); give the kernel a moment
        time.sleep(0.2)
        return self.start()

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> "ServiceProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
