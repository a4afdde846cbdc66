"""ctempfile on every CPython 3.11-3.13 that pyenv installed: for each, the
module is compiled for that interpreter (the library's sources with the
module's, as setup.py does), then ctempfile's own tests run with it (the
differential test against that interpreter's tempfile among them), and on
3.12 and later CPython's own test_tempfile (conformance.py); then a wheel
is built offline with the standard tools (a venv, `pip wheel
--no-build-isolation`; setuptools from Debian's python3-setuptools-whl
where the venv has none), installed into the venv and imported from it.

    python3 python/tests/run_versions.py

Exit status 0 if everything passed, 1 if something failed, 77 (CTest:
skipped) when no such interpreter is installed.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PYDIR = os.path.dirname(HERE)
ROOT = os.path.dirname(PYDIR)
VERSIONS = ("3.11", "3.12", "3.13")


def interpreters():
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    found = []
    for v in VERSIONS:
        found += sorted(glob.glob(os.path.join(root, "versions", v + ".*", "bin", "python3")))
    return found


def ask(py, code):
    return subprocess.run([py, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip()


def build(py, out, pydir=PYDIR):
    """The package for py in out/ctempfile (the module's sources from pydir,
    the library's from this tree); raises CalledProcessError."""
    include = ask(py, "import sysconfig; print(sysconfig.get_paths()['include'])")
    suffix = ask(py, "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))")
    pkg = os.path.join(out, "ctempfile")
    os.makedirs(pkg)
    shutil.copy(os.path.join(pydir, "ctempfile", "__init__.py"), pkg)
    sources = sorted(glob.glob(os.path.join(ROOT, "src", "*.c")) +
                     glob.glob(os.path.join(pydir, "src", "*.c")))
    subprocess.run(["gcc", "-std=gnu11", "-O2", "-fPIC", "-shared", "-pthread",
                    "-fvisibility=hidden", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror",
                    "-I", os.path.join(ROOT, "include"), "-I", include, *sources,
                    "-o", os.path.join(pkg, "_ctempfile" + suffix)],
                   check=True, capture_output=True, text=True)


def run(py, args, path, label, results):
    env = dict(os.environ, PYTHONPATH=path, PYTHONDONTWRITEBYTECODE="1")
    # cwd: the package built for py, not one that the current directory has
    # (CTest runs this in the build's python/ directory).
    r = subprocess.run([py, *args], env=env, cwd=path, capture_output=True, text=True,
                       timeout=600)
    tail = (r.stdout + r.stderr).strip().splitlines()[-1:] or [""]
    ok = r.returncode in (0, 77)
    results.append(ok)
    print("  %-12s %s  %s" % (label, "ok" if ok else "FAILED", tail[0][:100]))
    if not ok:
        print(textwrap_indent(r.stdout + r.stderr))


def textwrap_indent(text):
    return "".join("    | " + line + "\n" for line in text.splitlines()[-60:])


# Debian's wheels for the system's pip (python3-setuptools-whl): setuptools
# for the interpreters whose venv has none (pyenv's 3.12 and 3.13).
DEBIAN_WHEELS = "/usr/share/python-wheels"


def step(argv, env, what):
    """Runs argv; None, or the failure's report."""
    r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    return None if r.returncode == 0 else "%s failed:\n%s" % (what, (r.stdout + r.stderr)[-3000:])


def wheel(py, work, results):
    """The standard tools, offline: a venv of py (pip from the interpreter's
    own ensurepip), setuptools in it if it has none (from Debian's wheel),
    `pip wheel --no-build-isolation ./python`, the wheel installed into the
    venv and imported from it (outside the source tree)."""
    venv = os.path.join(work, "venv")
    vpy = os.path.join(venv, "bin", "python")
    dist = os.path.join(work, "dist")
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PYTHONPATH", None)
    error = step([py, "-m", "venv", venv], env, "python -m venv")
    if error is None and subprocess.run([vpy, "-c", "import setuptools"],
                                        capture_output=True).returncode:
        if not glob.glob(os.path.join(DEBIAN_WHEELS, "setuptools-*.whl")):
            error = ("no setuptools in the venv and none in %s (Debian package "
                     "python3-setuptools-whl)" % DEBIAN_WHEELS)
        else:
            error = step([vpy, "-m", "pip", "install", "-q", "--find-links", DEBIAN_WHEELS,
                          "setuptools"], env, "pip install setuptools")
    if error is None:
        error = step([vpy, "-m", "pip", "wheel", "-q", "--no-build-isolation", "--no-deps",
                      "-w", dist, PYDIR], env, "pip wheel")
    wheels = glob.glob(os.path.join(dist, "*.whl"))
    if error is None:
        error = step([vpy, "-m", "pip", "install", "-q", "--no-deps", wheels[0]], env,
                     "pip install")
    if error is None:
        env["PYTHONSAFEPATH"] = "1"
        error = step([vpy, "-c", "import ctempfile, os, sys; f = ctempfile.NamedTemporaryFile();"
                      "assert os.path.exists(f.name);"
                      "assert ctempfile.__file__.startswith(sys.prefix), ctempfile.__file__"],
                     env, "import")
    results.append(error is None)
    print("  %-12s %s  %s" % ("wheel", "ok" if error is None else "FAILED",
                              os.path.basename(wheels[0]) if wheels else ""))
    if error:
        print(textwrap_indent(error))


def main():
    pys = interpreters()
    if not pys:
        print("ctempfile versions: no pyenv CPython %s installed: skipped" % "/".join(VERSIONS))
        return 77
    results = []
    for py in pys:
        version = ask(py, "import platform; print(platform.python_version())")
        print("CPython %s (%s)" % (version, py))
        with tempfile.TemporaryDirectory(prefix="ctempfile-versions-") as work:
            out = os.path.join(work, "build")
            try:
                build(py, out)
            except subprocess.CalledProcessError as e:
                results.append(False)
                print("  build        FAILED\n" + textwrap_indent(e.stderr))
                continue
            run(py, ["-m", "unittest", "discover", "-s", HERE, "-p", "test_*.py"], out,
                "unittest", results)
            if tuple(map(int, version.split(".")[:2])) >= (3, 12):
                run(py, [os.path.join(HERE, "conformance.py")], out, "conformance", results)
            wheel(py, work, results)
    print("ctempfile versions: %s" % ("OK" if all(results) else "FAILED"))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
