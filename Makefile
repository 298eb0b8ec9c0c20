VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup demo serve test bench clean

setup:
	bash scripts/setup.sh

# The main job: the service on localhost:8000 (a demo solve until the service exists).
serve: setup
	$(PY) -m solver.cli serve

demo: setup
	$(PY) -m solver.cli demo

test: setup
	$(PY) -m pytest -q -p no:cacheprovider tests -m "not docker"

bench: setup
	$(PY) bench/engine.py

clean:
	rm -rf $(VENV) build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
