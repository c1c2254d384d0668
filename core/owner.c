/* owner.c: who may use a pool: the process that opened it, before it is freed, not from its own
 * dispatcher. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "ppool_impl.h"

static int self_pid;

/* The pools this process has open (ppool_open to ppool_free), with the pid
 * that opened each: a forked child inherits its parent's list. */
typedef struct live_pool {
    const ppool *p;
    int pid;
} live_pool;
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static live_pool *live;
static size_t nlive, caplive;

/* The pool whose dispatcher runs on this thread (callbacks, sources), or NULL. */
static __thread const ppool *dispatching;

static void before_fork(void)
{
    pthread_mutex_lock(&live_mu);
}

static void after_fork_parent(void)
{
    pthread_mutex_unlock(&live_mu);
}

static void after_fork_child(void)
{
    self_pid = (int)getpid();
    pthread_mutex_unlock(&live_mu);
}

static void init_self(void)
{
    self_pid = (int)getpid();
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
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

int ppool__live_add(const ppool *p)
{
    int pid = ppool__self(), rc = 0;
    pthread_mutex_lock(&live_mu);
    if (nlive == caplive) {
        size_t cap = caplive ? 2 * caplive : 8;
        live_pool *l = realloc(live, cap * sizeof *l);
        if (l) {
            live = l;
            caplive = cap;
        }
    }
    if (nlive < caplive)
        live[nlive++] = (live_pool){p, pid};
    else
        rc = ppool__fail(NULL, PPOOL_ENOMEM, "out of memory for the list of open pools");
    pthread_mutex_unlock(&live_mu);
    return rc;
}

void ppool__live_remove(const ppool *p)
{
    pthread_mutex_lock(&live_mu);
    for (size_t i = 0; i < nlive; i++)
        if (live[i].p == p) {
            live[i] = live[--nlive];
            break;
        }
    pthread_mutex_unlock(&live_mu);
}

/* Whether p is in the list (of any process: a child's copy of its parent's pool is). */
static int is_live(const ppool *p)
{
    int found = 0;
    pthread_mutex_lock(&live_mu);
    for (size_t i = 0; i < nlive && !found; i++) found = live[i].p == p;
    pthread_mutex_unlock(&live_mu);
    return found;
}

int ppool__open_here(void)
{
    int pid = ppool__self(), n = 0;
    pthread_mutex_lock(&live_mu);
    for (size_t i = 0; i < nlive; i++) n += live[i].pid == pid;
    pthread_mutex_unlock(&live_mu);
    return n;
}

int ppool__check_pool(const ppool *p, const char *what)
{
    if (!p) return ppool__fail(NULL, PPOOL_EINVAL, "%s: NULL pool", what);
    if (!is_live(p))
        return ppool__fail_unowned(p, PPOOL_EINVAL,
                                   "%s: %p is not an open pool (freed already, or never opened)",
                                   what, (const void *)p);
    return ppool__foreign(p, what) ? PPOOL_EINVAL : 0;
}

void ppool__dispatcher_thread(const ppool *p)
{
    dispatching = p;
}

const ppool *ppool__dispatcher_swap(const ppool *p)
{
    const ppool *was = dispatching;
    dispatching = p;
    return was;
}

int ppool__is_dispatcher(const ppool *p)
{
    return p && dispatching == p;
}

int ppool__on_dispatcher(const ppool *p, const char *what)
{
    if (!p || dispatching != p) return 0;
    return ppool__fail(p, PPOOL_EINVAL,
                       "%s called on the pool's dispatcher thread (from a completion callback or "
                       "a ppool_source): it would wait for that thread itself; callbacks must not "
                       "block, call it from your own thread",
                       what);
}
