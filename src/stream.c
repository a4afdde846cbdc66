/*
 * The FILE * view of a temporary file, through fopencookie(3). The cookie is
 * the handle itself, so the stream follows whatever backs the file, across a
 * spooled file's rollover too. The handle owns the file; fclose of the view
 * only flushes and detaches it.
 *
 * stdio's buffer is the handle's (setvbuf): it holds bytes of the file, read
 * ahead or not yet flushed, and glibc would free a buffer of its own without
 * wiping it. The view wipes it when it closes; the handle frees it, so no
 * stdio step after the close can touch freed memory.
 */
#include "internal.h"

#include <errno.h>
#include <string.h>

static ssize_t cookie_read(void *c, char *buf, size_t n)
{
    return tf_file_read(c, buf, n);
}

/* stdio wants the count written; tf_file_write writes all or fails. */
static ssize_t cookie_write(void *c, const char *buf, size_t n)
{
    ssize_t w = tf_file_write(c, buf, n);
    return w < 0 ? 0 : w;
}

static int cookie_seek(void *c, off64_t *pos, int whence)
{
    off_t r = tf_file_seek(c, *pos, whence);
    if (r < 0)
        return -1;
    *pos = r;
    return 0;
}

static int cookie_close(void *c)
{
    tf_file *f = c;
    explicit_bzero(f->stream_buf, TF__STREAM_BUF);
    f->stream = NULL;
    return 0;
}

FILE *tf_file_stream(tf_file *f)
{
    if (!f || f->closed) {
        errno = f ? EBADF : EINVAL;
        return NULL;
    }
    if (f->stream)
        return f->stream;
    static const cookie_io_functions_t io = {
        .read = cookie_read,
        .write = cookie_write,
        .seek = cookie_seek,
        .close = cookie_close,
    };
    if (!f->stream_buf && !(f->stream_buf = tf__sys.malloc(TF__STREAM_BUF)))
        return NULL;
    FILE *s = fopencookie(f, "r+", io);
    /* Before any I/O, setvbuf cannot fail with a valid mode. */
    if (s)
        setvbuf(s, f->stream_buf, _IOFBF, TF__STREAM_BUF);
    f->stream = s;
    return s;
}

int tf__stream_close(tf_file *f)
{
    return f->stream ? fclose(f->stream) : 0;
}
