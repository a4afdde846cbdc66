#!/usr/bin/env python3
"""CPython's own tempfile tests, unmodified, against ctempfile.

Runs Lib/test/test_tempfile.py of the interpreter that runs this script (it
must be CPython >= 3.12 with its `test` package), after
sys.modules['tempfile'] = ctempfile, so that the suite's `import tempfile`
gets ctempfile. Prints the counts, and fails if any test fails that is not on
the list of structurally impossible ones below (python/README.md explains
each). Exits 77 (CTest: skipped) when there is no such interpreter.

    PYTHONPATH=build/python python3.13 python/tests/conformance.py [-v]
"""
import importlib.util
import sys
import unittest

# test id -> why a C implementation cannot pass it (keep in sync with README.md)
KNOWN_IMPOSSIBLE = {
    "test.test_tempfile.TestGetDefaultTempdir.test_no_files_left_behind":
        "replaces os.open and os.write and expects the directory probe to "
        "call them; ctempfile's probe is libtempfile's own open(2)/write(2) "
        "in C, which Python-level mocks cannot reach",
    "test.test_tempfile.TestTemporaryFile.test_unexpected_error":
        "replaces os.open, os.unlink and os.close and expects TemporaryFile "
        "to call them (and an interrupt to arrive between create and "
        "unlink); libtempfile creates and unlinks in one C call, which the "
        "mocks cannot reach and no KeyboardInterrupt can split",
}


def skip(reason):
    print("ctempfile conformance: SKIPPED -- %s" % reason)
    print("(needs CPython >= 3.12 with its test package; "
          "configure with -DPython3_EXECUTABLE=...)")
    return 77


def case_id(test):
    """The id of a test, or of the test a subtest belongs to."""
    return getattr(test, "test_case", test).id()


def main(argv):
    verbosity = 2 if "-v" in argv else 1
    if sys.implementation.name != "cpython" or sys.version_info < (3, 12):
        return skip("this interpreter is %s %s" % (
            sys.implementation.name, sys.version.split()[0]))
    try:
        found = importlib.util.find_spec("test.test_tempfile") is not None
    except ImportError:
        found = False
    if not found:
        return skip("%s has no test.test_tempfile" % sys.executable)

    import ctempfile
    sys.modules["tempfile"] = ctempfile
    from test import test_tempfile
    if test_tempfile.tempfile is not ctempfile:
        print("ctempfile conformance: test_tempfile did not import ctempfile")
        return 1

    suite = unittest.defaultTestLoader.loadTestsFromModule(test_tempfile)
    runner = unittest.TextTestRunner(verbosity=verbosity, stream=sys.stdout)
    result = runner.run(suite)

    bad = [(t, tb) for t, tb in result.failures + result.errors]
    expected = sorted({case_id(t) for t, _ in bad if case_id(t) in KNOWN_IMPOSSIBLE})
    unexpected = [(t, tb) for t, tb in bad if case_id(t) not in KNOWN_IMPOSSIBLE]
    not_failing = sorted(set(KNOWN_IMPOSSIBLE) - set(expected))

    skipped = len(result.skipped)
    failed = len(result.failures)
    errors = len(result.errors)
    other = len(result.expectedFailures) + len(result.unexpectedSuccesses)
    # A test counts once as failed even when several of its subtests fail.
    failed_tests = {case_id(t) for t, _ in result.failures + result.errors}
    passed = result.testsRun - len(failed_tests) - skipped - other

    print()
    print("ctempfile conformance on CPython %s (%s)" % (
        sys.version.split()[0], test_tempfile.__file__))
    print("  run: %d  passed: %d  failed: %d  errors: %d  skipped: %d" % (
        result.testsRun, passed, failed, errors, skipped))
    for tid in expected:
        print("  known impossible, failed as expected: %s\n      (%s)" % (
            tid, KNOWN_IMPOSSIBLE[tid]))
    for tid in not_failing:
        print("  known impossible but did not fail: %s" % tid)
    for t, _ in unexpected:
        print("  UNEXPECTED FAILURE: %s" % t.id())
    if unexpected:
        print("ctempfile conformance: FAILED")
        return 1
    print("ctempfile conformance: OK (only known-impossible tests failed)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
