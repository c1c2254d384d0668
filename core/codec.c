/* codec.c: packs and unpacks wire frames: [u32 LE header length][protobuf Frame][bulk bytes]. */
#include <stdlib.h>
#include <string.h>

#include "ppool.pb-c.h"
#include "ppool_impl.h"

static void put_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Packs the head of a frame ([u32][packed][pad]) into a buffer with room
 * for `room` more bytes. */
static int pack_head(const Ppool__Frame *msg, size_t bulk_len, size_t room, unsigned char **head,
                     size_t *head_len)
{
    size_t hl = ppool__frame__get_packed_size(msg);
    size_t off = PPOOL__ALIGN_UP(4 + hl);
    if (hl > PPOOL__MAX_FRAME || bulk_len > PPOOL__MAX_FRAME - off) return PPOOL_EINVAL;
    unsigned char *f = malloc(off + room);
    if (!f) return PPOOL_ENOMEM;
    put_le32(f, (uint32_t)hl);
    ppool__frame__pack(msg, f + 4);
    memset(f + 4 + hl, 0, off - 4 - hl);
    *head = f;
    *head_len = off;
    return 0;
}

int ppool__frame_pack(const Ppool__Frame *msg, const void *bulk, size_t bulk_len, void **frame,
                      size_t *len)
{
    unsigned char *f;
    size_t off;
    int rc = pack_head(msg, bulk_len, bulk_len, &f, &off);
    if (rc) return rc;
    if (bulk_len) memcpy(f + off, bulk, bulk_len);
    *frame = f;
    *len = off + bulk_len;
    return 0;
}

int ppool__frame_pack_head(const Ppool__Frame *msg, size_t bulk_len, void **head, size_t *len)
{
    unsigned char *f;
    int rc = pack_head(msg, bulk_len, 0, &f, len);
    if (rc == 0) *head = f;
    return rc;
}

/* The bulk length a message declares, or 0. */
static uint64_t declared_bulk(const Ppool__Frame *m)
{
    if (m->msg_case == PPOOL__FRAME__MSG_TASK) return m->task->bulk_len;
    if (m->msg_case == PPOOL__FRAME__MSG_RESULT) return m->result->bulk_len;
    return 0;
}

int ppool__frame_unpack(const void *frame, size_t len, Ppool__Frame **msg, const void **bulk,
                        size_t *bulk_len, char *err, size_t errlen)
{
    const unsigned char *f = frame;
    *msg = NULL;
    if (!frame || len < 4 || len > PPOOL__MAX_FRAME) {
        snprintf(err, errlen, "frame of %zu bytes is outside 4..%u", len, PPOOL__MAX_FRAME);
        return PPOOL_EPROTO;
    }
    uint32_t hl = get_le32(f);
    if (hl > len - 4) {
        snprintf(err, errlen, "frame header of %u bytes overruns the %zu-byte frame", hl, len);
        return PPOOL_EPROTO;
    }
    Ppool__Frame *m = ppool__frame__unpack(NULL, hl, f + 4);
    if (!m) {
        snprintf(err, errlen, "frame header does not decode (%u bytes)", hl);
        return PPOOL_EPROTO;
    }
    size_t off = PPOOL__ALIGN_UP(4 + (size_t)hl);
    size_t bl = len > off ? len - off : 0;
    if (m->msg_case == PPOOL__FRAME__MSG__NOT_SET || declared_bulk(m) != bl || (bl && len < off)) {
        snprintf(err, errlen, "frame declares %llu bulk bytes but carries %zu (kind %d)",
                 (unsigned long long)declared_bulk(m), bl, (int)m->msg_case);
        ppool__frame__free_unpacked(m, NULL);
        return PPOOL_EPROTO;
    }
    *msg = m;
    *bulk = f + off;
    *bulk_len = bl;
    return 0;
}

void ppool__frame_release(Ppool__Frame *msg)
{
    if (msg) ppool__frame__free_unpacked(msg, NULL);
}
