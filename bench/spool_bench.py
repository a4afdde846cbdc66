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


def build_dir():
    """$TF_BENCH_BUILD_DIR made absolute (cargo runs in another directory), else build-bench."""
    return os.path.abspath(os.environ.get("TF_BENCH_BUILD_DIR") or os.path.join(ROOT, "build-bench"))


def find_exe(explicit):
    if explicit:
        return explicit
    cands = [os.path.join(build_dir(), "bench", "spool_bench")]
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

    def small(self):
        """Issue 16: 1-byte writes over, and 1-byte reads of, a spooled file that
        holds n1 bytes already (memory reused), as spool_bench.c's *_reuse."""
        f = tempfile.SpooledTemporaryFile(max_size=MIB, dir=self.dir)
        w, rd, sk = f.write, f.read, f.seek
        for _ in range(self.n1):
            w(b"x")
        sk(0)
        t0 = time.perf_counter()
        for _ in range(self.n1):
            w(b"x")
        t1 = time.perf_counter()
        sk(0)
        for _ in range(self.n1):
            rd(1)
        t2 = time.perf_counter()
        f.close()
        return {"w1_reuse_py": t1 - t0, "r1_reuse_py": t2 - t1}

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
        r.update(self.small())
        return r


def find_rust(explicit):
    """Rust's SpooledTempFile contender (bench/spool_rust), built offline against
    Debian's crate registry; None (with a note) when cargo or the crate is missing."""
    if explicit:
        return explicit
    src = os.path.join(HERE, "spool_rust")
    target = os.path.join(build_dir(), "spool_rust")
    exe = os.path.join(target, "release", "spool_rust")
    cargo = shutil.which("cargo")
    if not cargo or not glob.glob("/usr/share/cargo/registry/tempfile-*"):
        print("spool_bench.py: no cargo or no librust-tempfile-dev: Rust left out", file=sys.stderr)
        return exe if os.access(exe, os.X_OK) else None
    # cwd: cargo reads bench/spool_rust/.cargo/config.toml (the Debian registry) from there.
    r = subprocess.run([cargo, "build", "--offline", "--release", "--quiet", "--target-dir", target],
                       cwd=src, capture_output=True, text=True)
    if r.returncode != 0:
        print("spool_bench.py: cargo build failed, Rust left out:\n" + r.stderr, file=sys.stderr)
        return None
    return exe


def run_rust(exe, n1):
    out = subprocess.run([exe, "--json", "--n", str(n1)], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)


def ir_per_op(cmd, n1=20000, n2=220000):
    """User-space instructions per operation: callgrind's total for n2 operations
    minus that for n1, over n2 - n1 (start-up and the first pass cancel out)."""
    if not shutil.which("valgrind"):
        return None
    tot = []
    for n in (n1, n2):
        r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
                           + cmd + [str(n)], capture_output=True, text=True)
        m = [l for l in r.stderr.splitlines() if "Collected :" in l]
        if r.returncode != 0 or not m:
            return None
        tot.append(int(m[-1].split(":")[-1]))
    return (tot[1] - tot[0]) / (n2 - n1)


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


