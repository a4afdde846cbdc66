/*
 * The shred calls on files the input describes: regular files of any size
 * with holes (data written at chosen offsets), of several modes, hard links
 * between them, a symbolic link to a witness file outside, FIFOs and socket
 * nodes, in a tree; shredded by path (tf_shred, tf_shredat), as a tree
 * (tf_shred_tree, tf_shred_treeat) or through a handle (named, unnamed,
 * spooled in memory or rolled over: tf_file_shred), with passes, flags and
 * bad options from the input. Oracle: a success overwrote every data region
 * (zeros after TF_SHRED_ZERO; else no 8 bytes of the old pattern left in
 * place), left holes (whole blocks without data) holes and the size as it was, or, with
 * TF_SHRED_REMOVE, removed the names (the whole tree); a refusal
 * (EMEDIUMTYPE: hard links without TF_SHRED_FORCE) wrote nothing; a failure
 * has an errno the header documents, the exact one where the case is clear
 * (bad options EINVAL, a FIFO or socket EINVAL, a link ELOOP, a directory
 * EISDIR, a missing name ENOENT); a file left by a failed removal is where
 * report->left says; the witness outside and every file not shredded are
 * unchanged; no descriptor left.
 *
 * Works on tmpfs (/dev/shm) where there is one: every pass is synced.
 *
 * Input: how (call and target), passes, flags, then three bytes per entry
 * (kind, size, layout and mode).
 */
#include "fuzz.h"
#include "tftest.h"

#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define ENTRIES 8
#define SEGS 4

enum kind { K_FILE, K_HARDLINK, K_SYMLINK, K_FIFO, K_SOCK, K_DIR, K_MISSING, NKINDS };

struct entry {
    enum kind kind;
    char name[16];          /* in the tree, or in its subdirectory "sub" */
    int link_to;            /* K_HARDLINK: the entry it is another name of */
    off_t size;
    off_t seg_off[SEGS], seg_len[SEGS];   /* data regions; the rest is holes */
    int nsegs;
    bool holes_unknown;     /* zeros written as data may stand for holes */
    mode_t mode;
};

static struct {
    char *base, *root, *witness;
    int rootfd;
    struct entry e[ENTRIES];
    int n;
} S;

static const int DOCUMENTED[] = { EINVAL, EBADF, EMEDIUMTYPE, EBUSY, ESTALE, ENOMEM, ENOSPC,
                                  EIO, EDQUOT, EACCES, EISDIR, ELOOP, ENOENT, ENOTDIR,
                                  EMFILE, EXDEV, ENOTEMPTY, EPERM, 0 };

static unsigned char pattern(off_t off)
{
    return (unsigned char)('A' + off % 23);
}

static char *entry_path(const struct entry *e)
{
    return path_join(S.root, e->name);
}

/* Data regions of size bytes: up to SEGS, at offsets the layout byte picks. */
static void layout(struct entry *e, uint8_t lay, off_t size)
{
    e->size = size;
    e->nsegs = 0;
    if (!size)
        return;
    int segs = 1 + lay % SEGS;
    off_t step = size / segs ? size / segs : size;
    for (int i = 0; i < segs && e->nsegs < SEGS; i++) {
        off_t off = (off_t)i * step + ((lay >> 2) & 1 ? step / 2 : 0);
        off_t len = (lay >> 3) & 1 ? step / 3 + 1 : step;
        if (off >= size)
            break;
        if (off + len > size)
            len = size - off;
        e->seg_off[e->nsegs] = off;
        e->seg_len[e->nsegs++] = len;
    }
    /* The end must be where size says: the last byte is data if no segment
     * reaches it (ftruncate makes the rest a hole). */
}

static bool in_data(const struct entry *e, off_t off)
{
    for (int i = 0; i < e->nsegs; i++)
        if (off >= e->seg_off[i] && off < e->seg_off[i] + e->seg_len[i])
            return true;
    return false;
}

/* A hole the filesystem knows: a whole block without data (SEEK_HOLE's
 * granularity; a gap inside a block holding data is data to it). */
#define BLOCK 4096
static bool in_hole(const struct entry *e, off_t off)
{
    off_t b = off - off % BLOCK;
    for (int i = 0; i < e->nsegs; i++)
        if (e->seg_off[i] < b + BLOCK && e->seg_off[i] + e->seg_len[i] > b)
            return false;
    return true;
}

