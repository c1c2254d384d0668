/* forksrv.c: the fork server: a single-threaded child of the master that forks, reaps and kills
 * workers. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
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

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* 1 when len bytes were read, 0 at EOF before any, < 0 on error or a torn read. */
static int read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, p + got, len - got);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if (r == 0) return got ? -EPIPE : 0;
        got += (size_t)r;
    }
    return 1;
}

int ppool__write_frame(int fd, const void *frame, size_t len)
{
    unsigned char h[4] = {(unsigned char)len, (unsigned char)(len >> 8), (unsigned char)(len >> 16),
                          (unsigned char)(len >> 24)};
    int rc = write_all(fd, h, 4);
    return rc ? rc : write_all(fd, frame, len);
}

int ppool__read_frame(int fd, void **frame, size_t *len, size_t max)
{
    unsigned char h[4];
    int rc = read_all(fd, h, 4);
    if (rc <= 0) return rc;
    size_t l = (size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16 | (size_t)h[3] << 24;
    if (l > max) return -EMSGSIZE;
    void *f = malloc(l ? l : 1);
    if (!f) return -ENOMEM;
    rc = read_all(fd, f, l);
    if (l && rc <= 0) {
        free(f);
        return rc < 0 ? rc : -EPIPE;
    }
    *frame = f;
    *len = l;
    return 1;
}

/* The worker process: Hello, then frames until EOF or Shutdown. Never returns. */
static void worker_main(int fd, int slot, const ppool__worker_ops *wops, size_t max_frame,
                        volatile uint64_t *current)
{
    void *out = NULL, *in = NULL;
    size_t out_len = 0, in_len = 0;
    int code = 0;
    if (wops->start(wops->ctx, slot, current, &out, &out_len) != 0 ||
        ppool__write_frame(fd, out, out_len)) {
        code = 3;
        goto done;
    }
    free(out);
    for (;;) {
        int r = ppool__read_frame(fd, &in, &in_len, max_frame);
        if (r <= 0) {
            code = r < 0 ? 4 : 0;
            break;
        }
        out = NULL;
        r = wops->run(wops->ctx, in, in_len, &out, &out_len);
        free(in);
        if (out && ppool__write_frame(fd, out, out_len)) r = -1;
        free(out);
        if (r != 0) {
            code = r < 0 ? 5 : 0;
            break;
        }
    }
done:
    fflush(stdout);
    fflush(stderr);
    _exit(code);
}

static void send_msg(int ctl, const fsmsg *m, int fd)
{
    struct iovec iov = {.iov_base = (void *)m, .iov_len = sizeof *m};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (fd >= 0) {
        memset(&u, 0, sizeof u);
        mh.msg_control = u.buf;
        mh.msg_controllen = sizeof u.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    while (sendmsg(ctl, &mh, MSG_NOSIGNAL) < 0 && errno == EINTR) {
    }
}

typedef struct kid {
    pid_t pid;
} kid;

/* Reaps what has exited and reports it; returns how many children remain. */
static int reap(int ctl, pid_t *kids, int *nkids)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        for (int i = 0; i < *nkids; i++)
            if (kids[i] == pid) {
                kids[i] = kids[--*nkids];
                break;
            }
        fsmsg m = {.op = FS_EXITED, .pid = pid, .status = st};
        if (ctl >= 0) send_msg(ctl, &m, -1);
    }
    return *nkids;
}

static int is_kid(const pid_t *kids, int nkids, pid_t pid)
{
    for (int i = 0; i < nkids; i++)
        if (kids[i] == pid) return 1;
    return 0;
}

