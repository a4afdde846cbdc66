/* The syscall seam's default table (see syscall.h), expanded from its list,
 * and the adapters for the calls libc makes variadic or lacks. */
#include "syscall.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452   /* the same number on every architecture */
#endif

/* fchmodat2(2) (Linux 6.6): chmod through an O_PATH descriptor (AT_EMPTY_PATH);
 * libc has no wrapper for it yet. */
static int tf__raw_fchmodat2(int dirfd, const char *path, mode_t mode, int flags)
{
    return (int)syscall(SYS_fchmodat2, dirfd, path, mode, flags);
}

#ifndef SYS_getxattrat
#define SYS_getxattrat 464   /* the same number on every architecture */
#endif
#ifndef SYS_listxattrat
#define SYS_listxattrat 465
#endif

/* listxattrat(2) and getxattrat(2) (Linux 6.13): extended attributes of a
 * name relative to a directory descriptor; libc has no wrapper yet. The
 * kernel takes getxattrat's buffer in a struct (its uapi xattr_args). */
static ssize_t tf__raw_listxattrat(int dirfd, const char *path, int flags, char *list, size_t n)
{
    return syscall(SYS_listxattrat, dirfd, path, flags, list, n);
}

static ssize_t tf__raw_getxattrat(int dirfd, const char *path, int flags, const char *name,
                                  void *value, size_t n)
{
    struct {
        uint64_t value;
        uint32_t size, flags;
    } args = { (uint64_t)(uintptr_t)value, n > UINT32_MAX ? UINT32_MAX : (uint32_t)n, 0 };
    return syscall(SYS_getxattrat, dirfd, path, flags, name, &args, sizeof args);
}

/* ioctl(2) is variadic; the seam passes its one pointer argument. */
static int tf__raw_ioctl(int fd, unsigned long req, void *arg)
{
    return ioctl(fd, req, arg);
}

/* fcntl(2) is variadic; the seam passes an int argument (F_SETLEASE, F_SETSIG). */
static int tf__raw_fcntl(int fd, int cmd, int arg)
{
    return fcntl(fd, cmd, arg);
}

/* openat(2) is variadic in libc; the table needs a fixed signature. */
static int tf__raw_openat(int dirfd, const char *path, int flags, mode_t mode)
{
    return openat(dirfd, path, flags, mode);
}

#define TF__SYS_DEFAULT(ret, name, params, args, impl, fail) .name = impl,

const struct tf__syscalls tf__sys_default = { TF__SYSCALLS(TF__SYS_DEFAULT) };

struct tf__syscalls tf__sys = { TF__SYSCALLS(TF__SYS_DEFAULT) };
