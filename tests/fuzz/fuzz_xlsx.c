/*  fuzz_xlsx - the XLSX reader: zip, workbook, shared strings, styles,
    the first sheet. */
#include "fuzz_file.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    fuzz_read_file (data, size, "ventes.xlsx", NULL);
    return 0;
}
