/*  fuzz_norm_msg - a message as the normalizer receives it from an
    extractor: the envelope decoder, then a RAW batch through every rule
    of its table into a CANON message. */
#include "vendange.h"
#include "norm_batch.h"
#include "vd_msg.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static norm_batch_t *batch;
    if (!batch) {
        vd_log_init ("fuzz", VD_LOG_ERROR);
        vd_error_t err;
        vd_error_clear (&err);
        batch = norm_batch_new ("20", "Europe/Paris", &err);
        if (!batch)
            abort (); /* a set-up failure, not a finding */
    }
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    vd_msg_t msg;
    vd_error_t err;
    vd_error_clear (&err);
    if (vd_msg_decode ((const char *)data, size, &u, &msg, &err) == 0 && msg.kind == VD_MSG_RAW) {
        msgpack_sbuffer out;
        msgpack_sbuffer_init (&out);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &out, msgpack_sbuffer_write);
        (void)norm_batch_convert (batch, &msg, &pk, &err);
        msgpack_sbuffer_destroy (&out);
    }
    msgpack_unpacked_destroy (&u);
    return 0;
}
