/*
 * Spooled files against a reference model: a sequence of operations (write,
 * read, seek with every whence, truncate, rollover, fileno, tell) runs on a
 * tf_spooled_temporary_file() and on a plain growing byte buffer that does
 * what POSIX says a file does. After every step both returned the same (value
 * and errno), the position agrees, a file larger than max_size is on disk,
 * and a rolled-over file's descriptor holds the model's bytes at the model's
 * position. At the end the whole content is read back and compared, and no
 * descriptor is left.
 *
 * Input: one byte choosing max_size, then operations of a few bytes each.
 */
#include "fuzz.h"
#include "tftest.h"

#include <fcntl.h>
#include <unistd.h>

/* The model stays below this size (a write or truncate past it is skipped). */
#define CAP (1 << 20)

static const size_t MAX_SIZES[] = { 0, 1, 100, 511, 512, 513, 1000, 4096, 70000 };

struct model {
    unsigned char *b;
    uint64_t len, pos;
};

static void model_grow(struct model *m, uint64_t len)
{
    if (len > m->len) {
        memset(m->b + m->len, 0, len - m->len);
        m->len = len;
    }
}

/* The bytes a write of n bytes at position pos carries: position-dependent,
 * so that a misplaced byte shows. */
static void pattern(unsigned char *buf, size_t n, uint64_t pos, uint8_t salt)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)((pos + i) * 31 + salt);
}

/*
 * Offsets: small signed, or scaled up by the selector's chunk sizes; at most
 * 2^39, below what a disk file may reach on the usual filesystems (ext4:
 * 2^44), since past that lseek(2) fails where memory would not.
 */
static int64_t offset(struct fuzz_in *in)
{
    static const int64_t scale[] = { 1, 1, 1, 1, 512, 4096, 1 << 20, 1 << 24 };
    uint8_t sel = fuzz_u8(in);
    int16_t v = (int16_t)fuzz_u16(in);
    return v * scale[sel % 8];
}

static void same_result(const char *op, long got, int gerr, long want, int werr)
{
    FUZZ_CHECK(got == want, "%s returned %ld (errno %d), model %ld (errno %d)", op, got, gerr,
               want, werr);
    if (want < 0)
        FUZZ_CHECK(gerr == werr, "%s: errno %d, model errno %d", op, gerr, werr);
}

/* The rolled-over file's descriptor holds the model, at the model's position. */
static void check_disk(tf_file *f, const struct model *m)
{
    int fd = tf_file_fileno(f);
    FUZZ_CHECK(fd >= 0, "fileno: errno %d", errno);
    struct stat st;
    FUZZ_CHECK(fstat(fd, &st) == 0 && (uint64_t)st.st_size == m->len,
               "on disk %lld bytes, model %llu", (long long)st.st_size,
               (unsigned long long)m->len);
    FUZZ_CHECK((uint64_t)lseek(fd, 0, SEEK_CUR) == m->pos, "descriptor offset %lld, model %llu",
               (long long)lseek(fd, 0, SEEK_CUR), (unsigned long long)m->pos);
    unsigned char *buf = malloc(m->len + 1);
    FUZZ_CHECK(buf && pread(fd, buf, m->len, 0) == (ssize_t)m->len, "pread: errno %d", errno);
    FUZZ_CHECK(memcmp(buf, m->b, m->len) == 0, "bytes on disk differ from the model");
    free(buf);
}

static void op_write(tf_file *f, struct model *m, struct fuzz_in *in)
{
    static const size_t sizes[] = { 0, 1, 7, 511, 512, 513, 4096, 70000 };
    uint8_t a = fuzz_u8(in), salt = fuzz_u8(in);
    size_t n = a < 8 ? sizes[a] : a;
    if (m->pos + n > CAP)
        return;
    unsigned char *buf = malloc(n + 1);
    if (!buf)
        abort();
    pattern(buf, n, m->pos, salt);
    errno = 0;
    long got = (long)tf_file_write(f, buf, n);
    same_result("write", got, errno, (long)n, 0);
    if (n) {
        model_grow(m, m->pos);
        memcpy(m->b + m->pos, buf, n);
        m->pos += n;
        if (m->pos > m->len)
            m->len = m->pos;
    }
    free(buf);
}

