/*
 * Test support for libtempfile's cmocka suite.
 *
 *  - fault injection over the syscall seam (tf__sys): make the Nth call of one
 *    entry fail with a chosen errno, count calls, restore the default table;
 *  - leak checks: open descriptors (/proc/self/fd), directory listings;
 *  - a scratch directory per test under /tmp, removed afterwards;
 *  - running a function in a forked child, optionally with root's privileges
 *    dropped to nobody (65534), so that permission tests mean something when
 *    the suite runs as root.
 *
 * Include after <cmocka.h>'s prerequisites; this header includes them all.
 */
#ifndef TFTEST_H
#define TFTEST_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cmocka.h>

#include "internal.h"
#include "syscall.h"
#include "tempfile.h"

/* ---- fault injection ---------------------------------------------------- */

/* Names of every entry of struct tf__syscalls, NULL-terminated. */
extern const char *const fault_names[];

/*
 * The table the fault wrappers call when they do not inject: a copy of
 * tf__sys_default that a test may change (e.g. a deterministic getrandom)
 * and still count and inject on top. fault_reset() restores it.
 */
extern struct tf__syscalls fault_next;

/*
 * Installs the counting wrappers (if not yet) and makes the nth call (1-based,
 * counted from now) of entry `name` fail with err, once. Returns 0, or -1 for
 * an unknown name. Counts of every entry restart at 0; faults armed before on
 * other entries stay armed (fault_reset() disarms all).
 * A failing close() really closes the descriptor (as Linux does) and then
 * reports err; malloc/realloc return NULL; every other entry returns -1
 * without calling through.
 */
int fault_arm(const char *name, unsigned long nth, int err);

/* As fault_arm(), but calls nth .. nth+count-1 fail; count 0: every call from nth. */
int fault_arm_range(const char *name, unsigned long nth, unsigned long count, int err);

/* Installs the counting wrappers, disarms every fault; counts restart at 0. */
void fault_count_start(void);

/* Calls of entry `name` since the last arm/count start (through the wrappers). */
unsigned long fault_calls(const char *name);

/* Number of failures injected since the last arm. */
unsigned long fault_hits(void);

/* Restores tf__sys and fault_next to tf__sys_default; disarms everything. */
void fault_reset(void);

/*
 * Deterministic getrandom: a fixed pseudo-random byte stream (xorshift from
 * `seed`), installed in fault_next and tf__sys. fake_random_rewind() restarts
 * the stream. fake_random_bytes() is how many bytes it handed out.
 */
void fake_random_install(uint64_t seed);
void fake_random_rewind(void);
size_t fake_random_bytes(void);

/* ---- leak checks -------------------------------------------------------- */

/* Open descriptors of this process. */
int fd_count(void);

/* Prints the open descriptors and what they name to stderr. */
void fd_dump(void);

/*
 * Recursive listing of dir (not following links): sorted "relpath type mode"
 * lines joined by '\n', malloc'd. "<missing>" if dir cannot be opened.
 */
char *dir_listing(const char *dir);

/* Number of entries directly in dir, -1 if it cannot be opened. */
int dir_entries(const char *dir);

/* ---- scratch directories ------------------------------------------------ */

/* A fresh directory /tmp/tftest-XXXXXX (realpath), malloc'd; aborts on failure. */
char *scratch_new(void);
/* The same under base (an existing directory). */
char *scratch_new_in(const char *base);

/* Removes a scratch tree whatever its modes or depth, and frees the string. */
void scratch_free(char *dir);

/* Removes a tree (as scratch_free) without freeing; 0 if it is gone. */
int remove_tree(const char *path);

/*
 * Per-test fixture for cmocka_unit_test_setup_teardown: *state becomes a
 * struct tft_fixture with a scratch dir; teardown resets the seam, restores the
 * umask and the default directory override, removes the scratch dir and fails
 * the test if a descriptor leaked.
 */
struct tft_fixture {
    char *dir;          /* the scratch directory */
    int fds;            /* descriptors open at setup */
    mode_t umask;       /* umask at setup */
};
int tft_setup(void **state);
int tft_teardown(void **state);
#define TFT_DIR(state) (((struct tft_fixture *)*(state))->dir)

