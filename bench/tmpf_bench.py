#!/usr/bin/env python3
"""tmpf against the shell tools it replaces, per invocation, process start
included, interleaved in one run (not a test: nothing here asserts a time).

  bench/tmpf_bench.py [--tmpf PATH] [--rounds N] [--calls N] [--orphans N] [--write-mib N]
                      [--shred-mib N] [--fs shm,tmp] [--only W,...] [--smoke]
                      [--readme bench/README.md]

Workloads, each on tmpfs (/dev/shm) and ext4 (/tmp):
  file    `tmpf file -d D`  vs `mktemp -p D`       (N invocations a batch)
  mktemp  `mktemp` as tmpf (multi-call link) vs coreutils `mktemp -p D`
  dir     `tmpf dir -d D`   vs `mktemp -d -p D`
  write   `tmpf write -l visible D/f` vs `sponge D/f` (neither syncs), and
          `tmpf write D/f` (durable: data and directory fsync'ed) for its cost,
          WRITE_MIB of input over a 1 MiB file
  sweep   `tmpf sweep -o 1s D` vs `find D -maxdepth 1 -name 'tmp*' -mmin +0
          -exec rm -rf {} +` on ORPHANS old files (one invocation a batch)
  shred   `tmpf shred D/f` vs coreutils `shred D/f` (3 passes, each synced) on a
          fresh SHRED_MIB file, and both with `-z -u` (a zero pass, removal)

Every batch runs in a fresh directory; the contenders of a round run one
after the other in a rotated order (A B, B A, ...). Reported: the median
over rounds of the per-invocation wall time and of the CPU time of the
children (user + system, from rusage), and the median of the per-round
ratios (contender / tmpf: above 1 means tmpf is faster).
"""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
MKTEMP = shutil.which("mktemp") or "/usr/bin/mktemp"
FIND = shutil.which("find") or "/usr/bin/find"
SPONGE = "/usr/bin/sponge"


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def spawn_wait(argv, devnull, stdin=None):
    actions = [(os.POSIX_SPAWN_DUP2, devnull, 1)]
    if stdin:
        actions.append((os.POSIX_SPAWN_OPEN, 0, stdin, os.O_RDONLY, 0))
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        sys.exit(f"failed ({status}): {' '.join(argv)}")


def timed(fn):
    c0, t0 = children_cpu(), time.perf_counter()
    fn()
    return time.perf_counter() - t0, children_cpu() - c0


def fresh_dir(base):
    return tempfile.mkdtemp(prefix="b-", dir=base)


def calls_batch(argv_of, n, base, devnull):
    """n invocations of argv_of(dir) in a fresh directory; removal untimed."""
    d = fresh_dir(base)
    argv = argv_of(d)
    spawn_wait(argv, devnull)   # warm: page cache, dentries
    res = timed(lambda: [spawn_wait(argv, devnull) for _ in range(n)])
    shutil.rmtree(d)
    return res[0] / n, res[1] / n


def make_orphans(base, n):
    d = fresh_dir(base)
    # Names as the library makes them: tmp + 8 of [a-z0-9_].
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789_"
    for i in range(n):
        name, k = "", i
        for _ in range(8):
            name += alphabet[k % 37]
            k //= 37
        os.close(os.open(os.path.join(d, "tmp" + name), os.O_CREAT | os.O_WRONLY, 0o600))
    return d


def sweep_round(contenders, n, base, devnull):
    dirs = [make_orphans(base, n) for _ in contenders]
    time.sleep(1.2)   # every orphan older than the sweep's 1 s
    out = []
    for (name, argv_of), d in zip(contenders, dirs):
        out.append(timed(lambda: spawn_wait(argv_of(d), devnull)))
        left = len(os.listdir(d))
        if left:
            sys.exit(f"{name} left {left} of {n} orphans")
        os.rmdir(d)
    return out


