/*  fuzz_csv - the CSV reader with its encoding and separator sniffing.
    The first byte picks the encoding asked for (detection most often). */
#include "fuzz_file.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static const char *encodings[] = {NULL, NULL, NULL, "windows-1252", "iso-8859-15", "utf-8"};
    const char *encoding = size ? encodings[data[0] % 6] : NULL;
    fuzz_read_file (size ? data + 1 : data, size ? size - 1 : 0, "ventes.csv", encoding);
    return 0;
}
