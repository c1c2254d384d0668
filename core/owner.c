/* owner.c: a pool belongs to the process that opened it: the pid check every call makes. */
#include <pthread.h>
#include <unistd.h>

#include "ppool_impl.h"

static int self_pid;

static void forked(void)
{
    self_pid = (int)getpid();
}

static void init_self(void)
{
    self_pid = (int)getpid();
    pthread_atfork(NULL, NULL, forked);
}

int ppool__self(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_self);
    return self_pid;
}

int ppool__foreign(const ppool *p, const char *what)
{
    if (!p || p->owner == ppool__self()) return 0;
    return ppool__fail(p, PPOOL_EINVAL,
                       "%s: pool opened by pid %d, used in pid %d (a forked child cannot use its "
                       "parent's pool: open one in the child)",
                       what, p->owner, ppool__self());
}
