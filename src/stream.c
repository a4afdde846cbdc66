/*
 * The FILE * view of a temporary file, through fopencookie(3). The cookie is
 * the handle itself, so the stream follows whatever backs the file, across a
 * spooled file's rollover too. The handle owns the file; fclose of the view
 * only flushes and detaches it.
 */
#include "internal.h"

#include <errno.h>

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
    f->stream = NULL;
    return 0;
}

FILE *tf_file_stream(tf_file *f)
{
    if (!f || f->closed) {
        errno = f ? EBADF : EINVAL;
        return NULL;
    }
    if (!f->stream) {
        static const cookie_io_functions_t io = {
            .read = cookie_read,
            .write = cookie_write,
            .seek = cookie_seek,
            .close = cookie_close,
        };
        f->stream = fopencookie(f, "r+", io);
    }
    return f->stream;
}

int tf__stream_close(tf_file *f)
{
    return f->stream ? fclose(f->stream) : 0;
}
