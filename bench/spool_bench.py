#!/usr/bin/env python3
"""Spooled temporary files, side by side with CPython (issue 3).

Runs the C workloads of bench/spool_bench.c and the same workloads in CPython
(tempfile.SpooledTemporaryFile, io.BytesIO, tempfile.TemporaryFile)
interleaved, round by round (C then Python, then Python then C, ...), on
tmpfs (/dev/shm) and on the disk (/tmp), and prints a markdown report of the
median times and of the medians of the per-round ratios
(see ../shared/benchmarking.md for why).

    python3 bench/spool_bench.py [--rounds N] [--fs shm,tmp] [--small] [--exe PATH]

The C program is looked up in $TF_BENCH_BUILD_DIR/bench, build-bench/bench,
then build*/bench; CPython 3.13 is used if this interpreter is not it and
pyenv knows one (the behaviour reference).
"""
import argparse
import glob
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MIB = 1024 * 1024


def reexec_with_313():
    """CPython 3.13 is the reference; switch to it when pyenv has it."""
    if sys.version_info[:2] == (3, 13) or os.environ.get("TF_SPOOL_BENCH_NO_REEXEC"):
        return
    try:
        prefix = subprocess.run(["pyenv", "prefix", "3.13.0"], capture_output=True,
                                text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return
    exe = os.path.join(prefix, "bin", "python3")
    if os.path.exists(exe):
        os.environ["TF_SPOOL_BENCH_NO_REEXEC"] = "1"
        os.execv(exe, [exe] + sys.argv)


def find_exe(explicit):
    if explicit:
        return explicit
    cands = []
    if os.environ.get("TF_BENCH_BUILD_DIR"):
        cands.append(os.path.join(os.environ["TF_BENCH_BUILD_DIR"], "bench", "spool_bench"))
    cands.append(os.path.join(ROOT, "build-bench", "bench", "spool_bench"))
    cands += sorted(glob.glob(os.path.join(ROOT, "build*", "bench", "spool_bench")))
    for c in cands:
        if os.access(c, os.X_OK):
            return c
    sys.exit("spool_bench.py: build bench/spool_bench first (cmake --build <dir> --target spool_bench)")


# ---- the CPython side: the same workloads as spool_bench.c ----------------

class Py:
    def __init__(self, d, big, one_byte_writes):
        self.dir, self.big, self.n1 = d, big, one_byte_writes
        self.src = bytes((i * 131 + 7) & 0xFF for i in range(64 * 1024))

    def one_byte(self, make):
        t0 = time.perf_counter()
        f = make()
        w = f.write
        for _ in range(self.n1):
            w(b"x")
        f.close()
        return time.perf_counter() - t0

    def fill(self, f, piece):
        chunk = self.src[:piece]
        w = f.write
        for _ in range(self.big // piece):
            w(chunk)

    def bulk_fresh(self, make, piece):
        f = make()
        t0 = time.perf_counter()
        self.fill(f, piece)
        t = time.perf_counter() - t0
        f.close()
        return t

    def bulk_reuse(self, make, piece):
        f = make()
        self.fill(f, piece)
        f.seek(0)
        t0 = time.perf_counter()
        self.fill(f, piece)
        t = time.perf_counter() - t0
        f.close()
        return t

    def rollover(self, size):
        f = tempfile.SpooledTemporaryFile(max_size=0, dir=self.dir)
        self.fill_size(f, size)
        t0 = time.perf_counter()
        f.rollover()
        t = time.perf_counter() - t0
        f.close()
        return t

    def fill_size(self, f, size):
        for _ in range(size // len(self.src)):
            f.write(self.src)

    def round(self):
        spooled_1m = lambda: tempfile.SpooledTemporaryFile(max_size=MIB, dir=self.dir)
        spooled_0 = lambda: tempfile.SpooledTemporaryFile(max_size=0, dir=self.dir)
        plain = lambda: tempfile.TemporaryFile(dir=self.dir)
        r = {
            "one_byte_spooled": self.one_byte(spooled_1m),
            "one_byte_tempfile": self.one_byte(plain),
            "one_byte_bytesio": self.one_byte(io.BytesIO),
        }
        for piece, tag in ((4096, "w4k"), (65536, "w64k")):
            r[tag + "_spooled_fresh"] = self.bulk_fresh(spooled_0, piece)
            r[tag + "_bytesio_fresh"] = self.bulk_fresh(io.BytesIO, piece)
            r[tag + "_spooled_reuse"] = self.bulk_reuse(spooled_0, piece)
            r[tag + "_bytesio_reuse"] = self.bulk_reuse(io.BytesIO, piece)
        r["rollover_1m"] = self.rollover(MIB)
        r["rollover_big"] = self.rollover(self.big)
        return r


def run_c(exe, d, small):
    cmd = [exe, "--json", "--dir", d] + (["--small"] if small else [])
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


# ---- report ----------------------------------------------------------------

def med(xs):
    return statistics.median(xs)


def fmt_t(s):
    return "%.3f ms" % (s * 1e3)


def report(fs, d, rounds, cs, ps, big, n1):
    L = []
    L.append("#### %s (%s), %d rounds, C and CPython interleaved" % (fs, d, len(cs)))
    L.append("")
    L.append("| workload | C libtempfile | CPython SpooledTemporaryFile | CPython BytesIO | memcpy | "
             "CPython spooled / C (median of per-round ratios) |")
    L.append("|---|---|---|---|---|---|")

    def col(rs, k):
        return [r[k] for r in rs] if k in rs[0] else None

    def ratio(num, den):
        return med([a / b for a, b in zip(num, den)])

    rows = [
        ("%d one-byte writes, spooled max 1 MiB (slide 13)" % n1, "one_byte_spooled",
         "one_byte_spooled", "one_byte_bytesio", None),
        ("%d one-byte writes, spooled, through FILE *" % n1, "one_byte_spooled_stream",
         "one_byte_spooled", None, None),
        ("%d one-byte writes, TemporaryFile (C: unbuffered handle)" % n1, "one_byte_tempfile",
         "one_byte_tempfile", None, None),
        ("%d one-byte writes, TemporaryFile through FILE * (buffered, as Python's)" % n1,
         "one_byte_tempfile_stream", "one_byte_tempfile", None, None),
    ]
    for tag, piece in (("w4k", "4 KiB"), ("w64k", "64 KiB")):
        rows.append(("%d MiB in %s writes, fresh memory" % (big // MIB, piece), tag + "_spooled_fresh",
                     tag + "_spooled_fresh", tag + "_bytesio_fresh", tag + "_memcpy_fresh"))
        rows.append(("%d MiB in %s writes, memory reused (rewrite)" % (big // MIB, piece),
                     tag + "_spooled_reuse", tag + "_spooled_reuse", tag + "_bytesio_reuse",
                     tag + "_memcpy_reuse"))
    rows.append(("rollover of 1 MiB", "rollover_1m", "rollover_1m", None, None))
    rows.append(("rollover of %d MiB" % (big // MIB), "rollover_big", "rollover_big", None, None))

    verdicts = []
    for label, ck, pk, bk, mk in rows:
        c = col(cs, ck)
        p = col(ps, pk)
        b = col(ps, bk) if bk else None
        m = col(cs, mk) if mk else None
        L.append("| %s | %s | %s | %s | %s | %s |" % (
            label, fmt_t(med(c)), fmt_t(med(p)), fmt_t(med(b)) if b else "",
            fmt_t(med(m)) if m else "", "%.1fx" % ratio(p, c)))
        if ck == "one_byte_spooled":
            x = ratio(p, c)
            verdicts.append("one-byte writes: C is %.1fx faster than CPython's SpooledTemporaryFile "
                            "(target >= 20x: %s); %.1fx faster than io.BytesIO"
                            % (x, "met" if x >= 20 else "NOT met", ratio(b, c)))
        if mk:
            x = ratio(m, c)   # spooled bandwidth / memcpy bandwidth
            verdicts.append("%s: spooled write bandwidth is %.2f of memcpy's, %.2f GB/s "
                            "(target >= 0.5: %s)" % (label, x, big / med(c) / 1e9,
                                                     "met" if x >= 0.5 else "NOT met"))
    L.append("")
    for v in verdicts:
        L.append("- " + v)
    L.append("")
    return L


def main():
    reexec_with_313()
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--fs", default="shm,tmp")
    ap.add_argument("--small", action="store_true", help="4 MiB instead of 64 MiB, 10,000 one-byte writes")
    ap.add_argument("--exe")
    a = ap.parse_args()
    exe = find_exe(a.exe)
    roots = {"shm": "/dev/shm", "tmp": "/tmp"}
    out = ["### Spooled temporary files (bench/spool_bench.py)", "",
           "`python3 bench/spool_bench.py --rounds %d --fs %s%s` with %s, Python %s" % (
               a.rounds, a.fs, " --small" if a.small else "", os.path.relpath(exe, ROOT),
               sys.version.split()[0]), "",
           "Fresh memory: every round writes into a new file, and the C side fixes glibc's mmap "
           "threshold at 128 KiB so that the file's chunks and memcpy's buffer are both new pages "
           "(~10 us each on this guest: page faults dominate). Reused: the same bytes rewritten "
           "over a file (or buffer) that holds them, the measure of the code itself. CPython's "
           "figures are its own allocator's.",
           ""]
    for fs in a.fs.split(","):
        d = tempfile.mkdtemp(prefix="spool_bench_", dir=roots.get(fs, fs))
        try:
            cs, ps = [], []
            py = None
            for r in range(a.rounds):
                order = (0, 1) if r % 2 == 0 else (1, 0)
                for who in order:
                    if who == 0:
                        cs.append(run_c(exe, d, a.small))
                    else:
                        if py is None:
                            c0 = cs[0] if cs else run_c(exe, d, a.small)
                            py = Py(d, c0["big_bytes"], c0["one_byte_writes"])
                        ps.append(py.round())
            out += report(fs, d, a.rounds, cs, ps, cs[0]["big_bytes"], cs[0]["one_byte_writes"])
        finally:
            shutil.rmtree(d, ignore_errors=True)
    print("\n".join(out))


if __name__ == "__main__":
    main()
