/* Seed 002, option 1: an uploaded file kept in a real temporary file, closed and unlinked in finally */
/*
 * Python:
 *     f = tempfile.NamedTemporaryFile(delete=False)
 *     try:
 *         # do whatever. f is exactly like a file
 *         # it actually exists on the hard disk in the temporary files area
 *     finally:
 *         f.close()
 *         os.unlink(f.name)
 *
 * and, as the seed adds, with TemporaryFile() instead: no name, so no unlink.
 *
 * The Python prints nothing. Here "do whatever" is what the seed's backend
 * does with such a file: store an upload (the seed's tab-separated sku/url
 * table) and read it back line by line; each variant prints one line:
 *     NamedTemporaryFile /tmp/tmpXXXXXXXX: 3 rows read back
 *     TemporaryFile (no name): 3 rows read back
 */
#include "example.h"

static const char upload[] =
    "sku\turl\n"
    "1\thttp://example.com/path/to\n"
    "2\thttp://example.com/path/to2\n";

/* "do whatever": store the upload, then read it back through the FILE *
 * view as a parser would. Returns the rows that match, or -1 (errno set). */
static int handle_upload(tf_file *f)
{
    char line[128], expected[128];
    const char *next = upload;
    int rows = 0;

    if (tf_file_write(f, upload, sizeof upload - 1) != (ssize_t)(sizeof upload - 1) ||
        tf_file_seek(f, 0, SEEK_SET) != 0)
        return -1;
    /* The stream starts where the handle is: at 0, after the seek. */
    FILE *fp = tf_file_stream(f);
    if (fp == NULL)
        return -1;
    while (fgets(line, sizeof line, fp) != NULL) {
        size_t len = strcspn(next, "\n") + 1;
        snprintf(expected, sizeof expected, "%.*s", (int)len, next);
        if (strcmp(line, expected) != 0)
            break;
        next += len;
        rows++;
    }
    return rows;
}

int main(void)
{
    int rows;

    /* Option 1 as written: a named file, delete=False, unlinked by us. */
    tf_file *f = tf_named_temporary_file(&(tf_opts){ .flags = TF_KEEP });
    if (f == NULL)
        return ex_fail("tf_named_temporary_file");
    rows = handle_upload(f);
    if (rows < 0)
        ex_fail("handle_upload");
    else
        printf("NamedTemporaryFile %s: %d rows read back\n", tf_file_name(f), rows);
    CHECK(rows == 3);
    /* finally: f.close(); os.unlink(f.name) */
    if (tf_file_close(f) != 0)
        ex_fail("tf_file_close");
    if (unlink(tf_file_name(f)) != 0)
        ex_fail("unlink");
    CHECK(ex_gone(tf_file_name(f)));
    tf_file_release(f);

    /* The variant: TemporaryFile() has no name, so closing it is all. */
    tf_file *t = tf_temporary_file(NULL);
    if (t == NULL)
        return ex_fail("tf_temporary_file");
    rows = handle_upload(t);
    if (rows < 0)
        ex_fail("handle_upload");
    else
        printf("TemporaryFile (no name): %d rows read back\n", rows);
    CHECK(rows == 3);
    if (tf_file_close(t) != 0)
        ex_fail("tf_file_close");
    tf_file_release(t);
    return ex_status;
}
