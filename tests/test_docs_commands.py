"""Every command shown in README.md and docs/*.md runs, against the bundled example, as the page says.

How a page marks its commands (see docs/cli.md for many examples):

- A fenced block whose info string is ``console`` is runnable. In it, a line starting with ``$ `` is a command
  (a trailing ``\\`` continues it on the next line); the lines after it, up to the next ``$`` line, are its
  output as the page shows it. Only ``reachgraph`` commands (also spelled ``.venv/bin/reachgraph``) are run;
  ``$ export NAME=value`` sets NAME for the page's later commands; other commands (``aws ...``) are shown,
  not run.
- The expected exit status is 0 unless the command line ends with a comment saying otherwise, e.g.
  ``# exit 1``.
- The shown output is checked: each shown line must appear in the real output (stderr then stdout, or
  stdout then stderr), in order, whitespace-insensitive. A line ``...`` stands for any number of lines; a line ending in `` ...``
  matches any line that starts with what precedes it.
- Commands that need AWS are excluded explicitly: ``<!-- docs-test: needs-aws -->`` on the line before a
  fence excludes the block, a trailing ``# needs AWS`` comment excludes one command. A ``reachgraph collect``
  without ``--endpoint-url`` that is not excluded fails this test (it would call AWS).
- A ``python`` block is run as a script from the repository root, unless excluded the same way.
- Any other fenced block (``sh``, ``bash``, ...) that shows a ``reachgraph`` command must be excluded the same
  way, except the README's set-up commands (``bash scripts/bootstrap.sh ...``), which CI runs itself.

Commands run with the working directory in a fresh temporary folder where ``examples`` and ``docs`` point at
the repository's, so relative paths work as in the docs and written files land in the temporary folder.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import ROOT, reachgraph_bin

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SKIP_BLOCK = "<!-- docs-test: needs-aws -->"
SKIP_LINE = re.compile(r"#\s*needs aws\b", re.IGNORECASE)
EXIT = re.compile(r"\bexit (\d+)\b")
FENCE = re.compile(r"^(```+|~~~+)\s*([\w+-]*)")
SHELL_OPERATORS = {"|", "||", "&&", ";", ">", ">>", "<", "2>", "2>&1", "&"}
REACHGRAPH = ("reachgraph", ".venv/bin/reachgraph")


@dataclass
class Command:
    """One `$ reachgraph ...` line of a page, with what the page says it prints and returns."""

    page: str
    line: int
    text: str                       # the command as shown, without the trailing comment
    comment: str
    expected_output: list[str]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def expected_exit(self) -> int:
        m = EXIT.search(self.comment)
        return int(m.group(1)) if m else 0


@dataclass
class Block:
    page: str
    line: int                       # line of the opening fence
    lang: str
    lines: list[tuple[int, str]]
    skipped: bool


def _blocks(page: Path) -> list[Block]:
    rel = str(page.relative_to(ROOT))
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i].strip())
        if not m:
            i += 1
            continue
        fence, lang, start = m.group(1), m.group(2), i
        body = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append((i + 1, lines[i]))
            i += 1
        skipped = start > 0 and lines[start - 1].strip() == SKIP_BLOCK
        blocks.append(Block(rel, start + 1, lang, body, skipped))
        i += 1
    return blocks


def _split_comment(text: str) -> tuple[str, str]:
    """'cmd args  # exit 1' -> ('cmd args', 'exit 1'); a # inside quotes is not a comment."""
    quote = None
    for n, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (n == 0 or text[n - 1].isspace()):
            return text[:n].rstrip(), text[n + 1:].strip()
    return text.rstrip(), ""


def _is_reachgraph(text: str) -> bool:
    return text.split(maxsplit=1)[0] in REACHGRAPH if text.strip() else False


def collect_commands() -> tuple[list[Command], list[str]]:
    """Every runnable command of every page, and the problems found while reading them."""
    commands: list[Command] = []
    problems: list[str] = []
    for page in PAGES:
        env: dict[str, str] = {}
        for block in _blocks(page):
            where = f"{block.page}:{block.line}"
            if block.lang != "console":
                shown = [t for _, t in block.lines if re.search(r"(^|[\s$])(\.venv/bin/)?reachgraph\s", t)]
                setup = all("scripts/bootstrap.sh" in t for t in shown)
                if shown and not block.skipped and not setup:
                    problems.append(f"{where}: a ```{block.lang or 'plain'} block shows a reachgraph command; make it a "
                                    f"```console block (runnable) or mark it {SKIP_BLOCK}")
                continue
            current: Command | None = None
            pending = ""
            for n, raw in block.lines:
                if pending:
                    raw = pending + " " + raw.strip()
                if raw.startswith("$ ") and raw.rstrip().endswith("\\"):
                    pending = raw.rstrip()[:-1].rstrip()
                    continue
                pending = ""
                if raw.startswith("$ "):
                    text, comment = _split_comment(raw[2:].strip())
                    current = None
                    if text.startswith("export "):
                        name, _, value = text[len("export "):].partition("=")
                        if not block.skipped and not SKIP_LINE.search(comment):
                            env[name.strip()] = " ".join(shlex.split(value))
                        continue
                    if not _is_reachgraph(text):
                        continue            # shown, not run (aws ..., cat ...)
                    needs_aws = block.skipped or bool(SKIP_LINE.search(comment))
                    words = shlex.split(text)
                    if not needs_aws and words[1:2] == ["collect"] and "--endpoint-url" not in words:
                        problems.append(f"{block.page}:{n}: `reachgraph collect` without --endpoint-url needs AWS; "
                                        f"mark it `# needs AWS` or the block {SKIP_BLOCK}")
                        continue
                    if needs_aws:
                        continue
                    if SHELL_OPERATORS & set(words):
                        problems.append(f"{block.page}:{n}: pipes and redirections are not run by the docs test; "
                                        "show the command without them, or mark it")
                        continue
                    current = Command(block.page, n, text, comment, [], dict(env))
                    commands.append(current)
                elif current is not None:
                    current.expected_output.append(raw)
    return commands, problems


