# The two commands of the README's quick start: `make bench` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup bench bench-quick docs docs-serve test test-fast test-generations test-free-threaded lint

# Install once; again only when what the install depends on changes (the stamp file is older).
setup: $(VENV)/.installed

# (The compiled modules' sources among them: a change rebuilds the extension.)
$(VENV)/.installed: pyproject.toml setup.py fastcors/_scan.py fastcors/_rules.py fastcors/_core.py $(wildcard fastcors/*.pxd) scripts/setup.sh
	scripts/setup.sh "$(PYTHON)" "$(VENV)"
	touch $@

# The main job: fastcors head to head with Starlette's CORSMiddleware.
bench: setup
	$(PY) -m bench

bench-quick: setup
	$(PY) -m bench --quick

# The documentation site (mkdocs.yml, docs/), built into site/; --strict: a broken link or
# reference fails the build. docs-serve previews it at http://127.0.0.1:8000 as it is edited.
docs: setup
	$(PY) -m mkdocs build --strict --site-dir site

docs-serve: setup
	$(PY) -m mkdocs serve

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

# The in-memory suite on free-threaded CPython 3.13 with the GIL off (built once per machine
# into ~/.cache/fastcors by scripts/free_threaded_python.sh), both implementations: every
# in-memory test but two sets, left out by name (so nothing is skipped for a missing package,
# and a new file runs there too): tests/realworld (servers and browsers, as on 3.13) and
# test_error_responses (litestar, which is not installed there). conftest fails the run if
# the GIL is on (PYTHON_GIL set, or an import that enabled it).
FT_VENV ?= .venv-3.13t
FT_TESTS ?= tests --ignore=tests/realworld --ignore=tests/test_error_responses.py
test-free-threaded:
	scripts/setup_free_threaded.sh $(FT_VENV)
	env -u PYTHON_GIL $(FT_VENV)/bin/python -m pytest -m "not slow" $(FT_TESTS) $(PYTEST_ARGS); \
		rc=$$?; if [ $$rc -eq 5 ]; then echo "no test ran"; exit 1; fi; exit $$rc
