#!/usr/bin/env bats
# tmpf as mktemp, compared side by side with Debian's /usr/bin/mktemp:
# status, stderr byte for byte, what is created (type, mode) and the shape of
# the name printed.

load helpers

@test "mktemp: no template, in TMPDIR, in /tmp" {
    TMPDIR=$W/t cmp_mktemp
    TMPDIR=$W/t cmp_mktemp -d
    TMPDIR= cmp_mktemp -u
    (unset TMPDIR; cmp_mktemp -u)
}

@test "mktemp: files 0600, directories 0700, less the umask" {
    for m in 022 077 027 0277 0; do
        (umask $m; cmp_mktemp fooXXXXXX; cmp_mktemp -d fooXXXXXX)
    done
    capture "$TMPF" mktemp "$W/modeXXXXXX"
    [ "$(stat -c %a "$(cat "$W.out")")" = 600 ]
    capture "$TMPF" mktemp -d "$W/modeXXXXXX"
    [ "$(stat -c %a "$(cat "$W.out")")" = 700 ]
}

@test "mktemp: templates" {
    cmp_mktemp fooXXX
    cmp_mktemp XXX
    cmp_mktemp "foo$(printf 'X%.0s' {1..60})"
    cmp_mktemp fooXX
    cmp_mktemp foo
    cmp_mktemp ""
    cmp_mktemp X
    cmp_mktemp foo.XXXXXX.txt
    cmp_mktemp fooXXXbar/baz
    cmp_mktemp fooXXX/
    cmp_mktemp -d fooXXX/
    cmp_mktemp fXXXoXXX
    cmp_mktemp fXXoXXX.c
    mkdir -p sub/deep
    cmp_mktemp sub/deep/aXXXXX
    cmp_mktemp -d "$W/sub/XXXXXX"
    cmp_mktemp "$W/sub//XXXXXX"
    cmp_mktemp ./XXXXXX
}

@test "mktemp: --suffix" {
    cmp_mktemp --suffix=.txt fooXXX
    cmp_mktemp --suffix .txt fooXXX
    cmp_mktemp --suffix= fooXXX
    cmp_mktemp --suffix=.txt fooXXXa
    cmp_mktemp --suffix=.txt ""
    cmp_mktemp --suffix=a/b fooXXX
    cmp_mktemp --suffix=/b fooXXX
    cmp_mktemp --suffix=/ fooXXX
    cmp_mktemp --suffix=b/ fooXXX
    cmp_mktemp -d --suffix=b/ fooXXX
    cmp_mktemp --suffix=X fooXX
    cmp_mktemp --suffix=.c foo.XXXXXX.txtXXX
    TMPDIR=$W/t cmp_mktemp --suffix=.txt
    TMPDIR=$W/t cmp_mktemp -d --suffix=.d
}

@test "mktemp: -p and --tmpdir" {
    mkdir -p p/sub
    cmp_mktemp -p p fooXXX
    cmp_mktemp -p "$W/p/" fooXXX
    cmp_mktemp -p "$W/p///" fooXXX
    cmp_mktemp -p p sub/fooXXX
    cmp_mktemp -p p "$W/fooXXX"
    cmp_mktemp --tmpdir=p fooXXX
    TMPDIR=$W/p cmp_mktemp --tmpdir fooXXX
    TMPDIR=$W/p cmp_mktemp -p "" fooXXX
    TMPDIR=$W/p cmp_mktemp --tmpdir= fooXXX
    TMPDIR=$W/p cmp_mktemp --tmpdir "$W/fooXXX"
    TMPDIR=$W/p cmp_mktemp -d -p p
    cmp_mktemp -u -p / fooXXX
    cmp_mktemp -u -p // fooXXX
    cmp_mktemp -p "$W/missing" fooXXX
    cmp_mktemp -p . fooXXX
    cmp_mktemp -p p -p . --tmpdir=p fooXXX
    TMPDIR=p cmp_mktemp
    TMPDIR=p/ cmp_mktemp -d --tmpdir
    TMPDIR=p cmp_mktemp -u -t barXXXX
    TMPDIR=$W/missing cmp_mktemp
    TMPDIR=$W/missing cmp_mktemp -q
}

