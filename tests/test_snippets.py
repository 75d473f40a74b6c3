"""Every question's code block does what its ``snippet`` field says, on the Python running the tests.

Each block runs in its own ``python -I`` subprocess in an empty folder; they run
in parallel, so the test costs about one hang's timeout, not the sum.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from coachbot.bank import Question, Snippet, check_bank

HANG_SECONDS = 2.0  # bank-common.md: "hangs" means it does not finish within 2 seconds
# A snippet that should finish gets more room, so a loaded machine doesn't make it look like a hang.
FINISH_SECONDS = 15.0
# Two hash seeds: a snippet whose output depends on string hashing (a set of str) is not a fixed answer.
HASH_SEEDS = ("0", "4242")
# The line that names the exception: the first unindented line after the last traceback header.
TRACEBACK = "Traceback (most recent call last):"
EXCEPTION_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)(:|$)")


@dataclass(frozen=True)
class Run:
    returncode: int | None  # None: killed at the timeout
    stdout: str
    stderr: str


def run(code: str, folder: Path, timeout: float, seed: str) -> Run:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONHASHSEED": seed, "PYTHONIOENCODING": "utf-8"}
    try:
        done = subprocess.run([sys.executable, "-I", "-c", code], cwd=folder, env=env, capture_output=True,
                              encoding="utf-8", timeout=timeout)
    except subprocess.TimeoutExpired as exc:  # subprocess.run kills the child before raising
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return Run(None, out, "")
    return Run(done.returncode, done.stdout, done.stderr)


def raised(stderr: str) -> str | None:
    """The exception a traceback ends with, as Python printed it (``json.decoder.JSONDecodeError``)."""
    lines = stderr.splitlines()
    if TRACEBACK not in lines:
        return None
    start = len(lines) - 1 - lines[::-1].index(TRACEBACK)
    for line in lines[start + 1:]:
        if line and not line.startswith(" "):
            match = EXCEPTION_LINE.match(line)
            return match.group(1) if match else None
    return None


def names_match(expected: str, printed: str) -> bool:
    """``json.JSONDecodeError`` is printed as ``json.decoder.JSONDecodeError``: same class, same package."""
    if expected == printed:
        return True
    *module, name = expected.split(".")
    *printed_module, printed_name = printed.split(".")
    return bool(module) and name == printed_name and printed_module[: len(module)] == module


def problem(snippet: Snippet, runs: list[Run]) -> str | None:
    """What is wrong with a question's snippet claim, or None."""
    first = runs[0]
    if snippet.hangs:
        return None if first.returncode is None else f"finished (exit {first.returncode}) but snippet says it hangs"
    if first.returncode is None:
        return f"still running after {FINISH_SECONDS} s"
    if snippet.raises is not None:
        name = raised(first.stderr)
        if first.returncode == 0 or name is None:
            return f"raised nothing (exit {first.returncode}); stderr: {first.stderr[-300:]!r}"
        return None if names_match(snippet.raises, name) else f"raised {name}, snippet says {snippet.raises}"
    for one in runs:
        if one.returncode != 0:
            return f"exit {one.returncode}; stderr: {one.stderr[-300:]!r}"
        if one.stdout != snippet.stdout:
            return f"printed {one.stdout!r}, snippet says {snippet.stdout!r}"
    return None


def with_snippets() -> list[Question]:
    # The questions that load; a file's other problems are test_bank's to report.
    return [q for q in check_bank()[0] if q.snippet is not None]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Run]]:
    folder = tmp_path_factory.mktemp("snippets")
    jobs = []
    for question in with_snippets():
        assert question.snippet is not None and question.code is not None
        if question.snippet.stdout is not None:
            jobs += [(question.id, question.code, FINISH_SECONDS, seed) for seed in HASH_SEEDS]
        else:
            timeout = HANG_SECONDS if question.snippet.hangs else FINISH_SECONDS
            jobs.append((question.id, question.code, timeout, HASH_SEEDS[0]))
    out: dict[str, list[Run]] = {}
    with ThreadPoolExecutor(max_workers=8) as pool:
        runs = pool.map(lambda job: (job[0], run(job[1], folder, job[2], job[3])), jobs)
        for qid, one in runs:
            out.setdefault(qid, []).append(one)
    return out


def test_the_bank_has_snippets():
    assert len(with_snippets()) >= 10


@pytest.mark.parametrize("question", with_snippets(), ids=lambda q: q.id)
def test_snippet_does_what_it_says(question: Question, results: dict[str, list[Run]]):
    assert question.snippet is not None
    assert problem(question.snippet, results[question.id]) is None, problem(question.snippet, results[question.id])


# The checker itself, on code with a known outcome: it must catch a wrong claim of each kind.

@pytest.mark.parametrize(
    "code, snippet, wrong",
    [
        ("print([1, 2])", Snippet(stdout="[1, 2]\n"), Snippet(stdout="[1, 2]")),
        ("print('a')\n[][0]", Snippet(raises="IndexError"), Snippet(raises="KeyError")),
        ("import json\njson.loads('{')", Snippet(raises="json.JSONDecodeError"), Snippet(raises="ValueError")),
        ("class Oops(Exception): pass\ntry:\n    {}['k']\nexcept KeyError:\n    raise Oops('x\\ny')",
         Snippet(raises="Oops"), Snippet(raises="KeyError")),
        ("while True:\n    pass", Snippet(hangs=True), Snippet(stdout="")),
        ("print(1)", Snippet(stdout="1\n"), Snippet(hangs=True)),
        ("print(1)", Snippet(stdout="1\n"), Snippet(raises="ValueError")),
        ("print(sorted({'b', 'a'}))", Snippet(stdout="['a', 'b']\n"), Snippet(stdout="['b', 'a']\n")),
    ],
)
def test_the_runner_tells_a_true_claim_from_a_false_one(tmp_path: Path, code: str, snippet: Snippet, wrong: Snippet):
    seeds = HASH_SEEDS[:1] if snippet.hangs else HASH_SEEDS
    runs = [run(code, tmp_path, HANG_SECONDS if snippet.hangs else FINISH_SECONDS, seed) for seed in seeds]
    assert problem(snippet, runs) is None
    assert problem(wrong, runs) is not None


def test_output_that_depends_on_string_hashing_is_caught(tmp_path: Path):
    code = "print(list({'apple', 'pear', 'fig', 'kiwi', 'plum'}))"
    runs = [run(code, tmp_path, FINISH_SECONDS, seed) for seed in HASH_SEEDS]
    assert runs[0].stdout != runs[1].stdout  # the two seeds give two orders
    assert problem(Snippet(stdout=runs[0].stdout), runs) is not None
