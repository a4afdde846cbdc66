#!/usr/bin/env python3
"""What ctempfile's changes since a revision cost per call, in user-space
instructions (callgrind: a count that does not drift with the machine).

Not a test: it prints figures. Both modules are built the same way (as
python/tests/run_versions.py builds them: gcc -O2, the module's sources of
each side with this tree's library), so only the module differs. Each
workload runs in its own process under valgrind twice, with 100 warm-up
calls and then 0 or N more; the difference over N is the cost of one call
(interpreter start and imports cancel out). PYTHONHASHSEED=0, on tmpfs.

    python3 bench/ctempfile_instructions.py [--base REV] [--calls N] [--python PY]

REV defaults to 4194458, the module before issue 15's fidelity changes.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "python", "tests"))
import run_versions  # noqa: E402  (the module's build, shared)

WORKLOAD = r'''
import os, sys, ctempfile as m
op, n, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = m.SpooledTemporaryFile(max_size=1 << 30)
def mkstemp():
    fd, p = m.mkstemp(dir=d); os.close(fd); os.unlink(p)
ops = {
    "mkstemp": mkstemp,
    "mkdtemp": lambda: os.rmdir(m.mkdtemp(dir=d)),
    "TemporaryFile": lambda: m.TemporaryFile(dir=d).close(),
    "NamedTemporaryFile": lambda: m.NamedTemporaryFile(dir=d).close(),
    "TemporaryDirectory": lambda: m.TemporaryDirectory(dir=d).cleanup(),
    "SpooledTemporaryFile.write": lambda: s.write(b"x"),
}
f = ops[op]
for _ in range(100 + n):
    f()
'''
OPS = ("mkstemp", "mkdtemp", "TemporaryFile", "NamedTemporaryFile", "TemporaryDirectory",
       "SpooledTemporaryFile.write")


def instructions(py, pkg, script, op, n, work):
    out = os.path.join(work, "callgrind.out")
    subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                    py, script, op, str(n), work],
                   env=dict(os.environ, PYTHONPATH=pkg, PYTHONHASHSEED="0"),
                   check=True, capture_output=True)
    with open(out) as f:
        total = re.search(r"^(?:summary|totals): (\d+)", f.read(), re.M)
    os.unlink(out)
    return int(total.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="4194458")
    ap.add_argument("--calls", type=int, default=500)
    ap.add_argument("--python", default=os.path.join(
        os.path.expanduser("~/.pyenv/versions/3.13.0/bin/python3")))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ctempfile-ir-") as work:
        base_src = os.path.join(work, "base-src")
        os.makedirs(base_src)
        archive = subprocess.run(["git", "-C", ROOT, "archive", args.base, "python"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "x", "-C", base_src], input=archive, check=True)
        pkgs = {"base": os.path.join(work, "base"), "now": os.path.join(work, "now")}
        run_versions.build(args.python, pkgs["base"], os.path.join(base_src, "python"))
        run_versions.build(args.python, pkgs["now"])
        script = os.path.join(work, "workload.py")
        with open(script, "w") as f:
            f.write(WORKLOAD)
        version = run_versions.ask(args.python, "import platform; print(platform.python_version())")
        print("user-space instructions per call, CPython %s, base %s -> this tree (%d calls "
              "after 100; the same library on both sides)" % (version, args.base, args.calls))
        for op in OPS:
            per = {}
            for side, pkg in pkgs.items():
                with tempfile.TemporaryDirectory(dir="/dev/shm") as d:
                    per[side] = (instructions(args.python, pkg, script, op, args.calls, d) -
                                 instructions(args.python, pkg, script, op, 0, d)) / args.calls
            print("  %-28s %9.0f -> %9.0f  %+5.1f%%" % (op, per["base"], per["now"],
                                                       100 * (per["now"] / per["base"] - 1)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
