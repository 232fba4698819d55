"""One virtualenv per Starlette release (and one without Starlette), made once under .venvs/
and reused; Starlette's own CORS tests taken from each release's sdist (cached per machine).

Each env holds one Starlette, the httpx its test client needs, the pytest, anyio and trio of the
release's era (its test suite turns warnings into errors, so newer deprecations would fail it),
hypothesis, and fastcors's own dependencies. fastcors itself is this checkout's package, linked
into the env's site-packages: the extension that `make setup` builds in place is the one used, and
nothing is compiled again. An env is remade when its stamp (requirements, interpreter, checkout
location) no longer matches; the stamp is written last, so a half-made env is remade too.

`python -m generations.envs` (from tests/) makes them all and says how long it took.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENVS = ROOT / ".venvs"
LAYOUT = 1  # bump to remake every env

# The test dependencies of each release's era (pins from its sdist's requirements where it has them).
ERA: dict[str, tuple[str, ...]] = {
    "0.27.0": ("httpx<0.28", "pytest", "anyio==3.7.1"),
    "0.37.2": ("httpx<0.28", "pytest==8.0.2", "anyio==4.3.0", "trio==0.24.0"),
    "0.46.2": ("httpx==0.28.1", "pytest==8.3.5", "anyio==4.9.0", "trio==0.29.0"),
    "0.52.1": ("httpx==0.28.1", "pytest==8.4.1", "anyio<4.15", "trio==0.30.0"),
    "1.6.0": ("httpx2", "pytest==9.1.1", "anyio<4.15", "trio==0.33.0"),
    "1.10.0": ("httpx2", "pytest", "anyio", "trio"),
}
RELEASES = tuple(ERA)
WITHOUT_CORS_TESTS = ("0.27.0",)  # its sdist ships no tests at all
WITH_CORS_TESTS = tuple(r for r in RELEASES if r not in WITHOUT_CORS_TESTS)
NEWEST = RELEASES[-1]
OLDER = RELEASES[:-1]
# The one line of Starlette's tests/middleware/test_cors.py that names the middleware under test.
STARLETTE_IMPORT = "from starlette.middleware.cors import CORSMiddleware"
FASTCORS_IMPORT = "from fastcors import CORSMiddleware"
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check"]


@dataclass(frozen=True)
class Env:
    release: str | None  # None: no Starlette at all

    @property
    def name(self) -> str:
        return f"starlette-{self.release}" if self.release else "no-starlette"

    @property
    def path(self) -> Path:
        return VENVS / self.name

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def requirements(self) -> list[str]:
        if self.release is None:
            return [*fastcors_dependencies(), "pytest", "hypothesis"]
        return [*fastcors_dependencies(), f"starlette=={self.release}", *ERA[self.release], "hypothesis"]

    def stamp(self) -> dict[str, object]:
        return {
            "layout": LAYOUT,
            "python": base_python(),
            "python_version": sys.version,
            "checkout": str(ROOT),
            "requirements": self.requirements(),
        }

    def ensure(self) -> bool:
        """Make the env unless an up-to-date one is there; True if it was made now."""
        stamp_file = self.path / "fastcors-env.json"
        with _lock():
            if stamp_file.exists() and json.loads(stamp_file.read_text()) == self.stamp():
                return False
            shutil.rmtree(self.path, ignore_errors=True)
            subprocess.run([base_python(), "-m", "venv", "--without-pip", str(self.path)], check=True)
            # This interpreter's pip installs into the env (--python): no pip of its own to bootstrap.
            subprocess.run([*PIP, "--python", str(self.python), "install", "-q", *self.requirements()], check=True)
            (self.site_packages() / "fastcors").symlink_to(ROOT / "fastcors", target_is_directory=True)
            stamp_file.write_text(json.dumps(self.stamp(), indent=1))
            return True

    def site_packages(self) -> Path:
        return self.path / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"

    def run(self, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run the env's python; the generations package (and the test helpers) importable."""
        clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTEST_ADDOPTS")}
        clean.pop("FASTCORS_NO_EXTENSIONS", None)
        clean.update(
            PYTHONPATH=str(ROOT / "tests"),
            PYTHONHASHSEED="0",  # recorded sets iterate alike in every env
            FASTCORS_EXPECT_STARLETTE=self.release or "none",
            **(env or {}),
        )
        return subprocess.run([str(self.python), *args], cwd=cwd, env=clean, capture_output=True, text=True)


