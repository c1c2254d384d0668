/* test_codec.c: frames round-trip, and malformed frames are PPOOL_EPROTO, never a crash. */
#include "harness.h"
#include "ppool.pb-c.h"
#include "ppool_impl.h"

/* Packs a Task frame. */
static void pack_task(Ppool__Task *t, const void *bulk, size_t bulk_len, void **frame, size_t *len)
{
    Ppool__Frame f = PPOOL__FRAME__INIT;
    f.msg_case = PPOOL__FRAME__MSG_TASK;
    f.task = t;
    ASSERT_EQ(ppool__frame_pack(&f, bulk, bulk_len, frame, len), 0);
}

static void roundtrip(void)
{
    uint64_t lens[3] = {2, 0, 3};
    Ppool__Task t = PPOOL__TASK__INIT;
    t.job = 42;
    t.fn = "square";
    t.first = 1000;
    t.count = 3;
    t.n_lens = 3;
    t.lens = lens;
    t.bulk_len = 5;
    void *frame;
    size_t len;
    pack_task(&t, "abcde", 5, &frame, &len);
    Ppool__Frame *m;
    const void *bulk;
    size_t bl;
    char err[200];
    ASSERT_EQ(ppool__frame_unpack(frame, len, &m, &bulk, &bl, err, sizeof err), 0);
    ASSERT_EQ(m->msg_case, PPOOL__FRAME__MSG_TASK);
    ASSERT_EQ(m->task->job, 42);
    ASSERT_STREQ(m->task->fn, "square");
    ASSERT_EQ(m->task->first, 1000);
    ASSERT_EQ(m->task->n_lens, 3);
    ASSERT_EQ(m->task->lens[2], 3);
    ASSERT_EQ(bl, 5);
    ASSERT_TRUE(memcmp(bulk, "abcde", 5) == 0);
    ppool__frame_release(m);
    /* every truncation is rejected */
    for (size_t cut = 0; cut < len; cut++) {
        int rc = ppool__frame_unpack(frame, cut, &m, &bulk, &bl, err, sizeof err);
        ASSERT_EQ(rc, PPOOL_EPROTO);
        ASSERT_NULL(m);
    }
    /* a header length that overruns the frame */
    unsigned char *b = frame;
    b[3] = 0x7f;
    ASSERT_EQ(ppool__frame_unpack(frame, len, &m, &bulk, &bl, err, sizeof err), PPOOL_EPROTO);
    ASSERT_CONTAINS(err, "overruns");
    free(frame);
}

/* Random bytes and random mutations of a good frame never crash the decoder. */
static void fuzz(void)
{
    srand(12345);
    unsigned char buf[512];
    int ok = 0, bad = 0;
    for (int i = 0; i < 20000; i++) {
        size_t len = (size_t)(rand() % (int)sizeof buf);
        for (size_t k = 0; k < len; k++) buf[k] = (unsigned char)rand();
        if (len >= 4 && (i & 1)) { /* plausible header length */
            uint32_t hl = (uint32_t)(rand() % (int)(len - 3));
            buf[0] = (unsigned char)hl;
            buf[1] = (unsigned char)(hl >> 8);
            buf[2] = buf[3] = 0;
        }
        Ppool__Frame *m;
        const void *bulk;
        size_t bl;
        char err[200];
        int rc = ppool__frame_unpack(buf, len, &m, &bulk, &bl, err, sizeof err);
        if (rc == 0) {
            ok++;
            ASSERT_LE(bl, len);
            ppool__frame_release(m);
        } else {
            ASSERT_EQ(rc, PPOOL_EPROTO);
            bad++;
        }
    }
    ASSERT_GT(bad, 0);
    (void)ok;
}

/* The worker side answers a bad frame with an error, not a crash. */
static void worker_rejects(void)
{
    ppool__registry reg;
    ASSERT_EQ(ppool__registry_snapshot(&reg), 0);
    ppool__wctx c = {.reg = &reg};
    void *out = NULL;
    size_t out_len = 0;
    ASSERT_EQ(ppool__worker_ops_template.run(&c, "\x01\x00\x00\x00\xff", 5, &out, &out_len),
              PPOOL_EPROTO);
    ASSERT_NULL(out);
    /* a Task whose lens disagree with its count */
    Ppool__Task t = PPOOL__TASK__INIT;
    t.fn = "nothing";
    t.count = 2;
    void *frame;
    size_t len;
    pack_task(&t, NULL, 0, &frame, &len);
    ASSERT_EQ(ppool__worker_ops_template.run(&c, frame, len, &out, &out_len), PPOOL_EPROTO);
    free(frame);
    ppool__registry_release(&reg);
}

int main(void)
{
    RUN(roundtrip);
    RUN(fuzz);
    RUN(worker_rejects);
    return 0;
}
