/* The fuzz targets' scratch directory (fuzz.h). */
#include "fuzz.h"
#include "tftest.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *scratch;
static pid_t owner;

static void remove_scratch(void)
{
    if (getpid() == owner)
        scratch_free(scratch);
}

const char *fuzz_scratch(void)
{
    if (!scratch) {
        /* Under the run's TMPDIR (scripts/fuzz gives each target its own and
         * checks it is empty afterwards), so that a target that dies leaves
         * its scratch there, not in /tmp. */
        const char *tmp = getenv("TMPDIR");
        scratch = tmp && tmp[0] == '/' ? scratch_new_in(tmp) : scratch_new();
        /* Searchable by everyone: some targets work as nobody below it. */
        chmod(scratch, 0755);
        owner = getpid();
        atexit(remove_scratch);
    }
    return scratch;
}
