"""Suite-wide set-up: the family store of exact mode goes to a temporary folder, so tests
never write to the user's cache and each run computes any family it needs that the
package does not ship (the shipped ones are read from the package)."""

from __future__ import annotations

import os
import shutil

import pytest

import image_build


@pytest.fixture(scope="session", autouse=True)
def family_store_folder(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = str(tmp_path_factory.mktemp("families"))
    old = os.environ.get("LPS_FAMILY_DIR")
    os.environ["LPS_FAMILY_DIR"] = folder
    yield folder
    if old is None:
        os.environ.pop("LPS_FAMILY_DIR", None)
    else:
        os.environ["LPS_FAMILY_DIR"] = old


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Docker tests run last, and their image builds in the background from now on, so
    its minutes overlap the rest of the suite (``tests/image_build.py``)."""
    docker = [item for item in items if item.get_closest_marker("docker")]
    if not docker:
        return
    items[:] = [item for item in items if not item.get_closest_marker("docker")] + docker
    if shutil.which("docker") is not None and not config.getoption("collectonly"):
        image_build.start()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    build = image_build.current()
    if build is not None:
        build.stop()
