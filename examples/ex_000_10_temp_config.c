/* Seed 000, slide 10: a temporary .ini that becomes the real configuration */
/*
 * Python (the seed):
 *     with tempfile.NamedTemporaryFile(mode='w+', suffix='.ini', delete=False) as temp_config:
 *         config.write(temp_config)
 *         return temp_config.name
 *     ...
 *     print(f"CompressionLevel: {config['DEFAULT']['CompressionLevel']}")
 *
 * Prints:  Temporary config written at: <dir>/.tmpXXXXXXXX
 *          Committed to: <dir>/app.ini
 *          CompressionLevel: 9
 *
 * The seed's file stays a temporary in /tmp for ever (delete=False). Here the
 * configuration is written into a temporary beside app.ini, through a FILE *,
 * and committed over it: a reader of app.ini sees the old configuration or
 * the new one, never half of it, even after a crash.
 */
#include <stdlib.h>

#include "example.h"

static int write_config(const char *path)
{
    tf_file *f = tf_replace_begin(path, NULL);
    if (f == NULL)
        return ex_fail("tf_replace_begin");
    printf("Temporary config written at: %s\n", tf_file_name(f));
    FILE *s = tf_file_stream(f);
    fprintf(s, "[DEFAULT]\nserveraliveinterval = 45\ncompression = yes\ncompressionlevel = 9\n");
    int level = tf_file_commit(f, NULL);   /* flushes the stream first */
    if (level < 0)
        ex_fail("tf_file_commit");
    else
        printf("Committed to: %s\n", tf_file_name(f));
    tf_file_release(f);
    return level < 0;
}

/* config['DEFAULT'][key] of a file as the seed wrote it. */
static int read_key(const char *path, const char *key, char *val, size_t n)
{
    FILE *f = fopen(path, "r");
    char line[256], k[64], v[256];
    int found = 0;
    while (f && !found && fgets(line, sizeof line, f))
        found = sscanf(line, "%63s = %255s", k, v) == 2 && strcmp(k, key) == 0 &&
                snprintf(val, n, "%s", v) > 0;
    if (f)
        fclose(f);
    return found ? 0 : -1;
}

int main(void)
{
    tf_dir *d = tf_temporary_directory(NULL);
    if (d == NULL)
        return ex_fail("tf_temporary_directory");
    char path[4096], level[16] = "";
    snprintf(path, sizeof path, "%s/app.ini", tf_dir_name(d));
    write_config(path);
    if (CHECK(read_key(path, "compressionlevel", level, sizeof level) == 0))
        printf("CompressionLevel: %s\n", level);
    CHECK(strcmp(level, "9") == 0);
    tf_dir_release(d);
    return ex_status;
}
