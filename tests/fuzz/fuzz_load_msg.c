/*  fuzz_load_msg - a message as the loader receives it from a
    normalizer: the envelope decoder, then CANON rows into the run's COPY
    buffer, END counts or DELETE ids (no database: what a flush would
    send is built, not sent). */
#include "vendange.h"
#include "load_run.h"
#include "vd_msg.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    vd_msg_t msg;
    vd_error_t err;
    vd_error_clear (&err);
    if (vd_msg_decode ((const char *)data, size, &u, &msg, &err) == 0) {
        load_run_t *run = load_run_new (msg.run_id);
        if (run && msg.kind == VD_MSG_CANON)
            (void)load_run_add (run, &msg, &err);
        else if (run && msg.kind == VD_MSG_END)
            (void)load_run_end (run, &msg, &err);
        else if (run && msg.kind == VD_MSG_DELETE)
            (void)load_run_delete (run, &msg, &err);
        load_run_destroy (&run);
    }
    msgpack_unpacked_destroy (&u);
    return 0;
}
