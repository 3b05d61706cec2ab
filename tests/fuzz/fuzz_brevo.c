/*  fuzz_brevo - Brevo webhook bodies (one event or a batch). */
#include "fuzz_hook.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    fuzz_hook (HOOK_BREVO, data, size);
    return 0;
}
