/*  vd_units - the unit table: unit name -> 75 cl bottle equivalents.

    Entries are kept sorted by folded name and found by binary search;
    the names live inline in the entries (no malloc per entry). A lookup
    of an ASCII unit folds it on the stack: no allocation on the hot path.
*/
#include "vendange.h"

#define S_KEY_MAX 63             //  longer names are no unit
#define S_LINE_MAX 1024          //  unit file line ceiling
#define S_FILE_MAX (1024 * 1024) //  unit file ceiling

typedef struct {
    char key[S_KEY_MAX + 1];
    vd_dec_t factor;
} s_entry_t;

struct vd_units {
    s_entry_t *entries;
    size_t size, cap;
};

//  Bottles, halves, magnums, jeroboams (SPEC.md); cases are generated.
// clang-format off
static const struct {
    const char *name;
    int64_t v;
    int scale;
} s_defaults[] = {
    {"bouteille", 1, 0}, {"bouteilles", 1, 0}, {"btl", 1, 0}, {"btle", 1, 0}, {"bt", 1, 0},
    {"bout", 1, 0}, {"bottle", 1, 0}, {"bottles", 1, 0}, {"75cl", 1, 0}, {"750ml", 1, 0},
    {"0.75l", 1, 0}, {"bt75", 1, 0}, {"btl75", 1, 0}, {"bouteille75cl", 1, 0},
    {"demi", 5, 1}, {"demie", 5, 1}, {"demi-bouteille", 5, 1}, {"half", 5, 1},
    {"half bottle", 5, 1}, {"fillette", 5, 1}, {"37,5cl", 5, 1}, {"375ml", 5, 1},
    {"0.375l", 5, 1}, {"bt37,5", 5, 1},
    {"magnum", 2, 0}, {"magnums", 2, 0}, {"mag", 2, 0}, {"mag150", 2, 0}, {"150cl", 2, 0},
    {"1500ml", 2, 0}, {"magnum150cl", 2, 0},
    {"jeroboam", 4, 0}, {"jeroboams", 4, 0}, {"jero", 4, 0}, {"300cl", 4, 0}, {"3l", 4, 0},
    {"3000ml", 4, 0}, {"jeroboam300cl", 4, 0},
};
// clang-format on

//  "carton 6", "caisse de 12", "cs x 6", "case of 12" ...
static const char *s_case_words[] = {"carton", "caisse", "case", "cs",
                                     "ct",     "cart",   "cse",  "colis"};
static const char *s_case_joins[] = {"", "de", "of", "x"};

//  --------------------------------------------------------------------------
//  Keys

static bool
s_dropped (unsigned char c)
{
    return c <= 0x20 || c == 0x7F || c == '.' || c == ',' || c == '-' || c == '_';
}

int
vd_units_key (const char *name, size_t len, vd_buf_t *out)
{
    size_t start = out->len;
    if (vd_text_fold (name, len, out))
        return -1;
    size_t k = start;
    for (size_t i = start; i < out->len; i++)
        if (!s_dropped ((unsigned char)out->data[i]))
            out->data[k++] = out->data[i];
    out->len = k;
    if (out->data)
        out->data[k] = '\0';
    return k > start ? 0 : -1;
}

//  The key of name[0..len) into key[S_KEY_MAX + 1]: on the stack for
//  ASCII, through vd_units_key otherwise. Returns -1 when there is none.
static int
s_key (const char *name, size_t len, char *key)
{
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c >= 0x80) {
            vd_buf_t b;
            vd_buf_init (&b, S_KEY_MAX);
            int rc = vd_units_key (name, len, &b);
            if (rc == 0)
                memcpy (key, b.data, b.len + 1);
            vd_buf_free (&b);
            return rc;
        }
        if (s_dropped (c))
            continue;
        if (k == S_KEY_MAX)
            return -1;
        key[k++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    key[k] = '\0';
    return k ? 0 : -1;
}

