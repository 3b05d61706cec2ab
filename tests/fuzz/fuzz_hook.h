/*  fuzz_hook - a webhook body through the gateway's event parser. */
#ifndef FUZZ_HOOK_H_INCLUDED
#define FUZZ_HOOK_H_INCLUDED

#include "vendange.h"
#include "hook_event.h"

static inline void
fuzz_hook (hook_source_t src, const uint8_t *data, size_t size)
{
    msgpack_sbuffer rows;
    msgpack_sbuffer_init (&rows);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &rows, msgpack_sbuffer_write);
    size_t count = 0;
    hook_fault_t fault;
    (void)hook_event_parse (src, (const char *)data, size, &pk, &count, &fault);
    msgpack_sbuffer_destroy (&rows);
}

#endif
