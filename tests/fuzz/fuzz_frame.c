/* fuzz_frame.c: libFuzzer target: frame_unpack, then the master's and worker's real handlers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "ppool.pb-c.h"
#include "ppool_impl.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_frame.c:%d: check failed: %s\n", __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The fuzz tasks, as the master and its workers registered them. */
static ppool__registry reg;
static volatile unsigned sink;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    CHECK(fuzz_register_tasks() == 0);
    CHECK(ppool__registry_snapshot(&reg) == 0);
    return 0;
}

/* ---------- the decoded message, read as the handlers index it ---------- */

static void touch(const void *p, size_t n)
{
    const unsigned char *b = p;
    unsigned s = 0;
    for (size_t i = 0; i < n; i++) s += b[i];
    sink += s;
}

/* A string a handler reads without looking for NULL. */
static void touch_str(const char *s)
{
    CHECK(s);
    touch(s, strlen(s) + 1);
}

static void walk_result(const Ppool__Result *r)
{
    touch(r->status, r->n_status * sizeof *r->status);
    for (size_t i = 0; i < r->n_errors; i++) touch_str(r->errors[i]);
    touch(r->lens, r->n_lens * sizeof *r->lens);
}

static void walk(const Ppool__Frame *m)
{
    switch (m->msg_case) {
    case PPOOL__FRAME__MSG_HELLO:
        CHECK(m->hello);
        if (m->hello->host) touch_str(m->hello->host);
        if (m->hello->cpuset) touch_str(m->hello->cpuset);
        if (m->hello->init_error) touch_str(m->hello->init_error);
        break;
    case PPOOL__FRAME__MSG_TASK:
        CHECK(m->task);
        touch_str(m->task->fn);
        touch(m->task->lens, m->task->n_lens * sizeof *m->task->lens);
        break;
    case PPOOL__FRAME__MSG_RESULT:
        CHECK(m->result);
        walk_result(m->result);
        break;
    case PPOOL__FRAME__MSG_INIT:
        CHECK(m->init);
        if (m->init->fn) touch_str(m->init->fn);
        touch(m->init->arg.data, m->init->arg.len);
        break;
    case PPOOL__FRAME__MSG_STEAL:
        CHECK(m->steal);
        break;
    case PPOOL__FRAME__MSG_GIVEN:
        CHECK(m->given);
        for (size_t i = 0; i < m->given->n_ranges; i++) CHECK(m->given->ranges[i]);
        break;
    case PPOOL__FRAME__MSG_STARTED:
        CHECK(m->started);
        break;
    default:
        CHECK(m->msg_case == PPOOL__FRAME__MSG_SHUTDOWN && m->shutdown);
    }
}

/* What unpack promises: a kind, and a bulk of the declared length that ends the frame. */
static void check_decoded(const uint8_t *data, size_t size, const Ppool__Frame *m, const void *bulk,
                          size_t bulk_len)
{
    CHECK(m && m->msg_case != PPOOL__FRAME__MSG__NOT_SET);
    if (bulk_len) {
        size_t off = (size_t)((const uint8_t *)bulk - data);
        CHECK(off >= 4 && off % PPOOL__ALIGN == 0 && off + bulk_len == size);
    }
    touch(bulk, bulk_len);
}

/* A frame that decodes packs again into one that decodes alike. Not with
 * unknown fields: protobuf-c keeps a field 0 given as an overlong tag (80 00)
 * and packs it back as the tag 00, which it then refuses (ppool never packs
 * a frame it received). */
static void check_repack(const Ppool__Frame *m, const void *bulk, size_t bulk_len)
{
    void *f;
    size_t len, bl;
    Ppool__Frame *m2;
    const void *b2;
    char err[256];
    const ProtobufCMessage *sub = (const ProtobufCMessage *)m->hello; /* the oneof's member */
    if (m->base.n_unknown_fields || sub->n_unknown_fields) return;
    for (size_t i = 0; m->msg_case == PPOOL__FRAME__MSG_GIVEN && i < m->given->n_ranges; i++)
        if (m->given->ranges[i]->base.n_unknown_fields) return; /* a nested message's, alike */
    CHECK(ppool__frame_pack(m, bulk, bulk_len, &f, &len) == 0);
    CHECK(ppool__frame_unpack(f, len, &m2, &b2, &bl, err, sizeof err) == 0);
    CHECK(m2->msg_case == m->msg_case && bl == bulk_len);
    CHECK(!bl || memcmp(b2, bulk, bl) == 0);
    ppool__frame_release(m2);
    free(f);
}

