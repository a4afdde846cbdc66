#!/usr/bin/env bats
# tmpf sweep and tmpf du: the library's sweep and disk-use report, as tables,
# JSON (parsed back) and a progress line on a terminal only.

load helpers

# Orphans in base/: two files, a directory tree, and what must stay.
orphans() {
    mkdir -p base
    f1=$("$TMPF" file -d base)
    head -c 10000 /dev/zero > "$f1"
    f2=$("$TMPF" file -d base)
    d1=$("$TMPF" dir -d base)
    mkdir -p "$d1/sub" && echo hi > "$d1/sub/x"
    lf=$("$TMPF" file -d base -p log_ -s .txt)
    touch base/keepme base/tmpTOOLONGNAME
    ln -s /etc/passwd base/tmpabcdefgh
    mkfifo base/tmpfifo1234
    # A copy for the tests that sweep twice (made now: reading a file
    # refreshes its atime, so copying later would make the originals young).
    cp -a base base2
    sleep 1.1
}

@test "sweep: removes the old orphans, lists them, leaves the rest" {
    orphans
    capture "$TMPF" sweep --older-than 1s base
    [ "$rc" -eq 0 ]
    [ ! -e "$f1" ] && [ ! -e "$f2" ] && [ ! -e "$d1" ]
    [ -e "$lf" ] && [ -e base/keepme ] && [ -e base/tmpTOOLONGNAME ] && [ -L base/tmpabcdefgh ] && [ -p base/tmpfifo1234 ]
    [ "$(head -n1 "$W.out" | tr -s ' ')" = "TYPE SIZE AGE NAME" ]
    grep -Eq "^file +12K +[0-9]+s  $(basename "$f1")$" "$W.out"
    grep -Eq "^dir .* $(basename "$d1")$" "$W.out"
    tail -n1 "$W.out" | grep -Eqx "removed 3 \([0-9.]+K\) in base; left 0 live, 0 young, 0 failed"
    capture "$TMPF" sweep -o 1s -p log_ -s .txt base
    [ ! -e "$lf" ]
    grep -q "^removed 1 " "$W.out"
}

@test "sweep: --dry-run removes nothing; the default age keeps young orphans" {
    orphans
    capture "$TMPF" sweep -n -o 1s base
    [ "$rc" -eq 0 ]
    [ -e "$f1" ] && [ -e "$d1/sub/x" ]
    grep -q "^would remove 3 " "$W.out"
    capture "$TMPF" sweep base
    [ "$rc" -eq 0 ]
    [ -e "$f1" ]
    [ "$(cat "$W.out")" = "removed 0 (0) in base; left 0 live, 3 young, 0 failed" ]
}

@test "sweep and du: --locks takes a stale NAME.lock, never a held one" {
    mkdir base
    echo old > base/conf.lock      # its writer died
    echo x > base/index.lock       # held as git holds its locks: open for writing
    mkdir base/dir.lock
    touch base/plain
    sleep 1.1
    exec 9<>base/index.lock
    capture "$TMPF" sweep -o 1s base
    [ "$rc" -eq 0 ] && [ -e base/conf.lock ]   # not looked at without --locks
    grep -q "^removed 0 " "$W.out"
    capture "$TMPF" du --locks -o 1s --json base
    [ "$rc" -eq 0 ]
    python3 -c '
import json, sys
u = json.load(open(sys.argv[1]))
assert (u["count"], u["live"], u["orphans"], u["sweepable"]) == (2, 1, 1, 1), u
' "$W.out"
    capture "$TMPF" sweep --locks -o 1s base
    [ "$rc" -eq 0 ]
    [ ! -e base/conf.lock ] && [ -e base/index.lock ] && [ -d base/dir.lock ] && [ -e base/plain ]
    grep -Eq "^file .* conf\.lock$" "$W.out"
    tail -n1 "$W.out" | grep -Eqx "removed 1 \([0-9.]+K\) in base; left 1 live, 0 young, 0 failed"
    exec 9>&-
}

@test "sweep: a name anyone chose (--locks) is listed quoted, never raw" {
    mkdir base
    # A newline that would forge a line of the table, an escape sequence
    # that the terminal would run.
    : > "base/$(printf 'a\nremoved 9 (0) in etc\033[2J.lock')"
    : > "base/$(printf 'x\ty.lock')"
    : > "base/plain name.lock"
    sleep 1.1
    capture "$TMPF" sweep --locks -n -o 1s base
    [ "$rc" -eq 0 ]
    [ "$(sed -E '1d;$d;s/^file +[^ ]+ +[^ ]+  //' "$W.out" | sort)" = "$(sort <<'EOF2'
'a'$'\n''removed 9 (0) in etc'$'\033''[2J.lock'
'x'$'\t''y.lock'
plain name.lock
EOF2
)" ] || { cat "$W.out"; false; }
}

