"""The service image, built in the background from the start of the test session.

The build takes minutes (pip inside it, the Numba kernels compiled at build time) and
mostly waits on the network and the container engine; started when the suite is
collected, it overlaps the rest of the suite instead of adding to it. ``conftest.py``
starts it and puts the docker tests last; ``tests/test_docker.py`` waits for it.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETUP = ROOT.parent / "shared" / "container" / "setup.sh"
IMAGE = "lps-init:test"
#: exit status of the build script when the container set-up script fails (a skip)
SETUP_FAILED = 97

# Run from "/": the set-up script may start podman's API service, which keeps its working
# directory; started inside a clone that is later deleted, it can no longer run
# containers ("conmon: Failed to get working directory").
_SCRIPT = """
cd /
if ! source "$1" >/dev/null; then exit 97; fi
echo "DOCKER_HOST=${DOCKER_HOST:-}"
exec docker build --network host -t "$2" "$3"
"""


@dataclass
class Outcome:
    """How the background build ended."""

    status: int
    docker_host: str
    log: str

    @property
    def setup_failed(self) -> bool:
        return self.status == SETUP_FAILED


class ImageBuild:
    """``docker build`` of the repository in a child process, its output in a file."""

    def __init__(self) -> None:
        # pip inside the build goes through this machine's TLS proxy: hand it the CA
        # bundle in the git-ignored docker/certs/ (build stage only; the image never sees it)
        ca = Path("/etc/ssl/certs/ca-certificates.crt")
        self._ca_copy: Path | None = None
        if ca.exists():
            self._ca_copy = ROOT / "docker" / "certs" / "pip-ca.crt"
            self._ca_copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ca, self._ca_copy)
        self._log = tempfile.NamedTemporaryFile("w+", prefix="lps-image-build-", suffix=".log", delete=False)
        self._proc = subprocess.Popen(
            ["bash", "-c", _SCRIPT, "build", str(SETUP), IMAGE, str(ROOT)],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd="/",
        )
        self._outcome: Outcome | None = None

    def wait(self, timeout: float) -> Outcome:
        """Wait for the build (raises ``subprocess.TimeoutExpired`` past ``timeout`` s)."""
        if self._outcome is None:
            status = self._proc.wait(timeout)
            self._forget_ca()
            text = Path(self._log.name).read_text(errors="replace")
            host = next((line.split("=", 1)[1] for line in text.splitlines() if line.startswith("DOCKER_HOST=")), "")
            self._outcome = Outcome(status, host.strip(), text)
            Path(self._log.name).unlink(missing_ok=True)
        return self._outcome

    def stop(self) -> None:
        """End an unfinished build (a session that stops before the docker tests)."""
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._forget_ca()
        Path(self._log.name).unlink(missing_ok=True)

    def _forget_ca(self) -> None:
        if self._ca_copy is not None:
            self._ca_copy.unlink(missing_ok=True)


_current: ImageBuild | None = None


def start() -> ImageBuild:
    """Start the session's build once."""
    global _current
    if _current is None:
        _current = ImageBuild()
    return _current


def current() -> ImageBuild | None:
    """The session's build, if one was started."""
    return _current
