# The lps-init service: `docker run -p 8000:8000 IMAGE` and POST /solve on localhost:8000.
# Build:  docker build -t lps-init .
# Behind a TLS-intercepting proxy, copy its CA bundle to docker/certs/pip-ca.crt first
# (git-ignored); it is used by pip in the build stage only and never enters the image.
# Wheels put in docker/wheels/ (git-ignored, `pip wheel -w docker/wheels .[service,dask]`) are
# preferred over the index.

FROM debian:bookworm-slim AS build
ENV DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends python3 python3-venv ca-certificates >/dev/null \
 && rm -rf /var/lib/apt/lists/*
COPY docker/ /tmp/docker/
COPY pyproject.toml README.m[d] /src/
# dependencies first, from pyproject.toml alone: this layer is reused while only the
# sources change
RUN [ -f /src/README.md ] || echo '# lps-init' > /src/README.md; \
    mkdir -p /src/solver /src/api && touch /src/solver/__init__.py /src/api/__init__.py \
 && python3 -m venv /opt/venv \
 && if [ -f /tmp/docker/certs/pip-ca.crt ]; then export PIP_CERT=/tmp/docker/certs/pip-ca.crt; fi \
 && if [ -d /tmp/docker/wheels ]; then export PIP_FIND_LINKS=/tmp/docker/wheels; fi \
 && /opt/venv/bin/pip install -q "/src[service,dask]" \
 && rm -rf /src/solver /src/api /src/build /src/*.egg-info
COPY solver /src/solver
COPY api /src/api
RUN if [ -f /tmp/docker/certs/pip-ca.crt ]; then export PIP_CERT=/tmp/docker/certs/pip-ca.crt; fi \
 && if [ -d /tmp/docker/wheels ]; then export PIP_FIND_LINKS=/tmp/docker/wheels; fi \
 && /opt/venv/bin/pip install -q --no-deps /src \
 && /opt/venv/bin/pip uninstall -y -q pip \
 && rm -rf /src/build

FROM debian:bookworm-slim
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends python3 phcpack python3-phcpy >/dev/null \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/venv /opt/venv
# phcpy is not on PyPI: expose Debian's build, and nothing else of the system
# dist-packages, to the virtual environment (as scripts/setup.sh does).
RUN mkdir -p /opt/venv/phcpy_only \
 && ln -sfn /usr/lib/python3/dist-packages/phcpy /opt/venv/phcpy_only/phcpy \
 && site=$(/opt/venv/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])") \
 && echo /opt/venv/phcpy_only > "$site/phcpy_system.pth" \
 && /opt/venv/bin/python -c "import phcpy"

RUN useradd --system --uid 10001 --create-home --home-dir /home/lps lps \
 && mkdir -p /data /var/cache/lps-numba \
 && chown lps:lps /data /var/cache/lps-numba
ENV PATH=/opt/venv/bin:$PATH \
    NUMBA_CACHE_DIR=/var/cache/lps-numba \
    LPS_DATA_DIR=/data \
    LPS_WORKERS=2 \
    PYTHONUNBUFFERED=1
USER lps
# Compile the engine's Numba kernels once, at build time, into NUMBA_CACHE_DIR.
RUN python -m api.engine --warm-up

VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
CMD ["python", "-m", "api.cli_serve", "--host", "0.0.0.0", "--port", "8000"]