static void write_segments(int fd, const struct entry *e)
{
    unsigned char buf[4096];
    for (int i = 0; i < e->nsegs; i++) {
        for (off_t done = 0; done < e->seg_len[i]; ) {
            off_t at = e->seg_off[i] + done;
            size_t n = (size_t)(e->seg_len[i] - done < (off_t)sizeof buf
                                ? e->seg_len[i] - done : (off_t)sizeof buf);
            for (size_t k = 0; k < n; k++)
                buf[k] = pattern(at + (off_t)k);
            FUZZ_CHECK(pwrite(fd, buf, n, at) == (ssize_t)n, "pwrite: %s", errname(errno));
            done += (off_t)n;
        }
    }
    FUZZ_CHECK(ftruncate(fd, e->size) == 0, "ftruncate");
}

static void make_entry(struct entry *e)
{
    char *p = entry_path(e);
    switch (e->kind) {
    case K_FILE: {
        int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        FUZZ_CHECK(fd >= 0, "create %s: %s", p, errname(errno));
        write_segments(fd, e);
        fchmod(fd, e->mode);
        close(fd);
        break;
    }
    case K_HARDLINK: {
        char *t = entry_path(&S.e[e->link_to]);
        FUZZ_CHECK(link(t, p) == 0, "link %s: %s", p, errname(errno));
        free(t);
        break;
    }
    case K_SYMLINK:
        FUZZ_CHECK(symlink(S.witness, p) == 0, "symlink %s", p);
        break;
    case K_FIFO:
        FUZZ_CHECK(mkfifo(p, 0600) == 0, "mkfifo %s", p);
        break;
    case K_SOCK:
        FUZZ_CHECK(mknod(p, S_IFSOCK | 0600, 0) == 0, "mknod %s", p);
        break;
    case K_DIR:
        FUZZ_CHECK(mkdir(p, 0700) == 0, "mkdir %s", p);
        break;
    case K_MISSING:
    case NKINDS:
        break;
    }
    free(p);
}

/* The entry whose file e is (itself, or what a hard link names). */
static const struct entry *file_of(const struct entry *e)
{
    return e->kind == K_HARDLINK ? &S.e[e->link_to] : e;
}

static void build(struct fuzz_in *in)
{
    S.n = 0;
    int files = 0;
    while (fuzz_more(in) && S.n < ENTRIES) {
        uint8_t k = fuzz_u8(in), sz = fuzz_u8(in), lay = fuzz_u8(in);
        struct entry *e = &S.e[S.n];
        memset(e, 0, sizeof *e);
        e->kind = (enum kind)(k % NKINDS);
        if (e->kind == K_HARDLINK && !files)
            e->kind = K_FILE;
        snprintf(e->name, sizeof e->name, "e%d", S.n);
        if (e->kind == K_HARDLINK) {
            int pick = (k / NKINDS) % files;
            for (int i = 0; i < S.n; i++)
                if (S.e[i].kind == K_FILE && pick-- == 0)
                    e->link_to = i;
        }
        /* Unreadable ones only as root, who still reads them for the oracle. */
        static const mode_t MODES[] = { 0600, 0644, 0400, 0700, 0200, 0000 };
        e->mode = MODES[(lay >> 4) % (running_as_root() ? 6 : 4)];
        /* Sizes from 0 to about 300 KiB, most small. */
        off_t size = sz < 200 ? sz * 37 : (off_t)(sz - 199) * 5000;
        layout(e, lay, size);
        files += e->kind == K_FILE;
        make_entry(e);
        S.n++;
    }
}

/* ---- checks ----------------------------------------------------------------- */

enum outcome { UNCHANGED, OVERWRITTEN, ZEROED, GONE };

