# The two commands of the README's quick start: `make bench` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup bench bench-quick test test-fast test-generations lint

# Install once; again only when what the install depends on changes (the stamp file is older).
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml setup.py fastcors/_core.py scripts/setup.sh
	scripts/setup.sh "$(PYTHON)" "$(VENV)"
	touch $@

# The main job: fastcors head to head with Starlette's CORSMiddleware.
bench: setup
	$(PY) -m bench

bench-quick: setup
	$(PY) -m bench --quick

# The whole test suite. pytest's exit code 5 (no test ran) counts as a failure.
test: setup
	$(PY) -m ruff check fastcors tests bench
	$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "no test ran"; exit 1; fi; exit $$rc

# The everyday loop: in memory only (no server, browser, build or wrk), and fewer generated
# cases than `make test` (FASTCORS_DIFF_EXAMPLES); well under a minute.
test-fast: setup
	$(PY) -m ruff check fastcors tests bench
	FASTCORS_DIFF_EXAMPLES=$${FASTCORS_DIFF_EXAMPLES:-300} $(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

# Only the runs against each Starlette release, each in its own venv under .venvs/ (made once).
test-generations: setup
	$(PY) -m pytest tests/test_generations.py $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "no test ran"; exit 1; fi; exit $$rc

lint: setup
	$(PY) -m ruff check fastcors tests bench
