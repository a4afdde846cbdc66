#!/usr/bin/env bats
# tmpf write: standard input to DEST through the library's atomic replace.

load helpers

# What is in the working directory, but the t/ every test has.
listing() { ls -A | grep -vx t || true; }

@test "write: sort f | tmpf write f; a new inode, the mode kept; a new DEST" {
    printf 'c\nb\na\n' > f
    chmod 640 f
    ino=$(stat -c %i f)
    sort f | "$TMPF" write f
    [ "$(cat f)" = "$(printf 'a\nb\nc')" ]
    [ "$(stat -c '%a' f)" = 640 ]
    [ "$(stat -c %i f)" != "$ino" ]
    (umask 027; echo new | "$TMPF" write g)
    [ "$(cat g)" = new ] && [ "$(stat -c %a g)" = 640 ]
    echo m | "$TMPF" write --mode 0600 f
    [ "$(stat -c %a f)" = 600 ]
    for l in visible consistent durable; do
        echo "$l" | "$TMPF" write --level "$l" f
        [ "$(cat f)" = "$l" ]
    done
    [ "$(listing)" = "$(printf 'f\ng')" ]
}

@test "write: no DEST writes standard output once the input ended (sponge)" {
    head -c 3000000 /dev/urandom > big
    "$TMPF" write < big > out
    cmp big out
    capture sh -c 'seq 3 | "$1" write' - "$TMPF"
    [ "$(cat "$W.out")" = "$(seq 3)" ]
    rc=0; seq 3 | "$TMPF" write >/dev/full 2>"$W.err" || rc=$?
    [ "$rc" -eq 1 ]
    [ "$(cat "$W.err")" = "tmpf: write: write error: No space left on device" ]
    # Standard output closed, and more input than the spool holds in memory
    # (64 MiB): the spool's file must not become standard output, read back
    # into itself (whole 128 KiB reads: that failed silently, status 0).
    rc=0; head -c 70M /dev/zero | "$TMPF" write >&- 2>"$W.err" || rc=$?
    [ "$rc" -eq 1 ]
    [ "$(cat "$W.err")" = "tmpf: write: write error: Bad file descriptor" ]
    # A write error before the end: its cause named too.
    rc=0; "$TMPF" write < big >/dev/full 2>"$W.err" || rc=$?
    [ "$rc" -eq 1 ]
    [ "$(cat "$W.err")" = "tmpf: write: write error: No space left on device" ]
}

@test "write: --append keeps the old content, through a symlink too" {
    echo one > f
    echo two | "$TMPF" write --append f
    [ "$(cat f)" = "$(printf 'one\ntwo')" ]
    ln -s f link
    echo three | "$TMPF" write -a link
    [ -L link ]
    [ "$(cat f)" = "$(printf 'one\ntwo\nthree')" ]
    echo first | "$TMPF" write -a missing
    [ "$(cat missing)" = first ]
}

@test "write: symlink policies and --no-clobber" {
    echo target > f
    ln -s f link
    echo x | "$TMPF" write link
    [ -L link ] && [ "$(cat f)" = x ]
    capture sh -c 'echo y | "$1" write --symlinks=refuse link' - "$TMPF"
    [ "$rc" -eq 1 ]
    [ "$(cat "$W.err")" = "tmpf: write: cannot replace link: Too many levels of symbolic links" ]
    [ -L link ] && [ "$(cat f)" = x ]
    echo z | "$TMPF" write -L replace link
    [ ! -L link ] && [ "$(cat link)" = z ] && [ "$(cat f)" = x ]
    capture sh -c 'echo n | "$1" write --no-clobber f' - "$TMPF"
    [ "$rc" -eq 1 ]
    [ "$(cat "$W.err")" = "tmpf: write: cannot replace f: File exists" ]
    [ "$(cat f)" = x ]
    echo n | "$TMPF" write -n fresh
    [ "$(cat fresh)" = n ]
}

@test "write: errors leave DEST as it was and nothing behind" {
    echo old > f
    mkdir d
    capture sh -c 'echo x | "$1" write "$2/missing/f"' - "$TMPF" "$W"
    [ "$rc" -eq 1 ]
    [ "$(cat "$W.err")" = "tmpf: write: cannot replace $W/missing/f: No such file or directory" ]
    capture sh -c 'echo x | "$1" write d' - "$TMPF"
    [ "$rc" -eq 1 ]
    grep -q "Is a directory" "$W.err"
    # Only regular files are replaced: said so (the library's EINVAL).
    mkfifo fifo
    ln -s fifo to-fifo
    for dest in fifo to-fifo /dev/null; do
        capture sh -c 'echo x | "$1" write "$2"' - "$TMPF" "$dest"
        [ "$rc" -eq 1 ]
        [ "$(cat "$W.err")" = "tmpf: write: cannot replace $dest: not a regular file" ]
    done
    rm fifo to-fifo
    capture "$TMPF" write --level fast f
    [ "$rc" -eq 2 ]
    capture "$TMPF" write -L sometimes f
    [ "$rc" -eq 2 ]
    capture "$TMPF" write f g
    [ "$rc" -eq 2 ]
    capture "$TMPF" write --append
    [ "$rc" -eq 2 ]
    # A read error in the middle of the input (8 KiB, then EIO).
    capture python3 "$BATS_TEST_DIRNAME/readerr.py" "$TMPF" write f
    [ "$rc" -eq 1 ]
    [ "$(cat "$W.err")" = "tmpf: write: standard input: read error: Input/output error" ]
    [ "$(cat f)" = old ]
    capture python3 "$BATS_TEST_DIRNAME/readerr.py" "$TMPF" write
    [ "$rc" -eq 1 ] && [ ! -s "$W.out" ]
    # Standard input closed: said so, not read from the directory or the
    # temporary that took its descriptor.
    for a in "" --append; do
        capture "$TMPF" write $a f <&-
        [ "$rc" -eq 1 ]
        [ "$(cat "$W.err")" = "tmpf: write: standard input: read error: Bad file descriptor" ]
        [ "$(cat f)" = old ]
    done
    [ "$(listing)" = "$(printf 'd\nf')" ]
}

