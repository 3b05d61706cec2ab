/*  cli_table - aligned text tables for the CLI's human output.

    Cells are UTF-8 strings (copied); widths count characters, not bytes.
    Columns whose header starts with '>' are right-aligned (numbers); the
    '>' is not printed.
*/
#ifndef CLI_TABLE_H_INCLUDED
#define CLI_TABLE_H_INCLUDED

#include <stdbool.h>
#include <stdio.h>

typedef struct cli_table cli_table_t;

/*  headers: NULL-terminated. NULL when out of memory. */
cli_table_t *cli_table_new (const char *const *headers);
void cli_table_destroy (cli_table_t **self_p);
/*  Adds a row of ncolumns cells (NULL cells print empty). Returns 0, -1. */
int cli_table_add (cli_table_t *self, const char *const *cells);
/*  Prints header and rows, columns separated by two spaces. */
void cli_table_print (cli_table_t *self, FILE *out);
/*  Number of characters of a UTF-8 string. */
size_t cli_table_width (const char *s);

int cli_table_test (bool verbose);

#endif
