/* Seed 000, slide 11: secure deletion that knows the filesystem */
/*
 * Python (the seed):
 *     def secure_delete(file_path, passes=3):
 *         file_size = os.path.getsize(file_path)
 *         with open(file_path, "wb") as f:
 *             for _ in range(passes):
 *                 f.seek(0)
 *                 f.write(os.urandom(file_size))
 *         os.unlink(file_path)
 *
 * Prints:  File /tmp/tmpabc123 securely deleted
 *
 * What goes wrong there: open(..., "wb") truncates the file first, so its
 * blocks are freed before any pass; each pass then writes fresh blocks
 * wherever the filesystem likes, and the writes stay in the page cache
 * (nothing is synced) until after the unlink. And on btrfs, zfs, a reflinked
 * copy, ext4 data=journal or a network filesystem no overwrite in place can
 * reach the old data anyway: the seed cannot know.
 *
 * tf_file_shred() overwrites the file in place without truncating it (3
 * random passes and a zero pass, each fdatasync'ed), removes the name the way
 * coreutils shred --remove=wipesync does, and first looks at what it is
 * writing on: the report is printed. Where the overwrite cannot reach the
 * data it refuses (EMEDIUMTYPE) unless TF_SHRED_FORCE is given; this program
 * then says why and lets the release remove the file as usual.
 *
 * Prints (the report depends on the filesystem of TMPDIR), for example:
 *     filesystem: ext2/ext3/ext4 (0xef53)
 *     overwriting in place reaches the data: yes
 *     File /tmp/tmpabc123 securely deleted (4 passes of 4096 bytes)
 */
#include <stdlib.h>

#include "example.h"

static const char *fs_name(unsigned long magic)
{
    switch (magic) {
    case 0xEF53: return "ext2/ext3/ext4";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x01021994: return "tmpfs";
    case 0x6969: return "nfs";
    default: return "other";
    }
}

static void print_report(const tf_shred_report *r)
{
    printf("filesystem: %s (%#lx)\n", fs_name(r->fs_type), r->fs_type);
    for (unsigned bit = 1; bit; bit <<= 1)
        if ((r->why & bit) && tf_shred_reason(bit))
            printf("  %s: %s\n", (bit & TF_FS_INEFFECTIVE) ? "cannot reach the data" : "note",
                   tf_shred_reason(bit));
    printf("overwriting in place reaches the data: %s\n", r->effective ? "yes" : "no");
}

int main(void)
{
    tf_file *temp_file = tf_named_temporary_file(NULL);
    if (temp_file == NULL)
        return ex_fail("tf_named_temporary_file");
    char *temp_path = strdup(tf_file_name(temp_file));
    CHECK(tf_file_write(temp_file, "Sensitive data", 14) == 14);

    tf_shred_report report;
    int rc = tf_file_shred(temp_file, &(tf_shred_opts){ .flags = TF_SHRED_ZERO | TF_SHRED_REMOVE },
                           &report);
    print_report(&report);
    if (rc == 0) {
        CHECK(ex_gone(temp_path));
        printf("File %s securely deleted (%u passes of %llu bytes)\n", temp_path,
               report.passes, report.bytes);
    } else if (errno == EMEDIUMTYPE) {
        printf("File %s not shredded: overwriting cannot reach its data here; "
               "removed only\n", temp_path);
    } else {
        ex_fail("tf_file_shred");
    }
    if (tf_file_release(temp_file) != 0)
        ex_fail("tf_file_release");
    CHECK(ex_gone(temp_path));
    free(temp_path);
    return ex_status;
}
