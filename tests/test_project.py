"""The project itself: the README's two commands, CI running exactly the test command, ruff clean."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def quick_start() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1]
    block = re.search(r"```\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_quick_start_has_exactly_two_commands_demo_and_tests():
    commands = quick_start()
    assert len(commands) == 2
    assert commands[0].endswith("xl-ar demo")
    assert "pytest" in commands[1] and ".[test]" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci = ROOT / ".ci" / "run"
    out = subprocess.run(
        ["bash", "-c", "awk '/^## Quick start/{q=1} q&&/^```$/{n++; next} q&&n==1{print}' README.md | sed -n 2p"],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    assert out == quick_start()[1]
    assert "awk '/^## Quick start/" in ci.read_text() and ci.stat().st_mode & 0o111


def test_ruff_is_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    result = subprocess.run([ruff, "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


MACHINE_PATH = "|".join(["/" + "work/", "/" + "root/", "/" + r"home/\w+", "C:" + r"\\Users"])


def test_no_machine_paths_in_tracked_files():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    offenders = []
    for name in files:
        path = ROOT / name
        if path.suffix in (".py", ".md", ".toml", ".json", ".txt", "") and path.is_file():
            text = path.read_text(encoding="utf-8", errors="ignore")
            if re.search(MACHINE_PATH, text):
                offenders.append(name)
    assert offenders == []


def test_ci_tests_a_fresh_clone_in_an_empty_folder():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "git clone" in ci and "mktemp -d" in ci and 'bash -c "$test_command"' in ci


OUTSIDE = re.compile(r"\.\./shared|ROOT\.parent|parents\[\d\]\.parent|parent\.parent|\"shared\"")


def test_no_test_reads_files_from_outside_the_repository():
    # the corpus travels in tests/corpus; a fresh clone has nothing beside it
    offenders = [p.name for p in (ROOT / "tests").rglob("*.py") if OUTSIDE.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_corpus_travels_with_its_sources_and_licences():
    corpus = ROOT / "tests" / "corpus" / "x12"
    folders = sorted(p.name for p in corpus.iterdir() if p.is_dir() and p.name != "LICENSES")
    licences = sorted(p.stem for p in (corpus / "LICENSES").glob("*.txt"))
    assert folders == licences and len(folders) == 10
    sources = (corpus / "SOURCES.md").read_text(encoding="utf-8")
    assert all(f"## {name}" in sources for name in folders)
