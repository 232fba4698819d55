"""The release configuration, checked as far as this machine can: cibuildwheel's own view of
the wheels it would build, its schema, the workflow's linters, and the wheels' test suite
(the files it names exist, and import only what the wheel-test group installs)."""

from __future__ import annotations

import ast
import importlib.resources
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from asgi_harness import unavailable

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PYTHONS = ["cp310", "cp311", "cp312", "cp313", "cp314", "cp314t", "cp315", "cp315t"]
PLATFORMS = {
    "linux": [f"{libc}_{arch}" for libc in ("manylinux", "musllinux") for arch in ("x86_64", "aarch64")],
    "macos": ["macosx_x86_64", "macosx_arm64"],
    "windows": ["win_amd64"],
}


def require(module: str) -> None:
    if importlib.util.find_spec(module) is None and not shutil.which(module, path=Path(sys.executable).parent):
        unavailable(f"{module} is not installed (pip install -e '.[test]')")


def run(*command: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *map(str, command)], capture_output=True, text=True, cwd=ROOT)


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_cibuildwheel_builds_every_promised_wheel(platform: str) -> None:
    require("cibuildwheel")
    result = run("cibuildwheel", "--print-build-identifiers", "--platform", platform, ".")
    assert result.returncode == 0, result.stderr
    expected = {f"{python}-{tag}" for python in PYTHONS for tag in PLATFORMS[platform]}
    assert set(result.stdout.split()) == expected


def test_cibuildwheel_configuration_matches_its_schema() -> None:
    require("cibuildwheel")
    require("jsonschema")
    import jsonschema

    schema_file = importlib.resources.files("cibuildwheel") / "resources" / "cibuildwheel.schema.json"
    jsonschema.validate(PYPROJECT["tool"]["cibuildwheel"], json.loads(schema_file.read_text()))


def test_release_builds_require_the_extension() -> None:
    config = PYPROJECT["tool"]["cibuildwheel"]
    for table in (config, *(config[name] for name in PLATFORMS if "environment" in config.get(name, {}))):
        assert table["environment"]["FASTCORS_REQUIRE_EXTENSIONS"] == "1"


def test_release_workflow_passes_its_linters() -> None:
    require("zizmor")
    require("check_jsonschema")
    zizmor = shutil.which("zizmor", path=Path(sys.executable).parent)
    audit = subprocess.run([zizmor, "--offline", WORKFLOW], capture_output=True, text=True, cwd=ROOT)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    schema = run("check_jsonschema", "--builtin-schema", "vendor.github-workflows", WORKFLOW)
    assert schema.returncode == 0, schema.stdout + schema.stderr


def _suite_files() -> list[Path]:
    lines = (ROOT / "tests" / "wheel_suite.txt").read_text().split("\n")
    return [ROOT / line for line in lines if line.startswith("tests/")]


def test_the_wheels_suite_imports_only_what_the_wheel_test_group_installs() -> None:
    files = _suite_files()
    assert files and all(path.exists() for path in files), files
    group = PYPROJECT["dependency-groups"]["wheel-test"]
    installed = {requirement.split(">")[0].split("[")[0].strip().lower() for requirement in group}
    helpers = ["conftest", "asgi_harness", "starlette_compat"]
    siblings = {path.stem for path in files}  # a suite file may import another one
    allowed = installed | set(sys.stdlib_module_names) | {"fastcors", "publicsuffixlist", *helpers, *siblings}
    for path in [*files, *(ROOT / "tests" / f"{helper}.py" for helper in helpers)]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}, not in the wheel-test group"


def test_publishing_waits_for_every_wheel_of_the_matrix() -> None:
    wheels = len(PYTHONS) * sum(len(tags) for tags in PLATFORMS.values()) + 1  # and the pure wheel
    assert f'test "$(ls dist/*.whl | wc -l)" -eq {wheels}' in WORKFLOW.read_text()
