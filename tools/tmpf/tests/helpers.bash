# Shared by the tmpf bats files. TMPF is the installed binary (run.sh).

setup() {
    W=$BATS_TEST_TMPDIR/w
    mkdir -p "$W/t"
    cd "$W"
}

# Runs a command, keeping its exit status in rc and its outputs in
# $W.out / $W.err, whatever set -e says.
capture() {
    rc=0
    "$@" >"$W.out" 2>"$W.err" || rc=$?
}

# The random part of two names made from one template differs; everything
# else must be equal: same length, and what differs is one run of name
# characters.
same_shape() {
    local a=$1 b=$2
    [ "${#a}" -eq "${#b}" ] || return 1
    while [ -n "$a" ] && [ "${a:0:1}" = "${b:0:1}" ]; do a=${a:1}; b=${b:1}; done
    while [ -n "$a" ] && [ "${a: -1}" = "${b: -1}" ]; do a=${a%?}; b=${b%?}; done
    [[ $a =~ ^[A-Za-z0-9_]*$ && $b =~ ^[A-Za-z0-9_]*$ ]]
}

# What one mktemp run did: status, stderr, and the type and mode of what it
# printed (removed afterwards), with the listing of $W unchanged otherwise.
mktemp_run() {   # mktemp_run ARGV0 BINARY ARGS...
    local argv0=$1 bin=$2; shift 2
    local before
    before=$(find "$W" -mindepth 1 -printf '%y %m %P\n' | sort)
    # shellcheck disable=SC2086
    capture ${MKTEMP_WRAP:-} bash -c 'a=$1 b=$2; shift 2; exec -a "$a" "$b" "$@"' - "$argv0" "$bin" "$@"
    out=$(cat "$W.out")
    made=none
    if [ -n "$out" ] && [ -e "$out" ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ]; then
        made=$(stat -c '%F %a' -- "$out")
        rm -rf -- "$out"
    fi
    after=$(find "$W" -mindepth 1 -printf '%y %m %P\n' | sort)
    left=same
    [ "$before" = "$after" ] || left="changed: $(diff <(echo "$before") <(echo "$after") || true)"
    report="rc=$rc made=$made left=$left
$(cat "$W.err")"
}

# Runs coreutils' mktemp and tmpf's with the same arguments, environment and
# working directory, under the same argv[0], and requires the same result.
# MKTEMP_ARGV0 (default: mktemp) is the name both are invoked under;
# MKTEMP_TMPF=cmd runs `tmpf mktemp` instead of the multi-call form;
# MKTEMP_WRAP is a command both run under (setpriv ...).
cmp_mktemp() {
    local argv0=${MKTEMP_ARGV0:-mktemp}
    mktemp_run "$argv0" /usr/bin/mktemp "$@"
    local gnu=$report gnu_out=$out
    if [ "${MKTEMP_TMPF:-}" = cmd ]; then
        mktemp_run tmpf "$TMPF" mktemp "$@"
    else
        mktemp_run "$argv0" "$TMPF" "$@"
    fi
    if [ "$gnu" != "$report" ] || ! same_shape "$gnu_out" "$out"; then
        echo "mktemp $*"
        echo "--- coreutils: $gnu_out"; echo "$gnu"
        echo "--- tmpf:      $out"; echo "$report"
        return 1
    fi
}
