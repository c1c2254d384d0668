/* forksrv.c: the fork server: a single-threaded child of the master that forks, reaps and kills
 * workers. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
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

void ppool__await_briefly(int fd)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, 0) != 0) return;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) * 1e-9 >
            PPOOL__LOCAL_SPIN)
            return;
        sched_yield();
    }
}

/* Runs one frame (taking it): in place when it is a marker of a frame in
 * the arena, released once run. The run's status, or -1 for a bad marker. */
static int run_frame(const ppool__worker_ops *wops, const ppool__arena *arena, int slot, void *in,
                     size_t in_len, void **out, size_t *out_len)
{
    void *data;
    size_t len;
    uint64_t end;
    int shared = ppool__arena_frame(arena, slot, in, in_len, &data, &len, &end);
    if (shared < 0) {
        free(in);
        return -1;
    }
    int r = wops->run(wops->ctx, shared ? data : in, shared ? len : in_len, out, out_len);
    if (shared) ppool__arena_release(arena, slot, end);
    free(in);
    return r;
}

int ppool__serve_channel(int fd, int slot, int hello_first, const ppool__worker_ops *wops,
                         size_t max_frame, volatile uint64_t *current, const ppool__arena *arena)
{
    void *out = NULL, *in = NULL;
    size_t out_len = 0, in_len = 0;
    int code = 0;
    if (!hello_first) {
        if (wops->attach) wops->attach(wops->ctx, current);
    } else if (wops->start(wops->ctx, slot, current, &out, &out_len) != 0 ||
               ppool__write_frame(fd, out, out_len)) {
        free(out);
        return 3;
    }
    free(out);
    ppool__frame_in rd = {0};
    for (;;) {
        int r = ppool__frame_next(&rd, fd, max_frame, 0, &in, &in_len); /* read ahead already? */
        if (r == PPOOL__FIN_AGAIN)
            ppool__await_briefly(fd); /* the next one often follows at once */
        while (r == PPOOL__FIN_AGAIN) r = ppool__frame_next(&rd, fd, max_frame, 1, &in, &in_len);
        if (r != PPOOL__FIN_FRAME) {
            code = r < 0 ? 4 : 0;
            break;
        }
        out = NULL;
        r = run_frame(wops, arena, slot, in, in_len, &out, &out_len);
        if (out && ppool__write_frame(fd, out, out_len)) r = -1;
        free(out);
        if (r != 0) {
            code = r < 0 ? 5 : 0;
            break;
        }
    }
    ppool__frame_in_clear(&rd);
    return code;
}

/* A forked worker: Hello, then frames until EOF or Shutdown. Never returns. */
static void worker_main(int fd, int slot, const ppool__worker_ops *wops, size_t max_frame,
                        volatile uint64_t *current, const ppool__arena *arena)
{
    ppool__arena_confine(arena, slot); /* a task cannot touch the other workers' frames */
    int code = ppool__serve_channel(fd, slot, 1, wops, max_frame, current, arena);
    fflush(stdout);
    fflush(stderr);
    _exit(code);
}

/* The program's own command line (this process is a fork of the master), as
 * an argv for execv; NULL if it cannot be read. */
static char **own_argv(void)
{
    FILE *f = fopen("/proc/self/cmdline", "r");
    if (!f) return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (int ch; (ch = fgetc(f)) != EOF;) {
        if (len + 1 >= cap) {
            char *b = realloc(buf, cap = cap ? 2 * cap : 4096);
            if (!b) break;
            buf = b;
        }
        buf[len++] = (char)ch;
    }
    fclose(f);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += buf[i] == 0;
    char **argv = buf && n ? calloc(n + 1, sizeof *argv) : NULL;
    for (size_t i = 0, k = 0; argv && i < len; i += strlen(buf + i) + 1) argv[k++] = buf + i;
    if (!argv) free(buf);
    return argv;
}

/* A spawned worker: the program itself, run again, which serves on `fd`
 * once it reaches ppool_open (PPOOL__SPAWNED says where). Never returns. */
static void exec_worker(int fd, int slot, int memfd, char **argv)
{
    char v[96];
    snprintf(v, sizeof v, "%d,%d,%d,%d", fd, slot, memfd, (int)getppid());
    setenv(PPOOL__SPAWNED_ENV, v, 1);
    fcntl(fd, F_SETFD, 0);
    if (memfd >= 0) fcntl(memfd, F_SETFD, 0);
    if (argv) execv("/proc/self/exe", argv);
    _exit(127);
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

/* Reaps what has exited and reports the workers among it; a worker's end
 * also ends its process group (what its tasks started). Descendants
 * orphaned on the way are reparented here (a subreaper) and only reaped.
 * Returns how many workers remain. */
static int reap(int ctl, pid_t *kids, int *nkids)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        int worker = 0;
        for (int i = 0; i < *nkids; i++)
            if (kids[i] == pid) {
                kids[i] = kids[--*nkids];
                worker = 1;
                break;
            }
        if (!worker) continue;
        kill(-pid, SIGKILL);
        fsmsg m = {.op = FS_EXITED, .pid = pid, .status = st};
        if (ctl >= 0) send_msg(ctl, &m, -1);
    }
    return *nkids;
}