@test "sweep: --json parses back and matches what was removed" {
    orphans
    capture "$TMPF" sweep --json --older-than 1s "$W/base"
    [ "$rc" -eq 0 ]
    python3 - "$W.out" "$(basename "$f1")" "$(basename "$f2")" "$(basename "$d1")" "$W/base" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
f1, f2, d1, base = sys.argv[2:]
assert r["dir"] == base and r["dry_run"] is False and r["min_age"] == 1, r
assert r["removed"] == 3 and r["live"] == 0 and r["young"] == 0 and r["failed"] == 0, r
names = {e["name"]: e for e in r["entries"]}
assert set(names) == {f1, f2, d1}, names
assert names[f1]["type"] == "file" and names[f1]["bytes"] == 12288, names[f1]
assert names[d1]["type"] == "dir" and names[d1]["bytes"] > 0
assert all(e["age"] >= 1 for e in r["entries"])
assert r["bytes"] == sum(e["bytes"] for e in r["entries"])
PY
    capture "$TMPF" sweep base --json    # options after DIR too
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["entries"]==[] and r["removed"]==0' "$W.out"
}

@test "sweep: errors" {
    touch plain
    capture "$TMPF" sweep "$W/missing"
    [ "$rc" -eq 1 ]
    [ "$(cat "$W.err")" = "tmpf: sweep: cannot sweep $W/missing: No such file or directory" ]
    capture "$TMPF" sweep plain
    [ "$rc" -eq 1 ]
    [ "$(cat "$W.err")" = "tmpf: sweep: cannot sweep plain: Not a directory" ]
    # DIR a link to a directory is never followed: said so, not ENOTDIR's
    # "Not a directory"; by du and for the default directory too.
    ln -s t link
    why="a symbolic link, not followed: name the directory it points to"
    capture "$TMPF" sweep link/
    [ "$rc" -eq 1 ]
    [ "$(cat "$W.err")" = "tmpf: sweep: cannot sweep link/: $why" ]
    TMPDIR=$W/link capture "$TMPF" sweep
    [ "$rc" -eq 1 ]
    [ "$(cat "$W.err")" = "tmpf: sweep: cannot sweep $W/link: $why" ]
    capture "$TMPF" du link
    [ "$rc" -eq 1 ]
    [ "$(cat "$W.err")" = "tmpf: du: cannot read link: $why" ]
    capture "$TMPF" sweep --json "$W/missing"
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$W.out"
    for age in 0 x 5y -1 1h-2 "" 99999999999999999999d; do
        capture "$TMPF" sweep --older-than "$age" t
        [ "$rc" -eq 2 ] || { echo "age $age: $rc"; false; }
    done
    capture "$TMPF" sweep t extra
    [ "$rc" -eq 2 ]
    capture "$TMPF" sweep --prefix a/b t
    [ "$rc" -eq 2 ]
}

@test "sweep: ages: units and sums" {
    mkdir -p base
    for age in 90 90s 2m 1h30m 7d 2w 1d12h; do
        capture "$TMPF" sweep --json -n -o "$age" base
        [ "$rc" -eq 0 ]
        echo "$age $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["min_age"])' "$W.out")"
    done > ages
    [ "$(cat ages | tr '\n' ' ')" = "90 90 90s 90 2m 120 1h30m 5400 7d 604800 2w 1209600 1d12h 129600 " ]
}

@test "sweep: a progress line on a terminal, none on a pipe" {
    orphans
    TMPF_PROGRESS_DELAY=0 script -qec "'$TMPF' sweep -o 1s '$W/base'" /dev/null > tty.out
    grep -q "sweeping $W/base: [0-9]* removed" tty.out
    grep -q "removed 3 " tty.out
    TMPF_PROGRESS_DELAY=0 "$TMPF" sweep -o 1s base2 > pipe.out 2>&1
    grep -q "^removed 3 " pipe.out
    ! grep -q sweeping pipe.out
    ! grep -q $'\r' pipe.out
}

@test "du: table and JSON of live, orphaned and sweepable temporaries" {
    orphans
    capture "$TMPF" du -o 1s base
    [ "$rc" -eq 0 ]
    head -n1 "$W.out" | grep -Eqx "base: 3 temporaries, [0-9.]+K, oldest [0-9]+s"
    [ "$(sed -n 2p "$W.out" | tr -s ' ')" = "STATE COUNT SIZE" ]
    grep -Eq "^orphan +3 +24K$" "$W.out"
    grep -Eq "^sweepable +3 .*older than 1s" "$W.out"
    "$TMPF" run -d base sh -c '"$0" du --json -o 1s "$1" > "$1/../du.json"' "$TMPF" "$W/base"
    python3 - du.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["count"] == 4 and r["live"] == 1 and r["orphans"] == 3 and r["unknown"] == 0, r
assert r["sweepable"] == 3 and r["min_age"] == 1, r
assert r["bytes"] == r["live_bytes"] + r["orphan_bytes"] and r["orphan_bytes"] >= 12288, r
assert r["oldest_age"] >= 1
PY
    capture "$TMPF" du -p log_ -s .txt --json base
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["count"]==1 and r["sweepable"]==0 and r["min_age"]==86400, r' "$W.out"
    capture "$TMPF" du "$W/missing"
    [ "$rc" -eq 1 ]
    [ "$(cat "$W.err")" = "tmpf: du: cannot read $W/missing: No such file or directory" ]
    capture "$TMPF" du --dry-run base
    [ "$rc" -eq 2 ]
}
