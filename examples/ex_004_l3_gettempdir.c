/* Seed 004, low-level 3: gettempdir(), the default directory */
/*
 * Python:
 *     >>> tempfile.gettempdir()
 *     '/tmp'
 *
 * ($TMPDIR, $TEMP or $TMP change the answer, as in Python: under the tests,
 * TMPDIR names a scratch directory.)
 */
#include <stdlib.h>

#include "example.h"

/* True if a and b name the same directory. */
static bool same_dir(const char *a, const char *b)
{
    struct stat sa, sb;

    return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
           sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int main(void)
{
    const char *env = getenv("TMPDIR");
    struct stat st = { 0 };

    const char *dir = tf_gettempdir();
    if (dir == NULL)
        return ex_fail("tf_gettempdir");
    ex_print_pystr(dir);
    putchar('\n');

    /* An absolute path to a directory we can create files in. */
    CHECK(dir[0] == '/');
    CHECK(stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK(access(dir, W_OK | X_OK) == 0);
    /* Computed once, then the same answer. */
    CHECK(tf_gettempdir() == dir);
    /* $TMPDIR comes first when it names a usable directory. */
    if (env != NULL && env[0] == '/' && access(env, W_OK | X_OK) == 0)
        CHECK(same_dir(env, dir));
    return ex_status;
}
