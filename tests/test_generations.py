"""fastcors against every generation of Starlette's CORSMiddleware, each release in its own
virtualenv (tests/generations/envs.py: made under .venvs/ once, then reused), run in subprocesses:

- the differential suite (test_differential.py) against the Starlette really installed there, on
  both implementations: fastcors left to find the release itself, then pinned to it;
- Starlette's own tests/middleware/test_cors.py from the release's sdist with the import swapped
  to fastcors (both implementations), and as shipped (which must pass, or the env is wrong);
- fastcors in the newest release's env pinned to each older release, on cases whose answers that
  release's env recorded (one Starlette per process);
- with no Starlette installed, fastcors's default is the newest generation;
- per-path policies chosen on the route path each release's router matches (test_route_path.py).

FASTCORS_GENERATION_EXAMPLES (default 400): the differential suite's examples per implementation
per env and mode (its two smaller tests take a third of that).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from generations import envs

pytestmark = pytest.mark.slow

EXAMPLES = os.environ.get("FASTCORS_GENERATION_EXAMPLES", "400")
RECORDED_CASES = 300  # per release, for the pinned replays


@pytest.fixture(scope="session", autouse=True)
def environments() -> None:
    for env in envs.ALL:
        env.ensure()


def run_pytest(env: envs.Env, args: list[str], cwd: Path, extra: dict[str, str] | None = None) -> str:
    """pytest in the env; fails with the run's own report unless every test ran and passed."""
    plugins = ["-p", "generations.env_checks", "-p", "no:cacheprovider"]
    result = env.run(["-m", "pytest", *plugins, "-rfE", "--tb=short", *args], cwd, extra)
    if result.returncode != 0:
        said = "no test ran" if result.returncode == 5 else f"pytest exited with {result.returncode}"
        pytest.fail(f"{env.name}: {said}\n{_tail(result.stdout + result.stderr)}", pytrace=False)
    return result.stdout.strip().splitlines()[-1]


def _tail(text: str, lines: int = 80) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


@pytest.mark.parametrize("release", envs.RELEASES)
@pytest.mark.parametrize("pinned", [False, True], ids=["detected", "pinned"])
def test_differential_suite(release: str, pinned: bool):
    env = envs.by_release(release)
    extra = {"FASTCORS_DIFF_EXAMPLES": EXAMPLES, "FASTCORS_STARLETTE_PIN": release if pinned else ""}
    # The env's own folder as working directory: its own hypothesis example database.
    args = ["--rootdir", str(envs.ROOT), "-c", str(envs.ROOT / "pyproject.toml"), "-q"]
    run_pytest(env, [*args, str(envs.ROOT / "tests" / "test_differential.py")], env.path, extra)


@pytest.mark.parametrize("release", [*envs.RELEASES, None])
def test_paths_follow_the_installed_router(release: str | None):
    # tests/test_route_path.py against each release's real router; without Starlette, the tests
    # of the rule used then (the others need a router).
    env = envs.by_release(release)
    extra = {"FASTCORS_DIFF_EXAMPLES": EXAMPLES}
    args = ["--rootdir", str(envs.ROOT), "-c", str(envs.ROOT / "pyproject.toml"), "-q"]
    if release is None:
        args += ["-k", "rule or raw_path"]
    run_pytest(env, [*args, str(envs.ROOT / "tests" / "test_route_path.py")], env.path, extra)


@pytest.mark.parametrize("release", envs.WITH_CORS_TESTS)
@pytest.mark.parametrize("middleware", ["starlette", "fastcors-compiled", "fastcors-python"])
def test_starlette_own_cors_tests(release: str, middleware: str):
    folder = envs.upstream_tests(release, middleware.split("-")[0])
    assert folder is not None, f"Starlette {release}'s sdist has no tests/middleware/test_cors.py"
    extra = {"FASTCORS_UPSTREAM": middleware.split("-")[0]}
    if middleware == "fastcors-python":
        extra["FASTCORS_NO_EXTENSIONS"] = "1"
    summary = run_pytest(envs.by_release(release), ["-q", "tests/middleware/test_cors.py"], folder, extra)
    assert re.fullmatch(r"\d+ passed in .*", summary), summary


@pytest.mark.parametrize("release", envs.WITHOUT_CORS_TESTS)
def test_releases_said_to_ship_no_cors_tests_ship_none(release: str):
    assert envs.upstream_tests(release, "starlette") is None


@pytest.fixture(scope="session")
def recorded(tmp_path_factory: pytest.TempPathFactory):
    """Cases with the answers of the Starlette release's own env, recorded once per session."""
    files: dict[str, Path] = {}

    def get(release: str) -> Path:
        if release not in files:
            path = tmp_path_factory.mktemp("recorded") / f"starlette-{release}.json"
            result = envs.by_release(release).run(
                ["-m", "generations.cases", "record", str(path), str(RECORDED_CASES)], path.parent
            )
            if result.returncode != 0:
                pytest.fail(f"recording in Starlette {release}'s env failed\n{_tail(result.stderr)}", pytrace=False)
            files[release] = path
        return files[release]

    return get


def compare(env: envs.Env, command: str, path: Path, pin: str | None) -> None:
    """Both implementations on every recorded case; fails with how many differ, and the first."""
    result = env.run(["-m", "generations.cases", command, str(path), *([pin] if pin else [])], path.parent)
    assert result.stdout.strip(), f"{env.name}: {command} printed nothing\n{_tail(result.stderr)}"
    summary = json.loads(result.stdout)
    differ = {name: f"{summary[name]['differ']} of {summary[name]['cases']}" for name in ("compiled", "python")}
    if result.returncode != 0:
        first = summary["compiled"]["first"] or summary["python"]["first"]
        shown = "\n".join(f"{key}: {value}" for key, value in first.items())
        pytest.fail(f"{env.name}, pin {pin}: cases that differ {differ}; the first:\n{shown}", pytrace=False)
    assert summary["compiled"]["cases"] == summary["python"]["cases"] > 0


@pytest.mark.parametrize("release", envs.OLDER)
def test_pinned_to_an_older_generation_answers_as_that_release(recorded, release: str):
    compare(envs.by_release(envs.NEWEST), "replay", recorded(release), release)


def test_without_starlette_the_default_answers_as_the_newest_release(recorded):
    compare(envs.by_release(None), "replay", recorded(envs.NEWEST), None)


def test_without_starlette_the_default_is_the_newest_generation(recorded):
    compare(envs.by_release(None), "same", recorded(envs.NEWEST), "newest")
