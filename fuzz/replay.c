/*
 * Replays a corpus without libFuzzer: every file named on the command line,
 * or found directly in a directory named there, is fed once to
 * LLVMFuzzerTestOneInput(), in name order. This is how the committed corpora
 * run as ordinary tests under any compiler.
 */
#include "fuzz.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static int feed(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *nb = realloc(buf, cap);
            if (!nb)
                abort();
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        if (got == 0)
            break;
        len += got;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

static int cmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int feed_dir(const char *dir, int *count)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, cmp);
    if (n < 0) {
        perror(dir);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            size_t len = strlen(dir) + strlen(names[i]->d_name) + 2;
            char *p = malloc(len);
            if (!p)
                abort();
            snprintf(p, len, "%s/%s", dir, names[i]->d_name);
            if (feed(p) < 0)
                rc = -1;
            else
                ++*count;
            free(p);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    LLVMFuzzerInitialize(&argc, &argv);
    int rc = 0, count = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            if (feed_dir(argv[i], &count) < 0)
                rc = 1;
        } else if (feed(argv[i]) < 0) {
            rc = 1;
        } else {
            count++;
        }
    }
    printf("%d inputs replayed, no finding\n", count);
    return count ? rc : 1;
}