@test "mktemp: -t" {
    mkdir -p p e
    TMPDIR=$W/e cmp_mktemp -t fooXXX
    TMPDIR=$W/e cmp_mktemp -t -p p fooXXX
    TMPDIR= cmp_mktemp -t -p p fooXXX
    (unset TMPDIR; cmp_mktemp -t -u fooXXX)
    TMPDIR=$W/e cmp_mktemp -t sub/fooXXX
    TMPDIR=$W/e cmp_mktemp -t "$W/fooXXX"
    TMPDIR=$W/e cmp_mktemp -t fooXX
    TMPDIR=$W/e cmp_mktemp -t
}

@test "mktemp: -u, -q and creation errors" {
    touch plain
    mkdir -p ro
    cmp_mktemp -u fooXXXXXX
    cmp_mktemp -u -d fooXXXXXX
    cmp_mktemp -u missing/fooXXX
    cmp_mktemp -u plain/fooXXX
    cmp_mktemp missing/fooXXX
    cmp_mktemp -d missing/fooXXX
    cmp_mktemp plain/fooXXX
    cmp_mktemp -d plain/fooXXX
    cmp_mktemp -q missing/fooXXX
    cmp_mktemp -q -d plain/fooXXX
    cmp_mktemp "$(printf 'a%.0s' {1..300})XXX"
    cmp_mktemp -q "$(printf 'a%.0s' {1..300})XXX"
    chmod 555 ro
    chmod 755 "$W"
    # Not writable: as a user other than root.
    cmp_mktemp_as_nobody ro/fooXXX
    cmp_mktemp_as_nobody -d ro/fooXXX
}

cmp_mktemp_as_nobody() {
    [ "$(id -u)" -eq 0 ] || { cmp_mktemp "$@"; return; }
    local d=$BATS_TEST_TMPDIR
    while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
    MKTEMP_WRAP="setpriv --reuid=nobody --regid=nogroup --clear-groups" cmp_mktemp "$@"
    [[ $report == *"Permission denied"* ]]
}

@test "mktemp: option errors and argument order" {
    cmp_mktemp a b
    cmp_mktemp fooXXX barXXX
    cmp_mktemp -z
    cmp_mktemp --zzz
    cmp_mktemp --d
    cmp_mktemp --dir fooXXX
    cmp_mktemp --dry fooXXX
    cmp_mktemp --tmp=p fooXXX
    cmp_mktemp -p
    cmp_mktemp --suffix
    cmp_mktemp --quiet=x fooXXX
    cmp_mktemp -dqu fooXXX
    cmp_mktemp fooXXX -d
    POSIXLY_CORRECT=1 cmp_mktemp fooXXX -d
    cmp_mktemp -- -fooXXX
    cmp_mktemp -d -- fooXXX
}

@test "mktemp: messages quote as coreutils in C and UTF-8 locales" {
    for loc in C C.UTF-8; do
        LC_ALL=$loc cmp_mktemp "it'sXX"
        LC_ALL=$loc cmp_mktemp "$(printf 'new\nlineXX')"
        LC_ALL=$loc cmp_mktemp "$(printf 'tab\tbs\\\\XX')"
        LC_ALL=$loc cmp_mktemp "$(printf 'caf\303\251XX')"
        LC_ALL=$loc cmp_mktemp "$(printf 'bad\377\303XX')"
        LC_ALL=$loc cmp_mktemp "$(printf 'q\342\200\231XX')"
        LC_ALL=$loc cmp_mktemp "$(printf 'del\177\033XX')"
        LC_ALL=$loc cmp_mktemp --suffix="$(printf '/\303\251')" XXX
        LC_ALL=$loc cmp_mktemp "$(printf 'missing\303\251/XXX')"
    done
}

