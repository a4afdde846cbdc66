#!/usr/bin/env python3
"""libtempfile's benchmark runner (issue 6). Normally started by bench/run.

Runs every workload interleaved (A B A B ..., the order rotated each round)
for a warm-up round plus --rounds rounds, each batch in a fresh directory,
on tmpfs (/dev/shm) and on ext4 (/tmp); prints per workload the median and
spread of each contender and the median of the per-round ratios to
libtempfile; counts user-space instructions with callgrind and syscalls with
strace; writes README.md (its generated block only), results.json and
ratios.svg into --out.

  --smoke    tiny sizes, one round, no callgrind/strace/extras: a check that
             the suite still runs (CTest "bench-smoke-runner").
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

FILESYSTEMS = {"shm": ("/dev/shm", "tmpfs /dev/shm"), "tmp": ("/tmp", "ext4 /tmp")}

# Workloads timed per operation. n: operations per batch (rmtree: files or
# depth); contenders: (name, kind) with kind "c" (tfbench) or "py" (CPython).
WORKLOADS = [
    {"id": "mkstemp", "title": "1. mkstemp family: create + close + remove one file",
     "n": 5000, "n_tmp": 3000, "smoke_n": 20, "unit": "us",
     "contenders": [("tf", "c"), ("glibc_mkstemp", "c"), ("glibc_mkostemp", "c"),
                    ("glib", "c"), ("floor", "c"), ("cpython", "py")]},
    {"id": "tmpfile", "title": "2. TemporaryFile: create + close",
     "n": 5000, "n_tmp": 3000, "smoke_n": 20, "unit": "us",
     "contenders": [("tf", "c"), ("glibc", "c"), ("floor", "c"), ("cpython", "py")]},
    {"id": "named", "title": "3a. NamedTemporaryFile: create + close (removes)",
     "n": 5000, "n_tmp": 3000, "smoke_n": 20, "unit": "us",
     "contenders": [("tf", "c"), ("glibc_fd", "c"), ("glibc_stdio", "c"), ("cpython", "py")]},
    {"id": "tempdir", "title": "3b. TemporaryDirectory (empty): create + cleanup",
     "n": 3000, "n_tmp": 200, "smoke_n": 20, "unit": "us",
     "contenders": [("tf", "c"), ("glibc", "c"), ("glibc_nftw", "c"), ("cpython", "py")]},
    {"id": "rmtree-wide", "title": "4a. Remove a tree of 50,000 files in 500 directories",
     "n": 50000, "smoke_n": 300, "unit": "ms", "max_rounds": 5,
     "contenders": [("tf", "c"), ("rm", "c"), ("cpython", "py"), ("floor", "c")]},
    {"id": "rmtree-deep", "title": "4b. Remove a chain of 2,000 nested directories",
     "n": 2000, "smoke_n": 50, "unit": "ms", "max_rounds": 5,
     "contenders": [("tf", "c"), ("rm", "c"), ("cpython", "py"), ("floor", "c")]},
]

LABELS = {
    ("mkstemp", "cpython"): "CPython tempfile.mkstemp + os.close + os.unlink",
    ("tmpfile", "cpython"): "CPython tempfile.TemporaryFile().close()",
    ("named", "cpython"): "CPython tempfile.NamedTemporaryFile().close()",
    ("tempdir", "cpython"): "CPython tempfile.TemporaryDirectory().cleanup()",
    ("rmtree-wide", "tf"): "libtempfile tf_dir_cleanup (TemporaryDirectory)",
    ("rmtree-deep", "tf"): "libtempfile tf_dir_cleanup (TemporaryDirectory)",
    ("rmtree-wide", "rm"): "rm -rf (coreutils, fork+exec included)",
    ("rmtree-deep", "rm"): "rm -rf (coreutils, fork+exec included)",
    ("rmtree-wide", "cpython"): "CPython shutil.rmtree",
    ("rmtree-deep", "cpython"): "CPython shutil.rmtree",
    ("rmtree-wide", "floor"): "syscall floor: unlinkat on known names, no directory read",
    ("rmtree-deep", "floor"): "syscall floor: unlinkat on known names, no directory read",
}

THREAD_CONFIGS = [(impl, nt, layout) for impl in ("tf", "glibc", "floor", "cpu")
                  for nt, layout in ((1, "shared"), (2, "shared"), (2, "separate"))]
THREAD_LABELS = {"tf": "libtempfile tf_mkstemp", "glibc": "glibc mkostemp(O_CLOEXEC)",
                 "floor": "open(O_CREAT|O_EXCL) on precomputed names",
                 "cpu": "control: user-space arithmetic only, no syscall"}

CG_LABELS = {"tf": "libtempfile tf_mkstemp", "glibc_mkstemp": "glibc mkstemp",
             "glibc_mkostemp": "glibc mkostemp(O_CLOEXEC)", "glib": "GLib g_mkstemp",
             "floor": "open(O_CREAT|O_EXCL) on a precomputed name"}


def log(*a):
    print(*a, flush=True)


# --------------------------------------------------------------------------
# Running one batch
# --------------------------------------------------------------------------

class Batches:
    """Fresh directories under one base directory per filesystem."""

    def __init__(self, root):
        self.base = tempfile.mkdtemp(prefix="tfbench-", dir=root)
        # Spread runs over block groups (ext4 Orlov allocator); tmpfs refuses.
        r = subprocess.run(["chattr", "+T", self.base], capture_output=True, text=True)
        self.chattr = r.returncode == 0
        self.seq = 0

    def fresh(self):
        self.seq += 1
        d = os.path.join(self.base, "%05d" % self.seq)
        os.mkdir(d, 0o700)
        return d

    def done(self, d):
        shutil.rmtree(d, ignore_errors=True)

    def close(self):
        shutil.rmtree(self.base, ignore_errors=True)


def run_json(cmd, timeout=900, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), r.returncode,
                                                (r.stderr or r.stdout).strip()[-400:]))
    lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
    if not lines:
        raise RuntimeError("%s printed no result" % " ".join(cmd))
    return json.loads(lines[-1])


class Runner:
    def __init__(self, args):
        self.args = args
        self.tfbench = args.tfbench
        self.python = args.python
        info = run_json([self.tfbench, "list"])
        self.available = {(c["workload"], c["name"]): c["label"] for c in info["contenders"]}
        self.has_glib = info["glib"]
        self.cg_impls = info["cg"]

    def label(self, wid, name):
        return LABELS.get((wid, name)) or self.available.get((wid, name)) or name

    def contenders(self, w):
        out = []
        for name, kind in w["contenders"]:
            if kind == "py":
                if self.python:
                    out.append((name, kind))
            elif w["id"].startswith("rmtree-") or (w["id"], name) in self.available:
                out.append((name, kind))
        return out

    def one(self, w, name, kind, d, n):
        wid = w["id"]
        if kind == "c":
            return run_json([self.tfbench, "time", wid, name, d, str(n)])
        if wid.startswith("rmtree-"):
            tree = os.path.join(d, "tree")
            os.mkdir(tree, 0o700)
            subprocess.run([self.tfbench, "mktree", wid[7:], tree, str(n)], check=True)
            return run_json([self.python, os.path.join(HERE, "pybench.py"), "rmtree", tree])
        return run_json([self.python, os.path.join(HERE, "pybench.py"), wid, d, str(n)])


def stats(samples):
    if not samples:
        return None
    s = sorted(samples)
    return {"median": statistics.median(s), "min": s[0], "max": s[-1],
            "spread_pct": 100.0 * (s[-1] - s[0]) / statistics.median(s) if statistics.median(s) else 0.0}



def record_round(values, samples, ratios):
    """One round's figures: each contender's value, and its ratio to ours ("tf")."""
    ours = values.get("tf", 0)
    for name, v in values.items():
        samples[name].append(v)
        if ours > 0:
            ratios[name].append(v / ours)

def run_workload(runner, w, fs, batches, rounds, warmup, smoke):
    n = w["smoke_n"] if smoke else w.get("n_" + fs, w["n"])
    if not smoke and "max_rounds" in w:
        rounds = min(rounds, max(5, w["max_rounds"]))
    cons = runner.contenders(w)
    samples = {name: [] for name, _ in cons}
    ratios = {name: [] for name, _ in cons}
    csamples = {name: [] for name, _ in cons}
    cratios = {name: [] for name, _ in cons}
    errors = {}
    extra = {}
    for r in range(warmup + rounds):
        k = r % len(cons)
        order = cons[k:] + cons[:k]
        this = {}
        thiscpu = {}
        for name, kind in order:
            if name in errors:
                continue
            d = batches.fresh()
            try:
                res = runner.one(w, name, kind, d, n)
                this[name] = res["ns_per_op"]
                if res.get("cpu_ns_per_op"):
                    thiscpu[name] = res["cpu_ns_per_op"]
                for key in ("tmpfile_dir", "python"):
                    if key in res:
                        extra.setdefault(name, {})[key] = res[key]
            except Exception as e:  # a broken contender must not sink the run
                errors[name] = str(e)
                log("   %s failed: %s" % (name, e))
            finally:
                batches.done(d)
        if r < warmup:
            continue
        record_round(this, samples, ratios)
        record_round(thiscpu, csamples, cratios)
    out = {"title": w["title"], "n": n, "unit": w["unit"], "rounds": rounds,
           "warmup_rounds": warmup, "contenders": {}}
    for name, kind in cons:
        c = {"label": runner.label(w["id"], name), "kind": kind, "samples_ns": samples[name],
             "stats_ns": stats(samples[name]), "ratio_to_tf": stats(ratios[name]),
             "cpu_samples_ns": csamples[name], "cpu_stats_ns": stats(csamples[name]),
             "cpu_ratio_to_tf": stats(cratios[name]), "error": errors.get(name)}
        c.update(extra.get(name, {}))
        out["contenders"][name] = c
    print_table(w["title"] + " [" + FILESYSTEMS[fs][1] + ", n=%d]" % n, out)
    return out


def fmt_time(ns, unit):
    if ns is None:
        return "-"
    if unit == "ms":
        return "%.1f ms" % (ns / 1e6)
    return "%.2f us" % (ns / 1e3)


def fmt_spread(st, unit):
    if not st:
        return "-"
    return "%s-%s" % (fmt_time(st["min"], unit).split()[0], fmt_time(st["max"], unit))


def fmt_ratio(st):
    if not st:
        return "-"
    return "%.2fx" % st["median"]


def print_table(title, out):
    log("\n== " + title)
    log("  %-44s %11s %22s %9s %11s %9s" % ("contender", "wall", "spread (min-max)", "vs ours",
                                            "CPU", "vs ours"))
    for name, c in out["contenders"].items():
        if c["error"] and not c["samples_ns"]:
            log("  %-44s failed: %s" % (c["label"][:44], c["error"][:80]))
            continue
        st, ct = c["stats_ns"], c.get("cpu_stats_ns")
        log("  %-44s %11s %22s %9s %11s %9s" % (
            c["label"][:44], fmt_time(st and st["median"], out["unit"]), fmt_spread(st, out["unit"]),
            fmt_ratio(c["ratio_to_tf"]), fmt_time(ct and ct["median"], out["unit"]),
            fmt_ratio(c.get("cpu_ratio_to_tf"))))


# --------------------------------------------------------------------------
# Workload 5: threads
# --------------------------------------------------------------------------

def run_threads(runner, fs, batches, rounds, warmup, smoke, n):
    samples = {c: [] for c in THREAD_CONFIGS}
    speedups = {c: [] for c in THREAD_CONFIGS}
    errors = {}
    for r in range(warmup + rounds):
        k = r % len(THREAD_CONFIGS)
        order = THREAD_CONFIGS[k:] + THREAD_CONFIGS[:k]
        this = {}
        for cfg in order:
            if cfg in errors:
                continue
            impl, nt, layout = cfg
            d = batches.fresh()
            try:
                res = run_json([runner.tfbench, "threads", impl, str(nt), layout, d, str(n)])
                this[cfg] = res["ns_per_op"]
            except Exception as e:
                errors[cfg] = str(e)
                log("   threads %s failed: %s" % (cfg, e))
            finally:
                batches.done(d)
        if r < warmup:
            continue
        for cfg, v in this.items():
            samples[cfg].append(v)
            one = (cfg[0], 1, "shared")
            if one in this and v > 0:
                speedups[cfg].append(this[one] / v)
    out = {"title": "5. Threads: create + close + remove, n=%d per thread" % n, "n": n,
           "rounds": rounds, "configs": {}}
    log("\n== %s [%s]" % (out["title"], FILESYSTEMS[fs][1]))
    log("  %-48s %12s %24s %9s" % ("configuration", "ns/op (all)", "spread", "speedup"))
    for cfg in THREAD_CONFIGS:
        impl, nt, layout = cfg
        key = "%s_%d_%s" % cfg
        label = "%s, %d thread%s%s" % (THREAD_LABELS[impl], nt, "s" if nt > 1 else "",
                                       ", " + layout + " dir" + ("s" if layout == "separate" else "")
                                       if nt > 1 else "")
        c = {"label": label, "impl": impl, "threads": nt, "layout": layout,
             "samples_ns": samples[cfg], "stats_ns": stats(samples[cfg]),
             "speedup_vs_1_thread": stats(speedups[cfg]), "error": errors.get(cfg)}
        out["configs"][key] = c
        st = c["stats_ns"]
        log("  %-48s %12s %24s %9s" % (label[:48], fmt_time(st and st["median"], "us"),
                                       fmt_spread(st, "us"), fmt_ratio(c["speedup_vs_1_thread"])))
    return out


# --------------------------------------------------------------------------
# Workload 6: callgrind; and a syscall profile with strace
# --------------------------------------------------------------------------

ANNOT_RE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(\S.*)$")


def parse_annotate(text):
    """(inclusive Ir, function name, object) from callgrind_annotate."""
    out = []
    for line in text.splitlines():
        m = ANNOT_RE.match(line)
        if not m:
            continue
        ir = int(m.group(1).replace(",", ""))
        rest = m.group(2)
        obj = ""
        mo = re.search(r"\s\[([^\]]*)\]\s*$", rest)
        if mo:
            obj = os.path.basename(mo.group(1))
            rest = rest[:mo.start()]
        fn = rest.rsplit(":", 1)[-1].strip() if ":" in rest else rest.strip()
        if rest.startswith("???:"):
            fn = rest[4:].strip()
        out.append((ir, fn, obj))
    return out


def run_callgrind(runner, batches, n, outdir):
    if not shutil.which("valgrind") or not shutil.which("callgrind_annotate"):
        log("\n(valgrind not found: workload 6 skipped)")
        return None
    res = {"calls": n, "impls": {}}
    log("\n== 6. User-space instructions per creation (callgrind, n=%d, excluding the kernel)" % n)
    log("  %-48s %14s %14s" % ("contender", "call only", "with caller share"))
    for impl in runner.cg_impls:
        d = batches.fresh()
        cgout = os.path.join(outdir, "callgrind.%s.out" % impl)
        try:
            subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + cgout,
                            "--toggle-collect=cg_cycle_" + impl, runner.tfbench, "cg", impl, d,
                            str(n)], check=True, capture_output=True, text=True, timeout=600)
            ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", cgout],
                                 check=True, capture_output=True, text=True).stdout
        except Exception as e:
            log("   %s failed: %s" % (impl, e))
            res["impls"][impl] = {"error": str(e)}
            continue
        finally:
            batches.done(d)
        fns = parse_annotate(ann)
        call = next((ir for ir, fn, _ in fns if fn == "cg_call_" + impl), None)
        cycle = next((ir for ir, fn, _ in fns if fn == "cg_cycle_" + impl), None)
        entry = {"label": CG_LABELS.get(impl, impl),
                 "call_ir_per_op": call / n if call else None,
                 "cycle_ir_per_op": cycle / n if cycle else None,
                 "top_functions": [{"fn": fn, "obj": obj, "ir_per_op": ir / n}
                                   for ir, fn, obj in fns[:40]]}
        locks = sorted({fn for _, fn, _ in fns
                        if re.search(r"mutex|rwlock|spin|lll_lock|futex|sem_wait", fn)})
        entry["lock_functions"] = locks
        res["impls"][impl] = entry
        log("  %-48s %14s %14s" % (entry["label"][:48],
                                   "%.0f Ir" % entry["call_ir_per_op"] if call else "-",
                                   "%.0f Ir" % entry["cycle_ir_per_op"] if cycle else "-"))
        try:
            os.unlink(cgout)
        except OSError:
            pass
    return res


STRACE_RE = re.compile(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(\d+)?\s*(\w+)\s*$")


def run_strace(runner, batches, n):
    if not shutil.which("strace"):
        return None
    res = {}
    warm = max(10, n // 10)
    for wid, names in (("mkstemp", ("tf", "glibc_mkstemp", "glib", "floor")),
                       ("tmpfile", ("tf", "glibc", "floor")),
                       ("named", ("tf", "glibc_stdio")),
                       ("tempdir", ("tf", "glibc", "glibc_nftw"))):
        for name in names:
            if (wid, name) not in runner.available:
                continue
            d = batches.fresh()
            out = os.path.join(batches.base, "strace.txt")
            try:
                subprocess.run(["strace", "-f", "-c", "-o", out, runner.tfbench, "time", wid, name,
                                d, str(n)], check=True, capture_output=True, text=True, timeout=300)
                calls = {}
                with open(out) as f:
                    for line in f:
                        m = STRACE_RE.match(line)
                        if m and m.group(3) != "total":
                            per = int(m.group(1)) / (n + warm)
                            if per >= 0.05:
                                calls[m.group(3)] = round(per, 2)
                res["%s/%s" % (wid, name)] = calls
            except Exception as e:
                res["%s/%s" % (wid, name)] = {"error": str(e)}
            finally:
                batches.done(d)
    return res


# --------------------------------------------------------------------------
# Extra workloads that other work adds to bench/
# --------------------------------------------------------------------------

def module_python(runner, build_bench_dir):
    """The interpreter the built ctempfile module is for (its cache tag, e.g.
    cpython-311), so that the module imports; else the CPython contender."""
    build = os.path.dirname(build_bench_dir) if build_bench_dir else ""
    pkg = os.path.join(build, "python", "ctempfile")
    tags = set()
    if os.path.isdir(pkg):
        for f in os.listdir(pkg):
            m = re.match(r"_ctempfile\.(cpython-\d+)", f)
            if m:
                tags.add(m.group(1))
    cands = [runner.python, sys.executable]
    cache = os.path.join(build, "CMakeCache.txt")
    if os.path.exists(cache):
        with open(cache) as f:
            for m in re.finditer(r"^_?Python3_EXECUTABLE:\w+=(.*)$", f.read(), re.M):
                cands.insert(0, m.group(1))
    for t in tags:
        cands.append(shutil.which("python3.%s" % t[len("cpython-3"):]))
    for c in cands:
        if not c:
            continue
        tag = sh([c, "-c", "import sys; print(sys.implementation.cache_tag)"])
        if not tags or tag in tags:
            return c
    return runner.python or sys.executable


def run_extras(runner, build_bench_dir):
    extras = []
    cands = []
    p = os.path.join(HERE, "ctempfile_bench.py")
    if os.path.exists(p):
        cands.append(("ctempfile_bench.py", [module_python(runner, build_bench_dir), p]))
    for f in sorted(os.listdir(HERE)):
        if f.startswith("spool") and f.endswith(".py"):
            cands.append((f, [runner.python or sys.executable, os.path.join(HERE, f)]))
        if f.startswith("spool") and f.endswith(".sh"):
            cands.append((f, ["bash", os.path.join(HERE, f)]))
    if build_bench_dir and os.path.isdir(build_bench_dir):
        for f in sorted(os.listdir(build_bench_dir)):
            fp = os.path.join(build_bench_dir, f)
            if f.startswith("spool") and os.path.isfile(fp) and os.access(fp, os.X_OK):
                cands.append((f, [fp]))
    env = dict(os.environ)
    build = os.path.dirname(build_bench_dir) if build_bench_dir else ""
    pp = [os.path.join(build, "python"), build, os.path.join(ROOT, "python")]
    env["PYTHONPATH"] = os.pathsep.join([x for x in pp if x] + [env.get("PYTHONPATH", "")])
    env["TF_BENCH_BUILD_DIR"] = build
    for name, cmd in cands:
        log("\n== extra workload: %s" % name)
        t0 = time.time()
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=ROOT, env=env)
            rc, out, err = r.returncode, r.stdout, r.stderr
        except Exception as e:
            rc, out, err = -1, "", str(e)
        log(out.rstrip()[-3000:])
        if rc != 0:
            log("   exit %d: %s" % (rc, err.strip()[-400:]))
        parsed = None
        try:
            parsed = json.loads(out)
        except ValueError:
            pass
        extras.append({"name": name, "command": " ".join(os.path.relpath(c, ROOT)
                                                          if c.startswith(ROOT) else c for c in cmd),
                       "returncode": rc, "seconds": round(time.time() - t0, 1),
                       "stdout": out[-20000:], "stderr": err[-2000:], "json": parsed})
    return extras


# --------------------------------------------------------------------------
# Targets (from issue 6)
# --------------------------------------------------------------------------

def ratio(results, fs, wid, name):
    """Median per-round ratio contender/ours: on CPU time where measured (this
    machine is shared, and a process waiting for a CPU is not slower code),
    else on wall time."""
    c = results["fs"].get(fs, {}).get("workloads", {}).get(wid, {}).get("contenders", {}).get(name)
    if not c:
        return None
    r = c.get("cpu_ratio_to_tf") or c.get("ratio_to_tf")
    return r and r["median"]


def evaluate_targets(results):
    out = []

    def add(target, fs, value, met, shown, note=""):
        out.append({"target": target, "fs": fs, "value": value,
                    "met": None if value is None else bool(met), "measured": shown,
                    "note": note})

    for fs in results["fs"]:
        r = ratio(results, fs, "mkstemp", "glibc_mkstemp")
        note = ""
        if r is not None and r < 1.0:
            note = ("the same 3 syscalls (strace); the difference is user space: see workload 6")
        add("W1: tf_mkstemp at least as fast as glibc mkstemp", fs, r, r is not None and r >= 1.0,
            "glibc/ours = %.3fx" % r if r else "-", note)
        r = ratio(results, fs, "mkstemp", "floor")
        add("W1: tf_mkstemp within 1.15x of the syscall floor", fs, r,
            r is not None and 1 / r <= 1.15, "ours/floor = %.2fx" % (1 / r) if r else "-")
        r = ratio(results, fs, "mkstemp", "cpython")
        fl = ratio(results, fs, "mkstemp", "floor")
        note = ""
        if r and fl and r < 2.0:
            best = r / fl
            note = ("%s: CPython's time over the syscall floor's is %.2fx, the most any C "
                    "implementation can reach here" % ("out of reach" if best < 2.0 else
                                                       "within reach", best))
        add("W1: tf_mkstemp at least 2x CPython tempfile.mkstemp", fs, r, r is not None and r >= 2.0,
            "CPython/ours = %.3fx" % r if r else "-", note)
        r = ratio(results, fs, "tmpfile", "glibc")
        add("W2: tf_temporary_file at least as fast as glibc tmpfile()", fs, r,
            r is not None and r >= 1.0, "glibc/ours = %.2fx" % r if r else "-")
        for wid, what in (("rmtree-wide", "50,000 files"), ("rmtree-deep", "2,000 deep")):
            r = ratio(results, fs, wid, "rm")
            add("W4 (%s): no slower than rm -rf" % what, fs, r, r is not None and r >= 1.0,
                "rm/ours = %.2fx" % r if r else "-")
            r = ratio(results, fs, wid, "cpython")
            fl = ratio(results, fs, wid, "floor")
            note = ""
            if r and fl and r < 2.0:
                best = r / fl   # shutil's time over the syscall floor's
                note = ("out of reach: even the syscall floor (no directory read, no check) "
                        "is only %.2fx faster than shutil.rmtree; ours is at %.2fx of the floor"
                        % (best, 1 / fl)) if best < 2.0 else (
                        "reachable: the syscall floor is %.2fx faster than shutil.rmtree; "
                        "ours is at %.2fx of the floor" % (best, 1 / fl))
            add("W4 (%s): at least 2x faster than shutil.rmtree" % what, fs, r,
                r is not None and r >= 2.0, "shutil/ours = %.2fx" % r if r else "-", note)
        th = results["fs"][fs].get("threads")
        if th:
            def sp(key):
                s = th["configs"].get(key, {}).get("speedup_vs_1_thread")
                return s and s["median"]
            r = sp("tf_2_separate")
            fl = sp("floor_2_separate")
            cpu = sp("cpu_2_separate")
            note = ""
            if r is not None and r < 1.5 and cpu is not None:
                note = ("out of reach on this machine: two threads of pure arithmetic (no syscall, "
                        "nothing shared) gain only %.2fx here, so the second vCPU is not "
                        "available to this process" % cpu) if cpu < 1.5 else (
                        "the machine allows %.2fx (arithmetic control); the syscall floor gets "
                        "%.2fx, so the rest is the kernel's" % (cpu, fl or 0))
            add("W5: 2 threads in separate dirs at least 1.5x one thread", fs, r,
                r is not None and r >= 1.5,
                "tf %.2fx (floor %.2fx, arithmetic control %.2fx)" % (r, fl or 0, cpu or 0)
                if r else "-", note)
    cg = results.get("callgrind")
    if cg:
        t = cg["impls"].get("tf", {}).get("call_ir_per_op")
        g = cg["impls"].get("glibc_mkstemp", {}).get("call_ir_per_op")
        add("W6: tf_mkstemp no more user-space instructions than glibc mkstemp", "any",
            (g / t) if t and g else None, bool(t and g and t <= g),
            "%.0f vs %.0f Ir per call" % (t, g) if t and g else "-")
        locks = cg["impls"].get("tf", {}).get("lock_functions")
        if locks is not None:
            add("W5: no lock of ours on the tf_mkstemp path", "any", len(locks), not locks,
                "lock functions called: " + (", ".join(locks) if locks else "none"))
    return out


# --------------------------------------------------------------------------
# Machine description, Markdown, chart
# --------------------------------------------------------------------------

def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:
        return ""


def mount_of(path):
    best = None
    try:
        with open("/proc/mounts") as f:
            for line in f:
                dev, mnt, typ, opts = line.split()[:4]
                if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and \
                        (best is None or len(mnt) > len(best[1])):
                    best = (dev, mnt, typ, opts)
    except OSError:
        pass
    return best and "%s on %s type %s (%s)" % best


def machine(args, build_dir):
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f.readline().split(":", 1)[1].strip()
    except OSError:
        pass
    cc = ""
    cache = os.path.join(build_dir or "", "CMakeCache.txt")
    if os.path.exists(cache):
        with open(cache) as f:
            m = re.search(r"^CMAKE_C_COMPILER:\w+=(.*)$", f.read(), re.M)
            if m:
                cc = sh([m.group(1), "--version"]).splitlines()[0:1]
                cc = cc[0] if cc else ""
    py = sh([args.python, "-c", "import sys; print(sys.version.split()[0])"]) if args.python else ""
    return {"cpu": cpu, "cpus": os.cpu_count(), "memory": mem, "kernel": platform.release(),
            "os": sh(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
            "glibc": " ".join(platform.libc_ver()), "glib": sh(["pkg-config", "--modversion", "glib-2.0"]),
            "compiler": cc, "cpython": py, "valgrind": sh(["valgrind", "--version"]),
            "mount_tmp": mount_of("/tmp"), "mount_shm": mount_of("/dev/shm"),
            "loadavg_start": open("/proc/loadavg").read().split()[:3]}


def md_table(w):
    unit = w["unit"]
    rows = ["| contender | CPU time, median | spread (min-max) | ratio to ours, CPU time | "
            "wall time, median | spread (min-max) | ratio to ours, wall |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for name, c in w["contenders"].items():
        if c["error"] and not c["samples_ns"]:
            rows.append("| %s | failed: %s | | |" % (c["label"], c["error"][:100].replace("|", "/")))
            continue
        st = c["stats_ns"]
        lab = c["label"]
        if name == "tf":
            lab = "**%s**" % lab
        if c.get("tmpfile_dir") == "/tmp":
            lab += " (in /tmp: could not bind-mount)"
        def rfmt(rt):
            if name == "tf":
                return "1.00x (ours)"
            return "%.2fx (%.2f-%.2f)" % (rt["median"], rt["min"], rt["max"]) if rt else "-"
        ct = c.get("cpu_stats_ns")
        rows.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            lab, fmt_time(ct and ct["median"], unit), fmt_spread(ct, unit),
            rfmt(c.get("cpu_ratio_to_tf")), fmt_time(st and st["median"], unit),
            fmt_spread(st, unit), rfmt(c["ratio_to_tf"])))
    return "\n".join(rows)


def md_threads(th):
    rows = ["| configuration | time per operation (wall / all ops) | spread | throughput vs 1 thread |",
            "|---|---:|---:|---:|"]
    for key, c in th["configs"].items():
        if c["error"] and not c["samples_ns"]:
            rows.append("| %s | failed: %s | | |" % (c["label"], c["error"][:100]))
            continue
        st, sp = c["stats_ns"], c["speedup_vs_1_thread"]
        rows.append("| %s | %s | %s | %s |" % (c["label"], fmt_time(st and st["median"], "us"),
                                              fmt_spread(st, "us"),
                                              "%.2fx (%.2f-%.2f)" % (sp["median"], sp["min"], sp["max"])
                                              if sp else "-"))
    return "\n".join(rows)


def write_chart(results, outdir):
    gp = shutil.which("gnuplot")
    if not gp:
        log("(gnuplot not found: no chart)")
        return None
    rows = []
    for wid in [w["id"] for w in WORKLOADS]:
        names = None
        for fs in results["fs"]:
            w = results["fs"][fs]["workloads"].get(wid)
            if w:
                names = [n for n in w["contenders"] if n != "tf"]
                break
        for name in names or []:
            vals = []
            for fs in ("shm", "tmp"):
                v = ratio(results, fs, wid, name)
                vals.append("%.4f" % v if v else "NaN")
            rows.append('"%s: %s" %s %s' % (wid, name, vals[0], vals[1]))
    if not rows:
        return None
    cols = [i for i in (0, 1) if any(r.split()[-2 + i] != "NaN" for r in rows)]
    if not cols:
        return None
    dat = os.path.join(outdir, ".ratios.dat")
    series = [("tmpfs /dev/shm", "#4477aa"), ("ext4 /tmp", "#ee8866")]
    plots = ["'%s' using %d%s title '%s' lc rgb '%s'" % (dat, i + 2, ":xtic(1)" if k == 0 else "",
                                                      series[i][0], series[i][1])
             for k, i in enumerate(cols)]
    with open(dat, "w") as f:
        f.write("\n".join(rows) + "\n")
    svg = os.path.join(outdir, "ratios.svg")
    script = """
