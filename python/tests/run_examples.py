#!/usr/bin/env python3
"""Runs every example of python/examples/ twice, with ctempfile (as written)
and with the standard tempfile (the same source with its ctempfile import
turned into a tempfile import), each in a fresh working directory with a fresh
TMPDIR, and compares what they print, their exit status and what they leave
in TMPDIR, after replacing random names, numbers and timings.

    PYTHONPATH=build/python python3 python/tests/run_examples.py python/examples
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

IMPORTS = [
    (re.compile(r"^import ctempfile as tempfile\b", re.M), "import tempfile"),
    (re.compile(r"^from ctempfile import\b", re.M), "from tempfile import"),
    (re.compile(r"^import ctempfile$", re.M), "import tempfile as ctempfile"),
]


def to_stdlib(source):
    for pattern, repl in IMPORTS:
        source = pattern.sub(repl, source)
    if re.search(r"^\s*(import|from)\s.*\bctempfile\b(?<!as ctempfile)", source, re.M):
        raise ValueError("example imports ctempfile in an unexpected way")
    return source


def normalize(text, tmp, cwd):
    text = text.replace(tmp, "<TMP>").replace(cwd, "<CWD>")
    text = re.sub(r"<TMP>(/[^\s'\"]+)",
                  lambda m: "<TMP>" + re.sub(r"[a-z0-9_]", "x", m.group(1)), text)
    text = re.sub(r"(?<=-)[a-z0-9_]{8}(?![a-z0-9_])", "<RANDOM>", text)
    return re.sub(r"\d+", "N", text)


def run(path, source, label):
    work = tempfile.mkdtemp(prefix="ctempfile-ex-")
    try:
        tmp = os.path.join(work, "tmp")
        cwd = os.path.join(work, "cwd")
        os.mkdir(tmp)
        os.mkdir(cwd)
        script = os.path.join(work, os.path.basename(path))
        with open(script, "w") as f:
            f.write(source)
        env = dict(os.environ, TMPDIR=tmp, PYTHONIOENCODING="utf-8")
        r = subprocess.run([sys.executable, script], cwd=cwd, env=env,
                           capture_output=True, text=True, timeout=120)
        left = (sorted(normalize(os.path.join(tmp, n), tmp, cwd) for n in os.listdir(tmp))
                if os.path.isdir(tmp) else ["<TMPDIR removed>"])
        return (r.returncode, normalize(r.stdout, tmp, cwd),
                normalize(r.stderr.replace(script, "<SCRIPT>"), tmp, cwd), left)
    finally:
        for root, dirs, _ in os.walk(work):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o700)
        shutil.rmtree(work)


def main(argv):
    folder = argv[0] if argv else os.path.join(os.path.dirname(__file__), "..", "examples")
    examples = sorted(f for f in os.listdir(folder) if f.endswith(".py"))
    if not examples:
        print("no examples found in", folder)
        return 1
    failures = 0
    for name in examples:
        path = os.path.join(folder, name)
        with open(path) as f:
            source = f.read()
        ours = run(path, source, "ctempfile")
        theirs = run(path, to_stdlib(source), "tempfile")
        ok = ours == theirs and ours[0] == 0
        print("%-40s %s" % (name, "same output" if ok else "DIFFERENT"))
        if not ok:
            failures += 1
            for what, a, b in zip(("exit status", "stdout", "stderr", "left in TMPDIR"),
                                  ours, theirs):
                if a != b or what == "exit status":
                    print("  %s with ctempfile: %r\n  %s with tempfile:  %r" % (what, a, what, b))
    print("%d examples, %d with different output" % (len(examples), failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
