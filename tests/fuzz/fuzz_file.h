/*  fuzz_file - the fuzz targets' way to hand a reader a file: the input
    in an anonymous memory file, opened through /proc/self/fd/N as the
    extractor opens an export (isv_extract_open), the format from a name.
*/
#ifndef FUZZ_FILE_H_INCLUDED
#define FUZZ_FILE_H_INCLUDED

#include "vendange.h"
#include "isv_reader.h"
#include <sys/mman.h>

/*  Reads every row of data as a file named name; returns the rows read. */
static inline long
fuzz_read_file (const uint8_t *data, size_t size, const char *name, const char *encoding)
{
    int fd = memfd_create ("fuzz", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    long rows = 0;
    if (write (fd, data, size) == (ssize_t)size) {
        char path[64];
        snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
        vd_error_t err;
        vd_error_clear (&err);
        isv_reader_t *reader = isv_reader_open_named (path, name, encoding, &err);
        isv_row_t row;
        while (reader && isv_reader_next (reader, &row, &err) == 1) {
            for (size_t i = 0; i < row.nfields; i++) /* every field is NUL-terminated */
                rows += strlen (row.fields[i]) == row.lengths[i];
            rows += row.raw != NULL;
        }
        isv_reader_destroy (&reader);
    }
    close (fd);
    return rows;
}

#endif