set terminal svg size 1100,600 dynamic font 'sans,11'
set output '%s'
set title "CPU time of each contender divided by libtempfile's, median of rounds (above 1: libtempfile is faster)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set logscale y 2
set yrange [0.125:*]
set ylabel 'ratio (log scale)'
set grid ytics
set xtics rotate by -40 left font ',9'
set key top left
set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 lc rgb 'black'
plot %s
""" % (svg, ", ".join(plots))
    r = subprocess.run([gp], input=script, capture_output=True, text=True)
    os.unlink(dat)
    if r.returncode != 0:
        log("gnuplot failed: " + r.stderr[-400:])
        return None
    return svg


BEGIN = "<!-- tfbench:begin (generated by bench/run; text outside this block is kept) -->"
END = "<!-- tfbench:end -->"


def write_readme(results, outdir):
    m = results["machine"]
    L = []
    L.append("# libtempfile benchmarks")
    L.append("")
    L.append("Generated by `%s` on %s. Do not edit inside this block: run the command again."
             % (results["command"], results["date"]))
    L.append("")
    L.append("## How to reproduce")
    L.append("")
    L.append("```sh\nbench/run                 # builds into build-bench/, installs libglib2.0-dev,"
             " gnuplot, valgrind, strace if missing\nbench/run --rounds 9      # more rounds\n"
             "bench/run --smoke         # tiny sizes, a few seconds: does it still run?\n```")
    L.append("")
    L.append("Method: every contender of a workload runs as its own batch in its own process and in "
             "a fresh directory, interleaved (A B C A B C ..., the order rotated each round) for one "
             "discarded warm-up round and then %d rounds (tree removal: %d); each batch warms up "
             "itself with a tenth of its operations before the clock starts. *Median* and *spread* "
             "are over the rounds; *ratio to ours* is the median of the per-round ratios "
             "(contender's time / libtempfile's time in the same round: above 1 means libtempfile "
             "is faster). Memory: each batch is a new process, so its memory is fresh; no workload "
             "here touches more than a few pages. The base directory of each filesystem got "
             "`chattr +T` where supported (ext4: %s; tmpfs: %s)."
             % (results["rounds"], min(results["rounds"], 5),
                "yes" if results["fs"].get("tmp", {}).get("chattr") else "no",
                "yes" if results["fs"].get("shm", {}).get("chattr") else "no"))
    L.append("")
    L.append("Two clocks are read around every batch: the CPU time of the process (user + system, "
             "`CLOCK_PROCESS_CPUTIME_ID`; for `rm -rf` the child's rusage; for CPython "
             "`time.process_time`) and the wall time. This guest is shared with other builds (see "
             "the load average below): a batch that waits for a CPU shows a longer wall time "
             "without its code being any slower. So **targets are judged on the CPU-time ratios**, "
             "and the wall times are shown beside them. On ext4, time asleep on the disk "
             "(synchronous discard) is not CPU time: it shows in the wall time only, and it is the "
             "same for every contender, which does the same removals. Workload 5 (threads) is about "
             "throughput and uses the wall time.")
    L.append("")
    L.append("## Machine")
    L.append("")
    L.append("| | |\n|---|---|")
    for k, lab in (("cpu", "CPU"), ("cpus", "CPUs"), ("memory", "memory"), ("kernel", "kernel"),
                   ("os", "OS"), ("glibc", "C library"), ("glib", "GLib"), ("compiler", "compiler"),
                   ("cpython", "CPython"), ("valgrind", "valgrind"), ("mount_tmp", "/tmp"),
                   ("mount_shm", "/dev/shm"), ("loadavg_start", "load average at start"),
                   ("loadavg_end", "load average at end")):
        v = m.get(k)
        if isinstance(v, list):
            v = " ".join(v)
        L.append("| %s | %s |" % (lab, v if v not in (None, "") else "-"))
    L.append("")
    L.append("This is a 2-vCPU guest whose CPU speed drifts and whose ext4 root is mounted with "
             "`discard`: every `rmdir` there pays a synchronous discard (about 90 us), so directory "
             "figures on ext4 measure the disk more than the code. See the tmpfs tables for the "
             "library's own cost.")
    L.append("")
    L.append("## Targets (issue 6)")
    L.append("")
    L.append("| target | filesystem | measured | met | why |\n|---|---|---|---|---|")
    for t in results["targets"]:
        fs = {"shm": "tmpfs", "tmp": "ext4"}.get(t["fs"], t["fs"])
        met = {True: "yes", False: "**no**", None: "not measured"}[t["met"]]
        L.append("| %s | %s | %s | %s | %s |" % (t["target"], fs, t["measured"], met,
                                                 t.get("note", "")))
    L.append("")
    if results.get("notes"):
        L.append(results["notes"])
        L.append("")
    if results.get("chart"):
        L.append("![ratios](%s)" % os.path.basename(results["chart"]))
        L.append("")
    for fs in ("shm", "tmp"):
        if fs not in results["fs"]:
            continue
        R = results["fs"][fs]
        L.append("## %s" % FILESYSTEMS[fs][1])
        L.append("")
        for wid, w in R["workloads"].items():
            L.append("### %s (n = %d%s)" % (w["title"], w["n"],
                                              " per batch" if w["unit"] == "us" else ""))
            L.append("")
            L.append(md_table(w))
            L.append("")
        if R.get("threads"):
            L.append("### " + R["threads"]["title"])
            L.append("")
            L.append(md_threads(R["threads"]))
            L.append("")
    cg = results.get("callgrind")
    if cg:
        L.append("## 6. User-space instructions per creation (callgrind)")
        L.append("")
        L.append("Counted with `valgrind --tool=callgrind --toggle-collect=cg_cycle_X`, %d calls after "
                 "64 uncounted warm-up calls; the kernel's work is not counted. *call only* is the "
                 "library call itself; *with caller share* adds what its caller must do around it "
                 "(copy the template for mkstemp; free the returned path for tf_mkstemp) and the "
                 "close and unlink." % cg["calls"])
        L.append("")
        L.append("| contender | call only (Ir per call) | with caller share, close, unlink |")
        L.append("|---|---:|---:|")
        for impl, e in cg["impls"].items():
            if "error" in e:
                L.append("| %s | failed | |" % impl)
                continue
            L.append("| %s | %s | %s |" % (e["label"],
                                           "%.0f" % e["call_ir_per_op"] if e["call_ir_per_op"] else "-",
                                           "%.0f" % e["cycle_ir_per_op"] if e["cycle_ir_per_op"] else "-"))
        L.append("")
        tfe = cg["impls"].get("tf")
        if tfe and "top_functions" in tfe:
            L.append("Where tf_mkstemp's instructions go (inclusive, per call):")
            L.append("")
            L.append("| function | object | Ir per call |\n|---|---|---:|")
            for f in tfe["top_functions"][:25]:
                if f["fn"].startswith("cg_cycle"):
                    continue
                L.append("| %s | %s | %.0f |" % (f["fn"].replace("|", "/"), f["obj"], f["ir_per_op"]))
            L.append("")
    st = results.get("strace")
    if st:
        L.append("## Syscalls per operation (strace -c -f, tmpfs)")
        L.append("")
        L.append("Counts divided by the operations of the batch (warm-up included); calls under "
                 "0.05 per operation (process start-up) left out.")
        L.append("")
        L.append("| workload / contender | syscalls per operation |\n|---|---|")
        for k, calls in st.items():
            if "error" in calls:
                L.append("| %s | failed |" % k)
                continue
            L.append("| %s | %s |" % (k, ", ".join("%s %.2f" % (s, v) for s, v in
                                                    sorted(calls.items(), key=lambda x: -x[1]))))
        L.append("")
    if results.get("extras"):
        L.append("## Extra workloads")
        L.append("")
        for e in results["extras"]:
            L.append("### %s" % e["name"])
            L.append("")
            L.append("`%s` (exit %d, %.1f s)" % (e["command"], e["returncode"], e["seconds"]))
            L.append("")
            out = e["stdout"].strip()
            if out:
                if "|" in out or out.startswith("#"):
                    L.append(out)
                else:
                    L.append("```\n" + out + "\n```")
            L.append("")
    block = BEGIN + "\n" + "\n".join(L).rstrip() + "\n" + END
    path = os.path.join(outdir, "README.md")
    old = ""
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
    if BEGIN in old and END in old:
        new = old[:old.index(BEGIN)] + block + old[old.index(END) + len(END):]
    elif old.strip():
        new = block + "\n\n" + old
    else:
        new = block + "\n"
    with open(path, "w") as f:
        f.write(new)
    return path


# --------------------------------------------------------------------------

def default_python():
    try:
        p = subprocess.run(["pyenv", "prefix", "3.13.0"], capture_output=True, text=True,
                           timeout=20).stdout.strip()
        if p and os.path.exists(os.path.join(p, "bin", "python3")):
            return os.path.join(p, "bin", "python3")
    except Exception:
        pass
    return shutil.which("python3.13")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--tfbench", help="the tfbench program (required unless --report-only)")
    ap.add_argument("--out", default=HERE, help="where README.md, results.json, ratios.svg go")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--fs", default="shm,tmp", help="shm,tmp")
    ap.add_argument("--only", default="", help="workload ids, comma-separated "
                    "(mkstemp,tmpfile,named,tempdir,rmtree-wide,rmtree-deep,threads,callgrind,strace,extras)")
    ap.add_argument("--python", default=None, help="CPython for the Python contenders")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--command", default="bench/run", help="reproduce command for the README")
    ap.add_argument("--report-only", metavar="RESULTS_JSON",
                    help="only write README.md and the chart again from a results.json")
    args = ap.parse_args()
    if args.report_only:
        with open(args.report_only) as f:
            results = json.load(f)
        results["targets"] = evaluate_targets(results)
        notes = os.path.join(HERE, "notes.md")
        if not results.get("smoke") and os.path.exists(notes):
            with open(notes) as f:
                results["notes"] = f.read().strip()
        results["chart"] = write_chart(results, args.out)
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump(results, f, indent=1)
        write_readme(results, args.out)
        return 0

    if not args.tfbench:
        ap.error("--tfbench is required")
    if args.python is None:
        args.python = default_python() or (sys.executable if args.smoke else None)
    smoke = args.smoke
    rounds = 1 if smoke else args.rounds
    warmup = 0 if smoke else args.warmup
    only = set(x for x in args.only.split(",") if x)
    want = lambda k: not only or k in only  # noqa: E731
    os.makedirs(args.out, exist_ok=True)
    build_bench_dir = os.path.dirname(os.path.abspath(args.tfbench))
    build_dir = os.path.dirname(build_bench_dir)

    runner = Runner(args)
    results = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
               "command": args.command + ("" if not sys.argv[1:] else ""),
               "smoke": smoke, "rounds": rounds, "warmup_rounds": warmup,
               "machine": machine(args, build_dir), "fs": {}}
    log("libtempfile benchmarks: %d rounds after %d warm-up round(s); CPython: %s; GLib: %s"
        % (rounds, warmup, args.python or "not found", "yes" if runner.has_glib else "no"))
    t_start = time.time()
    for fs in [x for x in args.fs.split(",") if x]:
        root = FILESYSTEMS[fs][0]
        batches = Batches(root)
        R = {"root": root, "chattr": batches.chattr, "workloads": {}}
        results["fs"][fs] = R
        try:
            for w in WORKLOADS:
                if want(w["id"]):
                    R["workloads"][w["id"]] = run_workload(runner, w, fs, batches, rounds, warmup, smoke)
            if want("threads"):
                R["threads"] = run_threads(runner, fs, batches, rounds, warmup, smoke,
                                           20 if smoke else (3000 if fs == "shm" else 1000))
            if fs == "shm" and not smoke:
                if want("callgrind"):
                    results["callgrind"] = run_callgrind(runner, batches, 2000, batches.base)
                if want("strace"):
                    results["strace"] = run_strace(runner, batches, 1000)
        finally:
            batches.close()
    if not smoke and want("extras"):
        results["extras"] = run_extras(runner, build_bench_dir)
    results["machine"]["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    results["seconds"] = round(time.time() - t_start, 1)
    results["targets"] = evaluate_targets(results)
    notes = os.path.join(HERE, "notes.md")
    if not smoke and os.path.exists(notes):
        with open(notes) as f:
            results["notes"] = f.read().strip()
    results["chart"] = write_chart(results, args.out)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    write_readme(results, args.out)
    log("\n== Targets" + (" (smoke sizes: the figures mean nothing)" if smoke else ""))
    for t in results["targets"]:
        log("  [%s] %-66s %-5s %s" % ({True: "met", False: "MISS", None: "n/a"}[t["met"]],
                                      t["target"][:66], t["fs"], t["measured"]))
        if t.get("note"):
            log("        " + t["note"])
    log("\nwrote %s (README.md, results.json%s) in %.0f s"
        % (args.out, ", ratios.svg" if results["chart"] else "", results["seconds"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
