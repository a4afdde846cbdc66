/*
 * What filesystem a file is on, and whether overwriting it in place can reach
 * its old blocks: the report behind every shred (tf_shred_probe()).
 *
 * Sources, each cheap and read-only: fstatfs(2)'s f_type for the kind of
 * filesystem, st_nlink, FIEMAP for extents shared with another file (a
 * reflink), the inode flag FS_JOURNAL_DATA_FL and the mount's options in
 * /proc/self/mountinfo for ext3/ext4 data=journal, /proc/fs/jbd2 for a
 * metadata journal, /proc/swaps for swap behind tmpfs.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* statfs f_type values (linux/magic.h has most; bcachefs and zfs are out of tree). */
#define M_EXT 0xEF53UL
#define M_XFS 0x58465342UL
#define M_BTRFS 0x9123683EUL
#define M_BCACHEFS 0xca451a4eUL
#define M_ZFS 0x2fc12fc1UL
#define M_OVERLAY 0x794c7630UL
#define M_F2FS 0xF2F52010UL
#define M_NILFS 0x3434UL
#define M_TMPFS 0x01021994UL
#define M_RAMFS 0x858458f6UL

struct kind {
    unsigned long magic;
    unsigned why;
};

static const struct kind kinds[] = {
    { M_EXT, 0 }, { M_XFS, TF_FS_METADATA_JOURNAL },
    { 0x4d44UL, 0 },          /* vfat, msdos */
    { 0x2011BAB0UL, 0 },      /* exfat */
    { 0x3153464aUL, TF_FS_METADATA_JOURNAL },  /* jfs */
    { 0x52654973UL, TF_FS_METADATA_JOURNAL },  /* reiserfs */
    { 0x5346544eUL, TF_FS_METADATA_JOURNAL },  /* ntfs, ntfs3 */
    { 0x482bUL, TF_FS_METADATA_JOURNAL },      /* hfsplus */
    { M_BTRFS, TF_FS_COPY_ON_WRITE }, { M_BCACHEFS, TF_FS_COPY_ON_WRITE },
    { M_ZFS, TF_FS_COPY_ON_WRITE }, { M_OVERLAY, TF_FS_COPY_ON_WRITE },
    { M_F2FS, TF_FS_LOG_STRUCTURED }, { M_NILFS, TF_FS_LOG_STRUCTURED },
    { M_TMPFS, TF_FS_MEMORY }, { M_RAMFS, TF_FS_MEMORY },
    { 0x6969UL, TF_FS_NETWORK },       /* nfs */
    { 0xFF534D42UL, TF_FS_NETWORK },   /* cifs */
    { 0xFE534D42UL, TF_FS_NETWORK },   /* smb2/smb3 */
    { 0x517BUL, TF_FS_NETWORK },       /* smb */
    { 0x00c36400UL, TF_FS_NETWORK },   /* ceph */
    { 0x01021997UL, TF_FS_NETWORK },   /* 9p (v9fs) */
    { 0x6B414653UL, TF_FS_NETWORK },   /* afs */
    { 0x65735546UL, TF_FS_NETWORK },   /* fuse: whatever the daemon does */
};

static unsigned kind_of(unsigned long magic)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (kinds[i].magic == magic)
            return kinds[i].why;
    return TF_FS_UNKNOWN;
}

bool tf__fs_preallocates(int fd)
{
    struct statfs sf;
    return tf__sys.fstatfs(fd, &sf) == 0 &&
           !(kind_of((unsigned long)sf.f_type) & (TF_FS_MEMORY | TF_FS_NETWORK));
}

/* Reads a small /proc file whole into buf (NUL-terminated); its length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
    int fd = tf__sys.openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    size_t got = 0;
    while (got + 1 < size) {
        ssize_t r = tf__sys.read(fd, buf + got, size - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    tf__close_keep_errno(fd);
    buf[got] = '\0';
    return (ssize_t)got;
}

/* Swap is active: /proc/swaps has a line past its header. */
static bool swap_active(void)
{
    char buf[512];
    if (read_small("/proc/swaps", buf, sizeof buf) < 0)
        return true;   /* cannot tell: say it may be */
    char *nl = strchr(buf, '\n');
    return nl && nl[1] != '\0';
}

