#!/usr/bin/env bats
# tmpf's own conventions, file, dir, gettempdir and the bash completion.

load helpers

@test "tmpf: --help, --version, usage errors" {
    capture "$TMPF" --help
    [ "$rc" -eq 0 ]
    for c in file dir mktemp run write sweep du gettempdir shred; do grep -q "^  $c " "$W.out"; done
    capture "$TMPF" --version
    [ "$rc" -eq 0 ]
    grep -qx 'tmpf (libtempfile) [0-9]*\.[0-9]*\.[0-9]*' "$W.out"
    capture "$TMPF"
    [ "$rc" -eq 2 ]
    [ "$(cat "$W.err")" = "tmpf: missing command
Try 'tmpf --help' for more information." ]
    capture "$TMPF" frobnicate
    [ "$rc" -eq 2 ]
    grep -qx "tmpf: unknown command 'frobnicate'" "$W.err"
    capture "$TMPF" --frob
    [ "$rc" -eq 2 ]
    rc=0; "$TMPF" --help >/dev/full 2>"$W.err" || rc=$?
    [ "$rc" -eq 1 ]
    [ "$(cat "$W.err")" = "tmpf: write error: No space left on device" ]
}

@test "tmpf: every command has --help and -h, and refuses unknown options with status 2" {
    for c in file dir run write sweep du gettempdir; do
        for h in --help -h; do
            capture "$TMPF" $c $h
            [ "$rc" -eq 0 ]
            head -n1 "$W.out" | grep -q "^Usage: tmpf $c"
        done
        capture "$TMPF" $c --no-such-option
        [ "$rc" -eq 2 ]
        [ "$(cat "$W.err")" = "tmpf: $c: unrecognized option '--no-such-option'
Try 'tmpf $c --help' for more information." ]
        capture "$TMPF" $c -Z
        [ "$rc" -eq 2 ]
        head -n1 "$W.err" | grep -qx "tmpf: $c: invalid option -- 'Z'"
    done
}

@test "file: absolute path, mode 0600 less the umask, names" {
    capture "$TMPF" file --dir t
    [ "$rc" -eq 0 ]
    p=$(cat "$W.out")
    [[ $p == "$W/t/tmp"* ]]
    [[ $(basename "$p") =~ ^tmp[a-z0-9_]{8}$ ]]
    [ -f "$p" ] && [ ! -s "$p" ]
    [ "$(stat -c %a "$p")" = 600 ]
    capture "$TMPF" file -d "$W/t" -p log_ -s .txt
    [[ $(basename "$(cat "$W.out")") =~ ^log_[a-z0-9_]{8}\.txt$ ]]
    (umask 0277; "$TMPF" file -d t >"$W.out")
    [ "$(stat -c %a "$(cat "$W.out")")" = 400 ]
    (umask 077; "$TMPF" file -d t -m 0644 >"$W.out")
    [ "$(stat -c %a "$(cat "$W.out")")" = 644 ]
    "$TMPF" file -d t --prefix=x. >"$W.out"
    "$TMPF" file --dir t -s .x >"$W.out"
    TMPDIR=$W/t "$TMPF" file >"$W.out"
    [[ $(cat "$W.out") == "$W/t/tmp"* ]]
}

@test "dir: absolute path, mode 0700 less the umask, names" {
    capture "$TMPF" dir --dir t --prefix build- --suffix .d
    [ "$rc" -eq 0 ]
    p=$(cat "$W.out")
    [[ $(basename "$p") =~ ^build-[a-z0-9_]{8}\.d$ ]]
    [ -d "$p" ]
    [ "$(stat -c %a "$p")" = 700 ]
    [ -z "$(ls -A "$p")" ]
    (umask 077; "$TMPF" dir -d t --mode=755 >"$W.out")
    [ "$(stat -c %a "$(cat "$W.out")")" = 755 ]
}

@test "file and dir: errors, and nothing left when the path cannot be printed" {
    touch plain
    for c in file dir; do
        capture "$TMPF" $c --dir "$W/missing"
        [ "$rc" -eq 1 ]
        [ "$(cat "$W.err")" = "tmpf: $c: cannot create a $( [ $c = dir ] && echo directory || echo file) in $W/missing: No such file or directory" ]
        capture "$TMPF" $c --dir plain
        [ "$rc" -eq 1 ]
        grep -q ": Not a directory$" "$W.err"
        capture "$TMPF" $c --prefix a/b
        [ "$rc" -eq 2 ]
        grep -qx "tmpf: $c: prefix 'a/b' contains '/'" "$W.err"
        capture "$TMPF" $c --suffix /
        [ "$rc" -eq 2 ]
        # The cause is named in the default directory too (the default's
        # lookup kept errno).
        capture env TMPDIR="$W/t" "$TMPF" $c --prefix "$(printf '%0255d' 0)"
        [ "$rc" -eq 1 ]
        [ "$(cat "$W.err")" = "tmpf: $c: cannot create a $( [ $c = dir ] && echo directory || echo file) in $W/t: File name too long" ]
        for m in 9 -1 10000 0 abc "" " 7" +7 "7 "; do
            capture "$TMPF" $c --mode "$m"
            [ "$rc" -eq 2 ]
            grep -q "invalid mode" "$W.err"
        done
        capture "$TMPF" $c extra
        [ "$rc" -eq 2 ]
        grep -qx "tmpf: $c: unexpected argument 'extra'" "$W.err"
        rc=0; "$TMPF" $c --dir t >/dev/full 2>"$W.err" || rc=$?
        [ "$rc" -eq 1 ]
        [ "$(cat "$W.err")" = "tmpf: $c: write error: No space left on device" ]
        [ -z "$(ls -A t)" ]
    done
    # A reader already gone: SIGPIPE ends us as it would (141), or where it
    # is ignored the write fails (EPIPE); the path is removed either way.
    for c in "file --dir t" "dir --dir t" "mktemp -p t" "mktemp -d -p t"; do
        for sigpipe in default ignored; do
            capture python3 -c 'import os, subprocess, sys
r, w = os.pipe(); os.close(r)
p = subprocess.run(sys.argv[2:], stdout=w, restore_signals=sys.argv[1] == "default")
sys.exit(128 - p.returncode if p.returncode < 0 else p.returncode)' $sigpipe "$TMPF" $c
            if [ $sigpipe = default ]; then
                [ "$rc" -eq 141 ] && [ ! -s "$W.err" ]
            else
                [ "$rc" -eq 1 ] && grep -q "write error: Broken pipe$" "$W.err"
            fi
            [ -z "$(ls -A t)" ]
        done
    done
}

@test "file, dir and run: a directory the user cannot write" {
    mkdir ro
    chmod 555 ro
    as=()
    if [ "$(id -u)" -eq 0 ]; then
        d=$BATS_TEST_TMPDIR
        while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
        as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
    fi
    for c in file dir run; do
        extra=(); [ $c = run ] && extra=(true)
        capture "${as[@]}" "$TMPF" $c --dir "$W/ro" "${extra[@]}"
        [ "$rc" -eq 1 ]
        [ "$(cat "$W.err")" = "tmpf: $c: cannot create a $( [ $c = file ] && echo file || echo directory) in $W/ro: Permission denied" ]
    done
    [ -z "$(ls -A ro)" ]
}

@test "gettempdir: TMPDIR, then the fallbacks" {
    TMPDIR=$W/t capture "$TMPF" gettempdir
    [ "$rc" -eq 0 ]
    [ "$(cat "$W.out")" = "$W/t" ]
    TMPDIR=$W/missing TEMP= TMP= capture "$TMPF" gettempdir
    [ "$(cat "$W.out")" = /tmp ]
    capture "$TMPF" gettempdir extra
    [ "$rc" -eq 2 ]
}

complete_words() {   # complete_words WORD... : COMPREPLY for the last word
    # shellcheck disable=SC1090
    source "$TMPF_PREFIX/share/bash-completion/completions/tmpf"
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    _tmpf
    printf '%s\n' "${COMPREPLY[@]}"
}

@test "bash completion: installed, completes commands, options, directories and CMD" {
    [ -f "$TMPF_PREFIX/share/bash-completion/completions/tmpf" ]
    [ "$(complete_words tmpf sw)" = sweep ]
    [ "$(complete_words tmpf sh)" = shred ]
    complete_words tmpf shred --re | grep -qx -- --report
    complete_words tmpf shred --re | grep -qx -- --remove=
    [ "$(complete_words tmpf shred --remove=wi)" = "$(printf 'wipe\nwipesync')" ]
    [ "$(complete_words tmpf shred --remove = u)" = unlink ]
    [ -z "$(complete_words tmpf shred -n 1)" ]
    [ "$(complete_words tmpf g)" = gettempdir ]
    complete_words tmpf file --p | grep -qx -- --prefix
    complete_words tmpf sweep --d | grep -qx -- --dry-run
    complete_words tmpf mktemp --tm | grep -qx -- --tmpdir
    mkdir -p sub
    [ "$(complete_words tmpf du su)" = sub ]
    complete_words tmpf run -- bas | grep -qx bash
    complete_words tmpf run --keep bas | grep -qx bash
    [ -z "$(complete_words tmpf run --prefix bas)" ]
    [ -z "$(complete_words tmpf file -p su)" ]
    [ "$(complete_words tmpf file -d su)" = sub ]
    [ "$(complete_words tmpf mktemp -p su)" = sub ]
    [ -z "$(complete_words tmpf sweep -o 1)" ]
}

@test "file, dir: an empty --dir is the working directory (as Python's dir=''), printed absolute" {
    mkdir here
    cd here
    for c in file dir; do
        capture env TMPDIR="$W/t" "$TMPF" $c -d ''
        [ "$rc" -eq 0 ]
        [[ $(cat "$W.out") == "$W/here/tmp"* ]]
    done
    [ "$(ls -A | wc -l)" -eq 2 ]
    [ -z "$(ls -A "$W/t")" ]
}