static void check_file(const char *path, const struct entry *e, enum outcome want,
                       const char *what)
{
    bool proc = strncmp(path, "/proc/", 6) == 0;   /* a magic link: followed */
    int fd = open(path, O_RDONLY | O_CLOEXEC | (proc ? 0 : O_NOFOLLOW));
    if (want == GONE) {
        FUZZ_CHECK(fd < 0 && errno == ENOENT, "%s: %s still there", what, path);
        return;
    }
    FUZZ_CHECK(fd >= 0, "%s: %s: %s", what, path, errname(errno));
    struct stat st;
    FUZZ_CHECK(fstat(fd, &st) == 0 && st.st_size == e->size, "%s: %s size %lld, not %lld",
               what, path, (long long)st.st_size, (long long)e->size);
    unsigned char buf[8192];
    off_t off = 0, same = 0, words = 0;
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < r; i++, off++) {
            bool data = in_data(e, off);
            unsigned char old = data ? pattern(off) : 0;
            bool hole = !data && in_hole(e, off) && !e->holes_unknown;
            if (hole || want == UNCHANGED || want == ZEROED)
                FUZZ_CHECK(buf[i] == (want == UNCHANGED ? old : 0),
                           "%s: %s byte %lld is %u, not %u (%s)", what, path, (long long)off,
                           buf[i], want == UNCHANGED ? old : 0,
                           !data ? "a hole" : want == ZEROED ? "zeroed" : "unchanged");
        }
        /* Random passes: no aligned 8 bytes of the old data still in place. */
        for (ssize_t i = 0; want == OVERWRITTEN && i + 8 <= r; i += 8) {
            off_t at = off - r + i;
            if (!in_data(e, at) || !in_data(e, at + 7))
                continue;
            words++;
            bool all = true;
            for (int k = 0; k < 8; k++)
                all &= buf[i + k] == pattern(at + k);
            same += all;
        }
    }
    close(fd);
    FUZZ_CHECK(same == 0, "%s: %s keeps %lld of %lld words of its old data", what, path,
               (long long)same, (long long)words);
}

static void check_witness(void)
{
    char *s = read_file_str(S.witness);
    FUZZ_CHECK(s && strcmp(s, "outside, never touched") == 0, "the witness outside changed");
    free(s);
}

/* ---- the calls ---------------------------------------------------------------- */

struct call {
    tf_shred_opts o;
    bool bad;
    unsigned flags;
};

static struct call pick_opts(struct fuzz_in *in)
{
    uint8_t p = fuzz_u8(in), f = fuzz_u8(in);
    struct call c = { { 0 }, false, 0 };
    c.o.passes = p < 250 ? p % 4 : 101;
    c.o.flags = (f & 1 ? TF_SHRED_ZERO : 0) | (f & 2 ? TF_SHRED_REMOVE : 0) |
                (f & 4 ? TF_SHRED_EXACT : 0) | (f & 8 ? TF_SHRED_FORCE : 0) |
                (f & 0x80 && p & 0x80 ? 1u << 26 : 0);
    if (f >= 0x70 && f < 0x78)
        c.o.reserved[f % (sizeof c.o.reserved / sizeof c.o.reserved[0])] = 7;
    c.bad = c.o.passes > 100 || (c.o.flags & (1u << 26)) || (f >= 0x70 && f < 0x78);
    c.flags = c.o.flags;
    return c;
}

/* How a shredded file must look after a success. */
static enum outcome done_outcome(unsigned flags)
{
    return flags & TF_SHRED_REMOVE ? GONE : flags & TF_SHRED_ZERO ? ZEROED : OVERWRITTEN;
}

static bool has_links(const struct entry *t)
{
    for (int i = 0; i < S.n; i++)
        if (S.e[i].kind == K_HARDLINK && (S.e[i].link_to == t - S.e || &S.e[i] == t))
            return true;
    return false;
}

/* Every other entry, as it was (hard links to the target excepted). */
static void check_others(const struct entry *t, const char *what)
{
    for (int i = 0; i < S.n; i++) {
        const struct entry *e = &S.e[i];
        if (e == t || (e->kind != K_FILE && e->kind != K_HARDLINK) ||
            (t && file_of(e) == file_of(t)))
            continue;
        char *p = entry_path(e);
        check_file(p, file_of(e), UNCHANGED, what);
        free(p);
    }
}

