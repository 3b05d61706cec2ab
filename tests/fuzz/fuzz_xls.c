/*  fuzz_xls - the .xls reader, both sides. An input that starts as an OLE2
    file does is read as a workbook: libfreexl runs in the forked child
    (isv_xls_child), whose crash must fail the file and nothing else.
    Every input is also read as the child's stream by the parent
    (isv_xls), which trusts none of it. */
#include "fuzz_file.h"
#include "isv_xls.h"

static void
s_read_stream (const uint8_t *data, size_t size)
{
    int fd = memfd_create ("fuzz", MFD_CLOEXEC);
    if (fd < 0)
        return;
    if (write (fd, data, size) != (ssize_t)size || lseek (fd, 0, SEEK_SET) != 0) {
        close (fd);
        return;
    }
    vd_error_t err;
    vd_error_clear (&err);
    isv_xls_t *xls = isv_xls_open_stream (fd, &err); /* takes fd */
    isv_row_t row;
    while (xls && isv_xls_next (xls, &row, &err) == 1)
        for (size_t i = 0; i < row.nfields; i++) /* every field is NUL-terminated */
            if (strlen (row.fields[i]) != row.lengths[i])
                abort ();
    isv_xls_destroy (&xls);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size >= 8 && memcmp (data, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) == 0)
        fuzz_read_file (data, size, "ventes.xls", NULL);
    s_read_stream (data, size);
    return 0;
}
