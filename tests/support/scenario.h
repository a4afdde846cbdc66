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
    int err;                   /* the errno injected (0: none) */
    /* Durable scenarios (scenario_durable.c): */
    tf_persist_report prep;    /* what the persist or commit reported */
    struct stat old;           /* the destination as prepared (st_ino 0: none) */
    bool tried;                /* the persist call was made */
    char *was;                 /* the file's name before the persist */
    size_t unregistering;      /* names the persist takes out of the registry */
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
    /* A variant of the scenario of that name that differs from it only in
     * some seam entries (a lower level: fewer fsyncs): the sweep fails only
     * the entries whose count differs from that one's, the rest it shares. */
    const char *like;
    const void *arg;           /* the scenario's own parameters */
};

/*
 * The scenarios of persist, atomic replace and lock files
 * (scenario_durable.c), at the end of scenarios[]. Each places a file at
 * dir/dest: under the fault the call returns -1 with the errno or succeeds;
 * then dest is either untouched (the same inode, old content, mode, owner,
 * extended attributes) or fully new (the new content, the old metadata
 * carried over by a replace), the file a failed persist or commit hands
 * back is still open, temporary and registered and placing it again with
 * no fault succeeds; nothing else is left in the directory.
 */
enum durable_kind {
    DUR_PERSIST_NAMED,     /* tf_named_temporary_file(), then tf_file_persist() */
    DUR_PERSIST_LINKABLE,  /* tf_linkable_temporary_file(), a write, tf_file_persist() */
    DUR_REPLACE,           /* tf_replace_begin(), a write, tf_file_commit() */
    DUR_CONTENTS,          /* tf_replace_contents() */
    DUR_LOCK,              /* tf_lock_file(), a write, tf_file_commit() */
};
struct durable_case {
    enum durable_kind kind;
    int level;             /* tf_persist_opts.level */
    unsigned flags;        /* tf_persist_opts.flags */
    mode_t mode;           /* tf_persist_opts.mode */
    bool exists;           /* dest is there before: content, mode 0640, owner
                            * 65534 (as root), user.* attributes, one > 512 bytes */
    bool chain;            /* dest is a link to a link to the file (real) */
};
int prepare_durable(struct scen_ctx *c);
int run_durable(struct scen_ctx *c);
int finish_durable(struct scen_ctx *c, int ran);
#define DURABLE(label, base, ...) \
    { label, prepare_durable, run_durable, finish_durable, { 0 }, false, base, \
      &(const struct durable_case){ __VA_ARGS__ } },
#define DUR_V TF_LEVEL_VISIBLE
#define DUR_C TF_LEVEL_CONSISTENT
#define DUR_D TF_LEVEL_DURABLE
#define DUR_NC TF_PERSIST_NOCLOBBER
#define SCENARIOS_DURABLE \
    DURABLE("persist: named, replace", NULL, DUR_PERSIST_NAMED, DUR_D, 0, 0644, true, false) \
    DURABLE("persist: named, replace, no sync", "persist: named, replace", \
            DUR_PERSIST_NAMED, DUR_V, 0, 0644, true, false) \
    DURABLE("persist: named, no clobber", NULL, DUR_PERSIST_NAMED, DUR_D, DUR_NC, 0, false, false) \
    DURABLE("persist: named, no clobber, no sync", "persist: named, no clobber", \
            DUR_PERSIST_NAMED, DUR_V, DUR_NC, 0, false, false) \
    DURABLE("persist: named, through a link chain", NULL, DUR_PERSIST_NAMED, DUR_D, 0, 0, \
            true, true) \
    DURABLE("persist: linkable, replace", NULL, DUR_PERSIST_LINKABLE, DUR_D, 0, 0, true, false) \
    DURABLE("persist: linkable, no clobber", NULL, DUR_PERSIST_LINKABLE, DUR_D, DUR_NC, 0, \
            false, false) \
    DURABLE("replace: durable", NULL, DUR_REPLACE, DUR_D, 0, 0, true, false) \
    DURABLE("replace: consistent", "replace: durable", DUR_REPLACE, DUR_C, 0, 0, true, false) \
    DURABLE("replace: visible", "replace: durable", DUR_REPLACE, DUR_V, 0, 0, true, false) \
    DURABLE("replace: a new destination", NULL, DUR_REPLACE, DUR_D, 0, 0, false, false) \
    DURABLE("tf_replace_contents", NULL, DUR_CONTENTS, DUR_D, 0, 0, true, false) \
    DURABLE("tf_replace_contents: a new destination", NULL, DUR_CONTENTS, DUR_D, 0, 0, false, \
            false) \
    DURABLE("tf_lock_file", NULL, DUR_LOCK, DUR_D, 0, 0, true, false)

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

/* Helpers of scenario.c the other scenario files share. */
void fill_pattern(unsigned char *buf, size_t n, unsigned salt);
/* Writes n bytes of the pattern (salt) through c->f; the model follows. */
int step_write(struct scen_ctx *c, size_t n, unsigned salt);
/* Checks c->f holds the model, then finish_handles(). */
int finish_file(struct scen_ctx *c, int ran);
/* Releases every handle and stream c holds. */
int finish_handles(struct scen_ctx *c, int ran);

#endif