# Issue 16: small accesses, each contender against the floor of its kind.
# (label, key, floor key, whose run: "c", "py" or "rust", --ir workload or None)
SMALL_ROWS = [
    ("1-byte writes", [
        ("plain growing buffer (realloc doubling + memcpy): the floor", "w1_floor_reuse", "c", "w1_floor"),
        ("the same, inlined with a constant size (memcpy becomes one store)", "w1_floor_inline_reuse", "c", "w1_floor_inline"),
        ("tf_file_write", "w1_tf_reuse", "c", "w1_tf"),
        ("tf_file_putc (inline)", "w1_tf_putc_reuse", "c", "w1_tf_putc"),
        ("FILE * view: putc", "w1_putc_reuse", "c", "w1_putc"),
        ("FILE * view: putc_unlocked", "w1_putc_unlocked_reuse", "c", "w1_putc_unlocked"),
        ("open_memstream: putc (glibc's own growing buffer stream)", "w1_memstream_reuse", "c", "w1_memstream"),
        ("Rust tempfile 3.3 SpooledTempFile::write_all", "w1_reuse_rust", "rust", "w1_reuse_rust"),
        ("CPython 3.13 SpooledTemporaryFile.write", "w1_reuse_py", "py", None),
    ], "w1_floor_reuse"),
    ("4-byte writes", [
        ("plain growing buffer: the floor", "w4_floor_reuse", "c", "w4_floor"),
        ("tf_file_write", "w4_tf_reuse", "c", "w4_tf"),
        ("FILE * view: fwrite", "w4_fwrite_reuse", "c", "w4_fwrite"),
        ("FILE * view: fwrite, lock dropped (__fsetlocking)", "w4_fwrite_bycaller_reuse", "c", "w4_fwrite_bycaller"),
        ("FILE * view: fwrite_unlocked (inlined)", "w4_fwrite_unlocked_reuse", "c", "w4_fwrite_unlocked"),
        ("open_memstream: fwrite", "w4_memstream_reuse", "c", "w4_memstream"),
    ], "w4_floor_reuse"),
    ('fprintf "%d," (1 to 4 digits)', [
        ("plain growing buffer: snprintf + append, the floor", "wfmt_floor_reuse", "c", "wfmt_floor"),
        ("FILE * view: fprintf", "wfmt_fprintf_reuse", "c", "wfmt_fprintf"),
        ("open_memstream: fprintf", "wfmt_memstream_reuse", "c", "wfmt_memstream"),
    ], "wfmt_floor_reuse"),
    ("1-byte reads", [
        ("plain buffer (memcpy out, out of line): the floor", "r1_floor_reuse", "c", "r1_floor"),
        ("tf_file_read", "r1_tf_reuse", "c", "r1_tf"),
        ("tf_file_getc (inline)", "r1_tf_getc_reuse", "c", "r1_tf_getc"),
        ("FILE * view: getc", "r1_getc_reuse", "c", "r1_getc"),
        ("Rust tempfile 3.3 SpooledTempFile::read", "r1_reuse_rust", "rust", "r1_reuse_rust"),
        ("CPython 3.13 SpooledTemporaryFile.read(1)", "r1_reuse_py", "py", None),
    ], "r1_floor_reuse"),
    ("1-byte writes into a new file (fresh memory, creation and release included)", [
        ("plain growing buffer: the floor", "w1_floor_fresh", "c", None),
        ("tf_file_write", "w1_tf_fresh", "c", None),
        ("tf_file_putc (inline)", "w1_tf_putc_fresh", "c", None),
        ("FILE * view: putc", "w1_putc_fresh", "c", None),
        ("Rust tempfile 3.3 SpooledTempFile::write_all", "w1_fresh_rust", "rust", None),
        ("CPython 3.13 SpooledTemporaryFile.write", "one_byte_spooled", "py", None),
    ], "w1_floor_fresh"),
]


