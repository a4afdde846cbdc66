"""Builds ctempfile with setuptools: the C core (_ctempfile) is compiled
together with libtempfile's own sources (../src), so no prior CMake build is
needed:

    pip install --no-build-isolation ./python
"""
import base64
import glob
import hashlib
import os
import shutil
import sys
import sysconfig
import zipfile

from setuptools import Command, Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LIB_SRC = os.path.join(ROOT, "src")
LIB_INCLUDE = os.path.join(ROOT, "include")

if not os.path.isfile(os.path.join(LIB_INCLUDE, "tempfile.h")):
    sys.exit("ctempfile: libtempfile's sources are not next to python/ "
             "(expected %s and %s)" % (LIB_SRC, LIB_INCLUDE))

# setuptools wants sources given relative to this directory and inside it:
# the library's files are copied under build/ (a fresh copy every time).
os.chdir(HERE)
COPY = os.path.join("build", "libtempfile-src")
shutil.rmtree(COPY, ignore_errors=True)
os.makedirs(COPY)
for f in glob.glob(os.path.join(LIB_SRC, "*.[ch]")) + [os.path.join(LIB_INCLUDE, "tempfile.h")]:
    shutil.copy2(f, COPY)
library_sources = sorted(os.path.join(COPY, os.path.basename(f))
                         for f in glob.glob(os.path.join(LIB_SRC, "*.c")))
module_sources = [os.path.join("src", f) for f in ("_ctempfile.c", "spool_buffer.c", "spooled.c", "fdopen.c", "fastpath.c",
                                                  "durable.c", "shredding.c", "handover.c")]

core = Extension(
    "ctempfile._ctempfile",
    sources=module_sources + library_sources,
    include_dirs=[COPY],
    define_macros=[("_GNU_SOURCE", None)],
    extra_compile_args=["-std=gnu11", "-fvisibility=hidden", "-Wall", "-Wextra"],
    extra_link_args=["-pthread"],
)



class MiniWheel(Command):
    """bdist_wheel for interpreters without the `wheel` package (pyenv's 3.11
    has setuptools 65 but no wheel): pip's PEP 517 build calls bdist_wheel,
    and dist_info calls its egg2dist(). Builds, then zips build_lib with a
    .dist-info of METADATA, WHEEL, top_level.txt and RECORD."""

    description = "build a wheel (minimal; used when the 'wheel' package is missing)"
    user_options = [("dist-dir=", "d", "directory to put the wheel in")]

    def initialize_options(self):
        self.dist_dir = None

    def finalize_options(self):
        if self.dist_dir is None:
            self.dist_dir = "dist"

    @staticmethod
    def tag():
        impl = "cp%d%d" % sys.version_info[:2]
        abi = impl + ("t" if sysconfig.get_config_var("Py_GIL_DISABLED") else "")
        plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
        return "%s-%s-%s" % (impl, abi, plat)

    def egg2dist(self, egg_info_dir, dist_info_dir):
        os.makedirs(dist_info_dir, exist_ok=True)
        shutil.copyfile(os.path.join(egg_info_dir, "PKG-INFO"),
                        os.path.join(dist_info_dir, "METADATA"))
        top = os.path.join(egg_info_dir, "top_level.txt")
        if os.path.exists(top):
            shutil.copyfile(top, os.path.join(dist_info_dir, "top_level.txt"))
        shutil.rmtree(egg_info_dir)

    def run(self):
        self.run_command("build")
        build_lib = self.get_finalized_command("build").build_lib
        egg_info = self.get_finalized_command("egg_info")
        self.run_command("egg_info")
        name = self.distribution.get_name()
        version = self.distribution.get_version()
        dist_info = "%s-%s.dist-info" % (name, version)
        tag = self.tag()
        os.makedirs(self.dist_dir, exist_ok=True)
        wheel_path = os.path.join(self.dist_dir, "%s-%s-%s.whl" % (name, version, tag))
        files = {}
        for root, _, names in os.walk(build_lib):
            for n in names:
                full = os.path.join(root, n)
                with open(full, "rb") as f:
                    files[os.path.relpath(full, build_lib)] = f.read()
        with open(os.path.join(egg_info.egg_info, "PKG-INFO"), "rb") as f:
            files[dist_info + "/METADATA"] = f.read()
        files[dist_info + "/top_level.txt"] = b"ctempfile\n"
        files[dist_info + "/WHEEL"] = ("Wheel-Version: 1.0\nGenerator: ctempfile setup.py\n"
                                       "Root-Is-Purelib: false\nTag: %s\n" % tag).encode()
        record = []
        for path, data in files.items():
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append("%s,sha256=%s,%d" % (path, digest.decode(), len(data)))
        record.append(dist_info + "/RECORD,,")
        files[dist_info + "/RECORD"] = ("\n".join(record) + "\n").encode()
        with zipfile.ZipFile(wheel_path, "w", zipfile.ZIP_DEFLATED) as z:
            for path, data in files.items():
                z.writestr(path, data)
        print("wrote", wheel_path)


cmdclass = {}
try:
    import wheel.bdist_wheel  # noqa: F401  (the real one, when installed)
except ImportError:
    cmdclass["bdist_wheel"] = MiniWheel

setup(ext_modules=[core], cmdclass=cmdclass)
