/* fds.c: the descriptors ppool owns here, so a forked fork server closes those not its own. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "local.h"

static pthread_mutex_t fd_mu = PTHREAD_MUTEX_INITIALIZER;
static int *fds;
static size_t nfds, capfds;

void ppool__fd_lock(void)
{
    pthread_mutex_lock(&fd_mu);
}

void ppool__fd_unlock(void)
{
    pthread_mutex_unlock(&fd_mu);
}

void ppool__fd_track_locked(int fd)
{
    if (nfds == capfds) {
        size_t cap = capfds ? capfds * 2 : 64;
        int *n = realloc(fds, cap * sizeof *n);
        if (n) {
            fds = n;
            capfds = cap;
        }
    }
    if (nfds < capfds) fds[nfds++] = fd;
}

void ppool__fd_untrack(int fd)
{
    pthread_mutex_lock(&fd_mu);
    for (size_t i = 0; i < nfds; i++)
        if (fds[i] == fd) {
            fds[i] = fds[--nfds];
            break;
        }
    pthread_mutex_unlock(&fd_mu);
}

void ppool__fd_close_others_locked(const int *keep, int nkeep)
{
    for (size_t i = 0; i < nfds; i++) {
        int mine = 0;
        for (int k = 0; k < nkeep; k++) mine |= keep[k] >= 0 && fds[i] == keep[k];
        if (!mine) close(fds[i]);
    }
    nfds = 0;
}
