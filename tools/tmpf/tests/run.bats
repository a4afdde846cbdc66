#!/usr/bin/env bats
# tmpf run: the private TMPDIR, its lock, its removal however CMD ends.

load helpers

@test "run: TMPDIR, TMP and TEMP name one new private directory, removed after" {
    mkdir base
    capture "$TMPF" run --dir base -- sh -c 'echo "$TMPDIR"; echo "$TMP"; echo "$TEMP"; stat -c %a "$TMPDIR"; touch "$TMPDIR/f"; mkdir -p "$TMPDIR/a/b"; ls -A "$TMPDIR"'
    [ "$rc" -eq 0 ]
    d=$(sed -n 1p "$W.out")
    [[ $d == "$W/base/tmp"* ]]
    [ "$(sed -n 2p "$W.out")" = "$d" ] && [ "$(sed -n 3p "$W.out")" = "$d" ]
    [ "$(sed -n 4p "$W.out")" = 700 ]
    [ "$(sed -n '5,$p' "$W.out" | tr '\n' ' ')" = "a f " ]
    [ ! -e "$d" ]
    [ -z "$(ls -A base)" ]
    [ ! -s "$W.err" ]
}

@test "run: CMD's exit status; names; options after CMD are CMD's" {
    mkdir base
    capture "$TMPF" run --dir base -- sh -c 'exit 7'
    [ "$rc" -eq 7 ]
    capture "$TMPF" run -d base -p job- -s .tmp sh -c 'basename "$TMPDIR"'
    [[ $(cat "$W.out") =~ ^job-[a-z0-9_]{8}\.tmp$ ]]
    capture "$TMPF" run -d base echo --keep -k
    [ "$(cat "$W.out")" = "--keep -k" ]
    capture sh -c 'echo piped | "$1" run -d base cat' - "$TMPF"
    [ "$(cat "$W.out")" = piped ]
    [ -z "$(ls -A base)" ]
}

@test "run: unreadable contents are removed too" {
    mkdir base
    capture "$TMPF" run -d base sh -c 'mkdir -p "$TMPDIR/ro/deep" && touch "$TMPDIR/ro/deep/f" && chmod 0 "$TMPDIR/ro/deep" "$TMPDIR/ro"'
    [ "$rc" -eq 0 ]
    [ -z "$(ls -A base)" ]
}

@test "run: CMD killed by a signal: 128+N, directory removed" {
    mkdir base
    for s in HUP INT QUIT ILL ABRT KILL SEGV PIPE ALRM TERM USR1 USR2; do
        n=$(kill -l "$s")
        capture "$TMPF" run -d base sh -c 'touch "$TMPDIR/x"; kill -'"$s"' $$'
        [ "$rc" -eq $((128 + n)) ] || { echo "$s: $rc"; false; }
        [ -z "$(ls -A base)" ]
    done
}

@test "run: CMD not found 127, not runnable 126, as env" {
    mkdir base
    capture "$TMPF" run -d base no-such-command-here
    [ "$rc" -eq 127 ]
    [ "$(cat "$W.err")" = "tmpf: run: cannot run 'no-such-command-here': No such file or directory" ]
    printf 'data\n' > notexec
    capture "$TMPF" run -d base ./notexec
    [ "$rc" -eq 126 ]
    [ "$(cat "$W.err")" = "tmpf: run: cannot run './notexec': Permission denied" ]
    mkdir adir
    capture "$TMPF" run -d base ./adir
    [ "$rc" -eq 126 ]
    [ -z "$(ls -A base)" ]
}

@test "run: usage errors and a directory that cannot be made" {
    capture "$TMPF" run
    [ "$rc" -eq 2 ]
    [ "$(head -n1 "$W.err")" = "tmpf: run: missing command" ]
    capture "$TMPF" run --keep
    [ "$rc" -eq 2 ]
    capture "$TMPF" run --bogus true
    [ "$rc" -eq 2 ]
    capture "$TMPF" run --dir "$W/missing" true
    [ "$rc" -eq 1 ]
    [ "$(cat "$W.err")" = "tmpf: run: cannot create a directory in $W/missing: No such file or directory" ]
    capture env TMPDIR="$W/t" "$TMPF" run --prefix "$(printf '%0255d' 0)" true
    [ "$rc" -eq 1 ]
    [ "$(cat "$W.err")" = "tmpf: run: cannot create a directory in $W/t: File name too long" ]
}

