/* gen_corpus.c: writes the fuzzer's seeds: valid frames of each kind and a few malformed ones. */
/* Regenerate the checked-in one: <build>/tests/fuzz/gen_corpus tests/fuzz/corpus */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "ppool.pb-c.h"
#include "ppool_impl.h"

static const char *dir;
static ppool__registry reg;
static const char bytes[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

static void put(const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
        perror(path);
        exit(1);
    }
}

#define NO_PAD LONG_MIN /* cut: only [u32][packed], without the pad */

/* Packs a frame of `kind` around `sub` with `bulk_len` bytes of bulk; cut
 * (> 0) bytes shorter or (< 0) longer than it should be. */
static void put_frame(const char *name, int kind, void *sub, size_t bulk_len, long cut)
{
    Ppool__Frame f = PPOOL__FRAME__INIT;
    f.msg_case = kind;
    f.hello = sub; /* the oneof's members share one place */
    void *frame;
    size_t len;
    if (ppool__frame_pack(&f, bytes, bulk_len, &frame, &len)) exit(1);
    unsigned char *grown = realloc(frame, len + 64);
    if (!grown) exit(1);
    memset(grown + len, 'x', 64);
    uint32_t hl = grown[0] | (uint32_t)grown[1] << 8 | (uint32_t)grown[2] << 16;
    put(name, grown, cut == NO_PAD ? 4 + hl : (size_t)((long)len - cut));
    free(grown);
}

static void hellos(void)
{
    Ppool__Hello h = PPOOL__HELLO__INIT;
    h.version = PPOOL__PROTO_VERSION;
    h.pid = 4242;
    h.host = "fuzzhost";
    h.cpuset = "0-3";
    h.digest = reg.digest;
    put_frame("hello-ok", PPOOL__FRAME__MSG_HELLO, &h, 0, 0);
    h.worker = 1;
    h.init_status = PPOOL_ETASK;
    h.init_error = "initializer failed";
    put_frame("hello-init-failed", PPOOL__FRAME__MSG_HELLO, &h, 0, 0);
    h.init_status = 0;
    h.digest = 0;
    put_frame("hello-other-digest", PPOOL__FRAME__MSG_HELLO, &h, 0, 0);
    h.digest = reg.digest;
    h.version = PPOOL__PROTO_VERSION + 1;
    put_frame("hello-other-version", PPOOL__FRAME__MSG_HELLO, &h, 0, 0);
}

static void put_task(const char *name, uint64_t job, const char *fn, uint64_t first, uint32_t count,
                     uint64_t item_size, size_t n_lens, uint64_t *lens)
{
    Ppool__Task t = PPOOL__TASK__INIT;
    t.job = job;
    t.fn = (char *)fn;
    t.first = first;
    t.count = count;
    t.uniform = n_lens == 0;
    t.item_size = item_size;
    t.n_lens = n_lens;
    t.lens = lens;
    t.bulk_len = item_size * count;
    for (size_t i = 0; i < n_lens; i++) /* each variable item starts aligned */
        t.bulk_len = (i ? PPOOL__ALIGN_UP(t.bulk_len) : 0) + lens[i];
    put_frame(name, PPOOL__FRAME__MSG_TASK, &t, t.bulk_len, 0);
}

static void tasks(void)
{
    uint64_t lens[3] = {5, 0, 7};
    put_task("task-echo-bufs", FUZZ_JOB_BUFS, "echo", 0, 4, 8, 0, NULL);
    put_task("task-echo-map", FUZZ_JOB_MAP, "echo", 3, 2, 6, 0, NULL);
    put_task("task-half-lens", FUZZ_JOB_MAP, "half", 0, 3, 0, 3, lens);
    put_task("task-mixed-iter", FUZZ_JOB_ITER, "mixed", 2, 5, 4, 0, NULL);
    put_task("task-fail-unordered", FUZZ_JOB_ITER | FUZZ_JOB_NO_OUT, "fail", 0, 3, 0, 3, lens);
    put_task("task-none-apply", FUZZ_JOB_APPLY, "none", 0, 1, 9, 0, NULL);
    put_task("task-not-registered", FUZZ_JOB_BUFS, "missing", 0, 2, 1, 0, NULL);
    put_task("task-empty", FUZZ_JOB_MAP, "echo", 0, 0, 0, 0, NULL);
}

static void put_result(const char *name, uint64_t job, uint64_t first, uint32_t count,
                       uint64_t item_size, uint64_t *lens, int32_t *status, char **errors)
{
    Ppool__Result r = PPOOL__RESULT__INIT;
    r.job = job;
    r.first = first;
    r.count = count;
    r.uniform = lens == NULL;
    r.item_size = item_size;
    r.bulk_len = item_size * count;
    if (lens) {
        r.n_lens = count;
        r.lens = lens;
        r.bulk_len = 0;
        for (size_t i = 0; i < count; i++) r.bulk_len += lens[i];
    }
    if (status) {
        r.n_status = count;
        r.status = status;
        for (size_t i = 0; i < count; i++) r.n_errors += status[i] != 0;
        r.errors = errors;
    }
    r.busy = 0.25;
    put_frame(name, PPOOL__FRAME__MSG_RESULT, &r, r.bulk_len, 0);
}

