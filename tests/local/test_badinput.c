/* test_badinput.c: bad input to every public call, from a table: clear code and message. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/mman.h>

#include "tasks.h"

/* Each row runs in a process of its own (forked before it opens any pool), so
 * a row that crashes or hangs is reported as such and the others still run:
 * the runner kills a row after ROW_SECONDS and counts it failed. What the row's
 * process (library and workers) writes to stdout or stderr fails it too: the
 * library prints nothing on a user's mistake. So does a call of exit(). */
#define ROW_SECONDS 30

/* Pseudo return codes of the calls that return no int. */
#define R_NULL   1000 /* a constructor returned NULL */
#define R_HANDLE 1001 /* ... returned a handle */
#define R_BAD    1002 /* a check inside the call failed (the note says which) */

/* The item larger than any frame: 1.5 GiB (PPOOL__MAX_FRAME is 1 GiB, and one
 * item or argument may have at most half of it). */
#define HUGE_ITEM ((size_t)3 << 29)

/* What the row's pool is when its call begins. */
enum { NOPOOL, OPEN, CLOSED, TERMINATED };

typedef struct ctx {
    ppool *p;       /* the row's pool, NULL for NOPOOL */
    double arg;     /* the row's parameter (a timeout, mostly) */
    int touched;    /* the call changed its pool's state itself: no usability check */
    int freed;      /* ... freed it: its errmsg is not read */
    char note[800]; /* why R_BAD */
} ctx;

typedef struct row {
    const char *name;
    int pool;
    int (*call)(ctx *);
    double arg;
    int want;        /* the call's return code (or R_*) */
    const char *msg; /* ppool_errmsg(the row's pool, NULL for NOPOOL) must contain this */
} row;

static int bad(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->note, sizeof c->note, fmt, ap);
    va_end(ap);
    return R_BAD;
}

#define CHECK(c, cond)                                                                             \
    do {                                                                                           \
        if (!(cond)) return bad(c, "line %d: %s is false", __LINE__, #cond);                       \
    } while (0)
#define CHECK_RC(c, call, want)                                                                    \
    do {                                                                                           \
        int r_ = (call), w_ = (want);                                                              \
        if (r_ != w_)                                                                              \
            return bad(c, "line %d: %s returned %d (%s), want %d (%s): \"%s\"", __LINE__, #call,   \
                       r_, ppool_errname(r_), w_, ppool_errname(w_),                               \
                       (c)->freed ? "" : ppool_errmsg((c)->p));                                    \
    } while (0)

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Address space for HUGE_ITEM bytes of zeros, never written (reading it maps
 * only the zero page): NULL if the system refuses. */
static const char *huge_region(void)
{
    void *m = mmap(NULL, HUGE_ITEM, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return m == MAP_FAILED ? NULL : m;
}

static int as_async(ppool_async *a)
{
    if (!a) return R_NULL;
    ppool_async_free(a);
    return R_HANDLE;
}

static int as_iter(ppool_iter *it)
{
    if (!it) return R_NULL;
    ppool_iter_free(it);
    return R_HANDLE;
}

/* ---- tasks of this test (registered with the shared ones, before any pool) ---- */

/* Bad calls of the task API from inside a task: returns their codes. */
static int t_probe_return(ppool_task *t, const void *a, size_t n)
{
    int r[4];
    long x = 7;
    r[0] = ppool_task_return(t, NULL, 5);         /* NULL data of 5 bytes */
    r[1] = ppool_task_return(NULL, &x, sizeof x); /* NULL task */
    r[2] = ppool_task_return(t, NULL, 0);         /* an empty result: fine */
    r[3] = ppool_task_fail(NULL, "no task %d", 1);
    return ppool_task_return(t, r, sizeof r);
}
/* ppool_task_fail with a NULL format (through a pointer, which has no format
 * attribute to warn about it). */
static int t_probe_failnull(ppool_task *t, const void *a, size_t n)
{
    int (*fail)(ppool_task *, const char *, ...) = ppool_task_fail;
    const char *volatile fmt = NULL;
    return fail(t, fmt);
}

/* ---- sources ---- */

typedef struct src_state {
    int k;      /* items handed out */
    int fail;   /* after this many: return -42 (0: never) */
    int count;  /* items in all (0: 3) */
    size_t len; /* bytes of each item */
    const void *data;
    long v;
} src_state;
static src_state SRC;

static int src_next(void *user, const void **item, size_t *len)
{
    src_state *s = user;
    if (s->fail && s->k >= s->fail) return -42;
    if (s->k >= (s->count ? s->count : 3)) return 0;
    s->v = s->k++;
    *item = s->data ? s->data : &s->v;
    *len = s->len ? s->len : sizeof s->v;
    return 1;
}
static int src_null_item(void *user, const void **item, size_t *len)
{
    *item = NULL;
    *len = 8;
    return 1;
}

/* ================= the calls ================= */

/* ---- ppool_register ---- */
static int reg_null_name(ctx *c)
{
    return ppool_register(NULL, t_square);
}
static int reg_null_fn(ctx *c)
{
    return ppool_register("badinput_nullfn", NULL);
}
static int reg_empty_name(ctx *c)
{
    return ppool_register("", t_square);
}
static int reg_long_name(ctx *c)
{
    char name[129];
    memset(name, 'a', 128);
    name[128] = 0;
    return ppool_register(name, t_square);
}
/* The longest name that fits (127 bytes) is fine, and a pool runs it. */
static int reg_longest_name(ctx *c)
{
    char name[128];
    memset(name, 'b', 127);
    name[127] = 0;
    CHECK_RC(c, ppool_register(name, t_square), 0);
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 1;
    ppool *p = NULL;
    CHECK_RC(c, ppool_open(&p, &o), 0);
    long x = 5, out = 0;
    int rc = ppool_map(p, name, &x, 1, sizeof x, &out, sizeof out);
    ppool_free(p);
    CHECK(c, out == 25);
    return rc;
}
static int reg_duplicate(ctx *c)
{
    return ppool_register("square", t_getpid);
}
/* Registered while a pool is open: refused (ppool.h), and the pool does not know it. */
static int reg_after_open(ctx *c)
{
    CHECK_RC(c, ppool_register("badinput_late", t_square), PPOOL_EINVAL);
    long x = 3, out;
    return ppool_map(c->p, "badinput_late", &x, 1, sizeof x, &out, sizeof out);
}

/* ---- ppool_open ---- */
/* Opens with o: on failure *pool must be NULL (so a cleanup path may
 * ppool_free it: the contract is silent, but that is what a user expects);
 * on success the pool maps and is freed. */
static int open_with(ctx *c, const ppool_opts *o)
{
    static int sentinel;
    ppool *p = (ppool *)&sentinel;
    int rc = ppool_open(&p, o);
    if (rc != 0) {
        CHECK(c, p == NULL);
        return rc;
    }
    CHECK(c, p != NULL && ppool_size(p) >= 1);
    long in[100], out[100];
    for (int i = 0; i < 100; i++) in[i] = i;
    int mrc = ppool_map(p, "square", in, 100, sizeof in[0], out, sizeof out[0]);
    ppool_free(p);
    CHECK_RC(c, mrc, 0);
    for (int i = 0; i < 100; i++) CHECK(c, out[i] == (long)i * i);
    return 0;
}
static int open_null_ptr(ctx *c)
{
    return ppool_open(NULL, NULL);
}
static int open_null_opts(ctx *c)
{
    return open_with(c, NULL);
}
static int open_workers(ctx *c)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = (int)c->arg;
    return open_with(c, &o);
}
static int open_transport_bogus(ctx *c)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.transport = "carrier-pigeon";
    return open_with(c, &o);
}
/* "" is the default, as an empty environment variable is (contract silent). */
static int open_transport_empty(ctx *c)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 2;
    o.transport = "";
    return open_with(c, &o);
}
static int open_bind_bogus(ctx *c)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 2;
    o.bind = "everywhere";
    return open_with(c, &o);
}
static int open_init_unregistered(ctx *c)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 2;
    o.initializer = "badinput_no_init";
    return open_with(c, &o);
}
static int open_initarg_null(ctx *c)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 2;
    o.initializer = "init";
    o.initarg_len = sizeof(long);
    return open_with(c, &o);
}
static int open_task_timeout(ctx *c)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 2;
    o.task_timeout = c->arg;
    return open_with(c, &o);
}
/* A task_timeout too large to matter (DBL_MAX seconds) is a valid one: items
 * run to their end, none is timed out. */
static int open_task_timeout_huge(ctx *c)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 2;
    o.task_timeout = DBL_MAX;
    ppool *p = NULL;
    CHECK_RC(c, ppool_open(&p, &o), 0);
    double s = 0.2;
    ppool_buf r = {0};
    double t0 = h_now();
    int rc = ppool_apply(p, "sleep", &s, sizeof s, &r);
    double took = h_now() - t0;
    ppool_buf_free(&r);
    ppool_free(p);
    CHECK(c, took < 10);
    return rc;
}
/* chunksize is "honoured exactly", yet no chunk may outgrow a frame: SIZE_MAX
 * still maps exactly. */
static int open_chunksize_huge(ctx *c)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 2;
    o.chunksize = SIZE_MAX;
    return open_with(c, &o);
}