@test "run: --keep leaves the directory and says where" {
    mkdir base
    capture "$TMPF" run --keep -d base sh -c 'echo "$TMPDIR"; touch "$TMPDIR/f"'
    [ "$rc" -eq 0 ]
    d=$(cat "$W.out")
    [ -f "$d/f" ]
    [ "$(cat "$W.err")" = "tmpf: run: kept $d" ]
}

@test "run: tmpf killed by SIGINT, SIGTERM, SIGHUP, SIGALRM...: forwarded to CMD's group, nothing left" {
    mkdir base
    # ALRM, PIPE, VTALRM and PROF end a process as TERM does (kill -ALRM,
    # timeout -s ALRM): tmpf died of them at once, leaving its directory and
    # CMD running.
    for s in INT TERM HUP QUIT ALRM PIPE VTALRM PROF; do
        rm -f pid dir
        # The test shell's background jobs ignore SIGINT; give tmpf the default.
        env --default-signal "$TMPF" run -d base sh -c 'echo $$ > "$0/pid"; touch "$TMPDIR/x"; echo "$TMPDIR" > "$0/dir"; sleep 30; echo survived' "$W" >"$W.out" 2>&1 3>&- &
        tpid=$!
        for _ in $(seq 100); do [ -s dir ] && break; sleep 0.05; done
        [ -s dir ]
        d=$(cat dir)
        [ -e "$d/x" ]
        kill -s "$s" "$tpid"
        rc=0; wait "$tpid" || rc=$?
        [ "$rc" -eq $((128 + $(kill -l "$s"))) ] || { echo "$s: $rc"; false; }
        [ ! -e "$d" ]
        ! kill -0 -- "-$(cat pid)" 2>/dev/null   # the sleep went with its shell
        ! grep -q survived "$W.out"
        [ -z "$(ls -A base)" ]
    done
}

@test "run: the directory is live while CMD runs: sweep leaves it, du counts it" {
    mkdir base
    capture "$TMPF" run -d base sh -c '
        sleep 1.2
        "$0" du --json -o 1s "$(dirname "$TMPDIR")"
        "$0" sweep --json -o 1s "$(dirname "$TMPDIR")"
        test -d "$TMPDIR" && echo still-there' "$TMPF"
    [ "$rc" -eq 0 ]
    python3 - "$W.out" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
dec = json.JSONDecoder()
du, end = dec.raw_decode(text)
sweep, end2 = dec.raw_decode(text[end:].lstrip())
assert du["count"] == 1 and du["live"] == 1 and du["orphans"] == 0, du
assert sweep["removed"] == 0 and sweep["live"] == 1 and sweep["entries"] == [], sweep
assert text.rstrip().endswith("still-there")
PY
    [ -z "$(ls -A base)" ]
}

# Types into the terminal of `script` once the file $1 exists.
type_when() {
    local i
    for i in $(seq 400); do [ -e "$1" ] && break; sleep 0.05; done
    printf "$2"
    sleep 0.5
}

@test "run: in the foreground of a terminal, CMD reads it and the terminal's ^C ends it" {
    mkdir base
    type_when ready 'hello\n' |
        script -qec "'$TMPF' run -d '$W/base' sh -c 'touch ready; read x; echo got \$x'; echo rc=\$?" /dev/null > tty.out
    grep -q "^got hello" tty.out
    grep -q "^rc=0" tty.out
    rm ready
    # The ^C reaches the shell script(1) starts too. dash, the /bin/sh that
    # script runs when SHELL is unset (as in CI), dies of it at once; bash
    # waits to see how its child ended, as a login shell would, and reports.
    type_when ready '\003' |
        SHELL=$BASH script -qec "'$TMPF' run -d '$W/base' sh -c 'echo \"\$TMPDIR\"; touch ready; sleep 10; echo survived'; echo rc=\$?" /dev/null > tty.out
    grep -q "rc=130" tty.out
    ! grep -q survived tty.out
    d=$(head -n1 tty.out | tr -d '\r')
    [[ $d == "$W/base/tmp"* ]]
    [ -z "$(ls -A base)" ]
}

@test "run: in the foreground of a terminal, CMD shares tmpf's process group whatever its stdin is" {
    mkdir base
    # Only stdin was asked: 'echo x | tmpf run less' put less in a background
    # group of the terminal, stopped at its first read of /dev/tty (SIGTTIN),
    # tmpf waiting for ever.
    script -qec "echo data | '$TMPF' run -d '$W/base' sh -c 'echo pgrp \$(cut -d\" \" -f5 /proc/\$\$/stat) \$(cut -d\" \" -f5 /proc/\$PPID/stat)' > '$W/pg.out'; echo rc=\$?" /dev/null < /dev/null > tty.out
    grep -q "^rc=0" tty.out
    read -r word cmd tmpf < pg.out
    [ "$word" = pgrp ] && [ -n "$cmd" ]
    [ "$cmd" = "$tmpf" ]
    [ -z "$(ls -A base)" ]
}

