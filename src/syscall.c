/* The syscall seam's default table: thin adapters onto libc. */
#include "syscall.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/random.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
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

static int sys_fcntl(int fd, int cmd, int arg)
{
    return fcntl(fd, cmd, arg);
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
    .renameat2 = renameat2, \
    .linkat = linkat, \
    .fsync = fsync, \
    .fchown = fchown, \
    .readlinkat = readlinkat, \
    .listxattr = llistxattr, \
    .getxattr = lgetxattr, \
    .fsetxattr = fsetxattr, \
    .copy_file_range = copy_file_range, \
    .fcntl = sys_fcntl, \
    .malloc = malloc, \
    .realloc = realloc,

const struct tf__syscalls tf__sys_default = { TF__SYS_DEFAULTS };

struct tf__syscalls tf__sys = { TF__SYS_DEFAULTS };
