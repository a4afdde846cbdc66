/*
 * Scenarios of public calls for fault injection, shared by the exhaustive
 * fault sweep (tests/test_fault_sweep.c) and the fault fuzzer
 * (fuzz/fuzz_fault.c): each is prepared with no fault, run under whatever
 * fault the caller armed, and finished with no fault again. The caller checks
 * what every scenario must leave: no descriptor (fd_count), nothing in the
 * directory, no memory (LSan), and the errno returned.
 */
#ifndef SCENARIO_H
#define SCENARIO_H

#include "tftest.h"

/* The data a file scenario keeps as the model of what the file holds. */
#define SCENARIO_MODEL_MAX 16384

struct scen_ctx {
    const char *dir;           /* an empty directory to work in */
    const struct scenario *sc;
    const char *entry;         /* the seam entry failing (NULL: none) */
    tf_file *f;
    tf_dir *d;
    FILE *stream;
    char *path;
    int fd;
    /* What the file must hold: what was there, plus every step that succeeded. */
    unsigned char model[SCENARIO_MODEL_MAX];
    size_t mlen, mpos;
    size_t sweep_live;         /* sweep scenarios: entries to count as live */
    tf_shred_report report;    /* shred scenarios: what the call reported */
    int sv[2];                 /* hand-over scenarios: the socket pair, */
    pid_t peer;                /* the peer process on sv[1], */
    size_t registered;         /* and tf_cleanup_registered() before the run */
};

struct scenario {
    const char *name;
    /* With no fault; 0, or -1 when the scenario cannot be set up. */
    int (*prepare)(struct scen_ctx *c);
    /* Under the fault: 0, or -1 with errno. */
    int (*run)(struct scen_ctx *c);
    /*
     * With no fault: checks what the run left (the file holds the model: no
     * data lost) and removes everything; 0 if right. ran is run()'s result.
     */
    int (*finish)(struct scen_ctx *c, int ran);
    /* errno values the run may report besides the injected one, 0-ended. */
    int also[4];
    /* With a fault from then on, what the failing call could not remove may
     * stay: the call ends the handle that knew the name (documented). */
    bool may_leave;
};

extern const struct scenario scenarios[];
extern const size_t scenario_count;

/*
 * The errno values each seam entry is failed with: what that call can
 * return, 0-ended (at most 6).
 */
const int *scenario_errnos(const char *entry);

/* A tree with files (one read-only), subdirectories of modes 0500, 0000 and
 * 0300 holding a file each, a nested one and a symbolic link to "/". */
int scenario_populate(const char *root);

/*
 * Runs sc in dir with no fault, counting its seam calls (fault_calls() then
 * tells them); 0 if it succeeded.
 */
int scenario_count_calls(const struct scenario *sc, const char *dir);

/*
 * Runs sc in dir (empty) with calls nth .. nth+count-1 of entry failing with
 * err (count 0: every call from nth on), and checks the outcome: success, or
 * -1 with err or one of sc->also; no descriptor more than before; dir empty
 * after the finish, which found the data intact and could finish the job.
 * 0 if all holds; else says what did not on stderr and returns -1.
 */
int scenario_try(const struct scenario *sc, const char *dir, const char *entry,
                 unsigned long nth, unsigned long count, int err);

#endif
