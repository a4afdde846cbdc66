#!/usr/bin/env python3
"""ctempfile against the standard tempfile, side by side in one process.

Not a test: it prints figures. Following bench/../shared benchmarking notes:
every comparison is interleaved (A B A B ..., the order alternating from round
to round), each round works in a fresh directory, and the figure quoted is the
median of the per-round ratios (wall clock and CPU time both shown). File and
directory workloads run on tmpfs (/dev/shm) and on the disk (/tmp).

    PYTHONPATH=build/python python3 bench/ctempfile_bench.py [--rounds N] [--quick]

Workloads (each creation is followed by its cleanup, in both modules alike):
  mkstemp             fd, name = mkstemp(dir=d); os.close(fd); os.unlink(name)
  mkdtemp             os.rmdir(mkdtemp(dir=d))
  TemporaryFile       with TemporaryFile(dir=d): pass
  NamedTemporaryFile  with NamedTemporaryFile(dir=d): pass
  TemporaryDirectory  with TemporaryDirectory(dir=d): pass
  floor               the same system calls and io objects with no module
                      (a fixed name): what no implementation can beat
  spooled (seed 000, slide 13): SpooledTemporaryFile(max_size=1 MiB), 100,000
                      write(b"x"), close -- also against io.BytesIO
"""
import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile as std_tempfile
import time

import ctempfile


def creation_workloads(mod):
    def mkstemp(d):
        fd, name = mod.mkstemp(dir=d)
        os.close(fd)
        os.unlink(name)

    def mkdtemp(d):
        os.rmdir(mod.mkdtemp(dir=d))

    def temporary_file(d):
        with mod.TemporaryFile(dir=d):
            pass

    def named_temporary_file(d):
        with mod.NamedTemporaryFile(dir=d):
            pass

    def temporary_directory(d):
        with mod.TemporaryDirectory(dir=d):
            pass

    return {"mkstemp": mkstemp, "mkdtemp": mkdtemp, "TemporaryFile": temporary_file,
            "NamedTemporaryFile": named_temporary_file,
            "TemporaryDirectory": temporary_directory}


def floor_workloads():
    """The same work with no module at all: the system calls and io objects
    every implementation must make, on a fixed name. No Python module can be
    faster than this; where floor/tempfile is under the 1.3x target, the target
    is out of reach."""
    def mkstemp(d):
        name = d + "/f"
        os.close(os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))
        os.unlink(name)

    def mkdtemp(d):
        name = d + "/d"
        os.mkdir(name, 0o700)
        os.rmdir(name)

    def temporary_file(d):
        fd = os.open(d, os.O_TMPFILE | os.O_RDWR | os.O_EXCL | os.O_CLOEXEC, 0o600)
        with io.open(fd, "w+b"):
            pass

    def named_temporary_file(d):
        name = d + "/f"
        fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        with io.open(fd, "w+b"):
            pass
        os.unlink(name)

    return {"mkstemp": mkstemp, "mkdtemp": mkdtemp, "TemporaryFile": temporary_file,
            "NamedTemporaryFile": named_temporary_file, "TemporaryDirectory": mkdtemp}


def spooled(mod):
    def run(_):
        f = mod.SpooledTemporaryFile(max_size=1024 * 1024)
        for _ in range(100000):
            f.write(b"x")
        f.close()
    return run


def bytesio(_):
    f = io.BytesIO()
    for _ in range(100000):
        f.write(b"x")
    f.close()


def timed(fn, d, n):
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        fn(d)
    return (time.perf_counter() - w0) / n, (time.process_time() - c0) / n


