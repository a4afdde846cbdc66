#!/bin/bash
# Installs the build tree into a scratch prefix, then builds and runs one tiny
# program against the installed copy through pkg-config and another through
# CMake's find_package(tempfile).
# Usage: bash install.sh <source_dir> <build_dir>
set -euo pipefail

src=${1:?source dir}
build=${2:?build dir}
scratch=$(mktemp -d /tmp/tf-install-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
prefix=$scratch/prefix

# The compiler and sanitizer flags the build used: a sanitized library needs
# sanitized programs.
cache() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" | head -n1; }
cc=$(cache CMAKE_C_COMPILER)
cc=${cc:-cc}
sanitize=$(cache TF_SANITIZE)
cflags=""
if [ -n "$sanitize" ]; then
  cflags="-fsanitize=$sanitize -fno-omit-frame-pointer"
fi

cmake --install "$build" --prefix "$prefix" >/dev/null

libdir=$(find "$prefix" -name tempfile.pc -path '*/pkgconfig/*' -printf '%h\n' | head -n1)
test -n "$libdir" || { echo "tempfile.pc not installed"; exit 1; }
libdir=$(dirname "$libdir")
test -f "$prefix/include/tempfile.h" || { echo "tempfile.h not installed"; exit 1; }
ls "$libdir"/libtempfile.so.* >/dev/null || { echo "shared library not installed"; exit 1; }
test -f "$libdir/libtempfile.a" || { echo "static library not installed"; exit 1; }

cat > "$scratch/prog.c" <<'C'
#include <tempfile.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    tf_dir *d = tf_temporary_directory(NULL);
    if (!d)
        return 1;
    tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = tf_dir_name(d), .suffix = ".txt" });
    if (!f || tf_file_write(f, "hello", 5) != 5 || tf_file_seek(f, 0, SEEK_SET) != 0)
        return 2;
    char buf[6] = {0};
    if (tf_file_read(f, buf, 5) != 5 || strcmp(buf, "hello") != 0)
        return 3;
    const char *name = tf_file_name(f);
    if (!name || access(name, F_OK) != 0)
        return 4;
    if (tf_file_release(f) != 0 || tf_dir_release(d) != 0)
        return 5;
    printf("ok %d.%d.%d\n", TF_VERSION_MAJOR, TF_VERSION_MINOR, TF_VERSION_PATCH);
    return 0;
}
C

# 1. pkg-config
export PKG_CONFIG_PATH=$libdir/pkgconfig
pkg-config --exists tempfile
version=$(pkg-config --modversion tempfile)
# shellcheck disable=SC2046
"$cc" -std=c11 -Wall -Wextra -Werror $cflags -o "$scratch/prog-pc" "$scratch/prog.c" \
  $(pkg-config --cflags --libs tempfile)
out=$(TMPDIR=$scratch LD_LIBRARY_PATH=$libdir "$scratch/prog-pc")
echo "pkg-config ($version): $out"
[ "$out" = "ok $version" ]
# It really uses the installed shared library.
LD_LIBRARY_PATH=$libdir ldd "$scratch/prog-pc" | grep "$libdir/libtempfile.so" >/dev/null   # not -q: an early exit would SIGPIPE ldd under pipefail

# 2. find_package(tempfile)
mkdir -p "$scratch/cm"
cp "$scratch/prog.c" "$scratch/cm/prog.c"
cat > "$scratch/cm/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(tfconsumer C)
find_package(tempfile 0.2 REQUIRED)
add_executable(prog prog.c)
target_link_libraries(prog PRIVATE tempfile::tempfile)
add_executable(prog_static prog.c)
target_link_libraries(prog_static PRIVATE tempfile::tempfile_static)
CM
cmake -S "$scratch/cm" -B "$scratch/cm/build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$cflags" \
  -DCMAKE_EXE_LINKER_FLAGS="$cflags" >/dev/null
cmake --build "$scratch/cm/build" >/dev/null
for p in prog prog_static; do
  out=$(TMPDIR=$scratch "$scratch/cm/build/$p")
  echo "find_package $p: $out"
  [ "$out" = "ok $version" ]
done
# 3. The installed header names each constructor's release call: GCC (11 and
# later) warns when a handle goes to the wrong one.
if "$cc" --version | grep -q "^gcc" && [ "$("$cc" -dumpversion | cut -d. -f1)" -ge 11 ]; then
  cat > "$scratch/mismatch.c" <<'C'
#include <tempfile.h>
void wrong(void);
void wrong(void)
{
    free(tf_named_temporary_file(NULL));
    tf_file_release((tf_file *)tf_temporary_directory(NULL));
    tf_dir_release((tf_dir *)tf_mkdtemp(NULL));
}
C
  warnings=$("$cc" -std=c11 -Wall -c -o /dev/null "$scratch/mismatch.c" \
             -I"$prefix/include" 2>&1 | grep -c "Wmismatched-dealloc" || true)
  echo "mismatched releases warned: $warnings of 3"
  [ "$warnings" -eq 3 ]
fi

# Nothing left in the scratch TMPDIR but our own files.
left=$(find "$scratch" -maxdepth 1 -name 'tmp*' | wc -l)
[ "$left" -eq 0 ] || { echo "temporary files left behind"; exit 1; }
echo "install test passed"
