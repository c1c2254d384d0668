/* test_init.c: initializer with initarg once per worker, failing initializers, maxtasksperchild. */
#include "tasks.h"

static void initializer_once(void)
{
    long arg = 4242;
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 3;
    o.chunksize = 1;
    o.initializer = "init";
    o.initarg = &arg;
    o.initarg_len = sizeof arg;
    SH->init_calls = 0;
    ppool *p;
    ASSERT_OK(ppool_open(&p, &o), NULL);
    arg = 0;                      /* initarg was copied */
    ASSERT_EQ(SH->init_calls, 3); /* every worker ran it before its first task */
    enum { N = 60 };
    long in[N], out[N][3];
    ASSERT_OK(ppool_map(p, "init_state", in, N, sizeof in[0], out, sizeof out[0]), p);
    for (int i = 0; i < N; i++) {
        ASSERT_EQ(out[i][0], 4242);
        ASSERT_EQ(out[i][1], 1);
    }
    ASSERT_EQ(SH->init_calls, 3);
    ppool_free(p);
}

static void initializer_fails(void)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 2;
    o.initializer = "init_fail";
    ppool *p = (ppool *)1;
    ASSERT_EQ(ppool_open(&p, &o), PPOOL_ETASK);
    ASSERT_NULL(p);
    ASSERT_CONTAINS(ppool_errmsg(NULL), "initializer 'init_fail' failed");
    ASSERT_CONTAINS(ppool_errmsg(NULL), "on purpose");
    o.initializer = "not_registered";
    ASSERT_EQ(ppool_open(&p, &o), PPOOL_ENOFUNC);
    ASSERT_CONTAINS(ppool_errmsg(NULL), "not_registered");
    o.initializer = "init";
    o.initarg = NULL;
    o.initarg_len = 8;
    ASSERT_EQ(ppool_open(&p, &o), PPOOL_EINVAL);
    ASSERT_TRUE(h_no_children());
}

static void maxtasks(void)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 2;
    o.chunksize = 1;
    o.maxtasksperchild = 5;
    o.initializer = "init";
    long arg = 7;
    o.initarg = &arg;
    o.initarg_len = sizeof arg;
    SH->init_calls = 0;
    ppool *p;
    ASSERT_OK(ppool_open(&p, &o), NULL);
    enum { N = 40 };
    long in[N], out[N][3];
    ASSERT_OK(ppool_map(p, "init_state", in, N, sizeof in[0], out, sizeof out[0]), p);
    int distinct = 0;
    for (int i = 0; i < N; i++) {
        ASSERT_EQ(out[i][0], 7); /* fresh workers are initialised too */
        int count = 0, first = 1;
        for (int k = 0; k < N; k++) {
            if (out[k][2] == out[i][2]) count++;
            if (k < i && out[k][2] == out[i][2]) first = 0;
        }
        ASSERT_LE(count, 5); /* no process ran more than 5 tasks */
        distinct += first;
    }
    ASSERT_GE(distinct, N / 5);
    ASSERT_GE(SH->init_calls, N / 5);
    /* and the pool goes on */
    check_usable(p);
    ppool_free(p);
    ASSERT_TRUE(h_no_children());
}

int main(void)
{
    tasks_register();
    RUN(initializer_once);
    RUN(initializer_fails);
    RUN(maxtasks);
    return 0;
}