ALL = (*(Env(r) for r in RELEASES), Env(None))


def by_release(release: str | None) -> Env:
    return next(env for env in ALL if env.release == release)


def base_python() -> str:
    """The interpreter behind the running venv: the envs use the ABI the extension was built for."""
    return getattr(sys, "_base_executable", sys.executable)


def fastcors_dependencies() -> list[str]:
    import tomllib  # Python 3.11+, like the suite that makes the envs (imported here so 3.10 can collect)

    with open(ROOT / "pyproject.toml", "rb") as f:
        return list(tomllib.load(f)["project"]["dependencies"])


@contextmanager
def _lock() -> Iterator[None]:
    """One maker at a time (two test runs may start together)."""
    VENVS.mkdir(exist_ok=True)
    with open(VENVS / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def sdist(release: str) -> Path:
    """The release's source distribution, downloaded once per machine (pip prepares its metadata,
    several seconds each, so it is kept outside the checkout, for every clone)."""
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fastcors" / "starlette-sdists"
    tarball = folder / f"starlette-{release}.tar.gz"
    if not tarball.exists():
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder) as download:
            command = [*PIP, "download", "-q", "--no-deps", "--no-binary", ":all:", "-d", download]
            subprocess.run([*command, f"starlette=={release}"], check=True)
            os.replace(Path(download) / tarball.name, tarball)  # whole or not at all, whoever runs alongside
    return tarball


def upstream_tests(release: str, middleware: str) -> Path | None:
    """A folder with the sdist's pyproject.toml and tests/, test_cors.py importing `middleware`
    ("starlette" as shipped, or "fastcors"); None if the sdist ships no CORS tests."""
    folder = VENVS / "upstream" / f"starlette-{release}-{middleware}"
    done = folder / ".complete"
    tarball = sdist(release)
    with _lock():
        if done.exists():
            return folder
        top = f"starlette-{release}/"
        with tarfile.open(tarball) as tar:
            wanted = (top + "pyproject.toml", top + "tests/")
            members = [m for m in tar.getmembers() if m.name == wanted[0] or m.name.startswith(wanted[1])]
            if not any(m.name == top + "tests/middleware/test_cors.py" for m in members):
                return None
            shutil.rmtree(folder, ignore_errors=True)
            for member in members:
                member.name = member.name[len(top) :]
            tar.extractall(folder, members=members, filter="data")
        if middleware == "fastcors":
            test_cors = folder / "tests" / "middleware" / "test_cors.py"
            source = test_cors.read_text()
            if source.count(STARLETTE_IMPORT) != 1:
                raise RuntimeError(f"{test_cors}: expected one line {STARLETTE_IMPORT!r}")
            test_cors.write_text(source.replace(STARLETTE_IMPORT, FASTCORS_IMPORT))
        done.touch()
    return folder


def main() -> None:
    begin = time.perf_counter()
    for env in ALL:
        start = time.perf_counter()
        made = env.ensure()
        print(f"{env.name}: {'made' if made else 'up to date'} in {time.perf_counter() - start:.1f} s")
    for release in RELEASES:
        start = time.perf_counter()
        ships = all(upstream_tests(release, middleware) for middleware in ("starlette", "fastcors"))
        shipped = "test_cors.py" if ships else "no CORS tests"
        print(f"starlette {release} sdist: {shipped}, {time.perf_counter() - start:.1f} s")
    print(f"all in {time.perf_counter() - begin:.1f} s")


if __name__ == "__main__":
    main()