@test "mktemp: output errors leave nothing behind" {
    for args in "fooXXXXXX" "-d fooXXXXXX" "-u fooXXXXXX" "-q fooXXXXXX" "-q -d fooXXX"; do
        # shellcheck disable=SC2086
        cmp_mktemp_redirect /dev/full $args
    done
    for args in "fooXXXXXX" "-d fooXXXXXX" "--help" "--version"; do
        # shellcheck disable=SC2086
        cmp_mktemp_closed $args
    done
    [ -z "$(ls -A "$W/t")" ]
}

# cmp_mktemp with standard output sent to a file: nothing may remain in $W
# but what was there.
cmp_mktemp_redirect() {
    local to=$1; shift
    local before; before=$(ls -A "$W")
    rc=0; bash -c 'exec -a mktemp /usr/bin/mktemp "$@"' - "$@" >"$to" 2>"$W.gnu" || rc=$?
    local gnu="$rc $(cat "$W.gnu") $(ls -A "$W")"
    rc=0; bash -c 'exec -a mktemp "$0" "$@"' "$TMPF" "$@" >"$to" 2>"$W.tmpf" || rc=$?
    local ours="$rc $(cat "$W.tmpf") $(ls -A "$W")"
    [ "$gnu" = "$ours" ] || { echo "$*: coreutils: $gnu"; echo "tmpf: $ours"; return 1; }
    [ "$before" = "$(ls -A "$W")" ]
    [[ $gnu == "1 "* || $* == *-q* ]]
}

cmp_mktemp_closed() {
    rc=0; bash -c 'exec -a mktemp /usr/bin/mktemp "$@" >&-' - "$@" 2>"$W.gnu" || rc=$?
    local gnu="$rc $(cat "$W.gnu")"
    rc=0; bash -c 'exec -a mktemp "$0" "$@" >&-' "$TMPF" "$@" 2>"$W.tmpf" || rc=$?
    local ours="$rc $(cat "$W.tmpf")"
    [ "$gnu" = "$ours" ] || { echo "$*: coreutils: $gnu"; echo "tmpf: $ours"; return 1; }
    [ -z "$(ls -A "$W" | grep -v '^t$\|\.gnu$\|\.tmpf$')" ]
}

@test "mktemp: tmpf mktemp speaks as mktemp too" {
    MKTEMP_TMPF=cmd cmp_mktemp fooXX
    MKTEMP_TMPF=cmd cmp_mktemp missing/fooXXX
    MKTEMP_TMPF=cmd cmp_mktemp -z
    MKTEMP_TMPF=cmd cmp_mktemp a b
    MKTEMP_TMPF=cmd cmp_mktemp -d fooXXXXXX
}

@test "mktemp: invoked through a link, messages name the link as coreutils" {
    mkdir bin
    ln -s "$TMPF" bin/mktemp
    MKTEMP_ARGV0=$W/bin/mktemp cmp_mktemp fooXX
    MKTEMP_ARGV0=$W/bin/mktemp cmp_mktemp -z
    MKTEMP_ARGV0=$W/bin/mktemp cmp_mktemp missing/XXX
    capture env PATH="$W/bin:$PATH" mktemp -d "$W/t/viaXXXXXX"
    [ "$rc" -eq 0 ]
    [ -d "$(cat "$W.out")" ]
}

@test "mktemp: --help and --version succeed, and fail on a full output" {
    for a in --help --version -V; do
        capture "$TMPF" mktemp $a
        [ "$rc" -eq 0 ]
        [ -s "$W.out" ]
        rc=0; "$TMPF" mktemp $a >/dev/full 2>"$W.err" || rc=$?
        [ "$rc" -eq 1 ]
        [ "$(cat "$W.err")" = "mktemp: write error: No space left on device" ]
    done
    grep -q -- --tmpdir "$W.out" || "$TMPF" mktemp --help | grep -q -- --tmpdir
}