/* ---- children and privileges -------------------------------------------- */

#define NOBODY_ID 65534

/*
 * Forks; the child drops root's privileges to NOBODY_ID if drop_privileges and
 * it runs as root (aborting the child if that fails), runs fn(arg) and exits
 * with its return value (_exit, no atexit handlers). Returns the child's exit
 * status, or 128 + signal number, or -1 if fork failed.
 * Never use cmocka's assert_* inside fn: use CHECK() and return non-zero.
 */
int run_child(int (*fn)(void *arg), void *arg, bool drop_privileges);

/* In a coverage build, writes this process's counters now (a child about to
 * _exit() or be killed writes none otherwise); elsewhere does nothing. */
void coverage_flush(void);

/* Running under valgrind (its preload library is in LD_PRELOAD): for the
 * few tests that need what valgrind keeps for itself (descriptor limits). */
bool under_valgrind(void);

/* Whether privileges were (or will be) really dropped: running as root. */
bool running_as_root(void);

/* chown path to nobody when running as root (for run_child(..., true)). */
void give_to_nobody(const char *path);

/* For use in children: report and return 1 from the enclosing function. */
#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            int e_ = errno;                                                \
            fprintf(stderr, "%s:%d: check failed: %s (errno %d %s)\n",     \
                    __FILE__, __LINE__, #cond, e_, strerrorname_np(e_)     \
                    ? strerrorname_np(e_) : "?");                          \
            return 1;                                                      \
        }                                                                  \
    } while (0)

/* ---- small helpers ------------------------------------------------------ */

/* path = a "/" b, malloc'd; aborts on ENOMEM. */
char *path_join(const char *a, const char *b);

/* lstat succeeds. */
bool path_exists(const char *path);

/* Permission bits (07777) by lstat, or (mode_t)-1. */
mode_t path_mode(const char *path);

/* Creates (truncating) dir/name with content, mode 0644; 0 or -1. */
int write_file(const char *dir, const char *name, const char *content);

/* Reads a whole small file into a malloc'd string; NULL on error. */
char *read_file_str(const char *path);

/* Name of errno value e ("ENOENT"), for messages. */
const char *errname(int e);

/* Fails the test with both names unless errno == expected. */
#define assert_errno(expected)                                             \
    do {                                                                   \
        int got_ = errno, exp_ = (expected);                               \
        if (got_ != exp_)                                                  \
            fail_msg("errno: expected %s, got %s (%d)", errname(exp_),     \
                     errname(got_), got_);                                 \
    } while (0)

/* Fails the test unless the descriptor count equals `before`. */
#define assert_no_fd_leak(before)                                          \
    do {                                                                   \
        int now_ = fd_count();                                             \
        if (now_ != (before)) {                                            \
            fd_dump();                                                     \
            fail_msg("descriptor leak: %d open, expected %d", now_,        \
                     (before));                                            \
        }                                                                  \
    } while (0)

/* Fails unless two listings (from dir_listing) are equal; frees both. */
void assert_listing_equal_free(char *expected, char *got, const char *file, int line);
#define assert_listing_equal(expected, got) \
    assert_listing_equal_free((expected), (got), __FILE__, __LINE__)

/* The basename of a path (pointer into it). */
const char *base_name(const char *path);

/* True if s is exactly n characters of [a-z0-9_]. */
bool is_random_part(const char *s, size_t n);

/* ---- a new destination (newdest.c) -------------------------------------- */

/* tf_replace_begin() or tf_lock_file(). */
typedef tf_file *(*tft_handle_maker)(const char *dest, const tf_persist_opts *opts);

/*
 * A new destination in dir through make's handle, committed: under umask
 * 022, 077 and 0 (and a link TF_SYMLINK_REPLACE replaces), under a default
 * ACL (where setfacl and ACLs exist) and in a set-group-ID directory (as
 * root), the temporary and the result are what open(2) with 0666 gives
 * there (mode, access ACL, group), with no read (of the umask) nor fchmod
 * nor fchown at the seam; an existing destination or a mode given: a 0600
 * temporary (one gone by the commit: 0666 & ~umask, read from /proc).
 * Leaves umask 022.
 */
void tft_check_new_destination(const char *dir, tft_handle_maker make);

#endif
