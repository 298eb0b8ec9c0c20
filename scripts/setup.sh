#!/usr/bin/env bash
# Installs everything lps-init needs on a fresh Debian machine: PHCpack and Chromium (apt),
# a virtual environment with the pinned Python packages, and Debian's phcpy made
# importable from it.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
EXTRAS=${EXTRAS:-test,torch,service,dask,bench}

# chromium: the browser the page tests drive (Playwright's own browser download is not
# available on these machines; tests/test_pages.py points Playwright at this one)
if ! command -v phc >/dev/null 2>&1 || [ ! -d /usr/lib/python3/dist-packages/phcpy ] \
        || ! command -v chromium >/dev/null 2>&1; then
    echo "setup: installing phcpack, python3-phcpy and chromium with apt"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq phcpack python3-phcpy chromium >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating $VENV"
    python3 -m venv "$VENV"
fi
stamp="$VENV/.installed-$(cat pyproject.toml | sha1sum | cut -c1-12)-$EXTRAS"
if [ ! -f "$stamp" ]; then
    echo "setup: installing lps-init[$EXTRAS] into $VENV"
    # (this machine's pip configuration warns about missing local index folders: noise)
    if ! "$VENV/bin/pip" install -q --disable-pip-version-check -e ".[$EXTRAS]" >"$VENV/pip.log" 2>&1; then
        grep -v "WARNING: Location" "$VENV/pip.log" >&2
        echo "setup: pip install failed (log: $VENV/pip.log)" >&2
        exit 1
    fi
    grep -v "WARNING: Location" "$VENV/pip.log" || true
    touch "$stamp"
fi

# phcpy is not on PyPI: expose Debian's build (CPython 3.11 ABI) and nothing else of
# the system dist-packages to the virtual environment.
site=$("$VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
mkdir -p "$VENV/phcpy_only"
ln -sfn /usr/lib/python3/dist-packages/phcpy "$VENV/phcpy_only/phcpy"
echo "$(cd "$VENV" && pwd)/phcpy_only" > "$site/phcpy_system.pth"
"$VENV/bin/python" -c "import phcpy" >/dev/null 2>&1 || { echo "setup: phcpy does not import from $VENV" >&2; exit 1; }