/* ---------- the master: ppool__handle_frame on a pool of one worker ---------- */

typedef struct master {
    ppool p;
    ppool__wslot w;
    ppool__job *j; /* the job of the chunk in flight, or NULL */
    size_t n;
    char *out;
    ppool_buf *outb;
} master;

static int chunk_fits(uint64_t first, uint64_t count)
{
    return first <= FUZZ_MAX_ITEMS && count <= FUZZ_MAX_ITEMS - first;
}

/* The kind's output: a map's array, a buffer per item, an iterator's window. */
static void job_output(master *M, ppool__job *j, uint64_t item_size, unsigned bits)
{
    if (j->kind == JOB_MAP) {
        j->out_size = item_size <= 4096 ? (size_t)item_size : 8;
        /* Every buffer has its exact size, so that ASan sees a byte written past it. */
        if (!(bits & FUZZ_JOB_NO_OUT)) j->out = M->out = malloc(j->n * j->out_size);
        CHECK(j->out || (bits & FUZZ_JOB_NO_OUT));
    } else if (j->kind == JOB_BUFS) {
        j->outb = M->outb = calloc(j->n, sizeof *j->outb);
        CHECK(j->outb);
    } else if (j->kind == JOB_ITER) {
        j->window = j->n ? j->n : 1;
        j->ordered = !(bits & FUZZ_JOB_NO_OUT);
        j->slots = calloc(j->window, sizeof *j->slots);
        j->fifo = j->ordered ? NULL : calloc(j->window, sizeof *j->fifo);
        CHECK(j->slots && (j->ordered || j->fifo));
    }
}

/* A job whose items [first, first + count) are in flight as worker 0's one
 * chunk, the items before done; its id's bits shape it (fuzz_common.h). */
static void master_chunk(master *M, uint64_t id, uint64_t first, uint64_t count, uint64_t item_size)
{
    if (!chunk_fits(first, count)) return; /* no such chunk: the frame is refused */
    static const int kinds[4] = {JOB_MAP, JOB_BUFS, JOB_APPLY, JOB_ITER};
    ppool__job *j = calloc(1, sizeof *j);
    ppool__chunk *c = calloc(1, sizeof *c);
    CHECK(j && c);
    j->kind = kinds[id & 3];
    if (j->kind == JOB_APPLY && (first || count != 1)) j->kind = JOB_BUFS;
    j->pool = &M->p;
    j->id = id;
    j->refs = 3; /* the scheduler's, the chunk's and ours */
    j->n = M->n = (size_t)(first + count);
    j->done = (size_t)first;
    j->inflight = (size_t)count;
    j->user_gone = (id & FUZZ_JOB_GONE) != 0;
    strcpy(j->fn, "echo");
    pthread_cond_init(&j->cond, NULL);
    job_output(M, j, item_size, (unsigned)id);
    M->p.jobs = M->p.jobs_tail = M->j = j;
    *c = (ppool__chunk){.job = j, .first = (size_t)first, .count = (size_t)count};
    c->expired = (id & FUZZ_JOB_EXPIRED) != 0;
    M->w.head = M->w.tail = c;
    M->w.ninflight = 1;
}

/* Frees what the handler left: a refused chunk, the job, its outputs. */
static void master_done(master *M, int rc)
{
    ppool__job *j = M->j;
    if (j) {
        if (M->w.head) { /* refused: the chunk is still in flight */
            CHECK(rc < 0 && M->w.head->job == j);
            free(M->w.head);
            ppool__job_unref(j);
        }
        CHECK(rc < 0 || M->w.head == NULL);
        CHECK(rc < 0 || j->finished == !(j->id & FUZZ_JOB_EXPIRED)); /* landed unless expired */
        if (!j->finished) ppool__job_finish(&M->p, j);
        for (size_t i = 0; M->outb && i < M->n; i++) free(M->outb[i].data);
        free(M->outb);
        free(M->out);
        ppool__job_unref(j);
    }
    pthread_cond_destroy(&M->p.idle);
}

/* The master handles `frame` (malloc'd; consumed) from worker 0, which is
 * starting for a Hello and else ready with the chunk of `task` (NULL: the
 * chunk a Result names) in flight. m is the frame decoded, or NULL. */