def compare(base, contenders, rounds, n, where):
    """Interleaved rounds; returns {name: (wall per op, cpu per op, [wall ratios], [cpu ratios])}."""
    names = list(contenders)
    samples = {k: [] for k in names}
    for r in range(rounds):
        order = names if r % 2 == 0 else names[::-1]
        for k in order:
            d = std_tempfile.mkdtemp(dir=where) if where else None
            try:
                samples[k].append(timed(contenders[k], d, n))
            finally:
                if d:
                    shutil.rmtree(d)
    out = {}
    for k in names:
        wr = [samples[base][i][0] / samples[k][i][0] for i in range(rounds)]
        cr = [samples[base][i][1] / samples[k][i][1] if samples[k][i][1] else float("nan")
              for i in range(rounds)]
        out[k] = (statistics.median(s[0] for s in samples[k]),
                  statistics.median(s[1] for s in samples[k]), wr, cr)
    return out


def fmt_t(sec):
    return "%.2f ms" % (sec * 1e3) if sec >= 1e-3 else "%.1f µs" % (sec * 1e6)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--ops", type=int, default=300, help="creations per round")
    ap.add_argument("--quick", action="store_true", help="5 rounds, fewer ops")
    ap.add_argument("--dirs", default="/dev/shm,/tmp")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.ops = 5, 100

    print("ctempfile %s vs tempfile, CPython %s, %d interleaved rounds" % (
        os.path.dirname(ctempfile.__file__), sys.version.split()[0], args.rounds))
    print("figures: median time per call; speedup = median of per-round ratios "
          "tempfile/ctempfile (wall | CPU)\n")
    rows = []
    for where in args.dirs.split(","):
        if not os.path.isdir(where):
            continue
        base = std_tempfile.mkdtemp(prefix="ctempfile-bench-", dir=where)
        try:
            # Spread runs over block groups (ext4); harmless elsewhere.
            subprocess.run(["chattr", "+T", base], capture_output=True)
            fs = "tmpfs" if where.startswith("/dev/shm") else "disk"
            std_w = creation_workloads(std_tempfile)
            ct_w = creation_workloads(ctempfile)
            floor_w = floor_workloads()
            for name in std_w:
                res = compare("tempfile", {"tempfile": std_w[name], "ctempfile": ct_w[name],
                                           "floor": floor_w[name]},
                              args.rounds, args.ops, base)
                w, c, wr, cr = res["ctempfile"]
                rows.append((name, fs, fmt_t(res["tempfile"][0]), fmt_t(w),
                             statistics.median(wr), statistics.median(cr),
                             statistics.median(res["floor"][2]), 1.3))
                print("%-20s %-5s tempfile %9s  ctempfile %9s  speedup %5.2fx | %5.2fx"
                      "  (floor %5.2fx)" % rows[-1][:7])
        finally:
            shutil.rmtree(base)

    res = compare("tempfile", {"tempfile": spooled(std_tempfile), "ctempfile": spooled(ctempfile),
                               "BytesIO": bytesio}, max(5, args.rounds), 1, None)
    t, c_, b = res["tempfile"], res["ctempfile"], res["BytesIO"]
    print("\nspooled, seed 000 slide 13 (100,000 one-byte writes, memory reused between rounds):")
    print("  tempfile.SpooledTemporaryFile  %9s" % fmt_t(t[0]))
    print("  ctempfile.SpooledTemporaryFile %9s  speedup %5.2fx | %5.2fx (target >= 3x)" % (
        fmt_t(c_[0]), statistics.median(c_[2]), statistics.median(c_[3])))
    print("  io.BytesIO                     %9s" % fmt_t(b[0]))
    ratio = [cw / bw for cw, bw in zip(
        [1 / r for r in c_[2]], [1 / r for r in b[2]])]
    print("  ctempfile / BytesIO time: %.2fx (median of rounds; target <= 1.5x)" % statistics.median(ratio))

    print("\nsummary (speedup on wall time; target 1.3x; floor: no module at all):")
    for name, fs, _, _, wr, cr, floor, target in rows:
        verdict = ("ok" if wr >= target else
                   "out of reach (floor below target)" if floor < target else "BELOW TARGET")
        print("  %-20s %-5s %5.2fx  floor %5.2fx  %s" % (name, fs, wr, floor, verdict))


if __name__ == "__main__":
    main()