/* The server loop. Never returns. */
static void server_main(int ctl, const ppool__worker_ops *wops, size_t max_frame,
                        volatile uint64_t *current)
{
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    signal(SIGCHLD, SIG_DFL); /* not ignored, so children stay waitable */
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    pid_t *kids = NULL;
    int nkids = 0, capkids = 0;
    for (;;) {
        struct pollfd pf[2] = {{.fd = ctl, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
        int r = poll(pf, sfd >= 0 ? 2 : 1, sfd >= 0 ? -1 : 100);
        if (r < 0 && errno != EINTR) break;
        if (sfd >= 0 && (pf[1].revents & POLLIN)) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) > 0) {
            }
        }
        reap(ctl, kids, &nkids);
        if (!(pf[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        fsmsg m;
        ssize_t got = recv(ctl, &m, sizeof m, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got != (ssize_t)sizeof m || m.op == FS_QUIT) break; /* the master let go */
        if (m.op == FS_KILL) {
            if (is_kid(kids, nkids, m.pid)) kill(m.pid, SIGKILL);
            continue;
        }
        if (m.op != FS_SPAWN) continue;
        int sv[2] = {-1, -1};
        if (nkids == capkids) {
            int cap = capkids ? capkids * 2 : 16;
            pid_t *k = realloc(kids, (size_t)cap * sizeof *k);
            if (k) {
                kids = k;
                capkids = cap;
            }
        }
        if (nkids == capkids || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
            fsmsg f = {.op = FS_FAILED, .slot = m.slot, .status = errno};
            send_msg(ctl, &f, -1);
            continue;
        }
        pid_t pid = fork();
        if (pid == 0) {
            close(ctl);
            if (sfd >= 0) close(sfd);
            close(sv[0]);
            signal(SIGCHLD, SIG_DFL);
            sigprocmask(SIG_UNBLOCK, &chld, NULL);
            pid_t parent = getppid();
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) _exit(6); /* the server is already gone */
            worker_main(sv[1], m.slot, wops, max_frame, current ? current + 2 * m.slot : NULL);
        }
        if (pid < 0) {
            fsmsg f = {.op = FS_FAILED, .slot = m.slot, .status = errno};
            send_msg(ctl, &f, -1);
        } else {
            kids[nkids++] = pid;
            fsmsg f = {.op = FS_SPAWNED, .slot = m.slot, .pid = pid};
            send_msg(ctl, &f, sv[0]);
        }
        close(sv[0]);
        close(sv[1]);
    }
    /* The master closed its end: give workers that saw EOF a moment to exit,
     * then kill the rest. Nobody is left behind. */
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (reap(-1, kids, &nkids) > 0) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) * 1e-9 > 1.0) break;
        struct pollfd pf = {.fd = sfd, .events = POLLIN};
        poll(&pf, sfd >= 0 ? 1 : 0, 20);
        struct signalfd_siginfo si;
        while (sfd >= 0 && read(sfd, &si, sizeof si) > 0) {
        }
    }
    for (int i = 0; i < nkids; i++) kill(kids[i], SIGKILL);
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {
    }
    free(kids);
    _exit(0);
}

pid_t ppool__forksrv_start(const ppool__worker_ops *wops, size_t max_frame,
                           volatile uint64_t *current, int *ctl)
{
    int sv[2];
    /* Buffered output would otherwise be written again by the children. */
    fflush(NULL);
    int main_thread = getpid() == (pid_t)syscall(SYS_gettid);
    pid_t master = getpid();
    pthread_mutex_lock(&fd_mu);
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        int err = errno;
        pthread_mutex_unlock(&fd_mu);
        return -err;
    }
    pid_t pid = fork();
    if (pid == 0) {
        for (size_t i = 0; i < nfds; i++)
            if (fds[i] != sv[1]) close(fds[i]);
        nfds = 0;
        pthread_mutex_unlock(&fd_mu);
        close(sv[0]);
        /* PDEATHSIG fires when the forking *thread* ends, so it is only a
         * backstop from the main thread; EOF on the control socket is the rule. */
        if (main_thread) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != master) _exit(0);
        }
        server_main(sv[1], wops, max_frame, current);
    }
    int err = errno;
    close(sv[1]);
    if (pid < 0) {
        pthread_mutex_unlock(&fd_mu);
        close(sv[0]);
        return -err;
    }
    ppool__fd_track_locked(sv[0]);
    pthread_mutex_unlock(&fd_mu);
    *ctl = sv[0];
    return pid;
}