//  Index of key, or of where it would be inserted (*found false).
static size_t
s_find (const vd_units_t *self, const char *key, bool *found)
{
    size_t lo = 0, hi = self->size;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp (self->entries[mid].key, key);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

//  --------------------------------------------------------------------------
//  Table

vd_units_t *
vd_units_new_empty (void)
{
    return calloc (1, sizeof (vd_units_t));
}

static int
s_add_cases (vd_units_t *self)
{
    static const int counts[] = {6, 12};
    char name[32];
    for (size_t w = 0; w < sizeof s_case_words / sizeof s_case_words[0]; w++)
        for (size_t j = 0; j < sizeof s_case_joins / sizeof s_case_joins[0]; j++)
            for (size_t c = 0; c < 2; c++) {
                snprintf (name, sizeof name, "%s%s%d", s_case_words[w], s_case_joins[j], counts[c]);
                if (vd_units_set (self, name, vd_dec_int (counts[c])))
                    return -1;
            }
    return 0;
}

vd_units_t *
vd_units_new (void)
{
    vd_units_t *self = vd_units_new_empty ();
    if (!self)
        return NULL;
    for (size_t i = 0; i < sizeof s_defaults / sizeof s_defaults[0]; i++) {
        vd_dec_t f = {s_defaults[i].v, s_defaults[i].scale};
        if (vd_units_set (self, s_defaults[i].name, f))
            goto fail;
    }
    if (s_add_cases (self))
        goto fail;
    return self;
fail:
    vd_units_destroy (&self);
    return NULL;
}

void
vd_units_destroy (vd_units_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->entries);
    free (*self_p);
    *self_p = NULL;
}

static int
s_set_key (vd_units_t *self, const char *key, vd_dec_t factor)
{
    bool found;
    size_t at = s_find (self, key, &found);
    if (!found) {
        if (self->size == self->cap) {
            size_t cap = self->cap ? self->cap * 2 : 64;
            s_entry_t *e = realloc (self->entries, cap * sizeof *e);
            if (!e)
                return -1;
            self->entries = e;
            self->cap = cap;
        }
        memmove (self->entries + at + 1, self->entries + at,
                 (self->size - at) * sizeof (s_entry_t));
        self->size++;
        snprintf (self->entries[at].key, sizeof self->entries[at].key, "%s", key);
    }
    self->entries[at].factor = factor;
    return 0;
}

int
vd_units_set (vd_units_t *self, const char *name, vd_dec_t factor)
{
    char key[S_KEY_MAX + 1];
    if (!name || s_key (name, strlen (name), key))
        return -1;
    return s_set_key (self, key, factor);
}

bool
vd_units_lookup (const vd_units_t *self, const char *unit, size_t len, vd_dec_t *factor)
{
    char key[S_KEY_MAX + 1];
    bool found;
    if (!unit || s_key (unit, len, key))
        return false;
    size_t at = s_find (self, key, &found);
    if (found)
        *factor = self->entries[at].factor;
    return found;
}

size_t
vd_units_size (const vd_units_t *self)
{
    return self->size;
}

//  --------------------------------------------------------------------------
//  Unit files

//  Reads one line into key and factor (*entry false for a blank or comment
//  line). Returns -1 with err's message set when the line is bad.
static int
s_parse_line (const char *line, size_t len, char *key, vd_dec_t *factor, bool *entry,
              vd_error_t *err)
{
    *entry = false;
    if (len > S_LINE_MAX)
        return vd_error_set (err, VD_ERR_PERMANENT, "unit file line is too long");
    if (!vd_utf8_valid (line, len))
        return vd_error_set (err, VD_ERR_PERMANENT, "unit file line is not valid UTF-8");
    const char *hash = memchr (line, '#', len);
    size_t b, e;
    vd_text_trim (line, hash ? (size_t)(hash - line) : len, &b, &e);
    if (b == e)
        return 0;
    const char *eq = memchr (line + b, '=', e - b);
    if (!eq)
        return vd_error_set (err, VD_ERR_PERMANENT, "unit line has no \"=\"");
    if (s_key (line + b, (size_t)(eq - line) - b, key))
        return vd_error_set (err, VD_ERR_PERMANENT, "unit name is empty or too long");
    vd_buf_t num;
    vd_buf_init (&num, 64);
    int rc = vd_number_parse (eq + 1, (size_t)(line + e - eq - 1), &num);
    if (rc == 0)
        rc = vd_dec_parse (num.data, num.len, factor);
    vd_buf_free (&num);
    if (rc || factor->v <= 0)
        return vd_error_set (err, VD_ERR_PERMANENT, "unit factor is not a positive number");
    *entry = true;
    return 0;
}

/*  Names the line, never its content: the file may be anything a
    setting pointed at (a key, a password file). */
static int
s_line_error (vd_error_t *err, long lineno, const char *line, size_t len)
{
    (void)line;
    (void)len;
    if (!err)
        return -1;
    vd_error_detail (err, "line %ld of the unit table", lineno);
    snprintf (err->hint, sizeof err->hint,
              "write one \"name = factor\" per line, e.g. \"magnum = 2\"");
    err->line = lineno;
    return -1;
}

