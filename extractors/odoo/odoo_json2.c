/*  odoo_json2 - the JSON-2 API's codec. */
#include "odoo_json2.h"

int
odoo_json2_path (const char *model, const char *method, char *out, size_t size)
{
    for (const char *p = model; *p; p++)
        if (!(isalnum ((unsigned char)*p) || *p == '.' || *p == '_'))
            return -1;
    for (const char *p = method; *p; p++)
        if (!(isalnum ((unsigned char)*p) || *p == '_'))
            return -1;
    int n = snprintf (out, size, "/json/2/%s/%s", model, method);
    return n > 0 && (size_t)n < size && *model && *method ? 0 : -1;
}

/*  What a status means, for the user. */
static const char *
s_status_text (long status, const char **hint, vd_err_kind_t *kind)
{
    *kind = VD_ERR_PERMANENT;
    *hint = "";
    switch (status) {
    case 401:
        *hint = "the API key is wrong or expired (Odoo keys last at most three months): rotate "
                "the API key and set the connector's api_key";
        return "Odoo refused the API key (HTTP 401): rotate the API key";
    case 403:
        *hint = "give the connector's Odoo user read access to this model";
        return "Odoo denied access (HTTP 403)";
    case 404:
        *hint = "check the model is installed, and the url and database";
        return "Odoo answered not found (HTTP 404)";
    case 422:
        return "Odoo refused the request's arguments (HTTP 422)";
    case 400:
        return "Odoo found the request malformed (HTTP 400)";
    case 409:
        *kind = VD_ERR_TRANSIENT;
        return "Odoo reported a concurrent update (HTTP 409)";
    case 500:
        return "Odoo failed with a server error (HTTP 500)";
    case 502:
    case 503:
    case 504:
        *kind = VD_ERR_TRANSIENT;
        *hint = "the server or its proxy is overloaded or restarting";
        return "the Odoo server is unavailable";
    default:
        return "Odoo answered an unexpected HTTP status";
    }
}

int
odoo_json2_decode (long status, const char *body, size_t len, const char *model, json_t **result,
                   vd_error_t *err)
{
    *result = NULL;
    json_error_t jerr;
    json_t *doc = len ? json_loadb (body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr) : NULL;
    if (status == 200) {
        if (doc) {
            *result = doc;
            return 0;
        }
        /* an answer that stops early is a transport failure; retry it */
        bool early = len == 0 || jerr.position >= (int)len ||
                     strstr (jerr.text, "premature end of input") != NULL;
        vd_error_set (err, early ? VD_ERR_TRANSIENT : VD_ERR_PERMANENT,
                      early ? "truncated JSON-2 answer (the body stopped early)"
                            : "invalid JSON in the JSON-2 answer");
        return vd_error_detail (err, "%s: %s (byte %d)", model, jerr.text, jerr.position);
    }
    const char *hint;
    vd_err_kind_t kind;
    const char *what = s_status_text (status, &hint, &kind);
    vd_error_set (err, kind, "%s", what);
    err->http_status = (int)status;
    snprintf (err->hint, sizeof err->hint, "%s", hint);
    const char *name = json_string_value (json_object_get (doc, "name"));
    const char *message = json_string_value (json_object_get (doc, "message"));
    if (message || name)
        vd_error_detail (err, "%s: %s%s%s", model, message ? message : "",
                         message && name ? " " : "", name ? name : "");
    else
        vd_error_detail (err, "%s: HTTP %ld without an Odoo error body", model, status);
    json_decref (doc);
    return -1;
}

int
odoo_json2_test (bool verbose)
{
    int failures = 0;
    char path[128];
    failures += odoo_json2_path ("res.partner", "search_read", path, sizeof path) != 0 ||
                strcmp (path, "/json/2/res.partner/search_read") != 0;
    failures += odoo_json2_path ("res.partner/../x", "read", path, sizeof path) == 0;
    failures += odoo_json2_path ("res.partner", "read?x", path, sizeof path) == 0;
    failures += odoo_json2_path ("", "read", path, sizeof path) == 0;
    failures += odoo_json2_path ("res.partner", "search_read", path, 8) == 0;

    vd_error_t err;
    json_t *r = NULL;
    const char *ok = "[{\"id\": 7, \"name\": \"Dupont\", \"email\": false}]";
    if (odoo_json2_decode (200, ok, strlen (ok), "res.partner", &r, &err) != 0 ||
        json_array_size (r) != 1 ||
        json_integer_value (json_object_get (json_array_get (r, 0), "id")) != 7)
        failures++;
    json_decref (r);
    /* a scalar answer is fine (search_count, context_get) */
    if (odoo_json2_decode (200, "42", 2, "m", &r, &err) != 0 || json_integer_value (r) != 42)
        failures++;
    json_decref (r);
    /* truncated: transient; garbage: permanent */
    const char *cut = "[{\"id\": 7, \"na";
    if (odoo_json2_decode (200, cut, strlen (cut), "m", &r, &err) == 0 ||
        err.kind != VD_ERR_TRANSIENT || r)
        failures++;
    if (odoo_json2_decode (200, "", 0, "m", &r, &err) == 0 || err.kind != VD_ERR_TRANSIENT)
        failures++;
    if (odoo_json2_decode (200, "<html>x</html>", 14, "m", &r, &err) == 0 ||
        err.kind != VD_ERR_PERMANENT)
        failures++;
    /* 401 with Odoo's error body: rotate the API key */
    const char *e401 = "{\"name\": \"werkzeug.exceptions.Unauthorized\", \"message\": \"Invalid "
                       "apikey\", \"arguments\": [\"Invalid apikey\", 401], \"context\": {}}";
    if (odoo_json2_decode (401, e401, strlen (e401), "res.users", &r, &err) == 0 ||
        err.kind != VD_ERR_PERMANENT || !strstr (err.hint, "rotate the API key") ||
        !strstr (err.detail, "Invalid apikey") || err.http_status != 401)
        failures++;
    const long transient[] = {409, 502, 503, 504};
    for (size_t i = 0; i < 4; i++)
        if (odoo_json2_decode (transient[i], "x", 1, "m", &r, &err) == 0 ||
            err.kind != VD_ERR_TRANSIENT)
            failures++;
    const long permanent[] = {400, 403, 404, 422, 429, 500};
    for (size_t i = 0; i < 6; i++)
        if (odoo_json2_decode (permanent[i], "{\"message\": 5}", 14, "m", &r, &err) == 0 ||
            err.kind != VD_ERR_PERMANENT || !strstr (err.detail, "without an Odoo error body"))
            failures++;
    /* a huge number and deep nesting do not crash the decoder */
    const char *huge = "[1e999999, 123456789012345678901234567890]";
    if (odoo_json2_decode (200, huge, strlen (huge), "m", &r, &err) == 0)
        json_decref (r);
    char deep[4096];
    memset (deep, '[', sizeof deep - 1);
    deep[sizeof deep - 1] = '\0';
    if (odoo_json2_decode (200, deep, strlen (deep), "m", &r, &err) == 0)
        failures++;
    if (verbose)
        printf ("  odoo_json2: %d failures\n", failures);
    return failures ? -1 : 0;
}
