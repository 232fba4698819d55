"""The documentation: every Python example runs, every command it names exists, the site builds.

Every Python code block of README.md and docs/ is a complete program, run in a subprocess of
its own from the repository's root, once with the compiled module and once with the
pure-Python twin (FASTCORS_NO_EXTENSIONS=1). A block included from docs_src/ with
pymdownx.snippets (`--8<-- "docs_src/x.py"`) is that file. A block preceded by the marker
`<!-- continues -->` continues the block before it, and is run joined to it. When a program
leaves an application in `app` (or a middleware in `cors`), a request with an `Origin` is
sent to it with Starlette's test client, and the answer must carry `Vary: Origin` (every
generation sends it on an answer from an allowed origin, and from Starlette 1.7 on every
answer).

Shell commands in the docs that name a make target or a `python -m` entry point are checked
against the Makefile's targets and the importable modules. `mkdocs build --strict` builds
the site (a broken link, snippet or reference fails it), and headless Chromium opens two of
its pages from disk (tests/test_docs_browser.py).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from asgi_harness import unavailable

ROOT = Path(__file__).resolve().parent.parent
CONTINUES = "<!-- continues -->"
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>```+|~~~+)[ \t]*(?P<info>[^\n]*)$")
SNIPPET = re.compile(r"""^[ \t]*--8<--[ \t]+["']?(?P<path>[^"'\s]+)["']?[ \t]*$""")
PYTHON_LANGS = {"python", "py", "python3"}
SHELL_LANGS = {"sh", "bash", "shell", "console", "shell-session"}
# Sent to every example that leaves an app: an origin each example allows.
ORIGIN = "https://app.example.com"


@dataclasses.dataclass
class Block:
    path: Path  # the Markdown file
    line: int  # where the fence opens (1-based)
    lang: str
    source: str  # snippets resolved; continued blocks joined to what they continue
    continues: bool = False

    def name(self, root: Path) -> str:
        return f"{self.path.relative_to(root)}:{self.line}"


def markdown_files(root: Path) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


def resolve_snippets(text: str, root: Path, where: str) -> str:
    out = []
    for line in text.splitlines():
        m = SNIPPET.match(line)
        if m:
            target = root / m.group("path")
            if not target.is_file():
                raise AssertionError(f"{where}: snippet {m.group('path')} does not exist")
            out.append(target.read_text())
        else:
            out.append(line + "\n")
    return "".join(out)


def code_blocks(path: Path, root: Path) -> list[Block]:
    """The fenced code blocks of one Markdown file (indented ones too), Python continuations joined."""
    lines = path.read_text().splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence = m.group("indent"), m.group("fence")
        lang = (m.group("info").split() or [""])[0].lower()
        start = i
        body = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            line = lines[i]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            i += 1
        if i >= len(lines):
            raise AssertionError(f"{path}:{start + 1}: code block never closed")
        i += 1
        # The marker: the last non-blank line before the fence.
        before = [line.strip() for line in lines[:start] if line.strip()]
        continues = bool(before) and before[-1] == CONTINUES
        text = resolve_snippets("\n".join(body) + "\n", root, f"{path}:{start + 1}")
        block = Block(path, start + 1, lang, text, continues)
        if continues:
            previous = [b for b in blocks if b.lang in PYTHON_LANGS]
            if lang not in PYTHON_LANGS or not previous:
                raise AssertionError(f"{path}:{start + 1}: {CONTINUES} before a block that continues no Python block")
            block.source = previous[-1].source + "\n" + text
        blocks.append(block)
    return blocks


def python_examples(root: Path) -> list[Block]:
    """Every Python block to run. A block continued by the next is run as part of that one."""
    out: list[Block] = []
    for path in markdown_files(root):
        blocks = [b for b in code_blocks(path, root) if b.lang in PYTHON_LANGS]
        for index, block in enumerate(blocks):
            continued = index + 1 < len(blocks) and blocks[index + 1].continues
            if not continued:
                out.append(block)
    return out


# Run in the example's subprocess after the example (in the same namespace): the app answers.
CHECK_APP = """
import fastcors as _fastcors, os as _os
_want = _os.environ.get("FASTCORS_NO_EXTENSIONS") != "1"
assert _fastcors.COMPILED == _want, f"fastcors.COMPILED is {_fastcors.COMPILED}, expected {_want}"
_target = next((v for k, v in list(globals().items()) if k in ("app", "cors") and callable(v)), None)
if _target is not None:
    from starlette.testclient import TestClient as _TestClient
    with _TestClient(_target, raise_server_exceptions=False) as _client:
        _r = _client.get("/", headers={"Origin": ORIGIN_PLACEHOLDER})
    _vary = [v.strip().lower() for v in _r.headers.get("vary", "").split(",")]
    assert "origin" in _vary, f"no Vary: Origin in {dict(_r.headers)!r}: is the CORS middleware in the app?"
