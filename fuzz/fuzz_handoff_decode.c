/*
 * The hand-over metadata decoder (tf_handoff_decode, what a receiver trusts
 * from its peer) against a reference written the plain way from the header's
 * description of the format: the same verdict, on success the same fields
 * (the name pointing into the input), on failure one of the documented errno
 * values and the output untouched.
 *
 * Input: the message itself.
 */
#include "fuzz.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <tempfile.h>

static unsigned long le32(const uint8_t *p)
{
    return p[0] | (unsigned long)p[1] << 8 | (unsigned long)p[2] << 16 | (unsigned long)p[3] << 24;
}

/* 0 and *m, or the errno the header promises for this input. */
static int reference(const uint8_t *p, size_t n, tf_handoff_meta *m)
{
    if (n > TF_HANDOFF_META_MAX)
        return EMSGSIZE;
    if (n < 16 || p[0] != 'T' || p[1] != 'F' || p[2] != 'H' || p[3] != 1)
        return EBADMSG;
    unsigned long flags = le32(p + 4), file_flags = le32(p + 8), len = le32(p + 12);
    const unsigned long known = TF_HANDOFF_SHARE | TF_HANDOFF_NO_ANSWER;
    if ((flags | known) != known ||
        (file_flags | TF_KEEP | TF_NO_DELETE_ON_CLOSE) != (TF_KEEP | TF_NO_DELETE_ON_CLOSE))
        return EBADMSG;
    if (len >= PATH_MAX)
        return EMSGSIZE;
    if (n != 16 + len)
        return EBADMSG;
    for (size_t i = 0; i < len; i++)
        if (p[16 + i] == '\0' || (i == 0 && p[16] != '/'))
            return EBADMSG;
    m->flags = (unsigned)flags;
    m->file_flags = (unsigned)file_flags;
    m->name = len ? (const char *)p + 16 : NULL;
    m->name_len = len;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const tf_handoff_meta untouched = { 77, 77, "untouched", 9 };
    tf_handoff_meta got = untouched, want = untouched;
    int err = reference(data, size, &want);
    errno = 0;
    int rc = tf_handoff_decode(data, size, &got);
    if (err == 0) {
        FUZZ_CHECK(rc == 0, "valid message refused (errno %d)", errno);
        FUZZ_CHECK(got.flags == want.flags && got.file_flags == want.file_flags &&
                   got.name == want.name && got.name_len == want.name_len, "fields differ");
        return 0;
    }
    FUZZ_CHECK(rc == -1, "malformed message accepted (reference: errno %d)", err);
    FUZZ_CHECK(errno == EMSGSIZE || errno == EBADMSG, "undocumented errno %d", errno);
    /* Too long is told first, whatever else is wrong. */
    FUZZ_CHECK(size <= TF_HANDOFF_META_MAX || errno == EMSGSIZE, "errno %d for an oversized message", errno);
    FUZZ_CHECK(memcmp(&got, &untouched, sizeof got) == 0, "output written on failure");
    return 0;
}
