#!/bin/bash
# Installs the build tree into a scratch prefix with `cmake --install` and runs
# the bats suite of tmpf against the installed binary.
# Usage: bash run.sh <build_dir>
set -euo pipefail
build=${1:?build dir}
here=$(cd "$(dirname "$0")" && pwd)
# bats runs the suite; python3 parses the JSON back; script(1) and setpriv(1)
# come with Debian's essential util-linux and bsdutils.
. "$here/../../../scripts/deps.sh"
tf_need_packages bats python3
scratch=$(/usr/bin/mktemp -d /tmp/tmpf-bats-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
export TMPF_PREFIX=$scratch/prefix
export TMPF=$TMPF_PREFIX/bin/tmpf
[ -x "$TMPF" ] || { echo "tmpf was not installed"; exit 1; }
export LC_ALL=C
# Each test gets its own directory under this one (BATS_TEST_TMPDIR).
rc=0
TMPDIR=$scratch bats "$here" || rc=$?
exit "$rc"