""".replace("ORIGIN_PLACEHOLDER", repr(ORIGIN))


def run_example(source: str, root: Path, implementation: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("CORS_ADMIN_TOKEN", "documentation-example-token")
    env.pop("FASTCORS_NO_EXTENSIONS", None)
    if implementation == "python":
        env["FASTCORS_NO_EXTENSIONS"] = "1"
    # -W ignore::DeprecationWarning: Starlette's "use httpx2" notice is no fault of an example.
    program = source + "\n" + CHECK_APP
    return subprocess.run(
        [sys.executable, "-c", program],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


EXAMPLES = python_examples(ROOT)


def test_examples_found() -> None:
    # README's swap and app, and the pages': a collector that finds nothing would pass anything.
    assert len(EXAMPLES) >= 20, [b.name(ROOT) for b in EXAMPLES]
    assert any(b.path.name == "README.md" for b in EXAMPLES)


@pytest.mark.slow  # a process per example and implementation: about 30 s on two cores
@pytest.mark.parametrize("implementation", ["compiled", "python"])
@pytest.mark.parametrize("block", EXAMPLES, ids=[b.name(ROOT) for b in EXAMPLES])
def test_python_example_runs(block: Block, implementation: str) -> None:
    if implementation == "compiled":
        import fastcors

        if not fastcors.COMPILED:
            unavailable("the compiled module is not built")
    result = run_example(block.source, ROOT, implementation)
    assert result.returncode == 0, (
        f"{block.name(ROOT)} failed ({implementation}):\n{result.stderr[-3000:]}\n--- program ---\n{block.source}"
    )


def test_every_docs_src_file_is_shown() -> None:
    """A file of docs_src/ that no page includes is an example nobody reads, or a leftover."""
    included = set()
    for path in markdown_files(ROOT):
        included |= set(re.findall(r"""--8<--\s+["']?(docs_src/[^"'\s]+)""", path.read_text()))
    files = {str(p.relative_to(ROOT)) for p in (ROOT / "docs_src").glob("*.py") if p.name != "__init__.py"}
    assert files - included == set()


# ---- shell commands ----------------------------------------------------------------------

INLINE_CODE = re.compile(r"`([^`\n]+)`")
MAKE = re.compile(r"(?:^|[;&|(]\s*|\s)make\s+(?P<targets>(?:[A-Za-z][\w.-]*\s*)+)")
PYTHON_M = re.compile(r"(?:^|[\s/;&|(])python[0-9.]*\s+(?:-[A-Za-z]+\s+)*-m\s+(?P<module>[A-Za-z_][\w.]*)")


def shell_commands(root: Path) -> list[tuple[str, str]]:
    """(where, command) for each shell block line and each inline code span that looks like a command."""
    found = []
    for path in markdown_files(root):
        name = str(path.relative_to(root))
        for block in code_blocks(path, root):
            if block.lang in SHELL_LANGS:
                for number, line in enumerate(block.source.splitlines(), block.line + 1):
                    found.append((f"{name}:{number}", line.split("#", 1)[0].strip()))
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for span in INLINE_CODE.findall(line):
                found.append((f"{name}:{number}", span))
    return [(where, cmd) for where, cmd in found if cmd]


def make_targets(root: Path) -> set[str]:
    targets = set()
    for line in (root / "Makefile").read_text().splitlines():
        m = re.match(r"^([A-Za-z][\w.-]*(?:\s+[A-Za-z][\w.-]*)*)\s*:(?!=)", line)
        if m:
            targets |= set(m.group(1).split())
    return targets


def command_problems(root: Path) -> list[str]:
    targets = make_targets(root)
    problems = []
    sys.path.insert(0, str(root))
    try:
        for where, command in shell_commands(root):
            m = MAKE.search(" " + command)
            if m and command.lstrip().startswith("make"):
                for target in m.group("targets").split():
                    if "=" not in target and target not in targets:
                        problems.append(f"{where}: `{command}`: no make target {target!r}")
            for m in PYTHON_M.finditer(command):
                module = m.group("module")
                try:
                    spec = importlib.util.find_spec(module)
                except (ImportError, ValueError):
                    spec = None
                if spec is None:
                    problems.append(f"{where}: `{command}`: no module {module!r} to run")
    finally:
        sys.path.remove(str(root))
    return problems


def test_commands_exist() -> None:
    commands = [c for _, c in shell_commands(ROOT)]
    assert any(c.startswith("make test") for c in commands) and any("python -m bench" in c for c in commands)
    assert command_problems(ROOT) == []


def test_command_check_catches_a_missing_target(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text("```sh\nmake tset\n```\n\nRun `python -m no_such_module_here`.\n")
    problems = command_problems(tmp_path)
    assert len(problems) == 2 and "tset" in problems[0] and "no_such_module_here" in problems[1], problems


# ---- breaking an example fails the test ----------------------------------------------------


@pytest.mark.slow
def test_breaking_an_example_is_caught(tmp_path: Path) -> None:
    """The collector and runner on a copy of the docs with two examples broken: both fail."""
    for name in ("README.md", "docs", "docs_src"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / name)
    # An inline block: the import its app needs, gone.
    readme = tmp_path / "README.md"
    text = readme.read_text()
    assert text.count("from fastapi import FastAPI\n") == 1
    readme.write_text(text.replace("from fastapi import FastAPI\n", "", 1))
    # An included file: the pattern no longer allows what its test expects.
    patterns = tmp_path / "docs_src" / "patterns.py"
    patterns.write_text(patterns.read_text().replace('"https://*.example.com"', '"https://*.example.org"'))
    # A continued block whose continuation breaks what the first defined.
    page = tmp_path / "docs" / "continued.md"
    page.write_text(
        "```python\nx = 1\n```\n\n<!-- continues -->\n```python\nassert x == 1\n```\n\n"
        "<!-- continues -->\n```python\nassert x == 2, 'continued blocks are joined'\n```\n"
    )
    examples = {b.name(tmp_path): b for b in python_examples(tmp_path)}
    assert "docs/continued.md:1" not in examples and "docs/continued.md:6" not in examples
    continued = examples["docs/continued.md:11"]
    assert "x = 1" in continued.source and "assert x == 1" in continued.source
    broken = [
        next(b for n, b in examples.items() if n.startswith("README.md") and "FastAPI()" in b.source),
        next(b for b in examples.values() if "*.example.org" in b.source and "TestClient" in b.source)
        if any("*.example.org" in b.source and "TestClient" in b.source for b in examples.values())
        else None,
        continued,
    ]
    # patterns_test.py imports docs_src.patterns: the copy's, since the copy is the root.
    broken[1] = broken[1] or next(b for b in examples.values() if "from docs_src.patterns import app" in b.source)
    for block in broken:
        result = run_example(block.source, tmp_path, "python")
        assert result.returncode != 0, f"{block.name(tmp_path)} still passes when broken"
    # And the unbroken copy of one of them passes: the failure is the break, not the copy.
    fine = next(b for b in examples.values() if "checks_data" in str(b.source) or "check_config(" in b.source)
    assert run_example(fine.source, tmp_path, "python").returncode == 0


# ---- the site ------------------------------------------------------------------------------


def build_site(site_dir: Path) -> subprocess.CompletedProcess:
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None:
        unavailable("mkdocs / mkdocs-material not installed (pip install -e '.[docs]')")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_site_builds_strict(tmp_path: Path) -> None:
    result = build_site(tmp_path / "site")
    assert result.returncode == 0, result.stderr[-4000:]
    for page in ("index.html", "getting-started.html", "features/patterns.html", "reference.html"):
        assert (tmp_path / "site" / page).is_file(), page
    reference = (tmp_path / "site" / "reference.html").read_text()
    for name in ("CORSMiddleware", "CORSSettings", "CORSHandle", "check_config"):
        assert f'id="fastcors.{name}"' in reference, f"{name} missing from the API reference"
    # Nothing loaded from elsewhere: no stylesheet, script, font or image from another host.
    for html in (tmp_path / "site").rglob("*.html"):
        text = html.read_text()
        for tag in re.findall(r"<(?:link|script|img|iframe|source|video|audio)\b[^>]*>", text):
            if re.search(r"""\brel=["']?canonical""", tag):
                continue  # the published address of the page, not something loaded
            for url in re.findall(r"""\b(?:href|src)=["']?([^"'\s>]+)""", tag):
                assert not re.match(r"^(?:[a-z]+:)?//", url), (str(html), tag)
        assert "fonts.googleapis" not in text and "fonts.gstatic" not in text, html


# ---- where the site is published -----------------------------------------------------------


@pytest.mark.slow  # runs a linter
def test_published_address_and_workflow() -> None:
    """pyproject's Documentation URL, mkdocs.yml's site_url and the README's links agree; the
    workflow passes the linters release.yml passes."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    url = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Documentation"]
    assert re.search(rf"^site_url: {re.escape(url)}$", (ROOT / "mkdocs.yml").read_text(), re.M)
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\((https://fastcors\.github\.io/[^)]*)\)", readme)
    assert len(links) >= 10 and all(link.startswith(url) for link in links), links
    for link in links:  # each names a page of the site
        page = link[len(url) :].split("#")[0] or "index.html"
        assert (ROOT / "docs" / page.replace(".html", ".md")).is_file(), link
    workflow = ROOT / ".github" / "workflows" / "docs.yml"
    assert "mkdocs build --strict" in workflow.read_text() and "actions/deploy-pages@" in workflow.read_text()
    zizmor = shutil.which("zizmor", path=str(Path(sys.executable).parent))
    if zizmor is None:
        unavailable("zizmor not installed (pip install -e '.[test]')")
    audit = subprocess.run([zizmor, "--offline", str(workflow)], capture_output=True, text=True, cwd=ROOT)
    assert audit.returncode == 0, audit.stdout + audit.stderr
