/* Fault injection over the syscall seam tf__sys (see tftest.h). */
#include "tftest.h"

#include <stdatomic.h>
#include <unistd.h>

/* One index, name and counting wrapper per seam entry, from its one list. */
#define F_INDEX(ret, name, params, args, impl, fail) F_##name,
enum { TF__SYSCALLS(F_INDEX) F_COUNT };

#define F_NAME(ret, name, params, args, impl, fail) #name,
const char *const fault_names[] = { TF__SYSCALLS(F_NAME) NULL };

struct entry {
    atomic_ulong calls;
    atomic_bool armed;
    unsigned long first, count;   /* fail calls first .. first+count-1; count 0: all */
    int err;
};

static struct entry entries[F_COUNT];
static atomic_ulong hits;

struct tf__syscalls fault_next = {0};
static atomic_bool next_ready;

static void next_init(void)
{
    if (!atomic_load(&next_ready)) {
        fault_next = tf__sys_default;
        atomic_store(&next_ready, true);
    }
}

/* Counts the call; true (with *err) if this one must fail. */
static bool fail_now(int idx, int *err)
{
    struct entry *e = &entries[idx];
    unsigned long n = atomic_fetch_add(&e->calls, 1) + 1;
    if (!atomic_load(&e->armed))
        return false;
    if (n < e->first)
        return false;
    if (e->count != 0 && n >= e->first + e->count)
        return false;
    atomic_fetch_add(&hits, 1);
    *err = e->err;
    return true;
}

/*
 * A failing entry returns its failure value without calling through, except
 * close: Linux releases the descriptor even when close() reports an error.
 */
#define F_WRAPPER(ret, name, params, args, impl, fail) \
    static ret w_##name params                                  \
    {                                                           \
        int err_;                                               \
        if (!fail_now(F_##name, &err_))                         \
            return fault_next.name args;                        \
        if (F_##name == F_close)                                \
            (void)fault_next.name args;                         \
        errno = err_;                                           \
        return fail;                                            \
    }
TF__SYSCALLS(F_WRAPPER)

#define F_WRAPPER_ENTRY(ret, name, params, args, impl, fail) .name = w_##name,
static const struct tf__syscalls wrappers = { TF__SYSCALLS(F_WRAPPER_ENTRY) };

static int index_of(const char *name)
{
    for (int i = 0; fault_names[i]; i++)
        if (strcmp(fault_names[i], name) == 0)
            return i;
    return -1;
}

static void counts_restart(void)
{
    next_init();
    for (int i = 0; i < F_COUNT; i++)
        atomic_store(&entries[i].calls, 0);
    atomic_store(&hits, 0);
    tf__sys = wrappers;
}

void fault_count_start(void)
{
    for (int i = 0; i < F_COUNT; i++)
        atomic_store(&entries[i].armed, false);
    counts_restart();
}

int fault_arm_range(const char *name, unsigned long nth, unsigned long count, int err)
{
    int i = index_of(name);
    if (i < 0) {
        fprintf(stderr, "fault_arm: unknown seam entry %s\n", name);
        return -1;
    }
    atomic_store(&entries[i].armed, false);
    counts_restart();
    entries[i].first = nth;
    entries[i].count = count;
    entries[i].err = err;
    atomic_store(&entries[i].armed, true);
    return 0;
}

int fault_arm(const char *name, unsigned long nth, int err)
{
    return fault_arm_range(name, nth, 1, err);
}

unsigned long fault_calls(const char *name)
{
    int i = index_of(name);
    return i < 0 ? 0 : atomic_load(&entries[i].calls);
}

unsigned long fault_hits(void)
{
    return atomic_load(&hits);
}

void fault_reset(void)
{
    for (int i = 0; i < F_COUNT; i++)
        atomic_store(&entries[i].armed, false);
    fault_next = tf__sys_default;
    atomic_store(&next_ready, true);
    tf__sys = tf__sys_default;
}

/* ---- deterministic getrandom ------------------------------------------- */

static uint64_t fake_seed, fake_state;
static size_t fake_given;

static uint8_t fake_byte(void)
{
    /* xorshift64* */
    fake_state ^= fake_state >> 12;
    fake_state ^= fake_state << 25;
    fake_state ^= fake_state >> 27;
    return (uint8_t)((fake_state * 2685821657736338717ULL) >> 56);
}

static ssize_t fake_getrandom(void *buf, size_t n, unsigned flags)
{
    (void)flags;
    uint8_t *p = buf;
    for (size_t i = 0; i < n; i++)
        p[i] = fake_byte();
    fake_given += n;
    return (ssize_t)n;
}

void fake_random_rewind(void)
{
    fake_state = fake_seed ? fake_seed : 0x9e3779b97f4a7c15ULL;
    fake_given = 0;
}

void fake_random_install(uint64_t seed)
{
    next_init();
    fake_seed = seed;
    fake_random_rewind();
    fault_next.getrandom = fake_getrandom;
    tf__sys.getrandom = fake_getrandom;
}

size_t fake_random_bytes(void)
{
    return fake_given;
}