/* ---- ppool_size, ppool_transport, strings ---- */
static int size_null(ctx *c)
{
    return ppool_size(NULL);
}
static int transport_null(ctx *c)
{
    CHECK(c, ppool_transport(NULL) == NULL);
    return 0;
}
/* Unknown codes get a message and a name, never NULL or a known one's. */
static int strerror_unknown(ctx *c)
{
    static const int codes[] = {1, 12, -12, -1000, 1000, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *s = ppool_strerror(codes[i]), *n = ppool_errname(codes[i]);
        CHECK(c, s && *s && n && *n);
        for (int k = PPOOL_ESYS; k <= 0; k++) {
            if (strcmp(s, ppool_strerror(k)) == 0)
                return bad(c, "strerror(%d) is code %d's \"%s\"", codes[i], k, s);
            if (strcmp(n, ppool_errname(k)) == 0)
                return bad(c, "errname(%d) is code %d's \"%s\"", codes[i], k, n);
        }
    }
    return 0;
}
/* Every known code: its own message and its name. */
static int strerror_known(ctx *c)
{
#define XX(name, val, msg)                                                                         \
    CHECK(c, strcmp(ppool_strerror(val), msg) == 0);                                               \
    CHECK(c, strcmp(ppool_errname(val), "PPOOL_" #name) == 0);
    PPOOL_ERRNO_MAP(XX)
#undef XX
    CHECK(c, ppool_strerror(0) && *ppool_strerror(0));
    return 0;
}
static int errmsg_fresh_process(ctx *c)
{
    CHECK(c, ppool_errmsg(NULL) && strcmp(ppool_errmsg(NULL), "") == 0);
    return 0;
}
static void *read_errmsg_null(void *arg)
{
    *(char **)arg = strdup(ppool_errmsg(NULL));
    return NULL;
}
/* ppool_errmsg is the calling thread's ("seen by the calling thread"): a
 * thread that never failed reads "", not another thread's failure. */
static int errmsg_other_thread(ctx *c)
{
    CHECK_RC(c, ppool_register(NULL, t_square), PPOOL_EINVAL); /* this thread fails */
    CHECK(c, *ppool_errmsg(NULL));
    char *seen = NULL;
    pthread_t t;
    CHECK(c, pthread_create(&t, NULL, read_errmsg_null, &seen) == 0);
    pthread_join(t, NULL);
    CHECK(c, seen != NULL);
    int fresh = strcmp(seen, "") == 0;
    if (!fresh) bad(c, "a fresh thread's ppool_errmsg(NULL) is \"%s\"", seen);
    free(seen);
    if (!fresh) return R_BAD;
    CHECK(c, *ppool_errmsg(NULL)); /* this thread still has its own */
    return 0;
}
static int cpu_count(ctx *c)
{
    CHECK(c, ppool_cpu_count() >= 1);
    return 0;
}
static int version(ctx *c)
{
    CHECK(c, ppool_version() && strcmp(ppool_version(), PPOOL_VERSION_STRING) == 0);
    return 0;
}

/* ---- ppool_buf_free, ppool_free and the other frees of NULL ---- */
static int free_nulls(ctx *c)
{
    ppool_free(NULL);
    ppool_async_free(NULL);
    ppool_iter_free(NULL);
    ppool_buf_free(NULL);
    return 0;
}
static int buf_free_zeroed(ctx *c)
{
    ppool_buf b = {0};
    ppool_buf_free(&b);
    CHECK(c, b.data == NULL && b.len == 0);
    b.data = malloc(10);
    b.len = 10;
    ppool_buf_free(&b);
    CHECK(c, b.data == NULL && b.len == 0);
    ppool_buf_free(&b); /* twice: it was emptied */
    return 0;
}

/* ---- ppool_task_* outside and inside a task ---- */
static int task_return_null(ctx *c)
{
    long x = 1;
    return ppool_task_return(NULL, &x, sizeof x);
}
/* A NULL task is no item to fail: PPOOL_EINVAL, not ETASK (contract silent). */
static int task_fail_null(ctx *c)
{
    return ppool_task_fail(NULL, "x %d", 1);
}
/* No running item: 0, the value the header gives apply (contract silent). */
static int task_index_null(ctx *c)
{
    CHECK(c, ppool_task_index(NULL) == 0);
    return 0;
}
static int task_probe_return(ctx *c)
{
    ppool_buf r = {0};
    CHECK_RC(c, ppool_apply(c->p, "badinput_probe_return", NULL, 0, &r), 0);
    CHECK(c, r.len == 4 * sizeof(int));
    int v[4];
    memcpy(v, r.data, sizeof v);
    ppool_buf_free(&r);
    if (v[0] != PPOOL_EINVAL || v[1] != PPOOL_EINVAL || v[2] != 0 || v[3] != PPOOL_EINVAL)
        return bad(c,
                   "in a task: return(t,NULL,5)=%d return(NULL,..)=%d return(t,NULL,0)=%d "
                   "fail(NULL,..)=%d",
                   v[0], v[1], v[2], v[3]);
    return 0;
}
/* ppool_task_fail(t, NULL): the item fails, with some message. */
static int task_fail_nullfmt(ctx *c)
{
    return ppool_apply(c->p, "badinput_probe_failnull", NULL, 0, NULL);
}

/* ---- ppool_map ---- */
static long IN[8] = {1, 2, 3, 4, 5, 6, 7, 8}, OUT[8];
static int map_null_pool(ctx *c)
{
    return ppool_map(NULL, "square", IN, 8, sizeof IN[0], OUT, sizeof OUT[0]);
}
static int map_null_fn(ctx *c)
{
    return ppool_map(c->p, NULL, IN, 8, sizeof IN[0], OUT, sizeof OUT[0]);
}
static int map_unknown_fn(ctx *c)
{
    return ppool_map(c->p, "badinput_no_such_fn", IN, 8, sizeof IN[0], OUT, sizeof OUT[0]);
}
static int map_empty_fn(ctx *c)
{
    return ppool_map(c->p, "", IN, 8, sizeof IN[0], OUT, sizeof OUT[0]);
}
static int map_null_in(ctx *c)
{
    return ppool_map(c->p, "square", NULL, 8, sizeof IN[0], OUT, sizeof OUT[0]);
}
static int map_null_out(ctx *c)
{
    return ppool_map(c->p, "square", IN, 8, sizeof IN[0], NULL, sizeof OUT[0]);
}
/* out NULL with out_size 0: run for the side effects, results dropped (the
 * contract is silent; the library documents it in deliver.c). */
static int map_null_out_size0(ctx *c)
{
    return ppool_map(c->p, "square", IN, 8, sizeof IN[0], NULL, 0);
}
/* n = 0: nothing to do, whatever the pointers. */
static int map_n0(ctx *c)
{
    return ppool_map(c->p, "square", NULL, 0, sizeof IN[0], NULL, sizeof OUT[0]);
}
/* ... but the function is still checked. */
static int map_n0_unknown_fn(ctx *c)
{
    return ppool_map(c->p, "badinput_no_such_fn", NULL, 0, 8, NULL, 8);
}
/* in_size 0 with n > 0: n empty items, as apply with len 0 (contract silent). */
static int map_in_size0(ctx *c)
{
    int out[5] = {0};
    int rc = ppool_map(c->p, "getpid", IN, 5, 0, out, sizeof out[0]);
    for (int i = 0; rc == 0 && i < 5; i++) CHECK(c, out[i] > 0);
    return rc;
}
/* A result must be exactly out_size bytes: the item fails, naming out_size. */
static int map_out_small(ctx *c)
{
    int out[8];
    return ppool_map(c->p, "square", IN, 8, sizeof IN[0], out, sizeof out[0]);
}
static int map_out_large(ctx *c)
{
    long out[16];
    return ppool_map(c->p, "square", IN, 8, sizeof IN[0], out, 2 * sizeof out[0]);
}
static int map_overflow_in(ctx *c)
{
    return ppool_map(c->p, "square", IN, SIZE_MAX, sizeof IN[0], OUT, sizeof OUT[0]);
}
static int map_overflow_out(ctx *c)
{
    return ppool_map(c->p, "square", IN, SIZE_MAX / 4, 1, OUT, sizeof OUT[0]);
}
static int map_overflow_size(ctx *c)
{
    return ppool_map(c->p, "square", IN, 2, SIZE_MAX, OUT, sizeof OUT[0]);
}
/* One item larger than a frame can carry: refused, naming the limit. */
static int map_item_huge(ctx *c)
{
    const char *in = huge_region();
    CHECK(c, in != NULL);
    long out;
    int rc = ppool_map(c->p, "square", in, 1, HUGE_ITEM, &out, sizeof out);
    munmap((void *)in, HUGE_ITEM);
    return rc;
}

/* ---- ppool_map_bufs ---- */
static ppool_buf BIN[3] = {{"ab", 2}, {"", 0}, {"xyz", 3}};
static int bufs_null_pool(ctx *c)
{
    ppool_buf out[3];
    return ppool_map_bufs(NULL, "reverse", BIN, 3, out);
}
static int bufs_null_fn(ctx *c)
{
    ppool_buf out[3];
    return ppool_map_bufs(c->p, NULL, BIN, 3, out);
}
static int bufs_unknown_fn(ctx *c)
{
    ppool_buf out[3];
    return ppool_map_bufs(c->p, "badinput_no_such_fn", BIN, 3, out);
}
static int bufs_null_in(ctx *c)
{
    ppool_buf out[3];
    return ppool_map_bufs(c->p, "reverse", NULL, 3, out);
}
static int bufs_null_out(ctx *c)
{
    return ppool_map_bufs(c->p, "reverse", BIN, 3, NULL);
}
static int bufs_item_null_data(ctx *c)
{
    ppool_buf in[3] = {{"ab", 2}, {NULL, 4}, {"c", 1}}, out[3];
    return ppool_map_bufs(c->p, "reverse", in, 3, out);
}
/* A NULL item of 0 bytes is an empty item. */
static int bufs_item_null_empty(ctx *c)
{
    ppool_buf in[2] = {{NULL, 0}, {"ab", 2}}, out[2];
    int rc = ppool_map_bufs(c->p, "reverse", in, 2, out);
    if (rc == 0) CHECK(c, out[0].len == 0 && out[1].len == 2 && memcmp(out[1].data, "ba", 2) == 0);
    ppool_buf_free(&out[0]);
    ppool_buf_free(&out[1]);
    return rc;
}
static int bufs_n0(ctx *c)
{
    return ppool_map_bufs(c->p, "reverse", NULL, 0, NULL);
}
static int bufs_overflow(ctx *c)
{
    ppool_buf out[3];
    return ppool_map_bufs(c->p, "reverse", BIN, SIZE_MAX, out);
}
static int bufs_item_huge(ctx *c)
{
    const char *h = huge_region();
    CHECK(c, h != NULL);
    ppool_buf in[2] = {{"ab", 2}, {(void *)h, HUGE_ITEM}}, out[2];
    int rc = ppool_map_bufs(c->p, "reverse", in, 2, out);
    munmap((void *)h, HUGE_ITEM);
    return rc;
}

/* ---- ppool_apply ---- */
/* On an error *out is emptied, so ppool_buf_free(out) is always safe. */
static int apply_check_out(ctx *c, ppool *p, const char *fn, const void *arg, size_t len)
{
    ppool_buf out = {(void *)0x1, 12345};
    int rc = ppool_apply(p, fn, arg, len, &out);
    if (rc) CHECK(c, out.data == NULL && out.len == 0);
    ppool_buf_free(&out);
    return rc;
}
static int apply_null_pool(ctx *c)
{
    long x = 2;
    return apply_check_out(c, NULL, "square", &x, sizeof x);
}
static int apply_null_fn(ctx *c)
{
    long x = 2;
    return apply_check_out(c, c->p, NULL, &x, sizeof x);
}
static int apply_unknown_fn(ctx *c)
{
    long x = 2;
    return apply_check_out(c, c->p, "badinput_no_such_fn", &x, sizeof x);
}
static int apply_null_arg(ctx *c)
{
    return apply_check_out(c, c->p, "square", NULL, 8);
}
static int apply_null_arg_len0(ctx *c)
{
    return apply_check_out(c, c->p, "empty", NULL, 0);
}
static int apply_null_out(ctx *c)
{
    long x = 2;
    return ppool_apply(c->p, "square", &x, sizeof x, NULL);
}
static int apply_len_max(ctx *c)
{
    long x = 2;
    return apply_check_out(c, c->p, "square", &x, SIZE_MAX);
}
static int apply_huge(ctx *c)
{
    const char *h = huge_region();
    CHECK(c, h != NULL);
    int rc = apply_check_out(c, c->p, "square", h, HUGE_ITEM);
    munmap((void *)h, HUGE_ITEM);
    return rc;
}

/* ---- ppool_apply_async, ppool_map_async ---- */
static int aasync_null_pool(ctx *c)
{
    long x = 2;
    return as_async(ppool_apply_async(NULL, "square", &x, sizeof x));
}
static int aasync_null_fn(ctx *c)
{
    long x = 2;
    return as_async(ppool_apply_async(c->p, NULL, &x, sizeof x));
}
static int aasync_unknown_fn(ctx *c)
{
    long x = 2;
    return as_async(ppool_apply_async(c->p, "badinput_no_such_fn", &x, sizeof x));
}
static int aasync_null_arg(ctx *c)
{
    return as_async(ppool_apply_async(c->p, "square", NULL, 8));
}
static int aasync_len_max(ctx *c)
{
    long x = 2;
    return as_async(ppool_apply_async(c->p, "square", &x, SIZE_MAX));
}
static int aasync_huge(ctx *c)
{
    const char *h = huge_region();
    CHECK(c, h != NULL);
    int rc = as_async(ppool_apply_async(c->p, "square", h, HUGE_ITEM));
    munmap((void *)h, HUGE_ITEM);
    return rc;
}
static int masync_null_pool(ctx *c)
{
    return as_async(ppool_map_async(NULL, "square", IN, 8, sizeof IN[0], OUT, sizeof OUT[0]));
}
static int masync_null_fn(ctx *c)
{
    return as_async(ppool_map_async(c->p, NULL, IN, 8, sizeof IN[0], OUT, sizeof OUT[0]));
}
static int masync_unknown_fn(ctx *c)
{
    return as_async(
        ppool_map_async(c->p, "badinput_no_such_fn", IN, 8, sizeof IN[0], OUT, sizeof OUT[0]));
}
static int masync_null_in(ctx *c)
{
    return as_async(ppool_map_async(c->p, "square", NULL, 8, sizeof IN[0], OUT, sizeof OUT[0]));
}
static int masync_null_out(ctx *c)
{
    return as_async(ppool_map_async(c->p, "square", IN, 8, sizeof IN[0], NULL, sizeof OUT[0]));
}
static int masync_overflow(ctx *c)
{
    return as_async(ppool_map_async(c->p, "square", IN, SIZE_MAX, sizeof IN[0], OUT, 8));
}
static int masync_item_huge(ctx *c)
{
    const char *h = huge_region();
    CHECK(c, h != NULL);
    long out;
    int rc = as_async(ppool_map_async(c->p, "square", h, 1, HUGE_ITEM, &out, sizeof out));
    munmap((void *)h, HUGE_ITEM);
    return rc;
}
/* n = 0: a handle that is done at once. */
static int masync_n0(ctx *c)
{
    ppool_async *a = ppool_map_async(c->p, "square", NULL, 0, 8, NULL, 8);
    CHECK(c, a != NULL);
    int ready = ppool_async_ready(a);
    int rc = ppool_async_get(a, NULL, 0);
    ppool_async_free(a);
    CHECK(c, ready == 1);
    return rc;
}

/* ---- ppool_imap, ppool_imap_unordered, ppool_imap_source ---- */
static int imap_null_pool(ctx *c)
{
    return as_iter(ppool_imap(NULL, "square", IN, 8, sizeof IN[0]));
}
static int imap_null_fn(ctx *c)
{
    return as_iter(ppool_imap(c->p, NULL, IN, 8, sizeof IN[0]));
}
static int imap_unknown_fn(ctx *c)
{
    return as_iter(ppool_imap(c->p, "badinput_no_such_fn", IN, 8, sizeof IN[0]));
}
static int imap_null_in(ctx *c)
{
    return as_iter(ppool_imap(c->p, "square", NULL, 8, sizeof IN[0]));
}
static int imap_overflow(ctx *c)
{
    return as_iter(ppool_imap(c->p, "square", IN, SIZE_MAX, sizeof IN[0]));
}
static int imap_item_huge(ctx *c)
{
    const char *h = huge_region();
    CHECK(c, h != NULL);
    int rc = as_iter(ppool_imap(c->p, "square", h, 1, HUGE_ITEM));
    munmap((void *)h, HUGE_ITEM);
    return rc;
}
static int imapu_null_pool(ctx *c)
{
    return as_iter(ppool_imap_unordered(NULL, "square", IN, 8, sizeof IN[0]));
}
static int imapu_null_fn(ctx *c)
{
    return as_iter(ppool_imap_unordered(c->p, NULL, IN, 8, sizeof IN[0]));
}
static int imapu_null_in(ctx *c)
{
    return as_iter(ppool_imap_unordered(c->p, "square", NULL, 8, sizeof IN[0]));
}
static int imapu_overflow(ctx *c)
{
    return as_iter(ppool_imap_unordered(c->p, "square", IN, SIZE_MAX, sizeof IN[0]));
}
/* n = 0: an iterator that is at its end at once, and stays there. */
static int iter_n0(ctx *c, int ordered)
{
    ppool_iter *it = ordered ? ppool_imap(c->p, "square", NULL, 0, 8)
                             : ppool_imap_unordered(c->p, "square", NULL, 0, 8);
    CHECK(c, it != NULL);
    size_t idx = 77;
    ppool_buf r = {(void *)1, 1};
    int rc1 = ppool_iter_next(it, &idx, &r, 5);
    int rc2 = ppool_iter_next(it, NULL, NULL, 5);
    ppool_iter_free(it);
    CHECK(c, r.data == NULL && r.len == 0);
    CHECK_RC(c, rc2, PPOOL_EDONE);
    return rc1;
}
static int imap_n0(ctx *c)
{
    return iter_n0(c, 1);
}
static int imapu_n0(ctx *c)
{
    return iter_n0(c, 0);
}
static int source_null_pool(ctx *c)
{
    return as_iter(ppool_imap_source(NULL, "square", src_next, &SRC, 1));
}
static int source_null_fn(ctx *c)
{
    return as_iter(ppool_imap_source(c->p, NULL, src_next, &SRC, 1));
}
static int source_unknown_fn(ctx *c)
{
    return as_iter(ppool_imap_source(c->p, "badinput_no_such_fn", src_next, &SRC, 1));
}
static int source_null_next(ctx *c)
{
    return as_iter(ppool_imap_source(c->p, "square", NULL, &SRC, 1));
}
/* A source that fails after two items: both results, then its own error (with
 * a message naming the source), then PPOOL_EDONE, and again. */
static int source_fails(ctx *c)
{
    SRC = (src_state){.fail = 2};
    ppool_iter *it = ppool_imap_source(c->p, "square", src_next, &SRC, 1);
    CHECK(c, it != NULL);
    size_t idx;
    ppool_buf r;
    for (size_t i = 0; i < 2; i++) {
        int rc = ppool_iter_next(it, &idx, &r, 10);
        if (rc) ppool_iter_free(it);
        CHECK_RC(c, rc, 0);
        CHECK(c, idx == i && r.len == sizeof(long) && *(long *)r.data == (long)(i * i));
    }
    int rc = ppool_iter_next(it, &idx, &r, 10);
    int rc2 = ppool_iter_next(it, &idx, &r, 10), rc3 = ppool_iter_next(it, &idx, &r, 10);
    ppool_iter_free(it);
    CHECK_RC(c, rc2, PPOOL_EDONE);
    CHECK_RC(c, rc3, PPOOL_EDONE);
    return rc;
}
/* A source handing out NULL with 8 bytes: PPOOL_EINVAL naming the source. */
static int source_null_item(ctx *c)
{
    ppool_iter *it = ppool_imap_source(c->p, "square", src_null_item, NULL, 1);
    CHECK(c, it != NULL);
    int rc = ppool_iter_next(it, NULL, NULL, 10);
    int rc2 = ppool_iter_next(it, NULL, NULL, 10);
    ppool_iter_free(it);
    CHECK_RC(c, rc2, PPOOL_EDONE);
    return rc;
}
/* A streamed item larger than a frame: that item fails (EINVAL naming the
 * limit), the iteration goes on and ends. Copies 1.5 GiB of zeros. */
static int source_item_huge(ctx *c)
{
    const char *h = huge_region();
    CHECK(c, h != NULL);
    SRC = (src_state){.data = h, .len = HUGE_ITEM, .count = 1};
    ppool_iter *it = ppool_imap_source(c->p, "square", src_next, &SRC, 1);
    CHECK(c, it != NULL);
    size_t idx = 99;
    int rc = ppool_iter_next(it, &idx, NULL, 60);
    char msg[600];
    snprintf(msg, sizeof msg, "%s", ppool_errmsg(c->p));
    int more = 0, rcn;
    while ((rcn = ppool_iter_next(it, NULL, NULL, 60)) != PPOOL_EDONE && more < 10) more++;
    ppool_iter_free(it);
    munmap((void *)h, HUGE_ITEM);
    CHECK(c, idx == 0);
    CHECK(c, rcn == PPOOL_EDONE && more == 0);
    if (rc && !strstr(msg, "limit"))
        return bad(c, "item 0 failed %d: \"%s\" names no limit", rc, msg);
    return rc;
}

/* ---- ppool_iter_next ---- */
static int iter_next_null(ctx *c)
{
    size_t idx;
    ppool_buf r;
    return ppool_iter_next(NULL, &idx, &r, 0);
}
/* index and result may be NULL (only the status is wanted). */
static int iter_next_null_outs(ctx *c)
{
    ppool_iter *it = ppool_imap(c->p, "square", IN, 3, sizeof IN[0]);
    CHECK(c, it != NULL);
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++) rc = ppool_iter_next(it, NULL, NULL, 10);
    int end = ppool_iter_next(it, NULL, NULL, 10);
    ppool_iter_free(it);
    CHECK_RC(c, end, PPOOL_EDONE);
    return rc;
}
/* After PPOOL_EDONE, PPOOL_EDONE again, with *result emptied each time. */
static int iter_edone_again(ctx *c)
{
    ppool_iter *it = ppool_imap_unordered(c->p, "square", IN, 3, sizeof IN[0]);
    CHECK(c, it != NULL);
    size_t idx;
    ppool_buf r;
    int seen = 0, rc;
    while ((rc = ppool_iter_next(it, &idx, &r, 10)) == 0) seen |= 1 << idx;
    int again[3];
    for (int i = 0; i < 3; i++) {
        r = (ppool_buf){(void *)1, 1};
        again[i] = ppool_iter_next(it, &idx, &r, 0);
        if (r.data || r.len) again[i] = R_BAD;
    }
    ppool_iter_free(it);
    CHECK(c, seen == 7);
    for (int i = 0; i < 3; i++) CHECK_RC(c, again[i], PPOOL_EDONE);
    return rc;
}
/* ppool_iter_next(timeout = arg) on an item that takes 1 s. Waiting: it
 * returns as soon as the result is ready (not at the timeout, not spinning);
 * PPOOL_ETIMEDOUT at once; PPOOL_EINVAL at once. The item is never lost. */
static int iter_timeout(ctx *c)
{
    double s = 1.0;
    ppool_iter *it = ppool_imap(c->p, "sleep", &s, 1, sizeof s);
    CHECK(c, it != NULL);
    size_t idx = 99;
    ppool_buf r = {0};
    double t0 = h_now(), cpu0 = thread_cpu();
    int rc = ppool_iter_next(it, &idx, &r, c->arg);
    double took = h_now() - t0, cpu = thread_cpu() - cpu0;
    int got = rc == 0 && idx == 0 && r.len == sizeof(int);
    int later = rc == 0 ? 0 : ppool_iter_next(it, &idx, &r, 30); /* the item is still there */
    int end = ppool_iter_next(it, NULL, NULL, 30);
    ppool_iter_free(it);
    if (rc == 0) {
        if (!got) return bad(c, "result index %zu, %zu bytes", idx, r.len);
        if (took > 5) return bad(c, "returned %.2f s after a 1 s item", took);
        if (cpu > 0.1) return bad(c, "the waiting thread spun: %.2f s CPU in %.2f s", cpu, took);
    } else {
        if (took > 0.5) return bad(c, "%s came after %.2f s, not at once", ppool_errname(rc), took);
        if (later != 0 || idx != 0) return bad(c, "the item was lost after %s", ppool_errname(rc));
    }
    CHECK_RC(c, end, PPOOL_EDONE);
    return rc;
}
/* ppool_iter_free with work pending: returns at once, cancels the rest. */
static int iter_free_midway(ctx *c)
{
    double s[40];
    for (int i = 0; i < 40; i++) s[i] = i ? 2 : 0.01; /* waiting for the rest: 39 s */
    ppool_iter *it = ppool_imap(c->p, "sleep", s, 40, sizeof s[0]);
    CHECK(c, it != NULL);
    CHECK_RC(c, ppool_iter_next(it, NULL, NULL, 10), 0);
    double t0 = h_now();
    ppool_iter_free(it);
    CHECK(c, h_now() - t0 < 10);
    return 0;
}

/* ---- ppool_async_* ---- */
static int async_wait_null(ctx *c)
{
    return ppool_async_wait(NULL, 0);
}
static int async_get_null(ctx *c)
{
    ppool_buf r = {(void *)1, 1};
    int rc = ppool_async_get(NULL, &r, 0);
    CHECK(c, r.data == NULL && r.len == 0);
    return rc;
}
static int async_nulls(ctx *c)
{
    CHECK(c, ppool_async_ready(NULL) == 0);
    CHECK(c, ppool_async_error(NULL) == NULL);
    ppool_async_on_done(NULL, NULL, NULL);
    return 0;
}
/* ppool_async_wait/get(timeout = arg) on an item that takes 1 s; as iter_timeout. */
static int async_timeout(ctx *c, int get)
{
    double s = 1.0;
    ppool_async *a = ppool_apply_async(c->p, "sleep", &s, sizeof s);
    CHECK(c, a != NULL);
    ppool_buf r = {0};
    double t0 = h_now(), cpu0 = thread_cpu();
    int rc = get ? ppool_async_get(a, &r, c->arg) : ppool_async_wait(a, c->arg);
    double took = h_now() - t0, cpu = thread_cpu() - cpu0;
    int ready = ppool_async_ready(a);
    int later = ppool_async_get(a, &r, 30); /* the result is still there */
    int len = (int)r.len;
    ppool_async_free(a);
    if (rc == 0) {
        if (!ready) return bad(c, "returned 0 before the result was ready");
        if (took > 5) return bad(c, "returned %.2f s after a 1 s item", took);
        if (cpu > 0.1) return bad(c, "the waiting thread spun: %.2f s CPU in %.2f s", cpu, took);
    } else if (took > 0.5) {
        return bad(c, "%s came after %.2f s, not at once", ppool_errname(rc), took);
    }
    if (later != 0 || len != (int)sizeof(int))
        return bad(c, "the result was lost: get %d, %d bytes", later, len);
    return rc;
}
static int async_wait_timeout(ctx *c)
{
    return async_timeout(c, 0);
}
static int async_get_timeout(ctx *c)
{
    return async_timeout(c, 1);
}
/* Twice: the same status and the same result (owned by the handle). */
static int async_get_twice(ctx *c)
{
    long x = 6;
    ppool_async *a = ppool_apply_async(c->p, "square", &x, sizeof x);
    CHECK(c, a != NULL);
    ppool_buf r1, r2;
    int rc1 = ppool_async_get(a, &r1, 10), rc2 = ppool_async_get(a, &r2, 0);
    int same = rc1 == 0 && rc2 == 0 && r1.len == sizeof x && r2.data == r1.data &&
               r2.len == r1.len && *(long *)r2.data == 36;
    int rc3 = ppool_async_get(a, NULL, 0);
    ppool_async_free(a);
    CHECK(c, same);
    return rc3;
}
/* A failed result twice: its error twice, and the message names the item. */
static int async_failed_twice(ctx *c)
{
    long x = 17;
    ppool_async *a = ppool_apply_async(c->p, "fail17", &x, sizeof x);
    CHECK(c, a != NULL);
    ppool_buf r = {(void *)1, 1};
    int rc1 = ppool_async_get(a, NULL, 10), rc2 = ppool_async_get(a, &r, 0);
    const char *e = ppool_async_error(a);
    int named = e && strstr(e, "17");
    ppool_async_free(a);
    CHECK(c, r.data == NULL && r.len == 0);
    CHECK(c, named);
    CHECK_RC(c, rc1, rc2);
    return rc2;
}
static int async_error_success(ctx *c)
{
    long x = 2;
    ppool_async *a = ppool_apply_async(c->p, "square", &x, sizeof x);
    CHECK(c, a != NULL);
    int rc = ppool_async_get(a, NULL, 10);
    const char *e = ppool_async_error(a);
    ppool_async_free(a);
    CHECK(c, e == NULL);
    return rc;
}
static int cb_runs;
static void count_cb(ppool_async *a, void *user)
{
    __atomic_add_fetch(&cb_runs, 1, __ATOMIC_SEQ_CST);
}
/* A NULL callback is ignored; of two, only the first runs, exactly once. */
static int async_on_done_twice(ctx *c)
{
    double s = 0.2;
    cb_runs = 0;
    ppool_async *a = ppool_apply_async(c->p, "sleep", &s, sizeof s);
    CHECK(c, a != NULL);
    ppool_async_on_done(a, NULL, NULL);
    ppool_async_on_done(a, count_cb, NULL);
    ppool_async_on_done(a, count_cb, NULL);
    int rc = ppool_async_get(a, NULL, 10);
    ppool_async_on_done(a, count_cb, NULL); /* done now: still only the first */
    ppool_async_free(a);
    CHECK(c, cb_runs == 1);
    return rc;
}
/* ppool_async_free before the result is done: returns at once; the pool goes on. */
static int async_free_pending(ctx *c)
{
    double s = 20; /* waiting for it: 20 s */
    ppool_async *a = ppool_apply_async(c->p, "sleep", &s, sizeof s);
    CHECK(c, a != NULL);
    double t0 = h_now();
    ppool_async_free(a);
    CHECK(c, h_now() - t0 < 10);
    return 0;
}

/* ---- close, join, terminate ---- */
static int close_null(ctx *c)
{
    return ppool_close(NULL);
}
static int join_null(ctx *c)
{
    return ppool_join(NULL);
}
static int terminate_null(ctx *c)
{
    return ppool_terminate(NULL);
}
/* "After ppool_close()": a join before it is a mistake, and the pool goes on. */
static int join_before_close(ctx *c)
{
    return ppool_join(c->p);
}
static int close_twice(ctx *c)
{
    c->touched = 1;
    CHECK_RC(c, ppool_close(c->p), 0);
    return ppool_close(c->p);
}
static int join_twice(ctx *c)
{
    c->touched = 1;
    CHECK_RC(c, ppool_close(c->p), 0);
    CHECK_RC(c, ppool_join(c->p), 0);
    return ppool_join(c->p);
}
static int terminate_twice(ctx *c)
{
    c->touched = 1;
    CHECK_RC(c, ppool_terminate(c->p), 0);
    return ppool_terminate(c->p);
}
static int close_then_terminate(ctx *c)
{
    c->touched = 1;
    return ppool_terminate(c->p);
}
static int close_after_terminate(ctx *c)
{
    c->touched = 1;
    return ppool_close(c->p);
}
static int join_after_terminate(ctx *c)
{
    c->touched = 1;
    return ppool_join(c->p);
}
static int terminate_after_join(ctx *c)
{
    c->touched = 1;
    CHECK_RC(c, ppool_join(c->p), 0);
    return ppool_terminate(c->p);
}
/* Outstanding work of a closed pool goes on: join waits for it. */
static int close_outstanding(ctx *c)
{
    c->touched = 1;
    double s = 0.3;
    ppool_async *a = ppool_apply_async(c->p, "sleep", &s, sizeof s);
    CHECK(c, a != NULL);
    CHECK_RC(c, ppool_close(c->p), 0);
    CHECK_RC(c, ppool_join(c->p), 0);
    int ready = ppool_async_ready(a);
    int rc = ppool_async_get(a, NULL, 0);
    ppool_async_free(a);
    CHECK(c, ready == 1);
    return rc;
}
/* A handle of a terminated (not freed) pool reports why. */
static int handle_after_terminate(ctx *c)
{
    c->touched = 1;
    double s = 5;
    ppool_async *a = ppool_apply_async(c->p, "sleep", &s, sizeof s);
    CHECK(c, a != NULL);
    CHECK_RC(c, ppool_terminate(c->p), 0);
    int rc = ppool_async_get(a, NULL, 1);
    const char *e = ppool_async_error(a);
    int named = e && strstr(e, "terminated");
    ppool_async_free(a);
    CHECK(c, named);
    return rc;
}

/* Valid submissions of every kind: 0 / R_HANDLE on an open pool, ECLOSED on a
 * closed or terminated one. */
static int submit_map(ctx *c)
{
    return ppool_map(c->p, "square", IN, 8, sizeof IN[0], OUT, sizeof OUT[0]);
}
static int submit_map_n0(ctx *c)
{
    return ppool_map(c->p, "square", IN, 0, sizeof IN[0], OUT, sizeof OUT[0]);
}
static int submit_bufs(ctx *c)
{
    ppool_buf out[3] = {{0}};
    int rc = ppool_map_bufs(c->p, "reverse", BIN, 3, out);
    for (int i = 0; i < 3; i++) ppool_buf_free(&out[i]);
    return rc;
}
static int submit_apply(ctx *c)
{
    long x = 4;
    return apply_check_out(c, c->p, "square", &x, sizeof x);
}
static int submit_apply_async(ctx *c)
{
    long x = 4;
    return as_async(ppool_apply_async(c->p, "square", &x, sizeof x));
}
static int submit_map_async(ctx *c)
{
    ppool_async *a = ppool_map_async(c->p, "square", IN, 8, sizeof IN[0], OUT, sizeof OUT[0]);
    if (a) CHECK_RC(c, ppool_async_get(a, NULL, 10), 0);
    return as_async(a);
}
static int submit_imap(ctx *c)
{
    return as_iter(ppool_imap(c->p, "square", IN, 8, sizeof IN[0]));
}
static int submit_imapu(ctx *c)
{
    return as_iter(ppool_imap_unordered(c->p, "square", IN, 8, sizeof IN[0]));
}
static int submit_source(ctx *c)
{
    SRC = (src_state){0};
    return as_iter(ppool_imap_source(c->p, "square", src_next, &SRC, 0));
}

/* ---- handles that outlive ppool_free of their pool ----
 * Using the pool itself after ppool_free is the user's bug; its handles are
 * not: they hold the pool (handle.c), report PPOOL_ECLOSED for work the free
 * terminated (ppool_free terminates; terminate fails outstanding work with
 * ECLOSED) and may still be waited for, read and freed (the lifecycle test
 * relies on it too). */
static int freed_async_pending(ctx *c)
{
    double s = 20; /* waiting for it: 20 s */
    ppool_async *a = ppool_apply_async(c->p, "sleep", &s, sizeof s);
    CHECK(c, a != NULL);
    ppool_free(c->p);
    c->freed = 1;
    cb_runs = 0;
    int ready = ppool_async_ready(a);
    double t0 = h_now();
    int wrc = ppool_async_wait(a, 5);
    int rc = ppool_async_get(a, NULL, -1);
    double took = h_now() - t0;
    const char *e = ppool_async_error(a);
    int named = e && strstr(e, "terminated");
    ppool_async_on_done(a, count_cb, NULL); /* done: runs at once */
    ppool_async_free(a);
    CHECK(c, ready == 1 && wrc == 0 && took < 10);
    CHECK(c, named);
    CHECK(c, cb_runs == 1);
    return rc;
}
static int freed_async_done(ctx *c)
{
    long x = 9;
    ppool_async *a = ppool_apply_async(c->p, "square", &x, sizeof x);
    CHECK(c, a != NULL);
    CHECK_RC(c, ppool_async_wait(a, 10), 0);
    ppool_free(c->p);
    c->freed = 1;
    ppool_buf r;
    int rc = ppool_async_get(a, &r, 0); /* the result is the handle's, not the pool's */
    int ok = rc == 0 && r.len == sizeof x && *(long *)r.data == 81;
    ppool_async_free(a);
    CHECK(c, ok);
    return rc;
}
static int freed_map_async(ctx *c)
{
    static double s[4] = {5, 5, 5, 5};
    static int out[4];
    ppool_async *a = ppool_map_async(c->p, "sleep", s, 4, sizeof s[0], out, sizeof out[0]);
    CHECK(c, a != NULL);
    ppool_free(c->p);
    c->freed = 1;
    int rc = ppool_async_get(a, NULL, 5);
    ppool_async_free(a);
    return rc;
}
static int freed_iter_pending(ctx *c)
{
    static double s[3] = {5, 5, 5};
    ppool_iter *it = ppool_imap(c->p, "sleep", s, 3, sizeof s[0]);
    CHECK(c, it != NULL);
    ppool_free(c->p);
    c->freed = 1;
    size_t idx;
    ppool_buf r;
    int rc = ppool_iter_next(it, &idx, &r, 5);
    int rc2 = ppool_iter_next(it, &idx, &r, 5);
    ppool_iter_free(it);
    CHECK_RC(c, rc2, PPOOL_EDONE);
    return rc;
}
static int freed_source(ctx *c)
{
    SRC = (src_state){0};
    ppool_iter *it = ppool_imap_source(c->p, "square", src_next, &SRC, 1);
    CHECK(c, it != NULL);
    ppool_free(c->p);
    c->freed = 1;
    int rc, n = 0;
    while ((rc = ppool_iter_next(it, NULL, NULL, 5)) != PPOOL_EDONE && n < 10) n++;
    ppool_iter_free(it);
    CHECK(c, n <= 4); /* whatever finished, then ECLOSED once at most */
    return rc;
}

/* ================= the table ================= */

#define NAN_ NAN
#define INF_ INFINITY

static const row rows[] = {
    /* ppool_register */
    {"register NULL name", NOPOOL, reg_null_name, 0, PPOOL_EINVAL, "name"},
    {"register NULL fn", NOPOOL, reg_null_fn, 0, PPOOL_EINVAL, "function"},
    {"register empty name", NOPOOL, reg_empty_name, 0, PPOOL_EINVAL, "name"},
    {"register 128-byte name", NOPOOL, reg_long_name, 0, PPOOL_EINVAL, "127"},
    {"register 127-byte name (valid)", NOPOOL, reg_longest_name, 0, 0, NULL},
    {"register duplicate name", NOPOOL, reg_duplicate, 0, PPOOL_EINVAL, "already registered"},
    {"register after open: EINVAL, then ENOFUNC on that pool", OPEN, reg_after_open, 0,
     PPOOL_ENOFUNC, "badinput_late"},
    /* ppool_open */
    {"open NULL pool pointer", NOPOOL, open_null_ptr, 0, PPOOL_EINVAL, "pool"},
    {"open NULL opts (defaults)", NOPOOL, open_null_opts, 0, 0, NULL},
    {"open workers -1", NOPOOL, open_workers, -1, PPOOL_EINVAL, "workers"},
    {"open workers INT_MIN", NOPOOL, open_workers, INT_MIN, PPOOL_EINVAL, "workers"},
    {"open workers INT_MAX", NOPOOL, open_workers, INT_MAX, PPOOL_EINVAL, "workers"},
    {"open unknown transport", NOPOOL, open_transport_bogus, 0, PPOOL_EINVAL, "carrier-pigeon"},
    {"open transport \"\" (default)", NOPOOL, open_transport_empty, 0, 0, NULL},
    {"open unknown bind", NOPOOL, open_bind_bogus, 0, PPOOL_EINVAL, "everywhere"},
    {"open unregistered initializer", NOPOOL, open_init_unregistered, 0, PPOOL_ENOFUNC,
     "badinput_no_init"},
    {"open NULL initarg of 8 bytes", NOPOOL, open_initarg_null, 0, PPOOL_EINVAL, "initarg"},
    {"open task_timeout -1", NOPOOL, open_task_timeout, -1, PPOOL_EINVAL, "task_timeout"},
    {"open task_timeout NaN", NOPOOL, open_task_timeout, NAN_, PPOOL_EINVAL, "task_timeout"},
    {"open task_timeout DBL_MAX (none in effect)", NOPOOL, open_task_timeout_huge, 0, 0, NULL},
    {"open chunksize SIZE_MAX", NOPOOL, open_chunksize_huge, 0, 0, NULL},
    /* information and strings */
    {"size NULL", NOPOOL, size_null, 0, PPOOL_EINVAL, NULL},
    {"transport NULL", NOPOOL, transport_null, 0, 0, NULL},
    {"strerror/errname unknown codes", NOPOOL, strerror_unknown, 0, 0, NULL},
    {"strerror/errname known codes", NOPOOL, strerror_known, 0, 0, NULL},
    {"errmsg NULL in a fresh process", NOPOOL, errmsg_fresh_process, 0, 0, NULL},
    {"errmsg NULL on a fresh thread", NOPOOL, errmsg_other_thread, 0, 0, NULL},
    {"cpu_count", NOPOOL, cpu_count, 0, 0, NULL},
    {"version", NOPOOL, version, 0, 0, NULL},
    {"free/async_free/iter_free/buf_free NULL", NOPOOL, free_nulls, 0, 0, NULL},
    {"buf_free zeroed, filled, twice", NOPOOL, buf_free_zeroed, 0, 0, NULL},
    /* the task API */
    {"task_return NULL task", NOPOOL, task_return_null, 0, PPOOL_EINVAL, NULL},
    {"task_fail NULL task", NOPOOL, task_fail_null, 0, PPOOL_EINVAL, NULL},
    {"task_index NULL task", NOPOOL, task_index_null, 0, 0, NULL},
    {"task_return NULL data / NULL task inside a task", OPEN, task_probe_return, 0, 0, NULL},
    {"task_fail NULL format inside a task", OPEN, task_fail_nullfmt, 0, PPOOL_ETASK,
     "badinput_probe_failnull"},
    /* ppool_map */
    {"map NULL pool", NOPOOL, map_null_pool, 0, PPOOL_EINVAL, "pool"},
    {"map NULL fn", OPEN, map_null_fn, 0, PPOOL_EINVAL, "function"},
    {"map unknown fn", OPEN, map_unknown_fn, 0, PPOOL_ENOFUNC, "badinput_no_such_fn"},
    {"map fn \"\"", OPEN, map_empty_fn, 0, PPOOL_ENOFUNC, "not registered"},
    {"map NULL in", OPEN, map_null_in, 0, PPOOL_EINVAL, "input"},
    {"map NULL out", OPEN, map_null_out, 0, PPOOL_EINVAL, "output"},
    {"map NULL out, out_size 0 (results dropped)", OPEN, map_null_out_size0, 0, 0, NULL},
    {"map n 0 (valid, NULL in/out)", OPEN, map_n0, 0, 0, NULL},
    {"map n 0 unknown fn", OPEN, map_n0_unknown_fn, 0, PPOOL_ENOFUNC, "badinput_no_such_fn"},
    {"map in_size 0, n 5 (empty items)", OPEN, map_in_size0, 0, 0, NULL},
    {"map out_size too small", OPEN, map_out_small, 0, PPOOL_ETASK, "out_size"},
    {"map out_size too large", OPEN, map_out_large, 0, PPOOL_ETASK, "out_size"},
    {"map n SIZE_MAX (n*in_size overflows)", OPEN, map_overflow_in, 0, PPOOL_EINVAL, "overflow"},
    {"map n*out_size overflows", OPEN, map_overflow_out, 0, PPOOL_EINVAL, "overflow"},
    {"map in_size SIZE_MAX", OPEN, map_overflow_size, 0, PPOOL_EINVAL, "overflow"},
    {"map one 1.5 GiB item (over the frame limit)", OPEN, map_item_huge, 0, PPOOL_EINVAL, "limit"},
    /* ppool_map_bufs */
    {"map_bufs NULL pool", NOPOOL, bufs_null_pool, 0, PPOOL_EINVAL, "pool"},
    {"map_bufs NULL fn", OPEN, bufs_null_fn, 0, PPOOL_EINVAL, "function"},
    {"map_bufs unknown fn", OPEN, bufs_unknown_fn, 0, PPOOL_ENOFUNC, "badinput_no_such_fn"},
    {"map_bufs NULL in", OPEN, bufs_null_in, 0, PPOOL_EINVAL, "input"},
    {"map_bufs NULL out", OPEN, bufs_null_out, 0, PPOOL_EINVAL, "output"},
    {"map_bufs item 1 NULL data of 4 bytes", OPEN, bufs_item_null_data, 0, PPOOL_EINVAL, "item 1"},
    {"map_bufs NULL item of 0 bytes (valid)", OPEN, bufs_item_null_empty, 0, 0, NULL},
    {"map_bufs n 0 (valid, NULL in/out)", OPEN, bufs_n0, 0, 0, NULL},
    {"map_bufs n SIZE_MAX", OPEN, bufs_overflow, 0, PPOOL_EINVAL, "overflow"},
    {"map_bufs one 1.5 GiB item", OPEN, bufs_item_huge, 0, PPOOL_EINVAL, "limit"},
    /* ppool_apply */
    {"apply NULL pool", NOPOOL, apply_null_pool, 0, PPOOL_EINVAL, "pool"},
    {"apply NULL fn", OPEN, apply_null_fn, 0, PPOOL_EINVAL, "function"},
    {"apply unknown fn", OPEN, apply_unknown_fn, 0, PPOOL_ENOFUNC, "badinput_no_such_fn"},
    {"apply NULL arg of 8 bytes", OPEN, apply_null_arg, 0, PPOOL_EINVAL, "input"},
    {"apply NULL arg of 0 bytes (valid)", OPEN, apply_null_arg_len0, 0, 0, NULL},
    {"apply NULL out (valid)", OPEN, apply_null_out, 0, 0, NULL},
    {"apply len SIZE_MAX", OPEN, apply_len_max, 0, PPOOL_EINVAL, "limit"},
    {"apply 1.5 GiB argument", OPEN, apply_huge, 0, PPOOL_EINVAL, "limit"},
    /* ppool_apply_async, ppool_map_async */
    {"apply_async NULL pool", NOPOOL, aasync_null_pool, 0, R_NULL, "pool"},
    {"apply_async NULL fn", OPEN, aasync_null_fn, 0, R_NULL, "function"},
    {"apply_async unknown fn", OPEN, aasync_unknown_fn, 0, R_NULL, "badinput_no_such_fn"},
    {"apply_async NULL arg of 8 bytes", OPEN, aasync_null_arg, 0, R_NULL, "input"},
    {"apply_async len SIZE_MAX", OPEN, aasync_len_max, 0, R_NULL, "limit"},
    {"apply_async 1.5 GiB argument", OPEN, aasync_huge, 0, R_NULL, "limit"},
    {"map_async NULL pool", NOPOOL, masync_null_pool, 0, R_NULL, "pool"},
    {"map_async NULL fn", OPEN, masync_null_fn, 0, R_NULL, "function"},
    {"map_async unknown fn", OPEN, masync_unknown_fn, 0, R_NULL, "badinput_no_such_fn"},
    {"map_async NULL in", OPEN, masync_null_in, 0, R_NULL, "input"},
    {"map_async NULL out", OPEN, masync_null_out, 0, R_NULL, "output"},
    {"map_async n SIZE_MAX", OPEN, masync_overflow, 0, R_NULL, "overflow"},
    {"map_async one 1.5 GiB item", OPEN, masync_item_huge, 0, R_NULL, "limit"},
    {"map_async n 0 (done at once)", OPEN, masync_n0, 0, 0, NULL},
    /* ppool_imap, ppool_imap_unordered, ppool_imap_source */
    {"imap NULL pool", NOPOOL, imap_null_pool, 0, R_NULL, "pool"},
    {"imap NULL fn", OPEN, imap_null_fn, 0, R_NULL, "function"},
    {"imap unknown fn", OPEN, imap_unknown_fn, 0, R_NULL, "badinput_no_such_fn"},
    {"imap NULL in", OPEN, imap_null_in, 0, R_NULL, "input"},
    {"imap n SIZE_MAX", OPEN, imap_overflow, 0, R_NULL, "overflow"},
    {"imap one 1.5 GiB item", OPEN, imap_item_huge, 0, R_NULL, "limit"},
    {"imap n 0: EDONE, EDONE", OPEN, imap_n0, 0, PPOOL_EDONE, NULL},
    {"imap_unordered NULL pool", NOPOOL, imapu_null_pool, 0, R_NULL, "pool"},
    {"imap_unordered NULL fn", OPEN, imapu_null_fn, 0, R_NULL, "function"},
    {"imap_unordered NULL in", OPEN, imapu_null_in, 0, R_NULL, "input"},
    {"imap_unordered n SIZE_MAX", OPEN, imapu_overflow, 0, R_NULL, "overflow"},
    {"imap_unordered n 0: EDONE, EDONE", OPEN, imapu_n0, 0, PPOOL_EDONE, NULL},
    {"imap_source NULL pool", NOPOOL, source_null_pool, 0, R_NULL, "pool"},
    {"imap_source NULL fn", OPEN, source_null_fn, 0, R_NULL, "function"},
    {"imap_source unknown fn", OPEN, source_unknown_fn, 0, R_NULL, "badinput_no_such_fn"},
    {"imap_source NULL source", OPEN, source_null_next, 0, R_NULL, "source"},
    {"imap_source failing source: its code, EDONE", OPEN, source_fails, 0, -42, "source"},
    {"imap_source NULL item of 8 bytes", OPEN, source_null_item, 0, PPOOL_EINVAL, "source"},
    {"imap_source one 1.5 GiB item", OPEN, source_item_huge, 0, PPOOL_EINVAL, NULL},
    /* ppool_iter_next */
    {"iter_next NULL iterator", NOPOOL, iter_next_null, 0, PPOOL_EINVAL, "iterator"},
    {"iter_next NULL index and result (valid)", OPEN, iter_next_null_outs, 0, 0, NULL},
    {"iter_next after EDONE: EDONE again", OPEN, iter_edone_again, 0, PPOOL_EDONE, NULL},
    {"iter_next timeout NaN", OPEN, iter_timeout, NAN_, PPOOL_EINVAL, "timeout"},
    {"iter_next timeout +inf (forever)", OPEN, iter_timeout, INF_, 0, NULL},
    {"iter_next timeout DBL_MAX (forever)", OPEN, iter_timeout, DBL_MAX, 0, NULL},
    {"iter_next timeout 1e300 (forever)", OPEN, iter_timeout, 1e300, 0, NULL},
    {"iter_next timeout 1e10 (forever)", OPEN, iter_timeout, 1e10, 0, NULL},
    {"iter_next timeout -1 (forever)", OPEN, iter_timeout, -1, 0, NULL},
    {"iter_next timeout -inf (forever)", OPEN, iter_timeout, -INF_, 0, NULL},
    {"iter_next timeout 0 (poll)", OPEN, iter_timeout, 0, PPOOL_ETIMEDOUT, "within"},
    {"iter_next timeout -0.0 (poll)", OPEN, iter_timeout, -0.0, PPOOL_ETIMEDOUT, NULL},
    {"iter_next timeout 1e-300 (poll)", OPEN, iter_timeout, 1e-300, PPOOL_ETIMEDOUT, NULL},
    {"iter_free with work pending", OPEN, iter_free_midway, 0, 0, NULL},
    /* ppool_async_* */
    {"async_wait NULL", NOPOOL, async_wait_null, 0, PPOOL_EINVAL, "NULL"},
    {"async_get NULL", NOPOOL, async_get_null, 0, PPOOL_EINVAL, "NULL"},
    {"async_ready/error/on_done NULL", NOPOOL, async_nulls, 0, 0, NULL},
    {"async_wait timeout NaN", OPEN, async_wait_timeout, NAN_, PPOOL_EINVAL, "timeout"},
    {"async_wait timeout +inf (forever)", OPEN, async_wait_timeout, INF_, 0, NULL},
    {"async_wait timeout DBL_MAX (forever)", OPEN, async_wait_timeout, DBL_MAX, 0, NULL},
    {"async_wait timeout 1e300 (forever)", OPEN, async_wait_timeout, 1e300, 0, NULL},
    {"async_wait timeout -1 (forever)", OPEN, async_wait_timeout, -1, 0, NULL},
    {"async_wait timeout 0 (poll)", OPEN, async_wait_timeout, 0, PPOOL_ETIMEDOUT, "within"},
    {"async_get timeout NaN", OPEN, async_get_timeout, NAN_, PPOOL_EINVAL, "timeout"},
    {"async_get timeout +inf (forever)", OPEN, async_get_timeout, INF_, 0, NULL},
    {"async_get timeout DBL_MAX (forever)", OPEN, async_get_timeout, DBL_MAX, 0, NULL},
    {"async_get timeout 1e300 (forever)", OPEN, async_get_timeout, 1e300, 0, NULL},
    {"async_get timeout -inf (forever)", OPEN, async_get_timeout, -INF_, 0, NULL},
    {"async_get timeout 0 (poll)", OPEN, async_get_timeout, 0, PPOOL_ETIMEDOUT, "within"},
    {"async_get twice", OPEN, async_get_twice, 0, 0, NULL},
    {"async_get of a failed result twice", OPEN, async_failed_twice, 0, PPOOL_ETASK, "fail17"},
    {"async_error of a success", OPEN, async_error_success, 0, 0, NULL},
    {"async_on_done NULL cb, twice, after done", OPEN, async_on_done_twice, 0, 0, NULL},
    {"async_free with work pending", OPEN, async_free_pending, 0, 0, NULL},
    /* close, join, terminate, and calls in the wrong order */
    {"close NULL", NOPOOL, close_null, 0, PPOOL_EINVAL, "pool"},
    {"join NULL", NOPOOL, join_null, 0, PPOOL_EINVAL, "pool"},
    {"terminate NULL", NOPOOL, terminate_null, 0, PPOOL_EINVAL, "pool"},
    {"join before close", OPEN, join_before_close, 0, PPOOL_EINVAL, "ppool_close"},
    {"close twice", OPEN, close_twice, 0, 0, NULL},
    {"join twice", OPEN, join_twice, 0, 0, NULL},
    {"terminate twice", OPEN, terminate_twice, 0, 0, NULL},
    {"terminate a closed pool", CLOSED, close_then_terminate, 0, 0, NULL},
    {"close a terminated pool", TERMINATED, close_after_terminate, 0, 0, NULL},
    {"join a terminated pool", TERMINATED, join_after_terminate, 0, 0, NULL},
    {"terminate a joined pool", CLOSED, terminate_after_join, 0, 0, NULL},
    {"close: outstanding work goes on", OPEN, close_outstanding, 0, 0, NULL},
    {"handle of a terminated pool", OPEN, handle_after_terminate, 0, PPOOL_ECLOSED, NULL},
    /* every submission on an open (the baseline), a closed and a terminated pool */
    {"open pool: map", OPEN, submit_map, 0, 0, NULL},
    {"open pool: map_bufs", OPEN, submit_bufs, 0, 0, NULL},
    {"open pool: apply", OPEN, submit_apply, 0, 0, NULL},
    {"open pool: apply_async", OPEN, submit_apply_async, 0, R_HANDLE, NULL},
    {"open pool: map_async", OPEN, submit_map_async, 0, R_HANDLE, NULL},
    {"open pool: imap", OPEN, submit_imap, 0, R_HANDLE, NULL},
    {"open pool: imap_unordered", OPEN, submit_imapu, 0, R_HANDLE, NULL},
    {"open pool: imap_source", OPEN, submit_source, 0, R_HANDLE, NULL},
    {"closed pool: map", CLOSED, submit_map, 0, PPOOL_ECLOSED, "closed"},
    {"closed pool: map n 0", CLOSED, submit_map_n0, 0, PPOOL_ECLOSED, "closed"},
    {"closed pool: map_bufs", CLOSED, submit_bufs, 0, PPOOL_ECLOSED, "closed"},
    {"closed pool: apply", CLOSED, submit_apply, 0, PPOOL_ECLOSED, "closed"},
    {"closed pool: apply_async", CLOSED, submit_apply_async, 0, R_NULL, "closed"},
    {"closed pool: map_async", CLOSED, submit_map_async, 0, R_NULL, "closed"},
    {"closed pool: imap", CLOSED, submit_imap, 0, R_NULL, "closed"},
    {"closed pool: imap_unordered", CLOSED, submit_imapu, 0, R_NULL, "closed"},
    {"closed pool: imap_source", CLOSED, submit_source, 0, R_NULL, "closed"},
    {"terminated pool: map", TERMINATED, submit_map, 0, PPOOL_ECLOSED, "closed"},
    {"terminated pool: map_bufs", TERMINATED, submit_bufs, 0, PPOOL_ECLOSED, "closed"},
    {"terminated pool: apply", TERMINATED, submit_apply, 0, PPOOL_ECLOSED, "closed"},
    {"terminated pool: apply_async", TERMINATED, submit_apply_async, 0, R_NULL, "closed"},
    {"terminated pool: map_async", TERMINATED, submit_map_async, 0, R_NULL, "closed"},
    {"terminated pool: imap", TERMINATED, submit_imap, 0, R_NULL, "closed"},
    {"terminated pool: imap_unordered", TERMINATED, submit_imapu, 0, R_NULL, "closed"},
    {"terminated pool: imap_source", TERMINATED, submit_source, 0, R_NULL, "closed"},
    /* handles used after ppool_free of their pool */
    {"freed pool: pending apply_async", OPEN, freed_async_pending, 0, PPOOL_ECLOSED, NULL},
    {"freed pool: finished apply_async keeps its result", OPEN, freed_async_done, 0, 0, NULL},
    {"freed pool: pending map_async", OPEN, freed_map_async, 0, PPOOL_ECLOSED, NULL},
    {"freed pool: pending imap: ECLOSED, EDONE", OPEN, freed_iter_pending, 0, PPOOL_ECLOSED, NULL},
    {"freed pool: imap_source ends", OPEN, freed_source, 0, PPOOL_EDONE, NULL},
};

/* ================= the runner ================= */

static FILE *rep; /* the row's report (its process's real stderr) */
static pid_t row_pid;

/* A row's process must not end through exit(): the library never exits. */
static void exit_guard(void)
{
    if (getpid() != row_pid) return; /* a worker forked from the row */
    fprintf(rep, "exit() called during the row\n");
    fflush(rep);
    _exit(3);
}

static int run_row_here(const row *r)
{
    ctx c = {.arg = r->arg};
    if (r->pool != NOPOOL) {
        ppool_opts o = PPOOL_OPTS_INIT;
        o.workers = 2;
        int rc = ppool_open(&c.p, &o);
        if (rc) {
            fprintf(rep, "cannot open the row's pool: %s\n", ppool_errmsg(NULL));
            return 1;
        }
        if (r->pool == CLOSED) ppool_close(c.p);
        if (r->pool == TERMINATED) ppool_terminate(c.p);
    }
    int fail = 0;
    int rc = r->call(&c);
    if (rc != r->want) {
        fprintf(rep, "returned %d (%s), want %d (%s)", rc,
                rc == R_BAD      ? "a check failed"
                : rc == R_NULL   ? "NULL"
                : rc == R_HANDLE ? "a handle"
                                 : ppool_errname(rc),
                r->want,
                r->want == R_NULL     ? "NULL"
                : r->want == R_HANDLE ? "a handle"
                                      : ppool_errname(r->want));
        if (rc == R_BAD) fprintf(rep, ": %s", c.note);
        if (!c.freed) fprintf(rep, "; errmsg \"%s\"", ppool_errmsg(c.p));
        fprintf(rep, "\n");
        fail = 1;
    } else if (r->msg) {
        const char *m = ppool_errmsg(c.p);
        if (!m || !*m || !strstr(m, r->msg)) {
            fprintf(rep, "errmsg \"%s\" does not name \"%s\"\n", m ? m : "(null)", r->msg);
            fail = 1;
        }
    }
    if (c.p && !c.freed) {
        if (r->pool == OPEN && !c.touched) {
            /* a bad input leaves the pool as it was: it still works */
            long x = 9;
            ppool_buf b = {0};
            int urc = ppool_apply(c.p, "square", &x, sizeof x, &b);
            if (urc || b.len != sizeof x || *(long *)b.data != 81) {
                fprintf(rep, "the pool no longer works: %s: %s\n", ppool_errname(urc),
                        ppool_errmsg(c.p));
                fail = 1;
            }
            ppool_buf_free(&b);
        }
        ppool_free(c.p);
    }
    if (!h_no_children()) {
        fprintf(rep, "a process is left behind\n");
        fail = 1;
    }
    return fail;
}

/* Runs a row in a child process; 0 if it passed. */
static int run_row(const row *r, double *took)
{
    fflush(stderr);
    FILE *out = tmpfile();
    if (!out) H_FAIL("tmpfile: %s", strerror(errno));
    double t0 = h_now();
    pid_t pid = fork();
    if (pid < 0) H_FAIL("fork: %s", strerror(errno));
    if (pid == 0) {
        setpgid(0, 0);
        row_pid = getpid();
        rep = fdopen(dup(2), "w");
        setvbuf(rep, NULL, _IONBF, 0);
        dup2(fileno(out), 1);
        dup2(fileno(out), 2);
        atexit(exit_guard);
        int fail = run_row_here(r);
        fflush(stdout);
        fflush(stderr);
        long n = ftell(out);
        if (n > 0) {
            char text[400] = "";
            rewind(out);
            size_t k = fread(text, 1, sizeof text - 1, out);
            text[k] = 0;
            fprintf(rep, "the row printed %ld bytes: \"%s\"\n", n, text);
            fail = 1;
        }
        _exit(fail);
    }
    setpgid(pid, pid);
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) break;
        if (h_now() - t0 > ROW_SECONDS) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fprintf(stderr, "   hung: killed after %d s\n", ROW_SECONDS);
            status = -1;
            break;
        }
        usleep(2000);
    }
    fclose(out);
    *took = h_now() - t0;
    if (status == -1) return 1;
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "   crashed: signal %d (%s)\n", WTERMSIG(status),
                strsignal(WTERMSIG(status)));
        return 1;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    /* The library prints only when asked: ask for nothing. */
    unsetenv("PPOOL_DEBUG");
    unsetenv("PPOOL_PROGRESS");
    tasks_register();
    if (ppool_register("badinput_probe_return", t_probe_return) ||
        ppool_register("badinput_probe_failnull", t_probe_failnull))
        H_FAIL("register the probes");
    size_t n = sizeof rows / sizeof rows[0], ran = 0, failed = 0;
    const char *only = argc > 1 ? argv[1] : NULL; /* a substring of the rows to run */
    char *names[sizeof rows / sizeof rows[0]];
    for (size_t i = 0; i < n; i++) {
        if (only && !strstr(rows[i].name, only)) continue;
        fprintf(stderr, "-- %s\n", rows[i].name);
        ran++;
        double took;
        if (run_row(&rows[i], &took)) {
            names[failed++] = (char *)rows[i].name;
            fprintf(stderr, "   FAILED (%.2f s)\n", took);
        }
    }
    fprintf(stderr, "test_badinput: %zu of %zu rows run, %zu failed\n", ran, n, failed);
    for (size_t i = 0; i < failed; i++) fprintf(stderr, "   failed: %s\n", names[i]);
    if (!h_no_children()) H_FAIL("a row process is left");
    return failed ? 1 : 0;
}
