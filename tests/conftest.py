"""Suite-wide set-up: the family store of exact mode goes to a temporary folder, so tests
never write to the user's cache and each run computes any family it needs that the
package does not ship (the shipped ones are read from the package)."""

from __future__ import annotations

import os

import pytest


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
