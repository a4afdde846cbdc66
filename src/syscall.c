/* The syscall seam's default table: thin adapters onto libc. */
#include "syscall.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

/* openat(2) is variadic in libc; the table needs a fixed signature. */
static int sys_openat(int dirfd, const char *path, int flags, mode_t mode)
{
    return openat(dirfd, path, flags, mode);
}

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452   /* the same number on every architecture */
#endif

static int sys_fchmodat2(int dirfd, const char *path, mode_t mode, int flags)
{
    return (int)syscall(SYS_fchmodat2, dirfd, path, mode, flags);
}

static ssize_t sys_getdents64(int fd, void *buf, size_t n)
{
    return getdents64(fd, buf, n);
}

static int sys_ioctl(int fd, unsigned long req, void *arg)
{
    return ioctl(fd, req, arg);
}

/* One initializer for both tables, so they cannot drift apart. */
#define TF__SYS_DEFAULTS \
    .openat = sys_openat, \
    .close = close, \
    .read = read, \
    .write = write, \
    .pread = pread, \
    .lseek = lseek, \
    .ftruncate = ftruncate, \
    .fstat = fstat, \
    .fstatat = fstatat, \
    .statx = statx, \
    .mkdirat = mkdirat, \
    .unlinkat = unlinkat, \
    .fchmod = fchmod, \
    .fchmodat = fchmodat, \
    .fchmodat2 = sys_fchmodat2, \
    .getdents64 = sys_getdents64, \
    .getrandom = getrandom, \
    .flock = flock, \
    .getcwd = getcwd, \
    .malloc = malloc, \
    .realloc = realloc, \
    .pwrite = pwrite, \
    .fdatasync = fdatasync, \
    .fsync = fsync, \
    .renameat2 = renameat2, \
    .ioctl = sys_ioctl, \
    .fstatfs = fstatfs, \
    .sendmsg = sendmsg, \
    .recvmsg = recvmsg,

const struct tf__syscalls tf__sys_default = { TF__SYS_DEFAULTS };

struct tf__syscalls tf__sys = { TF__SYS_DEFAULTS };
