/*
 * The syscall seam: every call the library makes into the kernel or the
 * allocator goes through tf__sys, so that tests can make any one of them fail
 * (see tests/fault.h). Production code never changes the table.
 */
#ifndef TF_SYSCALL_H
#define TF_SYSCALL_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

struct tf__syscalls {
    int (*openat)(int dirfd, const char *path, int flags, mode_t mode);
    int (*close)(int fd);
    ssize_t (*read)(int fd, void *buf, size_t n);
    ssize_t (*write)(int fd, const void *buf, size_t n);
    ssize_t (*pread)(int fd, void *buf, size_t n, off_t off);
    off_t (*lseek)(int fd, off_t off, int whence);
    int (*ftruncate)(int fd, off_t size);
    int (*fstat)(int fd, struct stat *st);
    int (*fstatat)(int dirfd, const char *path, struct stat *st, int flags);
    int (*statx)(int dirfd, const char *path, int flags, unsigned mask, struct statx *stx);
    int (*mkdirat)(int dirfd, const char *path, mode_t mode);
    int (*unlinkat)(int dirfd, const char *path, int flags);
    int (*fchmod)(int fd, mode_t mode);
    int (*fchmodat)(int dirfd, const char *path, mode_t mode, int flags);
    /* fchmodat2(2) (Linux 6.6): chmod through an O_PATH descriptor (AT_EMPTY_PATH). */
    int (*fchmodat2)(int dirfd, const char *path, mode_t mode, int flags);
    ssize_t (*getdents64)(int fd, void *buf, size_t n);
    ssize_t (*getrandom)(void *buf, size_t n, unsigned flags);
    int (*flock)(int fd, int op);
    char *(*getcwd)(char *buf, size_t n);
    /* persist, atomic replace, lock files (persist.c, replace.c, metadata.c, lockfile.c) */
    int (*renameat2)(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned flags);
    int (*linkat)(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags);
    int (*fsync)(int fd);
    int (*fchown)(int fd, uid_t uid, gid_t gid);
    ssize_t (*readlinkat)(int dirfd, const char *path, char *buf, size_t n);
    /* llistxattr(2), lgetxattr(2): the last component is not followed */
    ssize_t (*listxattr)(const char *path, char *list, size_t n);
    ssize_t (*getxattr)(const char *path, const char *name, void *value, size_t n);
    int (*fsetxattr)(int fd, const char *name, const void *value, size_t n, int flags);
    ssize_t (*copy_file_range)(int infd, off_t *inoff, int outfd, off_t *outoff, size_t n, unsigned flags);
    /* fcntl(2) with an int argument (F_SETLEASE, F_GETFL...) */
    int (*fcntl)(int fd, int cmd, int arg);
    void *(*malloc)(size_t n);
    void *(*realloc)(void *p, size_t n);
};

extern struct tf__syscalls tf__sys;

/* The table as the library ships it, for tests to restore. */
extern const struct tf__syscalls tf__sys_default;

#endif