def write_round(contenders, base, source, devnull):
    """One replace of D/f (an old 1 MiB file) with the source file each."""
    out = []
    for name, argv_of in contenders:
        d = fresh_dir(base)
        dest = os.path.join(d, "f")
        with open(dest, "wb") as f:
            f.write(b"o" * (1 << 20))
        out.append(timed(lambda: spawn_wait(argv_of(dest), devnull, source)))
        if os.path.getsize(dest) != os.path.getsize(source):
            sys.exit(f"{name} wrote {os.path.getsize(dest)} bytes")
        shutil.rmtree(d)
    return out


def shred_round(contenders, base, mib, devnull):
    """One shred of a fresh MIB file each (written and synced untimed)."""
    block = os.urandom(1 << 20)
    out = []
    for name, argv_of in contenders:
        d = fresh_dir(base)
        path = os.path.join(d, "f")
        with open(path, "wb") as f:
            for _ in range(mib):
                f.write(block)
            os.fsync(f.fileno())
        out.append(timed(lambda: spawn_wait(argv_of(path), devnull)))
        if os.path.exists(path) and os.path.getsize(path) != mib << 20:
            sys.exit(f"{name} left {os.path.getsize(path)} bytes")
        shutil.rmtree(d)
    return out


def workloads(tmpf, link, orphans):
    return {
        "file": [("tmpf file", lambda d: [tmpf, "file", "-d", d]),
                 ("mktemp", lambda d: [MKTEMP, "-p", d])],
        "mktemp": [("tmpf as mktemp", lambda d: [link, "-p", d]),
                   ("mktemp", lambda d: [MKTEMP, "-p", d])],
        "dir": [("tmpf dir", lambda d: [tmpf, "dir", "-d", d]),
                ("mktemp -d", lambda d: [MKTEMP, "-d", "-p", d])],
        "sweep": [("tmpf sweep", lambda d: [tmpf, "sweep", "-o", "1s", d]),
                  ("find + rm", lambda d: [FIND, d, "-maxdepth", "1", "-name", "tmp*",
                                           "-mmin", "+0", "-exec", "rm", "-rf", "{}", "+"])],
        "shred": [("tmpf shred", lambda p: [tmpf, "shred", p]),
                  ("shred", lambda p: ["/usr/bin/shred", p])],
        "shred -z -u": [("tmpf shred -z -u", lambda p: [tmpf, "shred", "-z", "-u", p]),
                        ("shred -z -u", lambda p: ["/usr/bin/shred", "-z", "-u", p])],
        "write": [("tmpf write -l visible", lambda p: [tmpf, "write", "-l", "visible", p]),
                  ("sponge", lambda p: [SPONGE, p]),
                  ("tmpf write (durable)", lambda p: [tmpf, "write", p])],
    }


def run(args):
    tmpf = os.path.abspath(args.tmpf)
    scratch = tempfile.mkdtemp(prefix="tmpf-bench-")
    link = os.path.join(scratch, "mktemp")
    os.symlink(tmpf, link)
    devnull = os.open(os.devnull, os.O_WRONLY)
    source = os.path.join(scratch, "input")
    with open(source, "wb") as f:
        f.write(os.urandom(1 << 20) * args.write_mib)
    results = {}
    try:
        for fs in args.fs:
            base = tempfile.mkdtemp(prefix="tmpf-bench-", dir=fs)
            subprocess.run(["chattr", "+T", base], stderr=subprocess.DEVNULL, check=False)
            for wname, contenders in workloads(tmpf, link, args.orphans).items():
                if args.only and wname not in args.only:
                    continue
                rows = [[] for _ in contenders]
                for r in range(args.rounds + 1):   # round 0: warm-up, dropped
                    order = list(range(len(contenders)))
                    if r % 2:
                        order.reverse()
                    if wname == "write":
                        got = write_round([contenders[i] for i in order], base, source, devnull)
                    elif wname.startswith("shred"):
                        got = shred_round([contenders[i] for i in order], base, args.shred_mib,
                                          devnull)
                    elif wname == "sweep":
                        got = sweep_round([contenders[i] for i in order], args.orphans, base, devnull)
                    else:
                        got = [calls_batch(contenders[i][1], args.calls, base, devnull) for i in order]
                    if r:
                        for i, g in zip(order, got):
                            rows[i].append(g)
                results[(fs, wname)] = (contenders, rows)
            shutil.rmtree(base)
    finally:
        shutil.rmtree(scratch)
    return results


