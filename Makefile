VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup demo serve test test-fast test-docker bench clean

setup:
	bash scripts/setup.sh

# The main job: the service on localhost:8000 with its embedded defaults.
serve: setup
	$(PY) -m solver.cli serve

demo: setup
	$(PY) -m solver.cli demo

# Everything, the container test included (it builds the image: several minutes).
test: setup
	$(PY) -m pytest -q -p no:cacheprovider tests

# Without the container test.
test-fast: setup
	$(PY) -m pytest -q -p no:cacheprovider tests -m "not docker"

test-docker: setup
	$(PY) -m pytest -q -p no:cacheprovider -m docker tests/test_docker.py

bench: setup
	$(PY) bench/engine.py

clean:
	rm -rf $(VENV) build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
