/*  orch_json - small jansson helpers. */
#include "vendange.h"
#include "orch_json.h"

json_t *
orch_json_text (const char *s)
{
    if (!s)
        return json_null ();
    json_t *j = json_string (s);
    if (j)
        return j;
    /* invalid UTF-8: escape (which replaces bad sequences) and decode */
    size_t len = strlen (s);
    vd_buf_t b;
    vd_buf_init (&b, len * 6 + 16);
    json_t *out = NULL;
    if (vd_buf_addc (&b, '"') == 0 && vd_json_escape (&b, s, len) == 0 &&
        vd_buf_addc (&b, '"') == 0)
        out = json_loadb (b.data, b.len, JSON_DECODE_ANY, NULL);
    vd_buf_free (&b);
    return out ? out : json_string ("");
}

json_t *
orch_json_error (const char *msg, const char *detail, const char *hint)
{
    json_t *j = json_object ();
    if (!j)
        return NULL;
    json_object_set_new (j, "error", orch_json_text (msg ? msg : "error"));
    if (detail && *detail)
        json_object_set_new (j, "detail", orch_json_text (detail));
    if (hint && *hint)
        json_object_set_new (j, "hint", orch_json_text (hint));
    return j;
}

json_t *
orch_json_from_error (const vd_error_t *err)
{
    return orch_json_error (err->msg, err->detail, err->hint);
}

const char *
orch_json_str (const json_t *obj, const char *key)
{
    return json_string_value (json_object_get (obj, key));
}

const char *
orch_json_member (const json_t *obj, const char *key)
{
    const char *v = json_string_value (json_object_get (obj, key));
    return v ? v : "";
}

int
orch_json_int (const json_t *obj, const char *key, int64_t *out)
{
    json_t *v = json_object_get (obj, key);
    if (!json_is_integer (v))
        return -1;
    *out = (int64_t)json_integer_value (v);
    return 0;
}

int
orch_json_test (bool verbose)
{
    int failed = 0;
    json_t *j = orch_json_text ("caf\xc3\xa9");
    failed += !j || strcmp (json_string_value (j), "caf\xc3\xa9") != 0;
    json_decref (j);
    j = orch_json_text ("bad \xc3 byte \xff");
    failed += !j || !json_is_string (j) || !strstr (json_string_value (j), "bad ");
    json_decref (j);
    j = orch_json_text (NULL);
    failed += !json_is_null (j);
    json_decref (j);
    j = orch_json_error ("boom", "", "try again");
    failed += !j || json_object_get (j, "detail") != NULL ||
              strcmp (orch_json_str (j, "hint"), "try again") != 0;
    int64_t n = 0;
    failed += orch_json_int (j, "error", &n) == 0;
    json_decref (j);
    j = json_pack ("{s:I}", "n", (json_int_t)42);
    failed += orch_json_int (j, "n", &n) < 0 || n != 42;
    json_decref (j);
    if (verbose)
        printf ("orch_json_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
