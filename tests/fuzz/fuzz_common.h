/* fuzz_common.h: what the fuzzer and its corpus generator share: task functions, job id bits. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include "ppool.h"

/* A Result's job id shapes the job the fuzzer's master has in flight for it:
 * bits 0-1 the kind (map, bufs, apply, iterator), then these flags. */
#define FUZZ_JOB_MAP     0
#define FUZZ_JOB_BUFS    1
#define FUZZ_JOB_APPLY   2 /* only for a chunk of item 0 alone; bufs otherwise */
#define FUZZ_JOB_ITER    3
#define FUZZ_JOB_NO_OUT  4u   /* map: results not wanted; iterator: unordered */
#define FUZZ_JOB_GONE    8u   /* the caller freed the handle */
#define FUZZ_JOB_EXPIRED 16u  /* the chunk was failed at its deadline */
#define FUZZ_MAX_ITEMS   1024 /* larger chunks are never in flight: checked, not run */

/* Its item back. */
static int fuzz_echo(ppool_task *t, const void *arg, size_t len)
{
    return ppool_task_return(t, arg, len);
}

/* The first half of its item: results of differing sizes. */
static int fuzz_half(ppool_task *t, const void *arg, size_t len)
{
    return ppool_task_return(t, arg, len / 2);
}

/* Fails with a message. */
static int fuzz_fail(ppool_task *t, const void *arg, size_t len)
{
    return ppool_task_fail(t, "fuzz_fail on %zu bytes", len);
}

/* Fails odd items by a negative return, echoes even ones. */
static int fuzz_mixed(ppool_task *t, const void *arg, size_t len)
{
    return ppool_task_index(t) & 1 ? -1 : fuzz_echo(t, arg, len);
}

/* Returns nothing. */
static int fuzz_none(ppool_task *t, const void *arg, size_t len)
{
    return 0;
}

/* Registers them under their names without the prefix; 0 or < 0. */
static int fuzz_register_tasks(void)
{
    int rc = ppool_register("echo", fuzz_echo);
    if (!rc) rc = ppool_register("half", fuzz_half);
    if (!rc) rc = ppool_register("fail", fuzz_fail);
    if (!rc) rc = ppool_register("mixed", fuzz_mixed);
    if (!rc) rc = ppool_register("none", fuzz_none);
    return rc;
}

#endif /* FUZZ_COMMON_H */