def small_report(fs, runs, n1, irs):
    """runs: list of rounds, each {"c": {...}, "py": {...}, "rust": {...} or None}."""
    L = ["#### Small accesses, %s: ns per operation (%d operations, %d interleaved rounds)" %
         (fs, n1, len(runs)), "",
         "| workload | contender | ns/op (median) | / floor (median of per-round ratios) | quartiles of the ratios | Ir/op (callgrind) |",
         "|---|---|---|---|---|---|"]
    for label, rows, floor in SMALL_ROWS:
        fl = [r["c"][floor] for r in runs]
        for name, key, who, irk in rows:
            if any(r.get(who) is None or key not in r[who] for r in runs):
                continue
            xs = [r[who][key] for r in runs]
            ir = irs.get((who, irk)) if irk else None
            ratios = sorted(x / f for x, f in zip(xs, fl))
            q1, q3 = ratios[len(ratios) // 4], ratios[(3 * len(ratios)) // 4]
            L.append("| %s | %s | %.2f | %.2fx | %.2f-%.2f | %s |" % (
                label, name, med(xs) * 1e9 / n1, med(ratios), q1, q3,
                "%.1f" % ir if ir is not None else ""))
    c = [r["c"] for r in runs]
    L.append("")
    L.append("No regression elsewhere (same rounds): 64 MiB in 64 KiB writes, memory reused, "
             "%.2f GB/s (memcpy %.2f GB/s, ratio %.2f); fresh memory %.2f GB/s (memcpy %.2f GB/s); "
             "64 MiB in 64 KiB writes into a spooled file of max_size 1 MiB (rolls over at the "
             "17th write) / the same writes into open(O_TMPFILE): %.3fx; tf_file_rollover() of a "
             "file holding 64 MiB / 64 MiB of memory written into open(O_TMPFILE) in the same "
             "pieces: %.3fx (medians of per-round ratios)." % (
                 c[0]["big_bytes"] / med([r["w64k_spooled_reuse"] for r in c]) / 1e9,
                 c[0]["big_bytes"] / med([r["w64k_memcpy_reuse"] for r in c]) / 1e9,
                 med([r["w64k_spooled_reuse"] / r["w64k_memcpy_reuse"] for r in c]),
                 c[0]["big_bytes"] / med([r["w64k_spooled_fresh"] for r in c]) / 1e9,
                 c[0]["big_bytes"] / med([r["w64k_memcpy_fresh"] for r in c]) / 1e9,
                 med([r["spill_spooled"] / r["spill_otmpfile"] for r in c]),
                 med([r["rollover_big"] / r["rollover_big_floor"] for r in c])))
    L.append("")
    return L


def count_irs(exe, rust):
    irs = {}
    for label, rows, floor in SMALL_ROWS:
        for name, key, who, irk in rows:
            if irk and who == "c":
                irs[("c", irk)] = ir_per_op([exe, "--ir", irk])
            elif irk and who == "rust" and rust:
                irs[("rust", irk)] = ir_per_op([rust, "--ir", irk])
    return irs


def main():
    reexec_with_313()
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--fs", default="shm,tmp")
    ap.add_argument("--small", action="store_true", help="4 MiB instead of 64 MiB, 10,000 one-byte writes")
    ap.add_argument("--exe")
    ap.add_argument("--rust", help="the spool_rust program (default: build bench/spool_rust)")
    ap.add_argument("--no-ir", action="store_true", help="skip the callgrind counts")
    a = ap.parse_args()
    exe = find_exe(a.exe)
    rust = find_rust(a.rust)
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
    irs = None
    for fs in a.fs.split(","):
        d = tempfile.mkdtemp(prefix="spool_bench_", dir=roots.get(fs, fs))
        try:
            cs, ps, rs = [], [], []
            py = None
            for r in range(a.rounds):
                order = [(0, 1, 2), (1, 2, 0), (2, 0, 1)][r % 3]   # rotated each round
                for who in order:
                    if who == 0:
                        cs.append(run_c(exe, d, a.small))
                    elif who == 1:
                        if py is None:
                            c0 = cs[0] if cs else run_c(exe, d, a.small)
                            py = Py(d, c0["big_bytes"], c0["one_byte_writes"])
                        ps.append(py.round())
                    else:
                        n1 = 10000 if a.small else 100000
                        rs.append(run_rust(rust, n1) if rust else None)
            out += report(fs, d, a.rounds, cs, ps, cs[0]["big_bytes"], cs[0]["one_byte_writes"])
            runs = [{"c": c, "py": p, "rust": rr} for c, p, rr in zip(cs, ps, rs)]
            if irs is None:
                irs = {} if a.no_ir else count_irs(exe, rust)
            out += small_report(fs, runs, cs[0]["one_byte_writes"], irs)
        finally:
            shutil.rmtree(d, ignore_errors=True)
    print("\n".join(out))


if __name__ == "__main__":
    main()
