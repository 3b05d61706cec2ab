/*  fuzz_powerautomate - Power Automate webhook bodies (an event or an
    array of them). */
#include "fuzz_hook.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    fuzz_hook (HOOK_POWERAUTOMATE, data, size);
    return 0;
}