int
vd_units_parse (vd_units_t *self, const char *text, size_t len, vd_error_t *err)
{
    //  First pass checks every line, second applies: all or nothing.
    for (int pass = 0; pass < 2; pass++) {
        size_t i = 0;
        long lineno = 0;
        while (i < len) {
            const char *nl = memchr (text + i, '\n', len - i);
            size_t end = nl ? (size_t)(nl - text) : len;
            char key[S_KEY_MAX + 1];
            vd_dec_t factor;
            bool entry;
            lineno++;
            if (s_parse_line (text + i, end - i, key, &factor, &entry, err))
                return s_line_error (err, lineno, text + i, end - i);
            if (pass == 1 && entry && s_set_key (self, key, factor))
                return vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
            i = end + 1;
        }
    }
    return 0;
}

/*  The file's text; NULL with err (file and line set). */
static char *
s_read_file (const char *path, vd_error_t *err)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        vd_error_set (err, VD_ERR_PERMANENT, "could not open unit file");
        vd_error_detail (err, "%s", strerror (errno));
        vd_error_at (err, path, 0);
        return NULL;
    }
    vd_buf_t text;
    vd_buf_init (&text, S_FILE_MAX);
    char chunk[4096];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread (chunk, 1, sizeof chunk, file)) > 0)
        if (vd_buf_add (&text, chunk, n))
            rc = vd_error_set (err, VD_ERR_PERMANENT, "unit file is larger than %d bytes",
                               S_FILE_MAX);
    if (rc == 0 && ferror (file))
        rc = vd_error_set (err, VD_ERR_PERMANENT, "could not read unit file");
    fclose (file);
    if (rc) {
        vd_error_at (err, path, 0);
        vd_buf_free (&text);
        return NULL;
    }
    return vd_buf_take (&text);
}

int
vd_units_load (vd_units_t *self, const char *path, vd_error_t *err)
{
    char *text = s_read_file (path, err);
    int rc = text ? vd_units_parse (self, text, strlen (text), err) : -1;
    if (rc && text)
        vd_error_at (err, path, err ? err->line : 0);
    free (text);
    return rc;
}

char *
vd_units_read_text (const char *path, vd_error_t *err)
{
    vd_units_t *check = vd_units_new_empty ();
    char *text = check ? s_read_file (path, err) : NULL;
    if (text && vd_units_parse (check, text, strlen (text), err) < 0) {
        vd_error_at (err, path, err ? err->line : 0);
        free (text);
        text = NULL;
    }
    vd_units_destroy (&check);
    return text;
}

//  --------------------------------------------------------------------------
//  Self test

static int
s_check (bool verbose, const char *name, const char *in, bool ok)
{
    if (!ok)
        fprintf (stderr, "vd_units: FAIL %s (\"%s\")\n", name, in);
    else if (verbose)
        printf ("vd_units: ok %s (\"%s\")\n", name, in);
    return ok ? 0 : 1;
}

//  The factor of unit, formatted; "unknown" when there is none.
static bool
s_factor_is (const vd_units_t *units, const char *unit, const char *want)
{
    vd_dec_t f;
    char got[32] = "unknown";
    if (vd_units_lookup (units, unit, strlen (unit), &f) && vd_dec_format (f, got, sizeof got))
        return false;
    return strcmp (got, want) == 0;
}

static int
s_test_lookup (bool verbose, vd_units_t *units)
{
    // clang-format off
    static const char *cases[][2] = {
        {"MAG150", "2"}, {"magnum", "2"}, {"Mag 150", "2"}, {"Bouteille", "1"},
        {"75cl", "1"}, {"75 CL", "1"}, {"37,5cl", "0.5"}, {" 37,5 cl ", "0.5"},
        {"demi", "0.5"}, {"Demi-bouteille", "0.5"}, {"J\xC3\xA9roboam", "4"},
        {"carton 6", "6"}, {"CS12", "12"}, {"caisse de 12", "12"},
        {"Carton\xC2\xA0" "12", "12"}, {"ct_6", "6"}, {"xyz", "unknown"},
        {"", "unknown"}, {" - ", "unknown"}, {"carton", "unknown"},
        {"carton 24", "unknown"}, {"b\xFF", "unknown"},
        {"bouteillebouteillebouteillebouteillebouteillebouteillebouteille", "unknown"},
    };
    // clang-format on
    int f = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        f += s_check (verbose, cases[i][1], cases[i][0],
                      s_factor_is (units, cases[i][0], cases[i][1]));
    vd_buf_t b;
    vd_buf_init (&b, 64);
    f += s_check (verbose, "key", "Mag 150",
                  vd_units_key ("Mag 150", 7, &b) == 0 && strcmp (vd_buf_str (&b), "mag150") == 0);
    vd_buf_reset (&b);
    f += s_check (verbose, "key", "37,5 cl",
                  vd_units_key ("37,5 cl", 7, &b) == 0 && strcmp (vd_buf_str (&b), "375cl") == 0);
    vd_buf_reset (&b);
    f += s_check (verbose, "key empty", "._-", vd_units_key ("._-", 3, &b) == -1 && b.len == 0);
    vd_buf_free (&b);
    return f;
}

