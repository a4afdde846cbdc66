/* Seed 000, slide 4: SpooledTemporaryFile(max_size=1000), memory first, disk past the size */
/*
 * Python:
 *     with tempfile.SpooledTemporaryFile(max_size=1000) as temp_file:
 *         temp_file.write(b"Small data")
 *         print(f"In memory: {temp_file._rolled}")
 *         temp_file.write(b"A" * 1000)
 *         print(f"On disk: {temp_file._rolled}")
 *
 * Prints (the seed's own output):
 *     In memory: False
 *     On disk: True
 * Python's private _rolled is the public tf_file_rolled() here.
 */
#include "example.h"

static const char *py_bool(int b)
{
    return b ? "True" : "False";
}

int main(void)
{
    static char as[1000];
    char back[16] = "";

    tf_file *temp_file = tf_spooled_temporary_file(&(tf_opts){ .max_size = 1000 });
    if (temp_file == NULL)
        return ex_fail("tf_spooled_temporary_file");

    if (tf_file_write(temp_file, "Small data", 10) != 10)
        ex_fail("tf_file_write");
    printf("In memory: %s\n", py_bool(tf_file_rolled(temp_file)));
    CHECK(tf_file_rolled(temp_file) == 0);

    /* 1010 bytes: the position passes max_size, so this write rolls over. */
    memset(as, 'A', sizeof as);
    if (tf_file_write(temp_file, as, sizeof as) != (ssize_t)sizeof as)
        ex_fail("tf_file_write");
    printf("On disk: %s\n", py_bool(tf_file_rolled(temp_file)));
    CHECK(tf_file_rolled(temp_file) == 1);

    /* Nothing was lost on the way to disk, and the position came along. */
    CHECK(tf_file_tell(temp_file) == 1010);
    CHECK(tf_file_seek(temp_file, 0, SEEK_SET) == 0);
    CHECK(tf_file_read(temp_file, back, 11) == 11 && memcmp(back, "Small dataA", 11) == 0);

    /* End of the with block: close (and free the handle). */
    if (tf_file_release(temp_file) != 0)
        ex_fail("tf_file_release");
    return ex_status;
}
