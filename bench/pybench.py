"""CPython's tempfile as a contender in libtempfile's benchmarks.

Run by bench/runner.py with CPython 3.13, one batch per process, like
tfbench: warm up, time N operations in DIR, print one JSON line.

    python3 pybench.py mkstemp|tmpfile|named|tempdir DIR N
    python3 pybench.py rmtree PATH        (times shutil.rmtree(PATH) once)
"""
import json
import os
import shutil
import sys
import tempfile
import time


def op_mkstemp(d):
    fd, path = tempfile.mkstemp(dir=d)
    os.close(fd)
    os.unlink(path)


def op_tmpfile(d):
    tempfile.TemporaryFile(dir=d).close()


def op_named(d):
    tempfile.NamedTemporaryFile(dir=d).close()


def op_tempdir(d):
    tempfile.TemporaryDirectory(dir=d).cleanup()


OPS = {"mkstemp": op_mkstemp, "tmpfile": op_tmpfile,
       "named": op_named, "tempdir": op_tempdir}


def emit(workload, ops, ns, **extra):
    rec = {"workload": workload, "contender": "cpython", "ops": ops,
           "ns": ns, "ns_per_op": ns / ops,
           "python": sys.version.split()[0]}
    rec.update(extra)
    print(json.dumps(rec), flush=True)


def main(argv):
    if len(argv) == 3 and argv[1] == "rmtree":
        path = argv[2]
        c0 = time.process_time_ns()
        t0 = time.perf_counter_ns()
        shutil.rmtree(path)
        t1 = time.perf_counter_ns()
        c1 = time.process_time_ns()
        if os.path.lexists(path):
            sys.exit("pybench: %s still exists" % path)
        emit("rmtree", 1, t1 - t0, cpu_ns_per_op=c1 - c0)
        return 0
    if len(argv) != 4 or argv[1] not in OPS:
        sys.exit(__doc__)
    op, d, n = OPS[argv[1]], argv[2], int(argv[3])
    for _ in range(max(10, n // 10)):
        op(d)
    c0 = time.process_time_ns()
    t0 = time.perf_counter_ns()
    for _ in range(n):
        op(d)
    t1 = time.perf_counter_ns()
    c1 = time.process_time_ns()
    if os.listdir(d):
        sys.exit("pybench: %s left files behind" % d)
    emit(argv[1], n, t1 - t0, cpu_ns_per_op=(c1 - c0) / n)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
