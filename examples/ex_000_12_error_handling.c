/* Seed 000, slide 12: cleanup that runs despite an error (try/finally) */
/*
 * Python:
 *     try:
 *         temp_file = tempfile.NamedTemporaryFile(delete=False)
 *         try:
 *             temp_file.write(b"Some data")
 *             raise Exception("Simulated error")
 *         finally:
 *             temp_file.close()
 *             os.unlink(temp_file.name)
 *             print(f"Temp file {temp_file.name} deleted despite error")
 *     except Exception as e:
 *         print(f"Caught exception: {e}")
 *
 * Prints:  Temp file /tmp/tmpXXXXXXXX deleted despite error
 *          Caught exception: Simulated error
 *
 * C has no exceptions: the inner try block is a function that returns the
 * message of what it "raised" (NULL if nothing), and finally is the code that
 * runs after it whatever it returned.
 */
#include "example.h"

/* The inner try block. */
static const char *use(tf_file *temp_file)
{
    static const char data[] = "Some data";

    if (tf_file_write(temp_file, data, sizeof data - 1) != (ssize_t)(sizeof data - 1))
        return strerror(errno);
    return "Simulated error"; /* raise Exception("Simulated error") */
}

int main(void)
{
    const char *error;

    tf_file *temp_file = tf_named_temporary_file(&(tf_opts){ .flags = TF_KEEP });
    if (temp_file == NULL) {
        /* The outer except: creation itself failed. */
        printf("Caught exception: %s\n", strerror(errno));
        return 1;
    }

    error = use(temp_file);

    /* finally: the name still answers after close, as Python's does. */
    if (tf_file_close(temp_file) != 0)
        ex_fail("tf_file_close");
    if (unlink(tf_file_name(temp_file)) != 0)
        ex_fail("unlink");
    printf("Temp file %s deleted despite error\n", tf_file_name(temp_file));
    CHECK(ex_gone(tf_file_name(temp_file)));
    /* TF_KEEP: release frees the handle and removes nothing (already gone). */
    if (tf_file_release(temp_file) != 0)
        ex_fail("tf_file_release");

    /* except Exception as e */
    if (error != NULL)
        printf("Caught exception: %s\n", error);
    CHECK(error != NULL && strcmp(error, "Simulated error") == 0);
    return ex_status;
}
