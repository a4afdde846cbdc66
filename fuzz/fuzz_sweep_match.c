/*
 * The sweep's name matching (tf__name_matches, what tf_sweep() and
 * tf_disk_usage() remove or count) against a reference written the plain way;
 * and, for a name that can exist in a directory, end to end: a file of that
 * name is counted by tf_disk_usage() and left young by a dry-run tf_sweep()
 * exactly when the reference says it matches, and options the sweep must
 * refuse (a '/' in prefix or suffix, a name longer than NAME_MAX) are refused.
 *
 * Input: prefix NUL suffix NUL name (missing parts are empty).
 */
#include "fuzz.h"
#include "tftest.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

static bool reference(const char *prefix, const char *suffix, const char *name)
{
    size_t p = strlen(prefix), s = strlen(suffix), n = strlen(name);
    if (n != p + TF_RANDOM_CHARS + s || strncmp(name, prefix, p) != 0 ||
        strcmp(name + p + TF_RANDOM_CHARS, suffix) != 0)
        return false;
    for (size_t i = p; i < p + TF_RANDOM_CHARS; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

/* The next NUL-terminated part of the input, malloc'd. */
static char *part(struct fuzz_in *in)
{
    size_t len = 0;
    while (len < in->n && in->p[len])
        len++;
    char *s = malloc(len + 1);
    if (!s)
        abort();
    memcpy(s, in->p, len);
    s[len] = '\0';
    in->p += len;
    in->n -= len;
    if (in->n) {   /* the NUL */
        in->p++;
        in->n--;
    }
    return s;
}

static bool creatable(const char *name)
{
    return name[0] && strlen(name) <= NAME_MAX && !strchr(name, '/') && strcmp(name, ".") &&
           strcmp(name, "..");
}

static void end_to_end(const char *prefix, const char *suffix, const char *name, bool want)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/m", fuzz_scratch());
    FUZZ_CHECK(mkdir(dir, 0700) == 0, "mkdir %s: errno %d", dir, errno);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int fd = openat(dfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    FUZZ_CHECK(fd >= 0, "create %s: errno %d", name, errno);
    close(fd);

    tf_sweep_opts o = { .prefix = prefix, .suffix = suffix, .flags = TF_SWEEP_DRY_RUN };
    bool bad_opts = strchr(prefix, '/') || strchr(suffix, '/');
    bool too_long = strlen(prefix) + TF_RANDOM_CHARS + strlen(suffix) > NAME_MAX;
    tf_usage_report u;
    int rc = tf_disk_usage(dir, &o, &u);
    if (bad_opts || too_long) {
        FUZZ_CHECK(rc == -1 && errno == (bad_opts ? EINVAL : ENAMETOOLONG),
                   "tf_disk_usage(prefix \"%s\", suffix \"%s\"): %d, errno %d", prefix, suffix,
                   rc, errno);
    } else {
        FUZZ_CHECK(rc == 0, "tf_disk_usage: errno %d", errno);
        FUZZ_CHECK(u.count == want && u.orphans == want && u.live == 0,
                   "tf_disk_usage counts %zu for \"%s\" (prefix \"%s\", suffix \"%s\"), "
                   "reference %d", u.count, name, prefix, suffix, want);
        tf_sweep_result r;
        FUZZ_CHECK(tf_sweep(dir, &o, &r) == 0, "tf_sweep: errno %d", errno);
        FUZZ_CHECK(r.removed == 0 && r.young == want && r.failed == 0,
                   "dry-run sweep: removed %zu young %zu for \"%s\", reference %d", r.removed,
                   r.young, name, want);
    }
    FUZZ_CHECK(unlinkat(dfd, name, 0) == 0, "the file %s is gone: errno %d", name, errno);
    close(dfd);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    char *prefix = part(&in), *suffix = part(&in), *name = part(&in);
    bool want = reference(prefix, suffix, name);
    bool got = tf__name_matches(prefix, strlen(prefix), suffix, strlen(suffix), name);
    FUZZ_CHECK(got == want, "\"%s\" with prefix \"%s\", suffix \"%s\": matches %d, reference %d",
               name, prefix, suffix, got, want);
    if (creatable(name))
        end_to_end(prefix, suffix, name, want);
    free(prefix);
    free(suffix);
    free(name);
    return 0;
}
