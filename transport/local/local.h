/* local.h: what the local transport's master side and its fork server share (internal). */
#ifndef PPOOL_LOCAL_H
#define PPOOL_LOCAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "transport.h"

/* Messages on the SOCK_SEQPACKET control socket between master and fork server. */
enum { FS_SPAWN = 1, FS_SPAWNED, FS_EXITED, FS_KILL, FS_FAILED, FS_QUIT };
typedef struct fsmsg {
    int op;     /* FS_* */
    int slot;   /* SPAWN, SPAWNED, FAILED */
    int pid;    /* SPAWNED, EXITED, KILL */
    int status; /* EXITED: wait status; FAILED: errno */
} fsmsg;

/* Forks the fork server for one pool; *ctl gets the master's end of its
 * control socket. Worker `slot` gets current + 2 * slot as its culprit
 * words (shared memory; current may be NULL). The server closes every fd that ppool tracks except
 * its own, so other pools' workers still see EOF when their master lets go. Returns the server's
 * pid, or -errno. */
pid_t ppool__forksrv_start(const ppool__worker_ops *wops, size_t max_frame,
                           volatile uint64_t *current, int spawn_memfd, int *ctl);
/* spawn_memfd: -2 forks workers from the server (start method "fork");
 * otherwise each worker re-executes the program (start method "spawn"),
 * with spawn_memfd (or -1) the descriptor of the culprit words it maps. */

/* The environment variable that tells a re-executed program it is worker
 * "fd,slot,memfd,server pid". */
#define PPOOL__SPAWNED_ENV "PPOOL__SPAWNED"

/* A worker's serve loop on socket fd: with hello_first, start() and its
 * Hello first (forked workers), else attach() and wait for an Init. Returns
 * an exit code (0 at EOF or Shutdown) when the master lets go. */
int ppool__serve_channel(int fd, int slot, int hello_first, const ppool__worker_ops *wops,
                         size_t max_frame, volatile uint64_t *current);

/* Every descriptor ppool owns in this process, so forked servers can close
 * the ones that are not theirs. Create a descriptor and track it (with
 * ppool__fd_track_locked) between ppool__fd_lock() and ppool__fd_unlock(),
 * so no fork server is forked in between. Untracking is thread-safe. */
void ppool__fd_untrack(int fd);
void ppool__fd_lock(void);
void ppool__fd_unlock(void);
void ppool__fd_track_locked(int fd);

/* A frame on a worker's socket is [u32 LE length][u32 LE length ^ magic][frame]:
 * bytes a task writes into the socket by mistake are caught at once instead
 * of being taken for a length and waited for. */
/* After a message moved, a waiter polls without sleeping this long (a
 * wake-up through a socket costs ~60 us across cores, a spinning peer ~2.5 us). */
#define PPOOL__LOCAL_SPIN 30e-6
/* Returns once fd is readable (or hung up), or after PPOOL__LOCAL_SPIN. */
void ppool__await_briefly(int fd);
#define PPOOL__FRAME_HDR   8
#define PPOOL__FRAME_MAGIC 0x70506f4cu
void ppool__frame_hdr_put(unsigned char h[PPOOL__FRAME_HDR], size_t len);
/* The length a header announces, or -1 if it is not a header. */
long long ppool__frame_hdr_get(const unsigned char h[PPOOL__FRAME_HDR]);

/* Blocking frame I/O on a stream socket. */
int ppool__write_frame(int fd, const void *frame, size_t len);
/* 1 with a frame (malloc'd), 0 at EOF, < 0 on error or a frame over max. */
int ppool__read_frame(int fd, void **frame, size_t *len, size_t max);

/* A frame reader that reads ahead, so one read(2) takes every frame waiting
 * on the socket. Zero-initialised; ppool__frame_in_clear frees it. */
#define PPOOL__READ_AHEAD (16u << 10) /* bodies this large are read in place */
typedef struct ppool__frame_in {
    unsigned char *ahead; /* PPOOL__READ_AHEAD bytes, from the first read */
    size_t pos, end;      /* what of `ahead` is not assembled yet */
    unsigned char hdr[PPOOL__FRAME_HDR];
    size_t hdr_got;
    unsigned char *body;
    size_t body_len, body_got;
    int read_short; /* the last call's read got less than asked: the socket is drained */
} ppool__frame_in;
enum { PPOOL__FIN_AGAIN = 0, PPOOL__FIN_FRAME = 1, PPOOL__FIN_EOF = 2 };
/* The next frame: PPOOL__FIN_FRAME with *frame (malloc'd, the caller's) and
 * *len; PPOOL__FIN_AGAIN when no whole frame is read ahead and either
 * may_read is 0, or one read(2) did not complete one (on a non-blocking fd:
 * EAGAIN); PPOOL__FIN_EOF at the end of the stream between frames. < 0:
 * -EPROTO (bytes that are not a header), -EMSGSIZE (a frame over max), -EPIPE
 * (the end inside a frame), -ENOMEM, or read's -errno. */
int ppool__frame_next(ppool__frame_in *in, int fd, size_t max, int may_read, void **frame,
                      size_t *len);
void ppool__frame_in_clear(ppool__frame_in *in);

#endif
