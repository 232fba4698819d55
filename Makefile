# The two commands of the README's quick start: `make bench` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup bench bench-quick test test-generations lint

setup:
	scripts/setup.sh "$(PYTHON)" "$(VENV)"

# The main job: fastcors head to head with Starlette's CORSMiddleware.
bench: setup
	$(PY) -m bench

bench-quick: setup
	$(PY) -m bench --quick

# The whole test suite. pytest's exit code 5 (no test ran) counts as a failure.
test: setup
	$(PY) -m ruff check fastcors tests bench
	$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "no test ran"; exit 1; fi; exit $$rc

# Only the runs against each Starlette release, each in its own venv under .venvs/ (made once).
test-generations: setup
	$(PY) -m pytest tests/test_generations.py $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "no test ran"; exit 1; fi; exit $$rc

lint: setup
	$(PY) -m ruff check fastcors tests bench
