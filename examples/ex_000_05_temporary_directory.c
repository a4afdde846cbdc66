/* Seed 000, slide 5: TemporaryDirectory() with a file inside, removed as a whole */
/*
 * Python:
 *     with tempfile.TemporaryDirectory() as temp_dir:
 *         temp_file_path = os.path.join(temp_dir, "temp_file.txt")
 *         with open(temp_file_path, "w") as temp_file:
 *             temp_file.write("Temporary file in a temporary directory")
 *         print(f"Directory contents: {os.listdir(temp_dir)}")
 *
 * Prints:  Directory contents: ['temp_file.txt']
 */
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>

#include "example.h"

int main(void)
{
    char temp_file_path[PATH_MAX];
    struct dirent *e;
    int entries = 0;
    char *dir_name;
    FILE *temp_file;
    DIR *dp;

    tf_dir *temp_dir = tf_temporary_directory(NULL);
    if (temp_dir == NULL)
        return ex_fail("tf_temporary_directory");

    /* os.path.join; a path that does not fit is an error, never truncated. */
    if (snprintf(temp_file_path, sizeof temp_file_path, "%s/temp_file.txt",
                 tf_dir_name(temp_dir)) >= (int)sizeof temp_file_path) {
        errno = ENAMETOOLONG;
        ex_fail("os.path.join");
    } else if ((temp_file = fopen(temp_file_path, "we")) == NULL) {
        ex_fail(temp_file_path);
    } else {
        fputs("Temporary file in a temporary directory", temp_file);
        if (fclose(temp_file) != 0)
            ex_fail("fclose");
    }

    /* os.listdir: every entry but "." and "..". */
    fputs("Directory contents: [", stdout);
    if ((dp = opendir(tf_dir_name(temp_dir))) == NULL) {
        ex_fail("opendir");
    } else {
        while ((e = readdir(dp)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            printf("%s'%s'", entries++ ? ", " : "", e->d_name);
            CHECK(strcmp(e->d_name, "temp_file.txt") == 0);
        }
        closedir(dp);
    }
    puts("]");
    CHECK(entries == 1);

    /* End of the with block: the directory goes, with what is inside. */
    dir_name = strdup(tf_dir_name(temp_dir));
    if (tf_dir_release(temp_dir) != 0)
        ex_fail("tf_dir_release");
    if (dir_name == NULL)
        return ex_fail("strdup");
    CHECK(ex_gone(dir_name));
    free(dir_name);
    return ex_status;
}