static int as_master(const Ppool__Frame *m, void *frame, size_t len, const Ppool__Task *task)
{
    master M;
    int hello = m && m->msg_case == PPOOL__FRAME__MSG_HELLO;
    memset(&M, 0, sizeof M);
    pthread_cond_init(&M.p.idle, NULL);
    M.p.w = &M.w;
    M.p.nworkers = 1;
    M.p.reg = reg;
    M.w.state = hello ? W_STARTING : W_READY;
    if (hello && (m->hello->worker & 1)) M.p.initializer = "echo";
    const Ppool__Result *r = m && m->msg_case == PPOOL__FRAME__MSG_RESULT ? m->result : NULL;
    if (task)
        master_chunk(&M, task->job, task->first, task->count, task->item_size);
    else if (r)
        master_chunk(&M, r->job, r->first, r->count, r->uniform ? r->item_size : 8);
    char err[400] = "";
    int rc = ppool__handle_frame(&M.p, 0, frame, len, err, sizeof err);
    CHECK(rc <= 0 && (rc == 0 || err[0]) && strnlen(err, sizeof err) < sizeof err);
    CHECK(!hello || rc || (M.w.state == W_READY && M.p.nready == 1));
    master_done(&M, rc);
    return rc;
}

/* ---------- the worker: its serve loop's run() ---------- */

/* The worker's answer decodes, and its master takes it: the Result of the
 * Task's chunk, or the Hello after an Init unless the initializer failed. */
static void answer(const Ppool__Frame *m, void *out, size_t out_len)
{
    Ppool__Frame *a;
    const void *bulk;
    size_t bl;
    char err[256];
    CHECK(ppool__frame_unpack(out, out_len, &a, &bulk, &bl, err, sizeof err) == 0);
    const Ppool__Task *t = m->msg_case == PPOOL__FRAME__MSG_TASK ? m->task : NULL;
    CHECK(a->msg_case == (t ? PPOOL__FRAME__MSG_RESULT : PPOOL__FRAME__MSG_HELLO));
    int must = t ? chunk_fits(t->first, t->count) : a->hello->init_status == 0;
    if (t) CHECK(a->result->job == t->job && a->result->first == t->first);
    if (t) CHECK(a->result->count == t->count);
    int rc = as_master(a, out, out_len, t);
    CHECK(rc == 0 || !must);
    ppool__frame_release(a);
}

/* What run() returns for each kind: 1 for a Shutdown, an answer for an Init
 * and for a consistent Task, PPOOL_EPROTO for what a master never sends. */
static void check_run(int kind, int rc, const void *out)
{
    if (kind == PPOOL__FRAME__MSG_SHUTDOWN)
        CHECK(rc == 1 && !out);
    else if (kind == PPOOL__FRAME__MSG_INIT)
        CHECK(rc == 0 && out);
    else if (kind == PPOOL__FRAME__MSG_TASK)
        CHECK(rc == 0 ? out != NULL : rc < 0 && !out);
    else
        CHECK(rc == PPOOL_EPROTO && !out);
}

/* The worker runs the frame as if from its master; m is it decoded, or NULL. */
static void as_worker(const uint8_t *data, size_t size, const Ppool__Frame *m)
{
    if (m && m->msg_case == PPOOL__FRAME__MSG_TASK && m->task->count > FUZZ_MAX_ITEMS) return;
    volatile uint64_t current[2] = {0, 0};
    ppool__wctx c = {.reg = &reg, .current = current};
    void *out = NULL;
    size_t out_len = 0;
    int rc = ppool__worker_ops_template.run(&c, data, size, &out, &out_len);
    CHECK(current[1] == 0 && !c.init_fn && !c.initarg);
    check_run(m ? (int)m->msg_case : 0, rc, out);
    if (out) answer(m, out, out_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Ppool__Frame *m;
    const void *bulk;
    size_t bulk_len;
    char err[256] = "";
    int rc = ppool__frame_unpack(data, size, &m, &bulk, &bulk_len, err, sizeof err);
    CHECK(rc == 0 || (rc == PPOOL_EPROTO && !m && err[0]));
    if (rc == 0) {
        check_decoded(data, size, m, bulk, bulk_len);
        walk(m);
        check_repack(m, bulk, bulk_len);
    }
    void *copy = malloc(size); /* the master frees the frames it gets */
    CHECK(copy || !size);
    if (size) memcpy(copy, data, size);
    as_master(m, copy, size, NULL);
    as_worker(data, size, m);
    ppool__frame_release(m);
    return 0;
}