static void shred_path(struct fuzz_in *in, bool at)
{
    struct entry *t = &S.e[fuzz_u8(in) % S.n];
    struct call c = pick_opts(in);
    char *p = entry_path(t);
    tf_shred_report r;
    memset(&r, 0, sizeof r);
    errno = 0;
    int rc = at ? tf_shredat(S.rootfd, t->name, &c.o, &r) : tf_shred(p, &c.o, &r);
    int err = errno;
    const char *what = at ? "tf_shredat" : "tf_shred";
    int want = c.bad ? EINVAL : 0;
    if (!want) {
        switch (t->kind) {
        case K_FIFO: case K_SOCK: want = EINVAL; break;
        case K_SYMLINK: want = ELOOP; break;
        case K_DIR: want = EISDIR; break;
        case K_MISSING: want = ENOENT; break;
        default:
            if (has_links(t) && !(c.flags & TF_SHRED_FORCE))
                want = EMEDIUMTYPE;
        }
    }
    if (want)
        FUZZ_CHECK(rc < 0 && err == want, "%s %s: %s, not %s", what, t->name,
                   rc == 0 ? "success" : errname(err), errname(want));
    if (rc == 0) {
        FUZZ_CHECK(r.files == 1 && (r.effective || (c.flags & TF_SHRED_FORCE)) && !r.left[0],
                   "%s: report files %zu effective %d left '%s'", what, r.files, r.effective,
                   r.left);
        check_file(p, file_of(t), done_outcome(c.flags), what);
        /* Another name of the file sees the new bytes, or (removed) the
         * emptied file. */
    } else {
        FUZZ_CHECK(fuzz_in_set(err, DOCUMENTED), "%s: undocumented errno %s", what, errname(err));
        if (err == EMEDIUMTYPE || err == EINVAL || err == ENOENT)
            if (t->kind == K_FILE || t->kind == K_HARDLINK)
                check_file(p, file_of(t), UNCHANGED, what);
        if (r.left[0]) {
            char *l = path_join(S.root, r.left);
            FUZZ_CHECK(path_exists(l), "%s: the report says left as %s, not there", what, l);
            free(l);
        }
    }
    check_others(t, what);
    free(p);
}

static void shred_tree(struct fuzz_in *in, bool at)
{
    struct call c = pick_opts(in);
    tf_shred_report r;
    memset(&r, 0, sizeof r);
    bool links = false;
    size_t files = 0;
    for (int i = 0; i < S.n; i++) {
        links |= S.e[i].kind == K_HARDLINK;
        files += S.e[i].kind == K_FILE || S.e[i].kind == K_HARDLINK;
    }
    errno = 0;
    int rc = at ? tf_shred_treeat(AT_FDCWD, S.root, &c.o, &r) : tf_shred_tree(S.root, &c.o, &r);
    int err = errno;
    const char *what = at ? "tf_shred_treeat" : "tf_shred_tree";
    int want = c.bad ? EINVAL : links && !(c.flags & TF_SHRED_FORCE) ? EMEDIUMTYPE : 0;
    if (want)
        FUZZ_CHECK(rc < 0 && err == want, "%s: %s, not %s", what,
                   rc == 0 ? "success" : errname(err), errname(want));
    if (rc == 0) {
        FUZZ_CHECK(links || r.files == files, "%s: %zu files reported, %zu there", what,
                   r.files, files);
        if (c.flags & TF_SHRED_REMOVE) {
            FUZZ_CHECK(!path_exists(S.root), "%s: the tree stays", what);
        } else {
            for (int i = 0; i < S.n; i++) {
                if (S.e[i].kind != K_FILE && S.e[i].kind != K_HARDLINK)
                    continue;
                char *p = entry_path(&S.e[i]);
                check_file(p, file_of(&S.e[i]), done_outcome(c.flags), what);
                free(p);
            }
        }
    } else {
        FUZZ_CHECK(fuzz_in_set(err, DOCUMENTED), "%s: undocumented errno %s", what, errname(err));
        if (err == EMEDIUMTYPE || err == EINVAL)
            check_others(NULL, what);
    }
}

