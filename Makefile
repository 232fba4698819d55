# The two commands of the README's quick start: `make bench` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup bench bench-quick test test-fast test-generations test-free-threaded lint

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

# The in-memory suite on free-threaded CPython 3.13 with the GIL off (built once per machine
# into ~/.cache/fastcors by scripts/free_threaded_python.sh), both implementations. The files
# are listed, so none is skipped for a missing dependency: every file with in-memory tests but
# test_error_responses (litestar, not installed there); the others hold only slow tests.
# conftest fails the run if the GIL is on (PYTHON_GIL, or an import that enabled it).
FT_VENV ?= .venv-3.13t
FT_TESTS ?= tests/test_api.py tests/test_attacks.py tests/test_behaviour.py tests/test_checks.py \
	tests/test_declaration.py tests/test_differential.py tests/test_fuzz.py tests/test_leaks.py \
	tests/test_loader.py tests/test_origin_func.py tests/test_paths.py tests/test_patterns.py \
	tests/test_reconfigure.py tests/test_route_path.py tests/test_sources.py \
	tests/test_starlette_version.py tests/test_threads.py tests/test_websocket_guard.py \
	tests/test_bench_smoke.py
test-free-threaded:
	scripts/setup_free_threaded.sh $(FT_VENV)
	env -u PYTHON_GIL $(FT_VENV)/bin/python -m pytest -m "not slow" $(FT_TESTS) $(PYTEST_ARGS); \
		rc=$$?; if [ $$rc -eq 5 ]; then echo "no test ran"; exit 1; fi; exit $$rc