/* SIGKILLs every child of this process (workers and adopted orphans) and
 * reaps them all, so nothing a worker started outlives the pool. */
static void kill_all_children(void)
{
    if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD) return; /* no child at all: done */
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)getpid(), (int)getpid());
    for (int round = 0; round < 100; round++) {
        FILE *f = fopen(path, "r");
        int pid, any = 0;
        while (f && fscanf(f, "%d", &pid) == 1) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            any = 1;
        }
        if (f) fclose(f);
        while (waitpid(-1, NULL, any ? 0 : WNOHANG) > 0 || errno == EINTR) {
        }
        if (!f || !any) break;
    }
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {
    }
}

/* A descriptor that becomes readable when the master process ends (a
 * pidfd), or -1 where the kernel has none (then the server polls its
 * parent). */
static int watch_master(pid_t master)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, master, 0);
#else
    (void)master;
    return -1;
#endif
}

static int is_kid(const pid_t *kids, int nkids, pid_t pid)
{
    for (int i = 0; i < nkids; i++)
        if (kids[i] == pid) return 1;
    return 0;
}

/* The server loop. Never returns. */
static void server_main(int ctl, pid_t master, const ppool__worker_ops *wops, size_t max_frame,
                        volatile uint64_t *current, const ppool__arena *master_arena,
                        int spawn_memfd)
{
    char **argv = spawn_memfd != -2 ? own_argv() : NULL; /* -2: fork; else spawn */
    ppool__arena mine; /* its workers inherit this mapping; the master's is not forked */
    ppool__arena_attach(&mine, master_arena);
    if (master_arena->base && master_arena->fd >= 0) close(master_arena->fd);
    const ppool__arena *arena = &mine;
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    int mfd = watch_master(master);
    if (getppid() != master) _exit(0); /* the master is already gone */
    int master_gone = 0;
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    signal(SIGCHLD, SIG_DFL); /* not ignored, so children stay waitable */
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    pid_t *kids = NULL;
    int nkids = 0, capkids = 0;
    for (;;) {
        struct pollfd pf[3] = {{.fd = ctl, .events = POLLIN},
                               {.fd = sfd, .events = POLLIN},
                               {.fd = mfd, .events = POLLIN}};
        int r = poll(pf, 3, sfd >= 0 && mfd >= 0 ? -1 : 100);
        if (r < 0 && errno != EINTR) break;
        if ((pf[2].revents & POLLIN) || getppid() != master) {
            master_gone = 1; /* however it died, and whoever holds a copy of ctl */
            break;
        }
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
            if (mfd >= 0) close(mfd);
            close(sv[0]);
            setpgid(0, 0); /* its group: what its tasks start ends with it */
            signal(SIGCHLD, SIG_DFL);
            sigprocmask(SIG_UNBLOCK, &chld, NULL);
            pid_t parent = getppid();
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) _exit(6); /* the server is already gone */
            if (spawn_memfd != -2) exec_worker(sv[1], m.slot, spawn_memfd, argv);
            worker_main(sv[1], m.slot, wops, max_frame, current ? current + 2 * m.slot : NULL,
                        arena);
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
     * then kill the rest and all they started. Nobody is left behind. */
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!master_gone && reap(-1, kids, &nkids) > 0) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) * 1e-9 > 1.0) break;
        struct pollfd pf = {.fd = sfd, .events = POLLIN};
        poll(&pf, sfd >= 0 ? 1 : 0, 20);
        struct signalfd_siginfo si;
        while (sfd >= 0 && read(sfd, &si, sizeof si) > 0) {
        }
    }
    for (int i = 0; i < nkids; i++) kill(kids[i], SIGKILL);
    kill_all_children();
    free(kids);
    _exit(0);
}

pid_t ppool__forksrv_start(const ppool__worker_ops *wops, size_t max_frame,
                           volatile uint64_t *current, const ppool__arena *arena, int spawn_memfd,
                           int *ctl)
{
    int sv[2];
    /* Buffered output would otherwise be written again by the children. */
    fflush(NULL);
    pid_t master = getpid();
    ppool__fd_lock();
    /* A program that closed stdin/out/err would get pool sockets there, and
     * its printf (or its tasks') would write into them: fill them first. */
    for (int fd = 0; fd < 3; fd++)
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            int nul = open("/dev/null", O_RDWR);
            if (nul >= 0 && nul != fd) close(nul); /* a lower one was free: it took that */
        }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        int err = errno;
        ppool__fd_unlock();
        return -err;
    }
    pid_t pid = fork();
    if (pid == 0) {
        const int keep[3] = {sv[1], spawn_memfd, arena->base ? arena->fd : -1};
        ppool__fd_close_others_locked(keep, 3);
        ppool__fd_unlock();
        close(sv[0]);
        /* Not PDEATHSIG: it fires when the forking *thread* ends. The
         * server watches the master process itself (a pidfd). */
        server_main(sv[1], master, wops, max_frame, current, arena, spawn_memfd);
    }
    int err = errno;
    close(sv[1]);
    if (pid < 0) {
        ppool__fd_unlock();
        close(sv[0]);
        return -err;
    }
    ppool__fd_track_locked(sv[0]);
    ppool__fd_unlock();
    *ctl = sv[0];
    return pid;
}
