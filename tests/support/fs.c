/* Leak checks, listings, scratch directories and small file helpers. */
#include "tftest.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int fd_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;   /* the directory's own descriptor */
}

void fd_dump(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char link[300], target[PATH_MAX];
        snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        target[n < 0 ? 0 : n] = '\0';
        fprintf(stderr, "  fd %s -> %s\n", e->d_name, target);
    }
    closedir(d);
}

/* ---- listings ------------------------------------------------------------ */

struct strv {
    char **v;
    size_t n, cap;
};

static void strv_push(struct strv *s, char *str)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (!s->v)
            abort();
    }
    s->v[s->n++] = str;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_into(int dirfd, const char *rel, struct strv *out, int depth)
{
    int fd = openat(dirfd, rel[0] ? rel : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char sub[PATH_MAX];
        snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        struct stat st;
        char type = '?';
        unsigned mode = 0;
        if (fstatat(dirfd, sub, &st, AT_SYMLINK_NOFOLLOW) == 0) {
            type = S_ISDIR(st.st_mode) ? 'd' : S_ISLNK(st.st_mode) ? 'l'
                 : S_ISREG(st.st_mode) ? 'f' : 'o';
            mode = st.st_mode & 07777;
        }
        char *line;
        if (asprintf(&line, "%s %c %04o", sub, type, mode) < 0)
            abort();
        strv_push(out, line);
        if (type == 'd' && depth < 64)
            list_into(dirfd, sub, out, depth + 1);
    }
    closedir(d);
}

char *dir_listing(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return strdup("<missing>");
    struct strv s = {0};
    list_into(fd, "", &s, 0);
    close(fd);
    if (s.n)
        qsort(s.v, s.n, sizeof *s.v, cmp_str);
    size_t len = 1;
    for (size_t i = 0; i < s.n; i++)
        len += strlen(s.v[i]) + 1;
    char *out = malloc(len), *p = out;
    if (!out)
        abort();
    *p = '\0';
    for (size_t i = 0; i < s.n; i++) {
        p = stpcpy(p, s.v[i]);
        *p++ = '\n';
        *p = '\0';
        free(s.v[i]);
    }
    free(s.v);
    return out;
}

int dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

void assert_listing_equal_free(char *expected, char *got, const char *file, int line)
{
    bool same = strcmp(expected, got) == 0;
    if (!same)
        print_error("%s:%d: directory listing changed\n--- expected\n%s--- got\n%s",
                    file, line, expected, got);
    free(expected);
    free(got);
    if (!same)
        fail();
}

/* ---- scratch ------------------------------------------------------------- */

char *scratch_new_in(const char *base)
{
    char *tmpl = path_join(base, "tftest-XXXXXX");
    if (!mkdtemp(tmpl)) {
        perror("scratch_new: mkdtemp");
        abort();
    }
    char *real = realpath(tmpl, NULL);
    if (!real)
        abort();
    free(tmpl);
    return real;
}

char *scratch_new(void)
{
    return scratch_new_in("/tmp");
}

static int spawn_wait(char *const argv[])
{
    pid_t pid;
    if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0)
        return -1;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int remove_tree(const char *path)
{
    if (!path_exists(path))
        return 0;
    /* chmod -R and rm -rf follow no symbolic link; rm copes with any depth. */
    char *chmod_argv[] = { "chmod", "-R", "-f", "u+rwx", (char *)path, NULL };
    char *rm_argv[] = { "rm", "-rf", "--one-file-system", (char *)path, NULL };
    spawn_wait(chmod_argv);
    spawn_wait(rm_argv);
    return path_exists(path) ? -1 : 0;
}

void scratch_free(char *dir)
{
    if (!dir)
        return;
    if (remove_tree(dir) != 0)
        fprintf(stderr, "warning: could not remove scratch dir %s\n", dir);
    free(dir);
}

int tft_setup(void **state)
{
    struct tft_fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    fx->umask = umask(022);
    fx->dir = scratch_new();
    fx->fds = fd_count();
    *state = fx;
    return 0;
}

int tft_teardown(void **state)
{
    struct tft_fixture *fx = *state;
    int rc = 0;
    fault_reset();
    umask(fx->umask);
    int now = fd_count();
    if (now != fx->fds) {
        print_error("teardown: descriptor leak: %d open, %d at setup\n", now, fx->fds);
        fd_dump();
        rc = -1;
    }
    tf_settempdir(NULL);
    scratch_free(fx->dir);
    free(fx);
    *state = NULL;
    return rc;
}

/* ---- helpers --------------------------------------------------------------- */

char *path_join(const char *a, const char *b)
{
    char *p;
    if (asprintf(&p, "%s/%s", a, b) < 0)
        abort();
    return p;
}

bool path_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

mode_t path_mode(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return (mode_t)-1;
    return st.st_mode & 07777;
}

int write_file(const char *dir, const char *name, const char *content)
{
    char *p = path_join(dir, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    free(p);
    if (fd < 0)
        return -1;
    size_t n = strlen(content);
    ssize_t w = write(fd, content, n);
    close(fd);
    return w == (ssize_t)n ? 0 : -1;
}

char *read_file_str(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return NULL;
    char *buf = malloc(65536);
    if (!buf) {
        close(fd);
        return NULL;
    }
    size_t len = 0;
    ssize_t r;
    while (len < 65535 && (r = read(fd, buf + len, 65535 - len)) > 0)
        len += (size_t)r;
    buf[len] = '\0';
    close(fd);
    return buf;
}

const char *errname(int e)
{
    const char *n = strerrorname_np(e);
    return n ? n : "(unknown errno)";
}

const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

bool is_random_part(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr(TF__ALPHABET, s[i]))
            return false;
    return true;
}
