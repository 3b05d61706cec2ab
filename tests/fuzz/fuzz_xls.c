/*  fuzz_xls - the XLS wrapper around libfreexl. */
#include "fuzz_file.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    fuzz_read_file (data, size, "ventes.xls", NULL);
    return 0;
}