static void results(void)
{
    uint64_t lens[3] = {1, 0, 3};
    int32_t status[3] = {0, PPOOL_ETASK, 0};
    char *errors[1] = {"item failed"};
    put_result("result-map", FUZZ_JOB_MAP, 0, 4, 8, NULL, NULL, NULL);
    put_result("result-map-no-out", FUZZ_JOB_MAP | FUZZ_JOB_NO_OUT, 1, 2, 5, NULL, NULL, NULL);
    put_result("result-bufs-lens", FUZZ_JOB_BUFS, 0, 3, 0, lens, NULL, NULL);
    put_result("result-iter-errors", FUZZ_JOB_ITER, 2, 3, 0, lens, status, errors);
    put_result("result-iter-unordered", FUZZ_JOB_ITER | FUZZ_JOB_NO_OUT, 0, 2, 4, NULL, NULL, NULL);
    put_result("result-apply", FUZZ_JOB_APPLY, 0, 1, 7, NULL, NULL, NULL);
    put_result("result-gone", FUZZ_JOB_BUFS | FUZZ_JOB_GONE, 0, 2, 3, NULL, NULL, NULL);
    put_result("result-expired", FUZZ_JOB_MAP | FUZZ_JOB_EXPIRED, 0, 3, 2, NULL, status, errors);
}

static void controls(void)
{
    Ppool__Init in = PPOOL__INIT__INIT;
    in.fn = "echo";
    in.arg.data = (uint8_t *)"initarg";
    in.arg.len = 7;
    put_frame("init-echo", PPOOL__FRAME__MSG_INIT, &in, 0, 0);
    in.fn = "fail";
    in.worker = 1;
    put_frame("init-fail", PPOOL__FRAME__MSG_INIT, &in, 0, 0);
    in.fn = "missing";
    put_frame("init-not-registered", PPOOL__FRAME__MSG_INIT, &in, 0, 0);
    in.fn = "";
    in.arg.len = 0;
    put_frame("init-none", PPOOL__FRAME__MSG_INIT, &in, 0, 0);
    Ppool__Shutdown sd = PPOOL__SHUTDOWN__INIT;
    put_frame("shutdown", PPOOL__FRAME__MSG_SHUTDOWN, &sd, 0, 0);
    sd.code = -1;
    put_frame("shutdown-no-pad", PPOOL__FRAME__MSG_SHUTDOWN, &sd, 0, NO_PAD);
    /* A hierarchy's: a Steal (a worker refuses it), a Given and a Started (the master refuses
     * them from a worker it did not ask, or that is no sub-master). */
    Ppool__Steal st = PPOOL__STEAL__INIT;
    st.capacity = 4;
    put_frame("steal", PPOOL__FRAME__MSG_STEAL, &st, 0, 0);
    Ppool__Range rg = PPOOL__RANGE__INIT, *rp = &rg;
    rg.job = 1;
    rg.first = 2;
    rg.count = 2;
    Ppool__Given g = PPOOL__GIVEN__INIT;
    g.n_ranges = 1;
    g.ranges = &rp;
    put_frame("given", PPOOL__FRAME__MSG_GIVEN, &g, 0, 0);
    Ppool__Started sr = PPOOL__STARTED__INIT;
    sr.job = 1;
    put_frame("started", PPOOL__FRAME__MSG_STARTED, &sr, 0, 0);
}

static void malformed(void)
{
    static const unsigned char overrun[8] = {200, 0, 0, 0, 0x0a, 0, 0, 0};
    static const unsigned char not_set[16] = {0};
    static const unsigned char garbage[12] = {8, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    put("bad-empty", "", 0);
    put("bad-short", "\2\0", 2);
    put("bad-overrun", overrun, sizeof overrun);
    put("bad-not-set", not_set, sizeof not_set);
    put("bad-garbage", garbage, sizeof garbage);
    Ppool__Task t = PPOOL__TASK__INIT;
    t.fn = "echo";
    t.count = 4;
    t.uniform = 1;
    t.item_size = 8;
    t.bulk_len = 32;
    put_frame("bad-bulk-short", PPOOL__FRAME__MSG_TASK, &t, 32, 1);
    put_frame("bad-bulk-long", PPOOL__FRAME__MSG_TASK, &t, 32, -1);
    t.bulk_len = 31;
    put_frame("bad-task-sizes", PPOOL__FRAME__MSG_TASK, &t, 31, 0);
    /* Results that decode but do not add up: bulk, statuses without errors. */
    int32_t status[2] = {PPOOL_ETASK, 0};
    Ppool__Result r = PPOOL__RESULT__INIT;
    r.count = 2;
    r.uniform = 1;
    r.item_size = 8;
    r.bulk_len = 8;
    put_frame("bad-result-sizes", PPOOL__FRAME__MSG_RESULT, &r, 8, 0);
    r.item_size = 0;
    r.bulk_len = 0;
    r.n_status = 2;
    r.status = status;
    put_frame("bad-result-no-errors", PPOOL__FRAME__MSG_RESULT, &r, 0, 0);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR (the checked-in one: tests/fuzz/corpus)\n", argv[0]);
        return 2;
    }
    dir = argv[1];
    if (fuzz_register_tasks() || ppool__registry_snapshot(&reg)) return 1;
    hellos();
    tasks();
    results();
    controls();
    malformed();
    ppool__registry_release(&reg);
    return 0;
}
