/*
 * Adoption: a handle made around a descriptor the program already holds, so
 * that persist, shred and hand-over reach files the library did not open
 * itself (a language binding's file objects, tf_mkstemp()'s results). The
 * name, if given, is checked to name the descriptor's file, without
 * following a final link, so that a later removal or rename cannot hit
 * another file.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

/* The descriptor: a regular file open for reading and writing. */
static int check_fd(int fd, struct stat *st)
{
    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    int fl = tf__sys.fcntl(fd, F_GETFL, 0);
    if (fl < 0 || tf__sys.fstat(fd, st) < 0)
        return -1;
    if (!S_ISREG(st->st_mode) || (fl & O_ACCMODE) != O_RDWR) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

/* path names the file of st (no final link followed): ESTALE if another,
 * fstatat(2)'s errno (ENOENT) if none. */
static int check_name(const char *path, const struct stat *st)
{
    if (path[0] != '/') {
        errno = EINVAL;
        return -1;
    }
    int same = tf__names_file(AT_FDCWD, path, st->st_dev, st->st_ino);
    if (same == 0)
        errno = ESTALE;
    return same > 0 ? 0 : -1;
}

/* Registered and then marked live, unless kept (a kept file stays the caller's alone). */
static tf_file *adopt_named(int fd, char *path, unsigned flags)
{
    tf_file *f = tf__file_new_registered(fd, path, flags);
    if (f && !(flags & TF_KEEP))
        tf__lock_live(fd);
    return f;
}

tf_file *tf_file_adopt(int fd, const char *path, unsigned flags)
{
    struct stat st;
    if (flags & ~(unsigned)(TF_KEEP | TF_NO_DELETE_ON_CLOSE)) {
        errno = EINVAL;
        return NULL;
    }
    if (check_fd(fd, &st) < 0 || (path && check_name(path, &st) < 0))
        return NULL;
    if (!path)
        return tf__file_new(fd, NULL, flags);
    char *copy = tf__strdup(path);
    if (!copy)
        return NULL;
    struct tf__reg_guard g;
    tf__reg_begin(&g);
    tf_file *f = adopt_named(fd, copy, flags);
    tf__reg_end(&g);
    if (!f) {
        int err = errno;
        free(copy);
        errno = err;
    }
    return f;
}
