/* Seed 000, slide 6: NamedTemporaryFile(prefix='log_', suffix='.txt', dir='/tmp/custom_temp', delete=False) */
/*
 * Python:
 *     custom_temp = tempfile.NamedTemporaryFile(
 *         prefix="log_", suffix=".txt", dir="/tmp/custom_temp", delete=False)
 *     print(f"Custom temp file: {custom_temp.name}")
 *     custom_temp.close()
 *
 * Prints:  Custom temp file: /tmp/custom_temp/log_XXXXXXXX.txt
 *
 * The slide assumes /tmp/custom_temp exists (Python would raise
 * FileNotFoundError otherwise); this example creates it if it is missing and
 * removes what it created, the directory only if it made it.
 */
#include <stdlib.h>

#include "example.h"

static const char custom_dir[] = "/tmp/custom_temp";

/* Makes custom_dir if missing; *made tells whether we did. A name in a
 * world-writable /tmp can be planted by anyone: an existing entry is used only
 * if it is a real directory (not a symlink) that we own. */
static int ensure_custom_dir(bool *made)
{
    struct stat st;

    *made = false;
    if (mkdir(custom_dir, 0700) == 0) {
        *made = true;
        return 0;
    }
    if (errno != EEXIST || lstat(custom_dir, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
        fprintf(stderr, "%s exists but is not a directory of ours; not using it\n",
                custom_dir);
        errno = EPERM;
        return -1;
    }
    return 0;
}

int main(void)
{
    bool made;
    char *name;

    if (ensure_custom_dir(&made) != 0)
        return ex_fail(custom_dir);

    tf_file *custom_temp = tf_named_temporary_file(&(tf_opts){
        .prefix = "log_", .suffix = ".txt", .dir = custom_dir, .flags = TF_KEEP });
    if (custom_temp == NULL) {
        ex_fail("tf_named_temporary_file");
    } else {
        printf("Custom temp file: %s\n", tf_file_name(custom_temp));
        CHECK(ex_name_ok(tf_file_name(custom_temp), custom_dir, "log_", ".txt"));

        /* custom_temp.close(): with delete=False the file stays. The name
         * still answers after close; copy it before the handle goes. */
        if (tf_file_close(custom_temp) != 0)
            ex_fail("tf_file_close");
        CHECK(tf_file_closed(custom_temp) == 1);
        name = strdup(tf_file_name(custom_temp));
        if (tf_file_release(custom_temp) != 0)
            ex_fail("tf_file_release");
        if (name == NULL) {
            ex_fail("strdup");
        } else {
            CHECK(!ex_gone(name));
            /* Ours to remove, as delete=False says. */
            if (unlink(name) != 0)
                ex_fail("unlink");
            CHECK(ex_gone(name));
            free(name);
        }
    }

    if (made && rmdir(custom_dir) != 0)
        ex_fail("rmdir /tmp/custom_temp");
    return ex_status;
}
