/*
 * The fault choice: the input picks a scenario of public calls
 * (tests/support/scenario.c: creation, file operations on each backend,
 * streams, closing, directory cleanup, tf_rmtree, tf_sweep, tf_disk_usage,
 * tf_cleanup_now, shred, hand-over; tests/support/scenario_durable.c:
 * persist, atomic replace, lock files), one seam entry among those the
 * scenario calls, which of
 * its calls fails, with which errno, once or from then on. Oracle
 * (scenario_try): success or the injected errno, nothing left behind in the
 * directory, no descriptor more (/proc/self/fd), the data of a file intact;
 * memory: LeakSanitizer, which libFuzzer runs when an input leaves more
 * allocations than it freed.
 *
 * Input: scenario, entry, call number, errno, once or from then on.
 */
#include "fuzz.h"
#include "scenario.h"

#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    static char *dir;
    if (!dir) {
        dir = path_join(fuzz_scratch(), "w");
        FUZZ_CHECK(mkdir(dir, 0700) == 0, "mkdir %s: errno %d", dir, errno);
    }
    const struct scenario *sc = &scenarios[fuzz_u8(&in) % scenario_count];
    FUZZ_CHECK(scenario_count_calls(sc, dir) == 0, "%s fails with no fault", sc->name);

    /* The entries this scenario calls, and how often. */
    const char *called[64];
    unsigned long calls[64];
    size_t n = 0;
    for (size_t e = 0; fault_names[e] && n < 64; e++) {
        unsigned long c = fault_calls(fault_names[e]);
        if (c) {
            called[n] = fault_names[e];
            calls[n++] = c;
        }
    }
    if (!n)
        return 0;
    size_t pick = fuzz_u8(&in) % n;
    unsigned long nth = 1 + fuzz_u16(&in) % calls[pick];
    const int *errs = scenario_errnos(called[pick]);
    size_t nerrs = 0;
    while (errs[nerrs])
        nerrs++;
    if (!nerrs)
        return 0;
    int err = errs[fuzz_u8(&in) % nerrs];
    bool persistent = fuzz_u8(&in) & 1;
    /* A retried EINTR that never ends is no scenario the kernel plays. */
    if (persistent && err == EINTR)
        persistent = false;
    FUZZ_CHECK(scenario_try(sc, dir, called[pick], nth, persistent ? 0 : 1, err) == 0,
               "%s, %s #%lu fails %s %s", sc->name, called[pick], nth, errname(err),
               persistent ? "from then on" : "once");
    return 0;
}