/* Any extent shared with another file? -1 (errno) if FIEMAP is not there. */
static int shared_extents(int fd)
{
    enum { N = 32 };
    union {
        struct fiemap fm;
        char room[sizeof(struct fiemap) + N * sizeof(struct fiemap_extent)];
    } u;
    uint64_t start = 0;
    for (;;) {
        memset(&u, 0, sizeof u);
        u.fm.fm_start = start;
        u.fm.fm_length = FIEMAP_MAX_OFFSET - start;
        u.fm.fm_flags = FIEMAP_FLAG_SYNC;
        u.fm.fm_extent_count = N;
        if (tf__sys.ioctl(fd, FS_IOC_FIEMAP, &u.fm) < 0)
            return -1;
        if (u.fm.fm_mapped_extents == 0)
            return 0;
        for (unsigned i = 0; i < u.fm.fm_mapped_extents; i++) {
            const struct fiemap_extent *e = &u.fm.fm_extents[i];
            if (e->fe_flags & FIEMAP_EXTENT_SHARED)
                return 1;
            if (e->fe_flags & FIEMAP_EXTENT_LAST)
                return 0;
            start = e->fe_logical + e->fe_length;
        }
    }
}

/* Whether the mountinfo line at p (NUL-terminated) is mount id mnt's; then
 * it is copied into line. */
static bool line_of(const char *p, uint64_t mnt, char *line, size_t size)
{
    if (strtoull(p, NULL, 10) != mnt)
        return false;
    snprintf(line, size, "%s", p);
    return true;
}

/*
 * The mountinfo line of mount id mnt, copied into line; 0 or -1. Read line
 * by line through a bounded buffer, whatever the file's size: a host with
 * thousands of mounts (containers) has a mountinfo of megabytes, and the
 * newest mount, the one most likely asked about, comes last.
 */
