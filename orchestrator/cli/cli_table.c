/*  cli_table - aligned text tables for the CLI's human output. */
#include "vendange.h"
#include "cli_table.h"

#define MAX_COLUMNS 16

struct cli_table {
    size_t ncols;
    char **cells; /* rows x ncols, row 0 the headers */
    size_t nrows, cap;
    bool right[MAX_COLUMNS];
};

size_t
cli_table_width (const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
        n += (*p & 0xC0) != 0x80; /* count lead bytes only */
    return n;
}

static int
s_append (cli_table_t *self, const char *const *cells, bool header)
{
    if (self->nrows == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 16;
        char **grown = realloc (self->cells, cap * self->ncols * sizeof *grown);
        if (!grown)
            return -1;
        self->cells = grown;
        self->cap = cap;
    }
    char **row = self->cells + self->nrows * self->ncols;
    for (size_t i = 0; i < self->ncols; i++) {
        const char *c = cells[i] ? cells[i] : "";
        if (header && c[0] == '>') {
            self->right[i] = true;
            c++;
        }
        row[i] = strdup (c);
        if (!row[i]) {
            while (i-- > 0)
                free (row[i]);
            return -1;
        }
    }
    self->nrows++;
    return 0;
}

cli_table_t *
cli_table_new (const char *const *headers)
{
    cli_table_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    while (headers[self->ncols] && self->ncols < MAX_COLUMNS)
        self->ncols++;
    if (s_append (self, headers, true) < 0)
        cli_table_destroy (&self);
    return self;
}

void
cli_table_destroy (cli_table_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cli_table_t *self = *self_p;
    for (size_t i = 0; i < self->nrows * self->ncols; i++)
        free (self->cells[i]);
    free (self->cells);
    free (self);
    *self_p = NULL;
}

int
cli_table_add (cli_table_t *self, const char *const *cells)
{
    return s_append (self, cells, false);
}

void
cli_table_print (cli_table_t *self, FILE *out)
{
    size_t width[MAX_COLUMNS] = {0};
    for (size_t r = 0; r < self->nrows; r++)
        for (size_t c = 0; c < self->ncols; c++) {
            size_t w = cli_table_width (self->cells[r * self->ncols + c]);
            if (w > width[c])
                width[c] = w;
        }
    vd_buf_t line;
    vd_buf_init (&line, 1024 * 1024);
    for (size_t r = 0; r < self->nrows; r++) {
        vd_buf_reset (&line);
        for (size_t c = 0; c < self->ncols; c++) {
            const char *cell = self->cells[r * self->ncols + c];
            int pad = (int)(width[c] - cli_table_width (cell));
            if (self->right[c])
                vd_buf_printf (&line, "%*s%s", pad, "", cell);
            else
                vd_buf_printf (&line, "%s%*s", cell, pad, "");
            if (c + 1 < self->ncols)
                vd_buf_addstr (&line, "  ");
        }
        while (line.len > 0 && line.data[line.len - 1] == ' ')
            line.data[--line.len] = '\0';
        fprintf (out, "%s\n", vd_buf_str (&line));
    }
    vd_buf_free (&line);
}

int
cli_table_test (bool verbose)
{
    int failed = 0;
    failed += cli_table_width ("caf\xc3\xa9") != 4 || cli_table_width (NULL) != 0;
    const char *headers[] = {"table", ">count", NULL};
    cli_table_t *t = cli_table_new (headers);
    const char *r1[] = {"r\xc3\xa9sum\xc3\xa9", "7"};
    const char *r2[] = {"sales_lines", "1234"};
    const char *r3[] = {NULL, NULL};
    failed +=
        !t || cli_table_add (t, r1) < 0 || cli_table_add (t, r2) < 0 || cli_table_add (t, r3) < 0;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&text, &len);
    if (t && f)
        cli_table_print (t, f);
    if (f)
        fclose (f);
    const char *want = "table        count\n"
                       "r\xc3\xa9sum\xc3\xa9           7\n"
                       "sales_lines   1234\n"
                       "\n";
    failed += !text || strcmp (text, want) != 0;
    if (verbose && text)
        printf ("%s", text);
    free (text);
    cli_table_destroy (&t);
    failed += t != NULL;
    if (verbose)
        printf ("cli_table_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
