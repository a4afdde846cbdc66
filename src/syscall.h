/*
 * The syscall seam: every call the library makes into the kernel or the
 * allocator goes through tf__sys, so that tests can make any one of them fail
 * (see tests/fault.h). Production code never changes the table.
 */
#ifndef TF_SYSCALL_H
#define TF_SYSCALL_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
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
    void *(*malloc)(size_t n);
    void *(*realloc)(void *p, size_t n);
    /* shred.c, fsinfo.c, handoff.c */
    ssize_t (*pwrite)(int fd, const void *buf, size_t n, off_t off);
    int (*fdatasync)(int fd);
    int (*fsync)(int fd);
    int (*renameat2)(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
                     unsigned flags);
    int (*ioctl)(int fd, unsigned long req, void *arg);
    int (*fstatfs)(int fd, struct statfs *st);
    ssize_t (*sendmsg)(int fd, const struct msghdr *msg, int flags);
    ssize_t (*recvmsg)(int fd, struct msghdr *msg, int flags);
};

extern struct tf__syscalls tf__sys;

/* The table as the library ships it, for tests to restore. */
extern const struct tf__syscalls tf__sys_default;

#endif