static void op_read(tf_file *f, struct model *m, struct fuzz_in *in)
{
    size_t n = (size_t)fuzz_u16(in) % 9000;
    unsigned char *buf = malloc(n + 1);
    if (!buf)
        abort();
    long want = m->pos >= m->len ? 0 : (long)(m->len - m->pos < n ? m->len - m->pos : n);
    errno = 0;
    long got = (long)tf_file_read(f, buf, n);
    same_result("read", got, errno, want, 0);
    FUZZ_CHECK(memcmp(buf, m->b + m->pos, (size_t)want) == 0, "read bytes differ at %llu",
               (unsigned long long)m->pos);
    m->pos += (uint64_t)want;
    free(buf);
}

static void op_seek(tf_file *f, struct model *m, struct fuzz_in *in)
{
    int whence = (int)(fuzz_u8(in) % 4);   /* 3: a bad whence */
    int64_t off = offset(in);
    int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (int64_t)m->pos
                                                               : (int64_t)m->len;
    long want = (whence > SEEK_END || base + off < 0) ? -1 : (long)(base + off);
    errno = 0;
    long got = (long)tf_file_seek(f, off, whence);
    same_result("seek", got, errno, want, EINVAL);
    if (want >= 0)
        m->pos = (uint64_t)want;
}

static void op_truncate(tf_file *f, struct model *m, struct fuzz_in *in)
{
    int64_t size = offset(in);
    if (size > CAP)
        return;
    long want = size < 0 ? -1 : 0;
    errno = 0;
    long got = tf_file_truncate(f, size);
    same_result("truncate", got, errno, want, EINVAL);
    if (size >= 0) {
        if ((uint64_t)size < m->len)
            m->len = (uint64_t)size;
        else
            model_grow(m, (uint64_t)size);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    size_t max_size = MAX_SIZES[fuzz_u8(&in) % (sizeof MAX_SIZES / sizeof *MAX_SIZES)];
    int fds = fd_count();
    tf_file *f = tf_spooled_temporary_file(&(tf_opts){ .dir = fuzz_scratch(),
                                                        .max_size = max_size });
    FUZZ_CHECK(f, "tf_spooled_temporary_file: errno %d", errno);
    struct model m = { malloc(CAP), 0, 0 };
    if (!m.b)
        abort();
    bool rolled = false;
    for (int steps = 0; fuzz_more(&in) && steps < 200; steps++) {
        switch (fuzz_u8(&in) % 8) {
        case 0: case 1: op_write(f, &m, &in); break;
        case 2: op_read(f, &m, &in); break;
        case 3: op_seek(f, &m, &in); break;
        case 4: op_truncate(f, &m, &in); break;
        case 5: FUZZ_CHECK(tf_file_rollover(f) == 0, "rollover: errno %d", errno); break;
        case 6: check_disk(f, &m); break;
        default:
            FUZZ_CHECK((uint64_t)tf_file_tell(f) == m.pos, "tell %lld, model %llu",
                       (long long)tf_file_tell(f), (unsigned long long)m.pos);
        }
        FUZZ_CHECK((uint64_t)tf_file_tell(f) == m.pos, "position %lld, model %llu",
                   (long long)tf_file_tell(f), (unsigned long long)m.pos);
        int r = tf_file_rolled(f);
        FUZZ_CHECK(r == 0 || r == 1, "tf_file_rolled: %d", r);
        FUZZ_CHECK(!rolled || r, "back in memory after a rollover");
        FUZZ_CHECK(!max_size || m.len <= max_size || r,
                   "%llu bytes in memory, max_size %zu", (unsigned long long)m.len, max_size);
        rolled = r;
    }
    /* The whole content, read back through the handle. */
    FUZZ_CHECK(tf_file_seek(f, 0, SEEK_SET) == 0, "seek 0: errno %d", errno);
    m.pos = 0;
    while (m.pos < m.len) {
        uint64_t before = m.pos;
        struct fuzz_in chunk = { (const uint8_t *)"\x23\x27", 2 };   /* 8999 bytes */
        op_read(f, &m, &chunk);
        FUZZ_CHECK(m.pos > before, "read back stopped at %llu of %llu",
                   (unsigned long long)m.pos, (unsigned long long)m.len);
    }
    FUZZ_CHECK(tf_file_release(f) == 0, "release: errno %d", errno);
    FUZZ_CHECK(fd_count() == fds, "descriptors: %d open, %d before", fd_count(), fds);
    free(m.b);
    return 0;
}
