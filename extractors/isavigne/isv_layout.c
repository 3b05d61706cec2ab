/*  isv_layout - the column layout of an export file. */
#include "isv_layout.h"

static int
s_name_cmp (const void *a, const void *b)
{
    return strcmp (*(const char *const *)a, *(const char *const *)b);
}

json_t *
isv_layout_of (const char *const *names, size_t n)
{
    const char **sorted = calloc (n + 1, sizeof *sorted);
    json_t *layout = json_array ();
    if (!sorted || !layout) {
        free (sorted);
        json_decref (layout);
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (names[i] && *names[i])
            sorted[k++] = names[i];
    qsort (sorted, k, sizeof *sorted, s_name_cmp);
    for (size_t i = 0; i < k; i++)
        if ((i == 0 || strcmp (sorted[i], sorted[i - 1]) != 0) &&
            json_array_append_new (layout, json_string (sorted[i])) < 0) {
            json_decref (layout);
            layout = NULL;
            break;
        }
    free (sorted);
    return layout;
}

static bool
s_has (const json_t *layout, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach (layout, i, v)
    {
        const char *s = json_string_value (v);
        if (s && strcmp (s, name) == 0)
            return true;
    }
    return false;
}

/*  The names of a not in b, appended to into. 0, -1 when out of memory. */
static int
s_minus (const json_t *a, const json_t *b, json_t *into)
{
    size_t i;
    json_t *v;
    json_array_foreach (a, i, v)
    {
        const char *s = json_string_value (v);
        if (s && !s_has (b, s) && json_array_append (into, v) < 0)
            return -1;
    }
    return 0;
}

int
isv_layout_compare (const json_t *seen, const json_t *accepted, json_t **added, json_t **missing)
{
    *added = NULL;
    *missing = NULL;
    if (!json_is_array (accepted) || !json_is_array (seen))
        return 0;
    json_t *plus = json_array (), *minus = json_array ();
    if (!plus || !minus || s_minus (seen, accepted, plus) < 0 ||
        s_minus (accepted, seen, minus) < 0) {
        json_decref (plus);
        json_decref (minus);
        return -1;
    }
    if (json_array_size (plus) == 0 && json_array_size (minus) == 0) {
        json_decref (plus);
        json_decref (minus);
        return 0;
    }
    *added = plus;
    *missing = minus;
    return 1;
}

static void
s_list (vd_buf_t *b, const char *what, const json_t *names)
{
    if (json_array_size (names) == 0)
        return;
    vd_buf_printf (b, "%s%s ", b->len ? "; " : "", what);
    size_t i;
    json_t *v;
    json_array_foreach (names, i, v)
        vd_buf_printf (b, "%s%s", i ? ", " : "", json_string_value (v));
}

void
isv_layout_describe (const json_t *added, const json_t *missing, char *out, size_t size)
{
    if (!size)
        return;
    vd_buf_t b;
    vd_buf_init (&b, 4096);
    s_list (&b, "missing", missing);
    s_list (&b, "added", added);
    const char *text = vd_buf_str (&b);
    size_t len = strlen (text);
    if (len < size)
        snprintf (out, size, "%s", text);
    else if (size > 4)
        snprintf (out, size, "%.*s...", (int)(size - 4), text);
    else
        out[0] = '\0';
    vd_buf_free (&b);
}

int
isv_layout_test (bool verbose)
{
    int failed = 0;
    const char *header[] = {"qty", "date", "", "article", "date", NULL};
    json_t *seen = isv_layout_of (header, 6);
    char *text = json_dumps (seen, JSON_COMPACT);
    failed += !text || strcmp (text, "[\"article\",\"date\",\"qty\"]") != 0;
    free (text);
    json_t *added, *missing;
    failed += isv_layout_compare (seen, NULL, &added, &missing) != 0 || added || missing;
    failed += isv_layout_compare (seen, seen, &added, &missing) != 0 || added || missing;
    json_t *accepted = json_pack ("[s, s, s]", "article", "date", "quantite");
    failed += isv_layout_compare (seen, accepted, &added, &missing) != 1;
    failed += json_array_size (added) != 1 || json_array_size (missing) != 1 ||
              strcmp (json_string_value (json_array_get (added, 0)), "qty") != 0 ||
              strcmp (json_string_value (json_array_get (missing, 0)), "quantite") != 0;
    char out[64];
    isv_layout_describe (added, missing, out, sizeof out);
    failed += strcmp (out, "missing quantite; added qty") != 0;
    isv_layout_describe (added, missing, out, 10);
    failed += strcmp (out, "missin...") != 0;
    isv_layout_describe (NULL, NULL, out, sizeof out);
    failed += out[0] != '\0';
    json_decref (added);
    json_decref (missing);
    json_t *empty = isv_layout_of (NULL, 0);
    failed += json_array_size (empty) != 0;
    /* a layout that lost every column differs too */
    failed += isv_layout_compare (empty, accepted, &added, &missing) != 1 ||
              json_array_size (missing) != 3 || json_array_size (added) != 0;
    json_decref (added);
    json_decref (missing);
    json_decref (empty);
    json_decref (accepted);
    json_decref (seen);
    if (verbose)
        printf ("isv_layout_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
