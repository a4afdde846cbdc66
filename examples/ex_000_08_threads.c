/* Seed 000, slide 8: three threads create named temporary files at once */
/*
 * Python:
 *     def create_temp_file():
 *         with tempfile.NamedTemporaryFile(
 *                 prefix=f"thread_{threading.get_ident()}_") as temp:
 *             print(f"Thread {threading.get_ident()} created: {temp.name}")
 *
 *     threads = [threading.Thread(target=create_temp_file) for _ in range(3)]
 *     for thread in threads: thread.start()
 *     for thread in threads: thread.join()
 *
 * Prints, in any order (the slide's ".tmp" suffix is not CPython's):
 *     Thread 140234567890 created: /tmp/thread_140234567890_XXXXXXXX
 *     ... one line per thread
 */
#include <pthread.h>
#include <stdlib.h>

#include "example.h"

#define NTHREADS 3

/* What one thread did, for main to check after join. The threads never touch
 * ex_status: each writes only its own job. */
struct job {
    pthread_t thread;
    char prefix[64];
    char *name;      /* the file's name, copied before release */
    int err;         /* errno of a failed call, 0 if none */
    bool released;   /* tf_file_release() succeeded */
};

/* Makes the threads create their files at the same moment, which is the
 * point of the slide, instead of one after the other. */
static pthread_barrier_t start_line;

static void *create_temp_file(void *arg)
{
    struct job *job = arg;
    /* threading.get_ident() is pthread_self() on Linux. */
    unsigned long ident = (unsigned long)pthread_self();

    snprintf(job->prefix, sizeof job->prefix, "thread_%lu_", ident);
    pthread_barrier_wait(&start_line);

    tf_file *temp = tf_named_temporary_file(&(tf_opts){ .prefix = job->prefix });
    if (temp == NULL) {
        job->err = errno;
        return NULL;
    }
    printf("Thread %lu created: %s\n", ident, tf_file_name(temp));
    job->name = strdup(tf_file_name(temp));
    /* End of the with block: delete=True, so release removes the file. */
    job->released = tf_file_release(temp) == 0;
    if (!job->released)
        job->err = errno;
    return NULL;
}

int main(void)
{
    struct job jobs[NTHREADS] = { 0 };
    int started = 0;

    if ((errno = pthread_barrier_init(&start_line, NULL, NTHREADS)) != 0)
        return ex_fail("pthread_barrier_init");
    for (; started < NTHREADS; started++) {
        errno = pthread_create(&jobs[started].thread, NULL, create_temp_file,
                               &jobs[started]);
        if (errno != 0) {
            /* Threads already waiting at the barrier would wait forever. */
            ex_fail("pthread_create");
            exit(1);
        }
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(jobs[i].thread, NULL);
    pthread_barrier_destroy(&start_line);

    for (int i = 0; i < NTHREADS; i++) {
        if (jobs[i].err != 0) {
            errno = jobs[i].err;
            ex_fail("thread");
        }
        CHECK(jobs[i].released);
        CHECK(ex_name_ok(jobs[i].name, NULL, jobs[i].prefix, ""));
        /* Removed on release, as delete=True says. */
        CHECK(jobs[i].name != NULL && ex_gone(jobs[i].name));
        /* Distinct threads, distinct files. */
        for (int j = 0; j < i; j++)
            CHECK(jobs[i].name == NULL || jobs[j].name == NULL ||
                  strcmp(jobs[i].name, jobs[j].name) != 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        free(jobs[i].name);
    return ex_status;
}