static int
s_test_parse (bool verbose, vd_units_t *units)
{
    vd_error_t err;
    size_t size = vd_units_size (units);
    const char *bad = "magnum = 2\n# c\nbib5 = 6,6667\nbad line\n";
    vd_error_clear (&err);
    int f = s_check (verbose, "parse bad", bad,
                     vd_units_parse (units, bad, strlen (bad), &err) == -1 && err.line == 4 &&
                         strstr (err.detail, "line 4") && !strstr (err.detail, "bad line") &&
                         vd_units_size (units) == size && s_factor_is (units, "bib5", "unknown"));
    const char *good = "magnum = 2,5\r\n# comment\n\n  BIB 5 = 6,6667 # bag in box\n";
    f += s_check (verbose, "parse good", good,
                  vd_units_parse (units, good, strlen (good), NULL) == 0 &&
                      vd_units_size (units) == size + 1 && s_factor_is (units, "magnum", "2.5") &&
                      s_factor_is (units, "bib-5", "6.6667"));
    static const char *rejected[] = {"x = abc",           "x = -1", "x = 0", " = 2", "x 2",
                                     "x = 1\n\n\xFF = 2", "x = 1 2"};
    for (size_t i = 0; i < sizeof rejected / sizeof rejected[0]; i++)
        f += s_check (verbose, "parse rejects", rejected[i],
                      vd_units_parse (units, rejected[i], strlen (rejected[i]), &err) == -1);
    f += s_check (verbose, "error line", "\\xFF", err.line == 1);
    char long_line[S_LINE_MAX + 16];
    memset (long_line, 'a', sizeof long_line);
    f += s_check (verbose, "parse rejects", "long line",
                  vd_units_parse (units, long_line, sizeof long_line, &err) == -1);
    vd_units_t *empty = vd_units_new_empty ();
    f += s_check (verbose, "empty table", "75cl",
                  empty && vd_units_size (empty) == 0 && s_factor_is (empty, "75cl", "unknown") &&
                      vd_units_set (empty, "Pot lyonnais", (vd_dec_t){6133, 4}) == 0 &&
                      vd_units_set (empty, " _ ", vd_dec_int (1)) == -1 &&
                      s_factor_is (empty, "POT-LYONNAIS", "0.6133") && vd_units_size (empty) == 1);
    vd_units_destroy (&empty);
    vd_units_destroy (&empty);
    return f + s_check (verbose, "destroy nulls", "", empty == NULL);
}

static int
s_test_load (bool verbose, vd_units_t *units)
{
    vd_error_t err;
    char path[] = "/tmp/vd_units_test_XXXXXX";
    int fd = mkstemp (path);
    int f = s_check (verbose, "mkstemp", path, fd >= 0);
    if (fd < 0)
        return f;
    const char *text = "fut = 300\nbroken\n";
    f +=
        s_check (verbose, "write", path, write (fd, text, strlen (text)) == (ssize_t)strlen (text));
    close (fd);
    f += s_check (verbose, "load bad", path,
                  vd_units_load (units, path, &err) == -1 && err.line == 2 &&
                      strcmp (err.file, path) == 0);
    unlink (path);
    f += s_check (verbose, "load missing", path,
                  vd_units_load (units, path, &err) == -1 && strcmp (err.file, path) == 0 &&
                      err.line == 0);
    return f;
}

int
vd_units_test (bool verbose)
{
    vd_units_t *units = vd_units_new ();
    int f = s_check (verbose, "new", "", units != NULL);
    if (units) {
        f += s_test_lookup (verbose, units);
        f += s_test_parse (verbose, units);
        f += s_test_load (verbose, units);
        vd_units_destroy (&units);
    }
    if (verbose || f)
        printf ("vd_units: %s (%d failed)\n", f ? "FAILED" : "OK", f);
    return f ? -1 : 0;
}