def us(x):
    return f"{x * 1e6:.0f} us" if x < 0.01 else f"{x * 1e3:.0f} ms"


def report(args, results):
    lines = []
    for (fs, wname), (contenders, rows) in results.items():
        per = {"sweep": f"one sweep of {args.orphans:,} orphans",
               "shred": f"{args.shred_mib} MiB", "shred -z -u": f"{args.shred_mib} MiB",
               "write": f"{args.write_mib} MiB over a 1 MiB file"}.get(wname, "per invocation")
        lines.append(f"| {fs} | {wname} ({per}) | | | |")
        for i, (name, _) in enumerate(contenders):
            wall = statistics.median(w for w, _ in rows[i])
            cpu = statistics.median(c for _, c in rows[i])
            if i == 0:
                ratio = "1 (reference)"
            else:
                rw = statistics.median(rows[i][k][0] / rows[0][k][0] for k in range(len(rows[0])))
                rc = statistics.median(rows[i][k][1] / rows[0][k][1] for k in range(len(rows[0])))
                ratio = f"{rc:.2f} CPU, {rw:.2f} wall"
            lines.append(f"| | {name} | {us(wall)} | {us(cpu)} | {ratio} |")
    head = ["| fs | contender | wall (median) | CPU (median) | ratio to tmpf (median per round) |",
            "|---|---|---|---|---|"]
    return "\n".join(head + lines)


def write_readme(path, table, args):
    begin, end = "<!-- tmpf-bench:begin -->", "<!-- tmpf-bench:end -->"
    text = open(path).read() if os.path.exists(path) else ""
    block = (f"{begin}\n## tmpf against mktemp and find + rm\n\n"
             f"Generated by `bench/tmpf_bench.py` on {time.strftime('%Y-%m-%dT%H:%M:%S%z')} "
             f"({args.rounds} rounds, {args.calls} invocations a batch, load average "
             f"{os.getloadavg()[0]:.2f}); see the script's docstring for the method.\n\n"
             f"{table}\n{end}")
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    open(path, "w").write(text)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tmpf", default=os.path.join(TOP, "build/gcc/tools/tmpf/tmpf"))
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--calls", type=int, default=300)
    p.add_argument("--orphans", type=int, default=100_000)
    p.add_argument("--write-mib", type=int, default=100)
    p.add_argument("--shred-mib", type=int, default=256)
    p.add_argument("--fs", default="/dev/shm,/tmp")
    p.add_argument("--only", help="comma-separated workloads "
                   "(file,mktemp,dir,write,sweep,shred,'shred -z -u')")
    p.add_argument("--smoke", action="store_true", help="tiny sizes: does it still run?")
    p.add_argument("--readme", help="write the table into this file's tmpf section")
    args = p.parse_args()
    if not shutil.which("sponge"):   # moreutils, from Debian
        subprocess.run(["bash", "-c", f". '{TOP}/scripts/deps.sh' && tf_need_packages moreutils"],
                       check=True)
    args.fs = [f for f in args.fs.split(",") if os.path.isdir(f)]
    args.only = args.only.split(",") if args.only else None
    if args.smoke:
        args.rounds, args.calls, args.orphans, args.write_mib, args.shred_mib = 1, 5, 100, 1, 1
    table = report(args, run(args))
    print(table)
    if args.readme:
        write_readme(args.readme, table, args)


if __name__ == "__main__":
    main()
