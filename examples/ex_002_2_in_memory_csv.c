/* Seed 002, option 2: an in-memory CSV written with fprintf through the FILE * view of a spooled file */
/*
 * Python:
 *     base_url = 'http://example.com'
 *     data = [['sku', 'url'], [1, '{}/path/to'.format(base_url)],
 *             [2, '{}/path/to2'.format(base_url)]]
 *     f = StringIO()
 *     w = csv.writer(f, delimiter='\t')
 *     for row in data:
 *         w.writerow(row)
 *     f.seek(0)
 *
 * The seed prints nothing; "the object f quacks like a file" and is uploaded.
 * Here the buffer is a spooled file that never rolls over (max_size 0), the
 * rows go through fprintf with csv.writer's own line ending "\r\n", and the
 * "upload" reads it back line by line and prints each row:
 *     sku	url
 *     1	http://example.com/path/to
 *     2	http://example.com/path/to2
 * Unlike StringIO, the memory is wiped when the file is released, and the
 * same code keeps working if the data outgrows a max_size and goes to disk.
 */
#include "example.h"

int main(void)
{
    static const char base_url[] = "http://example.com";
    static const char expected[] = "sku\turl\r\n"
                                   "1\thttp://example.com/path/to\r\n"
                                   "2\thttp://example.com/path/to2\r\n";
    char line[128], all[256] = "";
    FILE *f;

    tf_file *tmp = tf_spooled_temporary_file(NULL);
    if (tmp == NULL)
        return ex_fail("tf_spooled_temporary_file");
    f = tf_file_stream(tmp);
    if (f == NULL) {
        ex_fail("tf_file_stream");
        tf_file_release(tmp);
        return ex_status;
    }

    /* w.writerow(row) for each row, delimiter '\t'. */
    fprintf(f, "%s\t%s\r\n", "sku", "url");
    fprintf(f, "%d\t%s/path/to\r\n", 1, base_url);
    fprintf(f, "%d\t%s/path/to2\r\n", 2, base_url);
    /* f.seek(0): also flushes the rows into the spooled file. */
    if (fseek(f, 0, SEEK_SET) != 0)
        ex_fail("fseek");

    /* The upload: read the rows back. */
    while (fgets(line, sizeof line, f) != NULL) {
        strncat(all, line, sizeof all - strlen(all) - 1);
        line[strcspn(line, "\r\n")] = '\0';
        printf("%s\n", line);
    }
    CHECK(strcmp(all, expected) == 0);
    CHECK(tf_file_rolled(tmp) == 0);   /* max_size 0: it never left memory */

    if (tf_file_release(tmp) != 0)
        ex_fail("tf_file_release");
    return ex_status;
}
