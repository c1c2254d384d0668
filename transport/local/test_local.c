/* test_local.c: the local transport through its ops table alone: frames, deaths, respawn, kill,
 * close. */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "local.h"
#include "transport.h"

/* Worker side for the test: Hello is "hello <slot>", a frame is echoed
 * reversed, "die" kills the worker, "bye" ends its loop. */
static int t_start(void *ctx, int worker, volatile uint64_t *current, void **out, size_t *len)
{
    char *s = malloc(32);
    *len = (size_t)snprintf(s, 32, "hello %d", worker);
    *out = s;
    return 0;
}

static int t_run(void *ctx, const void *frame, size_t len, void **out, size_t *out_len)
{
    if (len == 3 && memcmp(frame, "die", 3) == 0) raise(SIGKILL);
    if (len == 3 && memcmp(frame, "bye", 3) == 0) return 1;
    char *r = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++) r[i] = ((const char *)frame)[len - 1 - i];
    *out = r;
    *out_len = len;
    return 0;
}

static const ppool__worker_ops wops = {.ctx = NULL, .start = t_start, .run = t_run};
static const ppool__transport *T;

/* The next event other than EV_NONE, within 10 s. */
static ppool__event next_event(void *st)
{
    ppool__event ev;
    for (int i = 0; i < 100; i++) {
        ASSERT_EQ(T->recv(st, &ev, 0.1), 0);
        if (ev.kind != PPOOL__EV_NONE) return ev;
    }
    H_FAIL("no event within 10 s");
}

static void send_str(void *st, int w, const char *s)
{
    size_t n = strlen(s);
    char *f = malloc(n);
    memcpy(f, s, n);
    ASSERT_EQ(T->send(st, w, f, n), 0);
}

/* The next frame from a non-blocking reader, which must have one. */
static void *take_frame(ppool__frame_in *in, int fd, size_t *len)
{
    void *f = NULL;
    int r = PPOOL__FIN_AGAIN;
    for (int i = 0; i < 100 && r == PPOOL__FIN_AGAIN; i++)
        r = ppool__frame_next(in, fd, 1 << 20, 1, &f, len);
    ASSERT_EQ(r, PPOOL__FIN_FRAME);
    return f;
}

/* The read-ahead reader: several frames in one read, an empty one, one read in
 * place, a frame torn across writes, then each way a stream goes wrong. */
