/* The fuzz targets' scratch directory (fuzz.h). */
#include "fuzz.h"
#include "tftest.h"

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
        scratch = scratch_new();
        /* Searchable by everyone: some targets work as nobody below it. */
        chmod(scratch, 0755);
        owner = getpid();
        atexit(remove_scratch);
    }
    return scratch;
}