@test "write: another user's file: the owner named as what stopped it" {
    [ "$(id -u)" -eq 0 ] || skip "needs root to run as nobody"
    d=$BATS_TEST_TMPDIR
    while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
    mkdir shared
    chown nobody shared
    echo old > shared/f
    chmod 644 shared/f
    as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
    capture sh -c 'echo new | "$@" write shared/f' - "${as[@]}" "$TMPF"
    [ "$rc" -eq 1 ]
    [ "$(cat "$W.err")" = "tmpf: write: cannot replace shared/f: cannot carry over its owner: Operation not permitted" ]
    [ "$(cat shared/f)" = old ] && [ "$(stat -c %U shared/f)" = root ]
    capture sh -c 'echo new | "$@" write --best-effort shared/f' - "${as[@]}" "$TMPF"
    [ "$rc" -eq 0 ]
    [ "$(cat "$W.err")" = "tmpf: write: shared/f: not carried over: owner: Operation not permitted" ]
    [ "$(cat shared/f)" = new ] && [ "$(stat -c %U shared/f)" = nobody ]
    [ "$(ls -A shared)" = f ]
}

@test "write: DEST writable in a directory that is not: the directory named as the cause" {
    [ "$(id -u)" -eq 0 ] || skip "needs root to run as nobody"
    d=$BATS_TEST_TMPDIR
    while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
    mkdir locked
    echo old > locked/f
    chmod 666 locked/f
    chmod 755 locked
    as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
    # A bare 'Permission denied' for a file the user may write.
    capture sh -c 'echo new | "$@" write locked/f' - "${as[@]}" "$TMPF"
    [ "$rc" -eq 1 ]
    [ "$(cat "$W.err")" = "tmpf: write: cannot replace locked/f: cannot create a file in its directory locked/: Permission denied" ]
    [ "$(cat locked/f)" = old ]
    [ "$(ls -A locked)" = f ]
}

@test "write: a signal while the input is read leaves DEST and no temporary" {
    echo old > f
    # ALRM, USR1, USR2, VTALRM and PROF end a process too, but the library's
    # handlers do not take them: the temporary beside DEST was left.
    for s in INT TERM HUP ALRM USR1 USR2 VTALRM PROF; do
        mkfifo in
        env --default-signal "$TMPF" write f < in 3>&- &
        pid=$!
        exec 4>in
        printf 'partial' >&4
        for _ in $(seq 100); do [ -n "$(listing | grep '^\.tmp')" ] && break; sleep 0.05; done
        kill -s "$s" "$pid"
        rc=0; wait "$pid" || rc=$?
        exec 4>&-
        rm in
        [ "$rc" -eq $((128 + $(kill -l "$s"))) ]
        [ "$(cat f)" = old ]
        [ "$(listing)" = f ]
    done
}

@test "write: killed with SIGKILL at any moment: DEST old or new, never a part" {
    head -c 4000000 /dev/urandom > new
    head -c 3000000 /dev/urandom > old
    cp old f
    for i in $(seq 20); do
        "$TMPF" write f < new 3>&- &
        pid=$!
        sleep "0.0$((RANDOM % 10))"
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" || true
        cmp -s f old || cmp -s f new || { echo "round $i: DEST is neither"; false; }
        cp old f
    done
    # What SIGKILL left is an orphan that tmpf sweep finds (prefix .tmp).
    "$TMPF" du --json -p .tmp . > du.json
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["live"]==0, r' du.json
}

@test "write: --help, and completion of its options" {
    capture "$TMPF" write --help
    [ "$rc" -eq 0 ]
    grep -q -- --append "$W.out"
    # shellcheck disable=SC1090
    source "$TMPF_PREFIX/share/bash-completion/completions/tmpf"
    COMP_WORDS=(tmpf write --level c); COMP_CWORD=3; _tmpf
    [ "${COMPREPLY[*]}" = consistent ]
    COMP_WORDS=(tmpf write --app); COMP_CWORD=2; _tmpf
    [ "${COMPREPLY[*]}" = --append ]
}