/* A handle holding the first regular entry's layout. */
static void shred_handle(struct fuzz_in *in)
{
    uint8_t how = fuzz_u8(in);
    struct call c = pick_opts(in);
    struct entry model = { .kind = K_FILE };
    layout(&model, fuzz_u8(in), (off_t)fuzz_u16(in) % 70000);
    tf_opts o = { .dir = S.root, .max_size = (size_t)(how >> 2) * 1024 };
    tf_file *f = how % 3 == 0 ? tf_named_temporary_file(&o)
               : how % 3 == 1 ? tf_temporary_file(&o) : tf_spooled_temporary_file(&o);
    FUZZ_CHECK(f, "a temporary file: %s", errname(errno));
    int fd = how % 3 == 2 ? -1 : tf_file_fileno(f);
    if (fd >= 0) {
        write_segments(fd, &model);
    } else {
        /* Through the handle: a spooled file stays in memory up to max_size. */
        unsigned char b = 0;
        for (int i = 0; i < model.nsegs; i++) {
            for (off_t k = 0; k < model.seg_len[i]; k++) {
                b = pattern(model.seg_off[i] + k);
                FUZZ_CHECK(tf_file_seek(f, model.seg_off[i] + k, SEEK_SET) >= 0 &&
                           tf_file_write(f, &b, 1) == 1, "spooled write");
            }
        }
        FUZZ_CHECK(tf_file_truncate(f, model.size) == 0, "spooled truncate");
        model.holes_unknown = true;
    }
    bool memory = tf_file_rolled(f) == 0;
    const char *name = tf_file_name(f);
    char *named = name ? strdup(name) : NULL;
    tf_shred_report r;
    memset(&r, 0, sizeof r);
    errno = 0;
    int rc = tf_file_shred(f, &c.o, &r);
    int err = errno;
    if (c.bad)
        FUZZ_CHECK(rc < 0 && err == EINVAL, "tf_file_shred, bad options: %s",
                   rc == 0 ? "success" : errname(err));
    if (rc == 0) {
        FUZZ_CHECK(!memory || r.why == TF_FS_PROCESS_MEMORY, "in memory, why %#x", r.why);
        /* In memory the bytes are wiped to zeros whatever the flags. */
        unsigned flags = memory ? c.flags | TF_SHRED_ZERO : c.flags;
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", tf_file_fileno(f));
        if (flags & TF_SHRED_REMOVE) {
            FUZZ_CHECK(tf_file_seek(f, 0, SEEK_END) == 0, "removed: the file is not empty");
            FUZZ_CHECK(!named || !path_exists(named), "removed: %s stays", named);
        } else {
            check_file(proc, &model, done_outcome(flags), "tf_file_shred");
        }
    } else {
        FUZZ_CHECK(fuzz_in_set(err, DOCUMENTED), "tf_file_shred: undocumented errno %s",
                   errname(err));
    }
    FUZZ_CHECK(tf_file_release(f) == 0, "release after the shred: %s", errname(errno));
    FUZZ_CHECK(!named || !path_exists(named) || r.left[0], "%s stays after release", named);
    free(named);
}

static char shm[] = "/dev/shm/tffuzz-XXXXXX";

static void remove_shm(void)
{
    remove_tree(shm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    if (!S.base) {
        S.base = mkdtemp(shm) ? shm : (char *)fuzz_scratch();
        if (S.base == shm)
            atexit(remove_shm);
        S.root = path_join(S.base, "tree");
        S.witness = path_join(S.base, "outside");
    }
    remove_tree(S.root);
    unlink(S.witness);
    FUZZ_CHECK(write_file(S.base, "outside", "outside, never touched") == 0, "the witness");
    FUZZ_CHECK(mkdir(S.root, 0700) == 0, "mkdir %s: %s", S.root, errname(errno));
    S.rootfd = open(S.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int fds = fd_count();
    uint8_t how = fuzz_u8(&in);
    struct fuzz_in args = in;   /* the call's arguments come first, then the entries */
    in.p += 8 < in.n ? 8 : in.n;
    in.n -= 8 < in.n ? 8 : in.n;
    build(&in);
    if (S.n == 0)
        how = 4;
    switch (how % 5) {
    case 0: shred_path(&args, false); break;
    case 1: shred_path(&args, true); break;
    case 2: shred_tree(&args, how & 0x80); break;
    case 3: shred_handle(&args); break;
    default: shred_handle(&args); break;
    }
    check_witness();
    FUZZ_CHECK(fd_count() == fds, "%d descriptors open, %d before", fd_count(), fds);
    close(S.rootfd);
    return 0;
}