static int mount_line(uint64_t mnt, char *line, size_t size)
{
    enum { CAP = 64 * 1024 };
    char *buf = tf__sys.malloc(CAP + 1);
    if (!buf)
        return -1;
    int fd = tf__sys.openat(AT_FDCWD, "/proc/self/mountinfo", O_RDONLY | O_CLOEXEC, 0);
    int rc = -1;
    size_t len = 0;
    bool skipping = false;   /* in the rest of a line longer than buf */
    while (fd >= 0 && rc < 0) {
        ssize_t r = tf__sys.read(fd, buf + len, CAP - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
        char *p = buf, *nl;
        while (rc < 0 && (nl = memchr(p, '\n', len - (size_t)(p - buf)))) {
            *nl = '\0';
            if (!skipping && line_of(p, mnt, line, size))
                rc = 0;
            skipping = false;
            p = nl + 1;
        }
        len -= (size_t)(p - buf);
        memmove(buf, p, len);
        if (len == CAP) {   /* no line end in a whole buffer: skip that line */
            len = 0;
            skipping = true;
        }
    }
    if (rc < 0 && len > 0 && !skipping) {   /* a last line without its newline */
        buf[len] = '\0';
        rc = line_of(buf, mnt, line, size) ? 0 : -1;
    }
    if (fd >= 0)
        tf__close_keep_errno(fd);
    free(buf);
    return rc;
}

/* Whether the comma-separated list opts holds the option opt. */
static bool has_option(const char *opts, const char *opt)
{
    size_t n = strlen(opt);
    for (const char *p = opts; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (strncmp(p, opt, n) == 0 && (p[n] == ',' || p[n] == '\0' || p[n] == ' '))
            return true;
    return false;
}

/*
 * Whether jbd2 runs an internal journal (inode 8) for the device: it names
 * it by the kernel's name of the device (sda1, loop0, dm-0), which only
 * /sys tells; the mount's source may be any path to the node
 * (/dev/mapper/vg-root, /dev/disk/by-uuid/..., a link of one's own).
 */
static bool jbd2_runs(unsigned major, unsigned minor)
{
    char sys[64], target[PATH_MAX], path[PATH_MAX + 32];
    snprintf(sys, sizeof sys, "/sys/dev/block/%u:%u", major, minor);
    ssize_t n = tf__sys.readlinkat(AT_FDCWD, sys, target, sizeof target - 1);
    if (n <= 0)
        return false;
    target[n] = '\0';
    const char *name = strrchr(target, '/');
    snprintf(path, sizeof path, "/proc/fs/jbd2/%s-8", name ? name + 1 : target);
    struct stat st;
    return tf__sys.fstatat(AT_FDCWD, path, &st, 0) == 0;
}

/* ext3/ext4: data=journal as the file's flag or in the super options (after
 * " - type source "), and a metadata journal if jbd2 runs for the device. */
static unsigned ext_journal(int fd)
{
    unsigned why = 0;
    int attr = 0;
    if (tf__sys.ioctl(fd, FS_IOC_GETFLAGS, &attr) == 0 && (attr & FS_JOURNAL_DATA_FL))
        why |= TF_FS_DATA_JOURNAL;
    struct statx sx;
    if (tf__sys.statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) < 0)
        return why;
    if (jbd2_runs(sx.stx_dev_major, sx.stx_dev_minor))
        why |= TF_FS_METADATA_JOURNAL;
    char line[4096], opts[2048];
    const char *sep;
    if ((sx.stx_mask & STATX_MNT_ID) && mount_line(sx.stx_mnt_id, line, sizeof line) == 0 &&
        (sep = strstr(line, " - ")) && sscanf(sep, " - %*s %*s %2047s", opts) == 1 &&
        has_option(opts, "data=journal"))
        why |= TF_FS_DATA_JOURNAL;
    return why;
}

int tf__fs_report(int fd, const struct stat *st, tf_shred_report *r)
{
    struct statfs sf;
    if (tf__sys.fstatfs(fd, &sf) < 0)
        return -1;
    r->fs_type = (unsigned long)sf.f_type;
    unsigned why = kind_of(r->fs_type);
    if (st->st_nlink > 1)
        why |= TF_FS_HARD_LINKS;
    if (r->fs_type == M_TMPFS && swap_active())
        why |= TF_FS_SWAP;
    if (r->fs_type == M_EXT)
        why |= ext_journal(fd);
    if (!(why & TF_FS_MEMORY)) {
        int sh = shared_extents(fd);
        if (sh > 0)
            why |= TF_FS_SHARED_EXTENTS;
        else if (sh < 0)
            why |= TF_FS_EXTENTS_UNKNOWN;
    }
    r->why |= why;
    r->effective = !(r->why & TF_FS_INEFFECTIVE);
    return 0;
}

int tf_shred_probe(int fd, tf_shred_report *report)
{
    struct stat st;
    if (!report) {
        errno = EINVAL;
        return -1;
    }
    if (tf__sys.fstat(fd, &st) < 0)
        return -1;
    tf_shred_report r = {0};
    if (tf__fs_report(fd, &st, &r) < 0)
        return -1;
    *report = r;
    return 0;
}

static const char *const reasons[] = {
    [0] = "copy-on-write filesystem",
    [1] = "log-structured filesystem",
    [2] = "extents shared with another file (reflink)",
    [3] = "data journalled (ext3/ext4 data=journal)",
    [4] = "more than one hard link",
    [5] = "network or FUSE filesystem",
    [6] = "filesystem not known to overwrite in place",
    [8] = "memory filesystem",
    [9] = "memory pages may have copies in swap",
    [10] = "metadata journal may keep the old name and size",
    [11] = "shared extents could not be checked (no FIEMAP)",
    [12] = "process memory (spooled file)",
};

const char *tf_shred_reason(unsigned bit)
{
    if (bit == 0 || (bit & (bit - 1)))
        return NULL;
    unsigned i = (unsigned)__builtin_ctz(bit);
    return i < sizeof reasons / sizeof reasons[0] ? reasons[i] : NULL;
}
