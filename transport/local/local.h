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
                           volatile uint64_t *current, int *ctl);

/* Every descriptor ppool owns in this process, so forked servers can close
 * the ones that are not theirs. Create a descriptor and track it (with
 * ppool__fd_track_locked) between ppool__fd_lock() and ppool__fd_unlock(),
 * so no fork server is forked in between. Untracking is thread-safe. */
void ppool__fd_untrack(int fd);
void ppool__fd_lock(void);
void ppool__fd_unlock(void);
void ppool__fd_track_locked(int fd);

/* Blocking frame I/O on a stream socket: [u32 LE length][frame]. */
int ppool__write_frame(int fd, const void *frame, size_t len);
/* 1 with a frame (malloc'd), 0 at EOF, < 0 on error or a frame over max. */
int ppool__read_frame(int fd, void **frame, size_t *len, size_t max);

#endif
