/*  replay - runs a fuzz target's LLVMFuzzerTestOneInput on files, without
    libFuzzer: `make check` replays every seed and every input that once
    crashed (tests/fuzz/regressions/NAME) under ASan/UBSan, built by gcc.

    replay FILE...   exit 0 when every file went through
*/
#include "vendange.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
main (int argc, char **argv)
{
    int failed = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen (argv[i], "rb");
        vd_buf_t b;
        vd_buf_init (&b, 16 * 1024 * 1024);
        char chunk[65536];
        size_t n;
        while (f && (n = fread (chunk, 1, sizeof chunk, f)) > 0)
            if (vd_buf_add (&b, chunk, n) < 0)
                break;
        if (!f || ferror (f)) {
            fprintf (stderr, "replay: cannot read %s\n", argv[i]);
            failed++;
        } else
            LLVMFuzzerTestOneInput ((const uint8_t *)(b.data ? b.data : ""), b.len);
        if (f)
            fclose (f);
        vd_buf_free (&b);
    }
    return failed ? 1 : 0;
}
