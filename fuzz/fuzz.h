/*
 * Shared by the libFuzzer targets (fuzz_*.c): reading the input as a stream of
 * small decisions, the oracle's check, and a scratch directory.
 *
 * Each target defines LLVMFuzzerTestOneInput(). Built with clang
 * -fsanitize=fuzzer it is a fuzzer; linked with replay.c instead it is a
 * program that feeds every file of a corpus to it once (a CTest case).
 */
#ifndef TF_FUZZ_H
#define TF_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A finding: say what, where, and abort (libFuzzer saves the input). */
#define FUZZ_CHECK(cond, ...)                                                \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: ", __FILE__,      \
                    __LINE__, #cond);                                        \
            fprintf(stderr, __VA_ARGS__);                                    \
            fputc('\n', stderr);                                             \
            abort();                                                         \
        }                                                                    \
    } while (0)

/* The input, consumed from the front; past its end every read is 0. */
struct fuzz_in {
    const uint8_t *p;
    size_t n;
};

static inline bool fuzz_more(const struct fuzz_in *in)
{
    return in->n > 0;
}

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
    uint16_t hi = fuzz_u8(in);
    return (uint16_t)(hi << 8 | fuzz_u8(in));
}

/* e is one of the 0-ended set's values (errno values a call documents). */
static inline bool fuzz_in_set(int e, const int *set)
{
    for (; *set; set++)
        if (*set == e)
            return true;
    return false;
}

/* A directory of this process's own under /tmp (mode 0755), made once,
 * absolute; removed at exit. tests/support (tftest.h) has the rest: fault
 * injection, fd_count(), dir_listing(), remove_tree(). */
const char *fuzz_scratch(void);

#endif