COMMANDS, PROBLEMS = collect_commands()


def test_the_pages_mark_their_commands() -> None:
    assert not PROBLEMS, "\n".join(PROBLEMS)


def test_the_docs_show_every_command() -> None:
    """The CLI reference has a section for every command, and the pages run each at least once."""
    cli = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    from reachgraph.cli import app

    names = sorted(c.name for c in app.registered_commands)
    for name in names:
        assert f"\n## {name}\n" in cli, f"docs/cli.md has no '## {name}' section (anchor #{name})"
    shown = {shlex.split(c.text)[1] for c in COMMANDS}
    assert set(names) - {"collect"} <= shown, f"no runnable example of {sorted(set(names) - {'collect'} - shown)}"
    assert len(COMMANDS) >= 30


def _normalise(line: str) -> str:
    return " ".join(line.split())


def _check_output(expected: list[str], actual: str) -> str | None:
    """None when the shown lines appear in order in the real output, else what is missing."""
    lines = [_normalise(x) for x in actual.splitlines()]
    pos = 0
    gap = False
    for shown in expected:
        want = _normalise(shown)
        if not want:
            continue
        if want == "...":
            gap = True
            continue
        prefix = want[:-3].rstrip() if want.endswith(" ...") else None
        for k in range(pos, len(lines)):
            if (lines[k].startswith(prefix) if prefix is not None else lines[k] == want):
                if not gap and k != pos and any(lines[pos:k]):
                    return f"shown line {shown!r} is not where the page shows it (lines were skipped without '...')"
                pos = k + 1
                break
        else:
            return f"shown line not in the output (or out of order): {shown!r}"
        gap = False
    return None


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    for name in ("examples", "docs"):
        (tmp_path / name).symlink_to(ROOT / name, target_is_directory=True)
    return tmp_path


@pytest.mark.parametrize("cmd", COMMANDS, ids=[c.id for c in COMMANDS])
def test_documented_command(cmd: Command, workdir: Path) -> None:
    words = shlex.split(cmd.text)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k not in ("REACHGRAPH_SNAPSHOT", "REACHGRAPH_DEBUG")}
    # Never AWS: fake credentials, no metadata service, nothing from the user's configuration.
    env.update({"NO_COLOR": "1", "COLUMNS": "200", "AWS_ACCESS_KEY_ID": "docs-test", "AWS_SECRET_ACCESS_KEY": "x",
                "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": str(workdir / "none"),
                "AWS_SHARED_CREDENTIALS_FILE": str(workdir / "none")})
    env.update(cmd.env)
    proc = subprocess.run([reachgraph_bin(), *words[1:]], capture_output=True, text=True, env=env, cwd=workdir,
                          timeout=300)
    shown = f"$ {cmd.text}\n--- stdout ---\n{proc.stdout}--- stderr ---\n{proc.stderr}"
    assert proc.returncode == cmd.expected_exit, (
        f"{cmd.id}: exit {proc.returncode}, the page says {cmd.expected_exit}\n{shown}")
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, shown
    # A terminal interleaves the two streams; what-if notes come first on stderr, "wrote FILE" last.
    problem = _check_output(cmd.expected_output, proc.stderr + proc.stdout)
    if problem is not None:
        problem = _check_output(cmd.expected_output, proc.stdout + proc.stderr)
    assert problem is None, f"{cmd.id}: {problem}\n{shown}"


def test_output_checker() -> None:
    out = "A  b\nc\nd\ne f g\n"
    assert _check_output(["A b", "c"], out) is None
    assert _check_output(["A b", "...", "e f g"], out) is None
    assert _check_output(["A b", "e ..."], out) is not None            # skipped c, d without '...'
    assert _check_output(["...", "e ..."], out) is None
    assert _check_output(["c", "A b"], out) is not None                 # order matters
    assert _check_output(["zzz"], out) is not None
    assert _split_comment("reachgraph query a 'b # c'  # exit 1") == ("reachgraph query a 'b # c'", "exit 1")


# -- Python examples ------------------------------------------------------------------------------------------
PYTHON_BLOCKS = [b for page in PAGES for b in _blocks(page) if b.lang == "python" and not b.skipped]


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=[f"{b.page}:{b.line}" for b in PYTHON_BLOCKS])
def test_documented_python(block: Block) -> None:
    """```python blocks run as shown, from the repository root (unless marked as needing AWS)."""
    code = "\n".join(text for _, text in block.lines)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "REACHGRAPH_SNAPSHOT"}
    env.update({"AWS_EC2_METADATA_DISABLED": "true", "MPLBACKEND": "Agg"})
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=300)
    assert proc.returncode == 0, f"{block.page}:{block.line} failed:\n{proc.stdout}{proc.stderr}"


# -- links ---------------------------------------------------------------------------------------------------
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    out = set()
    in_fence = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line.strip()):
            in_fence = not in_fence
        if in_fence or not line.startswith("#"):
            continue
        title = line.lstrip("#").strip().lower()
        out.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return out


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_relative_links_resolve(page: Path) -> None:
    """Every relative link of README.md and docs/*.md points at a file that exists (and a heading that exists)."""
    broken = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)}: broken links {broken}"
