#!/usr/bin/env bats
# tmpf as shred, compared side by side with Debian's /usr/bin/shred on the
# same inputs: status, stderr byte for byte, what is left in the directory
# (names, types, modes, sizes) and whether the data was overwritten. Then
# what coreutils lacks: the filesystem report and the refusal.

load helpers

setup() {
    W=$BATS_TEST_TMPDIR/w
    mkdir -p "$W"
    # The comparisons need a filesystem that overwrites in place (a CI
    # container's overlayfs does not): tmpfs does.
    printf x >"$W/probe"
    if ! "$TMPF" shred -n0 "$W/probe" 2>/dev/null; then
        W=$(/usr/bin/mktemp -d /dev/shm/tmpf-shred-XXXXXX)
    fi
    rm -f "$W/probe"
    cd "$W"
}

teardown() {
    case $W in /dev/shm/*) rm -rf "$W" ;; esac
}

# An 8 KiB file of one byte: whole blocks, so that coreutils' slack (it
# leaves a file grown to its last block's end) and ours (overwritten, size
# kept) leave the same size.
mkfile() {   # mkfile NAME [BYTES] [CHAR]
    head -c "${2:-8192}" /dev/zero | tr '\0' "${3:-a}" >"$1"
}

# What is in the current directory: type, mode, size and name of each entry,
# and for each regular file whether it still holds only its first byte
# (kept), only zeros, or something else (overwritten).
listing() {
    local f kind
    find . -mindepth 1 -printf '%y %m %s %P\n' | sort
    find . -mindepth 1 -type f -printf '%P\n' | sort | while IFS= read -r f; do
        if [ ! -s "$f" ]; then kind=empty
        elif [ "$(tr -d a <"$f" | wc -c)" -eq 0 ]; then kind=kept
        elif [ "$(tr -d '\0' <"$f" | wc -c)" -eq 0 ]; then kind=zeros
        else kind=overwritten; fi
        echo "$f: $kind"
    done
}

# One run of BINARY as shred in a fresh directory made by the function
# `fixture`: status, stderr, the listing after.
shred_run() {   # shred_run DIR BINARY ARGS...
    local dir=$1 bin=$2; shift 2
    mkdir "$dir"
    (cd "$dir" && fixture)
    rc=0
    # shellcheck disable=SC2086
    (cd "$dir" && ${SHRED_WRAP:-} bash -c 'b=$1; shift; exec -a shred "$b" "$@"' - "$bin" "$@" \
        <"${SHRED_STDIN:-/dev/null}" >"$W/out" 2>"$W/err") || rc=$?
    report="rc=$rc
$(cat "$W/err")
$(cd "$dir" && listing)"
}

# coreutils' shred and tmpf's on the same fixture, with the same arguments:
# the same result required.
cmp_shred() {
    local n=$((++SHRED_N))
    shred_run "$W/gnu$n" /usr/bin/shred "$@"
    local gnu=$report
    shred_run "$W/tmpf$n" "$TMPF" "$@"
    if [ "$gnu" != "$report" ]; then
        echo "shred $*"
        echo "--- coreutils:"; echo "$gnu"
        echo "--- tmpf:"; echo "$report"
        return 1
    fi
}
SHRED_N=0

fixture() { mkfile f; mkfile g 4096; }

@test "shred: passes, zero pass, verbose messages" {
    cmp_shred f
    cmp_shred -v f
    cmp_shred -v -n 1 f g
    cmp_shred -v -n 2 -z f
    cmp_shred -vz f
    cmp_shred --verbose --iterations=3 --zero f
    cmp_shred -v -n 0 f
    cmp_shred -v -n 0 -z f
    cmp_shred -v -n 02 f
    cmp_shred -n ' 1' -v f
}

@test "shred: -v shows a long pass's progress as coreutils words it, every TMPF_PROGRESS_DELAY seconds" {
    mkfile big 3145728
    # A pass shorter than the default 5 seconds shows none, as coreutils.
    cmp_shred -v -n 1 big
    run env TMPF_PROGRESS_DELAY=0 "$TMPF" shred -v -n 1 -z big
    [ "$status" -eq 0 ]
    [ "$output" = "shred: big: pass 1/2 (random)...
shred: big: pass 1/2 (random)...1.0MiB/3.0MiB 33%
shred: big: pass 1/2 (random)...2.0MiB/3.0MiB 66%
shred: big: pass 1/2 (random)...3.0MiB/3.0MiB 100%
shred: big: pass 2/2 (000000)...
shred: big: pass 2/2 (000000)...1.0MiB/3.0MiB 33%
shred: big: pass 2/2 (000000)...2.0MiB/3.0MiB 66%
shred: big: pass 2/2 (000000)...3.0MiB/3.0MiB 100%" ]
    # A size rounds down, the total up, as coreutils' human_readable.
    mkfile odd 1500000
    run env TMPF_PROGRESS_DELAY=0 "$TMPF" shred -v -n 1 -x odd
    [ "$status" -eq 0 ]
    [ "$output" = "shred: odd: pass 1/1 (random)...
shred: odd: pass 1/1 (random)...1.0MiB/1.5MiB 69%
shred: odd: pass 1/1 (random)...1.4MiB/1.5MiB 100%" ]
}

@test "shred: removal, every mode, with its messages" {
    cmp_shred -u f
    cmp_shred -v -u f g
    cmp_shred -v -n1 --remove f
    cmp_shred -v -n1 --remove=wipesync f
    cmp_shred -v -n1 --remove=wipe f
    cmp_shred -v -n1 --remove=unlink f
    cmp_shred -v -n1 --remove=wipes f
    cmp_shred -v -n0 -u f
    cmp_shred -n1 --remove=w f
    cmp_shred -n1 --remove=foo f
    cmp_shred -n1 --remove= f
    fixture() { mkdir -p sub; mkfile sub/secret.txt; mkfile 0; mkfile 00; }
    cmp_shred -v -n1 -u sub/secret.txt
    cmp_shred -v -n1 -u ./0
    cmp_shred -v -n1 -u 00
}

@test "shred: exact, sizes and their suffixes" {
    fixture() { mkfile f 10000; mkfile g 100; }
    cmp_shred -x f g
    cmp_shred -v -x -n1 f
    for s in 0 10 1K 2k 1KB 1KiB K 1b 3c 1B 010 0x10 12000 ' 5'; do
        cmp_shred -v -n1 -s "$s" f g
        cmp_shred -n1 --size="$s" -u f
    done
}

@test "shred: bad -n and -s values" {
    for n in x -1 '' 3k 0x3 1.5 99999999999999999999 4611686018427387904; do
        cmp_shred -n "$n" f
    done
    for s in x 1Q -1 1m 1e 0x 1Y 1KiBx '' 9223372036854775808 18446744073709551616; do
        cmp_shred -s "$s" f
    done
    # At most 100 passes here (coreutils takes more): said plainly, status 1.
    capture "$TMPF" shred -n 101 f
    [ "$rc" -eq 1 ]
    [ "$(cat "$W.err")" = "shred: invalid number of passes: '101': at most 100" ]
}

@test "shred: usage errors, help, version" {
    cmp_shred
    cmp_shred -v
    cmp_shred --bogus f
    cmp_shred -q f
    cmp_shred -n
    cmp_shred --random-source=a --random-source=b f
    capture "$TMPF" shred --help
    [ "$rc" -eq 0 ]
    grep -q '^Usage: shred \[OPTION\]... FILE...' "$W.out"
    grep -q -- '--anyway' "$W.out"
    capture "$TMPF" shred --version
    [ "$rc" -eq 0 ]
    grep -q '^shred (tmpf, libtempfile) ' "$W.out"
}

@test "shred: missing file, directory, several files with one failing" {
    fixture() { mkfile f; mkfile g; mkdir d; }
    cmp_shred nonexist
    cmp_shred d
    cmp_shred -v -n1 f nonexist g
    cmp_shred -v -n1 -u f d g
    cmp_shred ''
    cmp_shred -u .
}

@test "shred: no write permission, and -f" {
    fixture() { mkfile f; chmod 444 f; mkfile g; chmod 0 g; chmod 777 .; }
    [ "$(id -u)" -eq 0 ] || skip "needs root to run as nobody"
    local d=$BATS_TEST_TMPDIR
    while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
    SHRED_WRAP="setpriv --reuid=nobody --regid=nogroup --clear-groups"
    cmp_shred -n1 f
    cmp_shred -n1 -f f g
    cmp_shred -v -n1 -f -u f g
}

@test "shred: a FIFO without a reader: refused at once, where coreutils blocks" {
    mkfifo fifo
    rc=0
    timeout 3 /usr/bin/shred fifo 2>/dev/null || rc=$?
    [ "$rc" -eq 124 ]   # coreutils still waits for a reader
    capture timeout 3 "$TMPF" shred fifo
    [ "$rc" -eq 1 ]
    [ "$(cat "$W.err")" = "shred: fifo: invalid file type" ]
    # With a reader coreutils gets as far: the same message.
    fixture() { mkfifo fifo; (exec 3<>fifo; sleep 5) & }
    cmp_shred fifo
    python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind("sock")'
    capture "$TMPF" shred sock
    [ "$rc" -eq 1 ]
    [ "$(cat "$W.err")" = "shred: sock: invalid file type" ]
}

@test "shred: - is standard output" {
    fixture() { mkfile f; }
    # Read-write, appending, read-only, closed.
    cmp_shred_stdout '1<>f' -v -n1 -
    cmp_shred_stdout '1<>f' -v -n1 -z -u -
    cmp_shred_stdout '1>>f' -n1 -
    cmp_shred_stdout '1<f' -n1 -
    cmp_shred_stdout '1>&-' -n1 -
    # Where we differ: an empty file opened read-only is refused too.
    : >empty
    run bash -c '"$1" shred -n1 - 1<empty' - "$TMPF"
    [ "$status" -eq 1 ]
    [[ $output == "shred: -: "* ]]
    /usr/bin/shred -n1 - 1<empty
}

@test "shred: standard output and error closed: -v's messages stay out of the file" {
    fixture() { mkfile f; }
    local out=() bin
    for bin in /usr/bin/shred "$TMPF"; do
        mkdir "s${#out[@]}"
        rc=0
        (cd "s${#out[@]}" && fixture && exec -a shred "$bin" -v -z -n1 f >&- 2>&-) || rc=$?
        out+=("rc=$rc $(cd "s${#out[@]}" && listing)")
    done
    [ "${out[0]}" = "${out[1]}" ]
    [[ ${out[1]} == *"f: zeros" ]]
}

# As cmp_shred, with standard output redirected by REDIR (in the directory).
cmp_shred_stdout() {
    local redir=$1; shift
    local n=$((++SHRED_N)) bin out=()
    for bin in /usr/bin/shred "$TMPF"; do
        mkdir "$W/s$n-${#out[@]}"
        (cd "$W/s$n-${#out[@]}" && fixture)
        rc=0
        (cd "$W/s$n-${#out[@]}" && eval "exec $redir" && exec -a shred "$bin" "$@" 2>"$W/err") || rc=$?
        out+=("rc=$rc $(cat "$W/err") $(cd "$W/s$n-${#out[@]}" && listing)")
    done
    if [ "${out[0]}" != "${out[1]}" ]; then
        echo "shred $redir $*"; echo "--- coreutils: ${out[0]}"; echo "--- tmpf: ${out[1]}"
        return 1
    fi
}

@test "shred: --random-source" {
    cmp_shred --random-source=/dev/null -n1 f
    cmp_shred --random-source=/nonexistent -n1 f
    # A read error (a directory), in coreutils' words.
    cmp_shred --random-source=/ -n1 f
    cmp_shred --random-source=/dev/urandom -v -n2 f g
    # Its bytes are the data of the passes.
    mkfile src 65536 Q
    mkfile f 5000
    "$TMPF" shred --random-source=src -n1 -x f
    [ "$(tr -d Q <f | wc -c)" -eq 0 ]
    [ "$(stat -c %s f)" -eq 5000 ]
}

@test "shred: names that need quoting" {
    fixture() { mkfile 'a b'; mkfile "it's"; mkfile 'a=b'; mkfile '~x'; mkfile 'x~'; }
    cmp_shred -v -n1 'a b' "it's" 'a=b' '~x' 'x~'
    cmp_shred -v -n1 -u 'a b'
    for n in 'no such' 'a!b' 'a$b' "a'b\"c" 'a"b' 'a\b' '#a' 'a#' 'a:b' 'a^b' 'a*b' a@b a%b,c+d; do
        cmp_shred "$n"
    done
    # What does not print is escaped, never written raw to the terminal.
    fixture() { mkfile "$(printf 'a\nb')"; mkfile "$(printf 'x\033[2Jy\t')"; mkfile "$(printf '\001z\200')"; }
    cmp_shred -v -n1 -u "$(printf 'a\nb')" "$(printf 'x\033[2Jy\t')" "$(printf '\001z\200')"
}

@test "shred: a symbolic link is refused, not followed" {
    mkfile target
    ln -s target link
    capture "$TMPF" shred -u link
    [ "$rc" -eq 1 ]
    grep -q "^shred: link: a symbolic link, not followed" "$W.err"
    [ -L link ] && [ "$(tr -d a <target | wc -c)" -eq 0 ]
}

@test "shred: the filesystem report, the refusal and --anyway" {
    mkfile f
    capture "$TMPF" shred --report -n1 f
    [ "$rc" -eq 0 ]
    grep -Eq '^shred: f: [^:]+: overwriting reaches the old data' "$W.err"
    # A second name keeps the file: overwriting is refused, nothing written.
    ln f f2
    capture "$TMPF" shred -v -u f
    [ "$rc" -eq 1 ]
    [ "$(cat "$W.err")" = "shred: f: refused, nothing written: overwriting cannot reach the old data on $(fsname .); more than one hard link (--anyway to overwrite regardless)" ] || { cat "$W.err"; false; }
    [ -e f ]
    mkfile g
    capture "$TMPF" shred -n1 g f g
    [ "$rc" -eq 1 ]
    [ "$(tr -d '\0a' <g | wc -c)" -gt 0 ]   # the others were shredded
    # coreutils shreds it (and says nothing).
    /usr/bin/shred -n1 f2
    mkfile f
    capture "$TMPF" shred --anyway --report -n1 f
    [ "$rc" -eq 0 ]
    grep -q "^shred: f: .*: overwriting cannot reach the old data; more than one hard link" "$W.err"
    grep -q "^shred: f: warning: overwritten (--anyway), but overwriting cannot reach the old data; more than one hard link" "$W.err"
    [ "$(tr -d a <f | wc -c)" -gt 0 ]
}

# The name the report gives the filesystem of DIR.
fsname() {
    case $(stat -f -c %T "$1") in
        ext2/ext3) echo ext2/ext3/ext4 ;;
        *) stat -f -c %T "$1" ;;
    esac
}

@test "shred: tmpfs is reported as memory" {
    d=$(/usr/bin/mktemp -d /dev/shm/tmpf-shred-XXXXXX)
    head -c 100 /dev/zero >"$d/f"
    capture "$TMPF" shred --report -u "$d/f"
    rm -rf "$d"
    [ "$rc" -eq 0 ]
    grep -q "^shred: $d/f: tmpfs: overwriting reaches the old data; memory filesystem" "$W.err"
}

@test "shred: multi-call: tmpf shred and a link named shred speak as shred" {
    ln -s "$TMPF" shred
    mkfile f
    capture ./shred -v -n1 f
    [ "$rc" -eq 0 ]
    [ "$(cat "$W.err")" = "./shred: f: pass 1/1 (random)..." ]
    capture "$TMPF" shred -q
    [ "$rc" -eq 1 ]
    [ "$(head -1 "$W.err")" = "shred: invalid option -- 'q'" ]
    [ "$(tail -1 "$W.err")" = "Try 'shred --help' for more information." ]
}
