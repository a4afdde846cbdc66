/*
 * The syscall seam: every call the library makes into the kernel or the
 * allocator goes through tf__sys, so that tests can make any one of them fail
 * (tests/support/fault.c, declared in tests/support/tftest.h). Production code
 * never changes the table.
 *
 * TF__SYSCALLS is the one list of the seam's entries. Each X(ret, name,
 * params, args, impl, fail) says: the entry's return type and name, its
 * parameter list, those parameters passed on, the function the default table
 * points to (libc's own, of exactly that type, so that no adapter costs an
 * extra jump on the hot path; an adapter in syscall.c where libc's is
 * variadic or missing), and the value it returns on failure. The struct, the default table and the tests' counting wrappers are
 * all expanded from it: adding a call is one line here.
 */
#ifndef TF_SYSCALL_H
#define TF_SYSCALL_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>

#define TF__SYSCALLS(X) \
    X(int, openat, (int dirfd, const char *path, int flags, mode_t mode), (dirfd, path, flags, mode), tf__raw_openat, -1) \
    X(int, close, (int fd), (fd), close, -1) \
    X(ssize_t, read, (int fd, void *buf, size_t n), (fd, buf, n), read, -1) \
    X(ssize_t, write, (int fd, const void *buf, size_t n), (fd, buf, n), write, -1) \
    X(ssize_t, pread, (int fd, void *buf, size_t n, off_t off), (fd, buf, n, off), pread, -1) \
    X(ssize_t, pwrite, (int fd, const void *buf, size_t n, off_t off), (fd, buf, n, off), pwrite, -1) \
    X(off_t, lseek, (int fd, off_t off, int whence), (fd, off, whence), lseek, -1) \
    X(int, ftruncate, (int fd, off_t size), (fd, size), ftruncate, -1) \
    X(int, fallocate, (int fd, int mode, off_t off, off_t len), (fd, mode, off, len), fallocate, -1) \
    X(int, fsync, (int fd), (fd), fsync, -1) \
    X(int, fdatasync, (int fd), (fd), fdatasync, -1) \
    X(int, fstat, (int fd, struct stat *st), (fd, st), fstat, -1) \
    X(int, fstatat, (int dirfd, const char *path, struct stat *st, int flags), (dirfd, path, st, flags), fstatat, -1) \
    X(int, statx, (int dirfd, const char *path, int flags, unsigned mask, struct statx *stx), (dirfd, path, flags, mask, stx), statx, -1) \
    X(int, fstatfs, (int fd, struct statfs *sf), (fd, sf), fstatfs, -1) \
    X(int, mkdirat, (int dirfd, const char *path, mode_t mode), (dirfd, path, mode), mkdirat, -1) \
    X(int, unlinkat, (int dirfd, const char *path, int flags), (dirfd, path, flags), unlinkat, -1) \
    X(int, linkat, (int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags), (olddirfd, oldpath, newdirfd, newpath, flags), linkat, -1) \
    X(int, renameat2, (int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned flags), (olddirfd, oldpath, newdirfd, newpath, flags), renameat2, -1) \
    X(ssize_t, readlinkat, (int dirfd, const char *path, char *buf, size_t n), (dirfd, path, buf, n), readlinkat, -1) \
    X(int, fchmod, (int fd, mode_t mode), (fd, mode), fchmod, -1) \
    X(int, fchmodat, (int dirfd, const char *path, mode_t mode, int flags), (dirfd, path, mode, flags), fchmodat, -1) \
    X(int, fchmodat2, (int dirfd, const char *path, mode_t mode, int flags), (dirfd, path, mode, flags), tf__raw_fchmodat2, -1) \
    X(int, fchown, (int fd, uid_t uid, gid_t gid), (fd, uid, gid), fchown, -1) \
    X(ssize_t, flistxattr, (int fd, char *list, size_t n), (fd, list, n), flistxattr, -1) \
    X(ssize_t, fgetxattr, (int fd, const char *name, void *value, size_t n), (fd, name, value, n), fgetxattr, -1) \
    X(int, fsetxattr, (int fd, const char *name, const void *value, size_t n, int flags), (fd, name, value, n, flags), fsetxattr, -1) \
    X(int, fremovexattr, (int fd, const char *name), (fd, name), fremovexattr, -1) \
    X(ssize_t, llistxattr, (const char *path, char *list, size_t n), (path, list, n), llistxattr, -1) \
    X(ssize_t, lgetxattr, (const char *path, const char *name, void *value, size_t n), (path, name, value, n), lgetxattr, -1) \
    X(ssize_t, listxattrat, (int dirfd, const char *path, int flags, char *list, size_t n), (dirfd, path, flags, list, n), tf__raw_listxattrat, -1) \
    X(ssize_t, getxattrat, (int dirfd, const char *path, int flags, const char *name, void *value, size_t n), (dirfd, path, flags, name, value, n), tf__raw_getxattrat, -1) \
    X(int, fcntl, (int fd, int cmd, int arg), (fd, cmd, arg), tf__raw_fcntl, -1) \
    X(ssize_t, copy_file_range, (int in, off_t *in_off, int out, off_t *out_off, size_t n, unsigned flags), (in, in_off, out, out_off, n, flags), copy_file_range, -1) \
    X(int, ioctl, (int fd, unsigned long req, void *arg), (fd, req, arg), tf__raw_ioctl, -1) \
    X(ssize_t, getdents64, (int fd, void *buf, size_t n), (fd, buf, n), getdents64, -1) \
    X(ssize_t, getrandom, (void *buf, size_t n, unsigned flags), (buf, n, flags), getrandom, -1) \
    X(int, flock, (int fd, int op), (fd, op), flock, -1) \
    X(ssize_t, sendmsg, (int fd, const struct msghdr *msg, int flags), (fd, msg, flags), sendmsg, -1) \
    X(ssize_t, recvmsg, (int fd, struct msghdr *msg, int flags), (fd, msg, flags), recvmsg, -1) \
    X(char *, getcwd, (char *buf, size_t n), (buf, n), getcwd, NULL) \
    X(void *, malloc, (size_t n), (n), malloc, NULL) \
    X(void *, realloc, (void *p, size_t n), (p, n), realloc, NULL)

#define TF__SYS_FIELD(ret, name, params, args, impl, fail) ret (*name) params;
struct tf__syscalls {
    TF__SYSCALLS(TF__SYS_FIELD)
};
#undef TF__SYS_FIELD

extern struct tf__syscalls tf__sys;

/* The table as the library ships it, for tests to restore. */
extern const struct tf__syscalls tf__sys_default;

#endif
