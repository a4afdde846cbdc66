"""Type information (PEP 561): mypy sees for ctempfile what it sees for the
standard tempfile. Every seed example (examples/, which import ctempfile) is
checked twice, as it is and with ctempfile replaced by tempfile; the two
reports must be the same, and one deliberately wrong use must be reported
for both. Needs mypy (Debian's python3-mypy, installed by scripts/test).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PYDIR = os.path.dirname(HERE)
EXAMPLES = os.path.join(PYDIR, "examples")
# What a checker reads: the package's stubs and marker, as installed.
PACKAGE_TYPES = ("__init__.pyi", "py.typed")


def mypy_command():
    for py in (sys.executable, "/usr/bin/python3"):
        if os.path.exists(py) and subprocess.run([py, "-m", "mypy", "--version"],
                                                 capture_output=True).returncode == 0:
            return [py, "-m", "mypy"]
    return None


MYPY = mypy_command()


@unittest.skipUnless(MYPY, "mypy is not installed (Debian: python3-mypy)")
class TestTypes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="ctempfile-types-")
        pkg = os.path.join(cls.work, "stubs", "ctempfile")
        os.makedirs(pkg)
        for name in PACKAGE_TYPES:
            shutil.copy(os.path.join(PYDIR, "ctempfile", name), pkg)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work)

    def check(self, sources):
        """mypy's report on sources ({name: text}), in one run."""
        d = tempfile.mkdtemp(dir=self.work)
        for name, text in sources.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        env = dict(os.environ, MYPYPATH=os.path.join(self.work, "stubs"))
        r = subprocess.run(MYPY + ["--no-incremental", "--cache-dir", os.devnull,
                                   "--python-version", "%d.%d" % sys.version_info[:2],
                                   "--no-error-summary", *sorted(sources)],
                           cwd=d, env=env, capture_output=True, text=True)
        self.assertIn(r.returncode, (0, 1), r.stderr)
        return sorted(r.stdout.splitlines())

    def as_standard(self, text):
        return re.sub(r"\bctempfile\b", "tempfile", text)

    def test_examples_as_standard(self):
        sources = {}
        for name in sorted(os.listdir(EXAMPLES)):
            if name.endswith(".py"):
                with open(os.path.join(EXAMPLES, name)) as f:
                    sources[name] = f.read()
        self.assertGreater(len(sources), 30)
        self.assertTrue(all("ctempfile" in text for text in sources.values()))
        self.assertEqual(self.check(sources),
                         self.check({n: self.as_standard(t) for n, t in sources.items()}))

    def test_wrong_use_reported(self):
        text = ("import ctempfile\n"
                "n: int = ctempfile.mkdtemp()\n"
                "with ctempfile.NamedTemporaryFile('w') as f:\n"
                "    f.write(b'x')\n")
        report = self.check({"wrong.py": text})
        self.assertEqual(len(report), 2, report)
        self.assertEqual(report, self.check({"wrong.py": self.as_standard(text)}))


if __name__ == "__main__":
    unittest.main()
