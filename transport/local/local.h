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

/* ---- arena.c: large frames through shared memory ---- */
/* One shared memfd per pool, mapped by the master (MADV_DONTFORK: no other
 * pool's server nor the program's own children get it) and by the pool's
 * fork server, whose workers inherit it and keep only their own slot: per
 * worker a page with its released word, then a ring the master copies large
 * frames (send_bulk) into, each on a 64-byte boundary. The socket then carries a
 * PPOOL__ARENA_MARK-byte marker [u32 ~0][u32 magic][u64 end][u64 len] (no
 * frame begins with ~0: its header length would be over the limit): the
 * frame is the len bytes that end at ring position `end`; the worker runs it
 * in place, then stores `end` as released. Workers that re-execute the
 * program (spawn) have none: their frames go through the socket. */
#define PPOOL__ARENA_SLOT_BYTES (16u << 20)  /* per worker, at most ... */
#define PPOOL__ARENA_MIN_SLOT   (1u << 20)   /* ... and at least, else no arena */
#define PPOOL__ARENA_TOTAL      (1ull << 30) /* per pool, of address space (touched: what is used) */
#define PPOOL__ARENA_MARK       24
#define PPOOL__ARENA_MAGIC      0x61526150u
typedef struct ppool__arena {
    unsigned char *base; /* NULL: none */
    size_t slot_bytes;
    int n;
    int fd; /* the memfd (master), -1 */
} ppool__arena;
/* The master's side of one worker's ring: positions count bytes ever given. */
typedef struct ppool__ring {
    uint64_t pos;   /* where the next frame goes */
    uint64_t floor; /* released for sure (everything before the worker now there started) */
} ppool__ring;
/* Maps n workers' rings (smaller ones for many workers); a->base stays NULL
 * when it cannot. */
void ppool__arena_map(ppool__arena *a, int n);
/* The fork server's own mapping of the master's arena (inherited by its workers). */
void ppool__arena_attach(ppool__arena *a, const ppool__arena *master);
/* In a worker: every other slot becomes inaccessible. */
void ppool__arena_confine(const ppool__arena *a, int slot);
void ppool__arena_unmap(ppool__arena *a);
/* Room for a frame of len bytes in slot's ring, *end its end position; NULL
 * when the worker has not released enough yet (or there is no arena). */
unsigned char *ppool__arena_take(const ppool__arena *a, int slot, ppool__ring *r, size_t len,
                                 uint64_t *end);
/* A new worker in the slot: whatever the old one held is free (its
 * released word is set to that, before the new one starts). */
void ppool__arena_restart(const ppool__arena *a, int slot, ppool__ring *r);
void ppool__arena_mark(unsigned char m[PPOOL__ARENA_MARK], uint64_t end, uint64_t len);
/* Worker side: 1 when frame is a marker, with *data, *dlen (in the ring) and
 * *end; 0 when it is an ordinary frame; -1 for a marker that does not fit
 * the ring (or no arena here). */
int ppool__arena_frame(const ppool__arena *a, int slot, const void *frame, size_t len, void **data,
                       size_t *dlen, uint64_t *end);
/* Worker side: it is done with everything up to `end`. */
void ppool__arena_release(const ppool__arena *a, int slot, uint64_t end);

/* Forks the fork server for one pool; *ctl gets the master's end of its
 * control socket. Worker `slot` gets current + 2 * slot as its culprit
 * words (shared memory; current may be NULL). The server closes every fd that ppool tracks except
 * its own, so other pools' workers still see EOF when their master lets go. Returns the server's
 * pid, or -errno. */
pid_t ppool__forksrv_start(const ppool__worker_ops *wops, size_t max_frame,
                           volatile uint64_t *current, const ppool__arena *arena, int spawn_memfd,
                           int *ctl);
/* spawn_memfd: -2 forks workers from the server (start method "fork");
 * otherwise each worker re-executes the program (start method "spawn"),
 * with spawn_memfd (or -1) the descriptor of the culprit words it maps. */

/* The environment variable that tells a re-executed program it is worker
 * "fd,slot,memfd,server pid". */
#define PPOOL__SPAWNED_ENV "PPOOL__SPAWNED"

/* A worker's serve loop on socket fd: with hello_first, start() and its
 * Hello first (forked workers), else attach() and wait for an Init. Frames
 * marked as in the arena (NULL: none) run where they lie. Returns an exit
 * code (0 at EOF or Shutdown) when the master lets go. */
int ppool__serve_channel(int fd, int slot, int hello_first, const ppool__worker_ops *wops,
                         size_t max_frame, volatile uint64_t *current, const ppool__arena *arena);

/* Every descriptor ppool owns in this process, so forked servers can close
 * the ones that are not theirs. Create a descriptor and track it (with
 * ppool__fd_track_locked) between ppool__fd_lock() and ppool__fd_unlock(),
 * so no fork server is forked in between. Untracking is thread-safe. */
void ppool__fd_untrack(int fd);
void ppool__fd_lock(void);
void ppool__fd_unlock(void);
void ppool__fd_track_locked(int fd);
/* In a child just forked, with the lock held: closes every tracked
 * descriptor but the nkeep in keep (-1 entries are none), and forgets them all. */
void ppool__fd_close_others_locked(const int *keep, int nkeep);

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