static void reader(void)
{
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    static char big[40000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (char)(i * 7);
    ASSERT_EQ(ppool__write_frame(sv[1], "", 0), 0);
    ASSERT_EQ(ppool__write_frame(sv[1], "abcde", 5), 0);
    ASSERT_EQ(ppool__write_frame(sv[1], big, sizeof big), 0);
    ppool__frame_in in = {0};
    size_t len;
    void *f = take_frame(&in, sv[0], &len);
    ASSERT_EQ(len, 0);
    free(f);
    f = take_frame(&in, sv[0], &len);
    ASSERT_TRUE(len == 5 && memcmp(f, "abcde", 5) == 0);
    free(f);
    f = take_frame(&in, sv[0], &len);
    ASSERT_TRUE(len == sizeof big && memcmp(f, big, len) == 0);
    free(f);
    ASSERT_EQ(ppool__frame_next(&in, sv[0], 1 << 20, 1, &f, &len), PPOOL__FIN_AGAIN);
    ASSERT_TRUE(in.read_short);
    unsigned char h[PPOOL__FRAME_HDR];
    ppool__frame_hdr_put(h, 4);
    ASSERT_EQ(write(sv[1], h, 3), 3); /* torn: a header in two writes, then the body */
    ASSERT_EQ(ppool__frame_next(&in, sv[0], 1 << 20, 1, &f, &len), PPOOL__FIN_AGAIN);
    ASSERT_EQ(write(sv[1], h + 3, sizeof h - 3), (ssize_t)(sizeof h - 3));
    ASSERT_EQ(write(sv[1], "wxyz", 4), 4);
    f = take_frame(&in, sv[0], &len);
    ASSERT_TRUE(len == 4 && memcmp(f, "wxyz", 4) == 0);
    free(f);
    ppool__frame_hdr_put(h, 2000);
    ASSERT_EQ(write(sv[1], h, sizeof h), (ssize_t)sizeof h);
    ASSERT_EQ(ppool__frame_next(&in, sv[0], 1000, 1, &f, &len), -EMSGSIZE);
    ppool__frame_in_clear(&in);
    ASSERT_EQ(write(sv[1], "junkjunk", 8), 8);
    ASSERT_EQ(ppool__frame_next(&in, sv[0], 1 << 20, 1, &f, &len), -EPROTO);
    ppool__frame_in_clear(&in);
    ppool__frame_hdr_put(h, 100);
    ASSERT_EQ(write(sv[1], h, sizeof h), (ssize_t)sizeof h);
    ASSERT_EQ(write(sv[1], "0123456789", 10), 10);
    close(sv[1]);
    int r = PPOOL__FIN_AGAIN;
    while (r == PPOOL__FIN_AGAIN) r = ppool__frame_next(&in, sv[0], 1 << 20, 1, &f, &len);
    ASSERT_EQ(r, -EPIPE); /* the end inside a frame */
    ppool__frame_in_clear(&in);
    ASSERT_EQ(ppool__frame_next(&in, sv[0], 1 << 20, 1, &f, &len), PPOOL__FIN_EOF);
    ppool__frame_in_clear(&in);
    close(sv[0]);
}

/* The arena's rings: frames fit until the worker releases, wrap to the
 * start, a released word written nonsense is not believed, a new worker
 * frees the ring, and markers are checked against it. */
static void arena_unit(void)
{
    ppool__arena a;
    ppool__arena_map(&a, 2);
    ASSERT_TRUE(a.base != NULL);
    size_t size = a.slot_bytes - 4096, third = size / 3;
    ppool__ring r = {0};
    uint64_t e1, e2, e3, e4;
    unsigned char *p1 = ppool__arena_take(&a, 1, &r, third, &e1);
    unsigned char *p2 = ppool__arena_take(&a, 1, &r, third, &e2);
    unsigned char *p3 = ppool__arena_take(&a, 1, &r, third, &e3);
    ASSERT_TRUE(p1 && p2 == p1 + third && p3 == p2 + third);
    ASSERT_NULL(ppool__arena_take(&a, 1, &r, third, &e4));    /* full: nothing released yet */
    ASSERT_NULL(ppool__arena_take(&a, 1, &r, size + 1, &e4)); /* never fits */
    ppool__arena_release(&a, 1, e1 + 12345678); /* nonsense: beyond what it was given */
    ASSERT_NULL(ppool__arena_take(&a, 1, &r, third, &e4));
    ppool__arena_release(&a, 1, e1);
    unsigned char *p4 = ppool__arena_take(&a, 1, &r, third, &e4); /* wraps to the start */
    ASSERT_TRUE(p4 == p1 && e4 == size + third);
    unsigned char m[PPOOL__ARENA_MARK];
    void *data;
    size_t len;
    uint64_t end;
    ppool__arena_mark(m, e4, third);
    ASSERT_EQ(ppool__arena_frame(&a, 1, m, sizeof m, &data, &len, &end), 1);
    ASSERT_TRUE(data == p4 && len == third && end == e4);
    ASSERT_EQ(ppool__arena_frame(NULL, 1, m, sizeof m, &data, &len, &end), -1); /* no arena */
    ppool__arena_mark(m, e4 + 1, size); /* would cross the ring's end */
    ASSERT_EQ(ppool__arena_frame(&a, 1, m, sizeof m, &data, &len, &end), -1);
    ppool__arena_mark(m, 10, 20); /* ends before it starts */
    ASSERT_EQ(ppool__arena_frame(&a, 1, m, sizeof m, &data, &len, &end), -1);
    ASSERT_EQ(ppool__arena_frame(&a, 1, "an ordinary frame of 24", 24, &data, &len, &end), 0);
    ASSERT_NULL(ppool__arena_take(&a, 1, &r, size - third, &e1)); /* p2, p3 still held */
    ppool__arena_restart(&a, 1, &r); /* a new worker: the old one's frames are let go */
    ASSERT_TRUE(ppool__arena_take(&a, 1, &r, size - third, &e1) == p1 + third);
    ASSERT_NULL(ppool__arena_take(&a, 0, &r, 0, &e1));
    /* frames start on 64-byte boundaries, whatever the lengths before */
    ppool__ring q = {0};
    unsigned char *o1 = ppool__arena_take(&a, 0, &q, 100, &e1);
    unsigned char *o2 = ppool__arena_take(&a, 0, &q, 100, &e2);
    ASSERT_TRUE(o1 && o2 == o1 + 128 && ((uintptr_t)o2 % 64) == 0);
    /* an empty ring takes any frame that fits it, even one that must wrap */
    ppool__arena_release(&a, 0, e2);
    ASSERT_TRUE(ppool__arena_take(&a, 0, &q, size - 64, &e3) == o1);
    ppool__arena_unmap(&a);
    ASSERT_NULL(a.base);
}

/* Large frames through send_bulk: many more than a ring holds, sent before
 * any is read, all arrive whole and in order (ring, wrap, socket when full). */
static void bulk_frames(void *st)
{
    enum { N = 80, HEAD = 16 };
    size_t blen = 512u << 10; /* 40 MiB in all: the 16 MiB ring fills and wraps */
    char *bulk = malloc(blen);
    for (size_t i = 0; i < blen; i++) bulk[i] = (char)(i * 13);
    for (int k = 0; k < N; k++) {
        char *head = malloc(HEAD);
        memset(head, 'a' + k % 26, HEAD);
        ASSERT_EQ(T->send_bulk(st, 1, head, HEAD, bulk, blen), 0);
    }
    free(bulk);
    for (int k = 0; k < N; k++) {
        ppool__event ev = next_event(st);
        ASSERT_EQ(ev.kind, PPOOL__EV_FRAME);
        ASSERT_EQ(ev.worker, 1);
        ASSERT_EQ(ev.len, HEAD + blen);
        const char *f = ev.frame; /* reversed: the bulk first, backwards */
        for (size_t i = 0; i < blen; i += 4093) ASSERT_EQ(f[blen - 1 - i], (char)(i * 13));
        for (int i = 0; i < HEAD; i++) ASSERT_EQ(f[blen + i], (char)('a' + k % 26));
        free(ev.frame);
    }
}

int main(void)
{
    reader();
    arena_unit();
    T = ppool__transport_find("local");
    ASSERT_TRUE(T && T->caps & PPOOL__CAN_KILL && T->caps & PPOOL__BULK_COPIES);
    void *st = calloc(1, T->state_size);
    ppool__topen o = {.workers = 2, .wops = &wops, .max_frame = 1 << 20};
    char err[200];
    ASSERT_EQ(T->open(st, &o, err, sizeof err), 0);
    int hellos = 0;
    while (hellos < 2) {
        ppool__event ev = next_event(st);
        ASSERT_EQ(ev.kind, PPOOL__EV_FRAME);
        char want[32];
        snprintf(want, sizeof want, "hello %d", ev.worker);
        ASSERT_EQ(ev.len, strlen(want));
        ASSERT_TRUE(memcmp(ev.frame, want, ev.len) == 0);
        free(ev.frame);
        hellos++;
    }
    /* frames go both ways, large ones too (the master never blocks on a full socket) */
    size_t big = 600000;
    char *b = malloc(big);
    for (size_t i = 0; i < big; i++) b[i] = (char)i;
    ASSERT_EQ(T->send(st, 1, b, big), 0);
    send_str(st, 0, "abc");
    for (int got = 0; got < 2; got++) {
        ppool__event ev = next_event(st);
        ASSERT_EQ(ev.kind, PPOOL__EV_FRAME);
        if (ev.worker == 0) {
            ASSERT_TRUE(ev.len == 3 && memcmp(ev.frame, "cba", 3) == 0);
        } else {
            ASSERT_EQ(ev.len, big);
            ASSERT_EQ(((char *)ev.frame)[0], (char)(big - 1));
        }
        free(ev.frame);
    }
    bulk_frames(st);
    /* a death is reported with its status, and a respawned worker says hello */
    send_str(st, 0, "die");
    ppool__event ev = next_event(st);
    ASSERT_EQ(ev.kind, PPOOL__EV_DEAD);
    ASSERT_EQ(ev.worker, 0);
    ASSERT_CONTAINS(ev.why, "died with signal 9");
    int dead = ev.pid;
    ASSERT_TRUE(h_pid_gone(dead));
    ASSERT_NE(T->send(st, 0, malloc(1), 1), 0); /* nobody there now */
    ASSERT_EQ(T->respawn(st, 0), 0);
    ev = next_event(st);
    ASSERT_EQ(ev.kind, PPOOL__EV_FRAME);
    ASSERT_EQ(ev.worker, 0);
    free(ev.frame);
    /* kill() ends a worker from the master's side */
    ASSERT_EQ(T->kill(st, 1), 0);
    ev = next_event(st);
    ASSERT_EQ(ev.kind, PPOOL__EV_DEAD);
    ASSERT_EQ(ev.worker, 1);
    /* a worker that leaves its loop exits 0 */
    send_str(st, 0, "bye");
    ev = next_event(st);
    ASSERT_EQ(ev.kind, PPOOL__EV_DEAD);
    ASSERT_CONTAINS(ev.why, "exited with status 0");
    /* wake() makes a blocked recv return at once */
    T->wake(st);
    ASSERT_EQ(T->recv(st, &ev, -1), 0);
    ASSERT_EQ(ev.kind, PPOOL__EV_NONE);
    T->close(st);
    free(st);
    ASSERT_TRUE(h_no_children());
    return 0;
}