@test "run: a forwarded signal reaches a stopped CMD (continued after it, as timeout(1) does)" {
    mkdir base
    env --default-signal "$TMPF" run -d base sh -c 'echo $$ > "$0/pid"; echo "$TMPDIR" > "$0/dir"; kill -STOP $$; echo survived' "$W" >"$W.out" 2>&1 3>&- &
    tpid=$!
    for _ in $(seq 200); do [ -s dir ] && [ "$(cut -d' ' -f3 "/proc/$(cat pid)/stat" 2>/dev/null)" = T ] && break; sleep 0.05; done
    [ "$(cut -d' ' -f3 "/proc/$(cat pid)/stat")" = T ]
    d=$(cat dir)
    kill -TERM "$tpid"
    # A guard, not a timing: without SIGCONT the TERM stays pending for ever.
    for _ in $(seq 200); do kill -0 "$tpid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$tpid" 2>/dev/null; then kill -CONT "$(cat pid)"; wait "$tpid" || true; false; fi
    rc=0; wait "$tpid" || rc=$?
    [ "$rc" -eq 143 ]
    [ ! -e "$d" ]
    ! grep -q survived "$W.out"
    [ -z "$(ls -A base)" ]
}

@test "run: --keep with standard error closed or full: the directory it could not name is removed" {
    mkdir base
    for redir in '2>&-' '2>/dev/full'; do
        rc=0; eval '"$TMPF" run --keep -d base sh -c "touch \"\$TMPDIR/f\""' "$redir" || rc=$?
        [ "$rc" -eq 1 ] || { echo "$redir: $rc"; false; }
        [ -z "$(ls -A base)" ] || { echo "$redir: left $(ls -A base)"; false; }
        # CMD's own failure stays its status.
        rc=0; eval '"$TMPF" run --keep -d base sh -c "exit 5"' "$redir" || rc=$?
        [ "$rc" -eq 5 ] || { echo "$redir: $rc"; false; }
        [ -z "$(ls -A base)" ]
    done
}

@test "run: another directory put in its place is left alone, and the message says so" {
    mkdir base
    # The library's ESTALE was shown as it is: 'Stale file handle'.
    capture "$TMPF" run -d base sh -c 'echo "$TMPDIR"; rmdir "$TMPDIR"; mkdir "$TMPDIR"; touch "$TMPDIR/theirs"'
    [ "$rc" -eq 1 ]
    d=$(cat "$W.out")
    [ -e "$d/theirs" ]
    [ "$(cat "$W.err")" = "tmpf: run: cannot remove $d: another directory took its place (left alone)" ]
    rm -r "$d"
}

@test "run: a directory CMD renamed is still emptied, left empty under its new name, status CMD's" {
    # With nothing at its path any more, the moved tree kept its contents,
    # while one whose path another directory took was emptied.
    capture "$TMPF" run sh -c 'touch "$TMPDIR/a" && mkdir "$TMPDIR/sub" && touch "$TMPDIR/sub/b" && mv "$TMPDIR" moved'
    [ "$rc" -eq 0 ]
    [ -d moved ]
    [ -z "$(ls -A moved)" ]
    [ ! -s "$W.err" ]
    rmdir moved
}

@test "run: a filesystem CMD mounted inside the directory is never crossed, and the message says so" {
    [ "$(id -u)" -eq 0 ] || skip "mount(8) needs root"
    mkdir base
    # The library's EXDEV was shown as it is: 'Invalid cross-device link'.
    capture "$TMPF" run -d base sh -c 'echo "$TMPDIR"; mkdir "$TMPDIR/m" && mount -t tmpfs none "$TMPDIR/m" || exit 99; touch "$TMPDIR/m/theirs"'
    [ "$rc" -ne 99 ] || skip "tmpfs cannot be mounted here"
    d=$(cat "$W.out")
    [ -e "$d/m/theirs" ] && umount "$d/m"
    [ "$rc" -eq 1 ]
    [ "$(cat "$W.err")" = "tmpf: run: cannot remove $d: another filesystem is mounted in it (never crossed)" ]
    rm -r "$d"
}
