/* test_funneled.c: an application at MPI_THREAD_FUNNELED or SERIALIZED (argv[1]) puts a pool on a
 * 3-rank sub-communicator of 5: no dispatcher thread, callbacks on the caller's thread; MPI goes
 * on. */
#include <dirent.h>
#include <mpi.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <ppool_mpi.h>

#include "harness.h"
#include "sub_of_five.h"

static int square(ppool_task *t, const void *arg, size_t len)
{
    long x = *(const long *)arg, r = x * x;
    return ppool_task_return(t, &r, sizeof r);
}

static int threads_now(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
    if (d) closedir(d);
    return n;
}

static pthread_t main_thread;
static int called, on_main;

static void done(ppool_async *a, void *user)
{
    (void)a;
    (void)user;
    called++;
    on_main += pthread_equal(pthread_self(), main_thread) != 0;
}

/* Map, async results with callbacks, a polled map_async and an imap: all progress inside the
 * calls, on this thread. */
static void use_pool(MPI_Comm sub, int which)
{
    (void)which; /* the two pools are alike */
    int before = threads_now();
    ppool *p;
    int rc = ppool_open_comm(&p, sub, NULL);
    if (rc == PPOOL_WORKER) return;
    ASSERT_OK(rc, NULL);
    ASSERT_EQ(threads_now(), before); /* no dispatcher thread */
    long in[500], out[500];
    for (long i = 0; i < 500; i++) in[i] = i;
    ASSERT_OK(ppool_map(p, "square", in, 500, sizeof in[0], out, sizeof out[0]), p);
    for (long i = 0; i < 500; i++) ASSERT_EQ(out[i], i * i);
    ppool_async *a[20];
    called = on_main = 0;
    for (int i = 0; i < 20; i++) {
        a[i] = ppool_apply_async(p, "square", &in[i], sizeof in[i]);
        ASSERT_TRUE(a[i] != NULL);
        ppool_async_on_done(a[i], done, NULL);
    }
    for (int i = 0; i < 20; i++) {
        ppool_buf r;
        ASSERT_OK(ppool_async_get(a[i], &r, -1), p);
        ASSERT_EQ(*(long *)r.data, in[i] * in[i]);
        ppool_async_free(a[i]);
    }
    ASSERT_EQ(called, 20);
    ASSERT_EQ(on_main, 20); /* callbacks run inside the calls, on the caller's thread */
    memset(out, 0, sizeof out);
    ppool_async *m = ppool_map_async(p, "square", in, 500, sizeof in[0], out, sizeof out[0]);
    ASSERT_TRUE(m != NULL);
    while (!ppool_async_ready(m)) { /* polling alone drives it */
    }
    ASSERT_OK(ppool_async_get(m, NULL, 0), p);
    ASSERT_EQ(out[499], 499L * 499);
    ppool_async_free(m);
    ppool_iter *it = ppool_imap(p, "square", in, 100, sizeof in[0]);
    size_t idx, seen = 0;
    ppool_buf r;
    while ((rc = ppool_iter_next(it, &idx, &r, 10)) == 0) {
        ASSERT_EQ(idx, seen);
        ASSERT_EQ(*(long *)r.data, in[idx] * in[idx]);
        seen++;
    }
    ASSERT_EQ(rc, PPOOL_EDONE);
    ASSERT_EQ(seen, 100);
    ppool_iter_free(it);
    ASSERT_OK(ppool_close(p), p);
    ASSERT_OK(ppool_join(p), p);
    ppool_free(p);
}

int main(int argc, char **argv)
{
    int want = argc > 1 && strcmp(argv[1], "serialized") == 0 ? MPI_THREAD_SERIALIZED
                                                              : MPI_THREAD_FUNNELED;
    int level, rank, size;
    MPI_Init_thread(&argc, &argv, want, &level);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size != 5 || level >= MPI_THREAD_MULTIPLE) {
        fprintf(stderr, "run with 5 ranks (%d), at a level below MULTIPLE (%d)\n", size, level);
        return 1;
    }
    main_thread = pthread_self();
    ASSERT_OK(ppool_register("square", square), NULL);
    on_sub_of_five(rank, use_pool);
    MPI_Finalize();
    if (rank == 0) printf("test_funneled (%s): ok\n", argc > 1 ? argv[1] : "funneled");
    return 0;
}
