/*  odoo_probe - an Odoo connector's settings, and its `connector test`. */
#include "odoo_probe.h"
#include "odoo_sync.h"

#define DEFAULT_PAGE 1000
#define DEFAULT_LAG_S 10
#define MAX_PAGE 100000

static const char *
s_str (const json_t *settings, const char *key)
{
    const char *v = json_string_value (json_object_get (settings, key));
    return v && *v ? v : NULL;
}

/*  An integer setting given as a JSON integer or as text. */
static int
s_int (const json_t *settings, const char *key, int64_t def, int64_t min, int64_t max, int *out,
       vd_error_t *err)
{
    json_t *v = json_object_get (settings, key);
    int64_t n = def;
    if (json_is_integer (v))
        n = json_integer_value (v);
    else if (json_is_string (v) && vd_parse_int (json_string_value (v), min, max, &n) < 0)
        n = min - 1;
    else if (v && !json_is_null (v) && !json_is_string (v))
        n = min - 1;
    if (n < min || n > max)
        return vd_error_set (err, VD_ERR_PERMANENT,
                             "setting \"%s\" must be an integer from %" PRId64 " to %" PRId64, key,
                             min, max);
    *out = (int)n;
    return 0;
}

int
odoo_settings_read (const json_t *settings, odoo_settings_t *out, vd_error_t *err)
{
    memset (out, 0, sizeof *out);
    out->url = s_str (settings, "url");
    out->database = s_str (settings, "database");
    out->user = s_str (settings, "user");
    out->api_key = s_str (settings, "api_key");
    out->transport = s_str (settings, "transport");
    out->ca_file = s_str (settings, "ca_file");
    out->field_mapping = s_str (settings, "field_mapping");
    out->unit_table = s_str (settings, "unit_table");
    const char *missing = !out->url        ? "url"
                          : !out->database ? "database"
                          : !out->user     ? "user"
                          : !out->api_key  ? "api_key"
                                           : NULL;
    if (missing)
        return vd_error_set (err, VD_ERR_PERMANENT, "the connector has no \"%s\" setting", missing);
    if (out->transport && strcmp (out->transport, "auto") != 0 &&
        strcmp (out->transport, "xmlrpc") != 0 && strcmp (out->transport, "json2") != 0)
        return vd_error_set (err, VD_ERR_PERMANENT,
                             "setting \"transport\" must be auto, xmlrpc "
                             "or json2");
    if (s_int (settings, "page_size", DEFAULT_PAGE, 1, MAX_PAGE, &out->page_size, err) < 0 ||
        s_int (settings, "safety_lag_s", DEFAULT_LAG_S, 0, 86400, &out->safety_lag_s, err) < 0)
        return -1;
    out->reconcile_s = odoo_sync_reconcile_interval (s_str (settings, "reconcile"));
    if (out->reconcile_s == -2)
        return vd_error_set (err, VD_ERR_PERMANENT,
                             "setting \"reconcile\" must be off, always, or a duration such as "
                             "1d, 12h, 30m, 3600");
    return 0;
}

odoo_client_opts_t
odoo_settings_client (const odoo_settings_t *s, int attempts, vd_httpc_tick_fn *tick, void *arg)
{
    return (odoo_client_opts_t){s->url, s->database, s->user, s->api_key, s->transport, s->ca_file,
                                60,     attempts,    250,     tick,       arg};
}

/*  Redacts secret from every string of the answer. */
static json_t *
s_redacted (json_t *answer, const char *secret)
{
    char *text = json_dumps (answer, JSON_COMPACT);
    if (!text || !secret || strlen (secret) < 4 || !strstr (text, secret)) {
        free (text);
        return answer;
    }
    odoo_client_redact (text, strlen (text) + 1, secret);
    json_t *clean = json_loads (text, 0, NULL);
    free (text);
    json_decref (answer);
    return clean ? clean : json_pack ("{s:s, s:b}", "type", "tested", "ok", 0);
}

json_t *
odoo_probe_build (const char *request_id, const char *summary, json_t *checks, json_t *warnings,
                  json_t *details, const vd_error_t *err, const char *secret)
{
    json_t *a =
        json_pack ("{s:s, s:s, s:b, s:s, s:o, s:o, s:o}", "type", "tested", "request_id",
                   request_id ? request_id : "", "ok", err == NULL, "summary", summary, "checks",
                   checks ? checks : json_array (), "warnings", warnings ? warnings : json_array (),
                   "details", details ? details : json_object ());
    if (a && err)
        json_object_set_new (a, "error",
                             json_pack ("{s:s, s:s, s:s}", "reason", err->msg, "detail",
                                        err->detail, "hint", err->hint));
    return a ? s_redacted (a, secret) : NULL;
}

/*  fields_get for the mapping checks (cache: model -> answer). */
typedef struct {
    odoo_client_t *client;
    json_t *cache;
} s_fields_t;

static json_t *
s_fields_of (void *arg, const char *model, vd_error_t *err)
{
    s_fields_t *f = arg;
    json_t *known = json_object_get (f->cache, model);
    if (known)
        return known;
    json_t *kwargs = json_pack ("{s:[s, s]}", "attributes", "type", "relation"), *r = NULL;
    int rc = odoo_client_call (f->client, model, "fields_get", kwargs, NULL, NULL, &r, err);
    json_decref (kwargs);
    if (rc < 0 || !json_is_object (r)) {
        json_decref (r);
        return NULL;
    }
    json_object_set_new (f->cache, model, r);
    return r;
}

/*  One check per mapped model. Returns the first failure, or 0. */
static int
s_check_models (odoo_client_t *client, const odoo_settings_t *s, json_t *checks, vd_error_t *err)
{
    vd_error_t e;
    vd_error_clear (&e);
    odoo_mapping_t *map = s->field_mapping ? odoo_mapping_load (s->field_mapping, &e)
                                           : odoo_mapping_new (NULL, 0, &e);
    if (!map) {
        json_array_append_new (checks, json_pack ("{s:s, s:b, s:s}", "check", "field_mapping", "ok",
                                                  0, "message", e.msg));
        *err = e;
        return -1;
    }
    s_fields_t f = {client, json_object ()};
    int rc = 0;
    for (size_t i = 0; i < odoo_mapping_size (map); i++) {
        odoo_model_map_t *m = odoo_mapping_at (map, i);
        char check[96], msg[160];
        snprintf (check, sizeof check, "model:%s", m->model);
        vd_error_clear (&e);
        bool ok = odoo_mapping_resolve (m, s_fields_of, &f, odoo_client_version (client), &e) == 0;
        size_t present = 0;
        for (size_t k = 0; k < m->nfields; k++)
            present += m->fields[k].present;
        snprintf (msg, sizeof msg, "%zu fields mapped to %s", present,
                  vd_schema_table (m->table)->name);
        json_array_append_new (checks, json_pack ("{s:s, s:b, s:s}", "check", check, "ok", ok,
                                                  "message", ok ? msg : e.msg));
        if (!ok && rc == 0) {
            *err = e;
            rc = -1;
        }
    }
    json_decref (f.cache);
    odoo_mapping_destroy (&map);
    return rc;
}

json_t *
odoo_probe_answer (const json_t *request, vd_httpc_tick_fn *tick, void *arg)
{
    const char *id = json_string_value (json_object_get (request, "request_id"));
    odoo_settings_t s;
    vd_error_t err;
    vd_error_clear (&err);
    if (odoo_settings_read (json_object_get (request, "settings"), &s, &err) < 0)
        return odoo_probe_build (id, err.msg, NULL, NULL, NULL, &err, NULL);
    odoo_client_opts_t opts = odoo_settings_client (&s, 2, tick, arg);
    opts.timeout_s = 10;
    odoo_client_t *client = odoo_client_new (&opts, &err);
    json_t *checks = json_array (), *warnings = json_array ();
    int rc = client ? odoo_client_connect (client, checks, &err) : -1;
    if (rc == 0)
        rc = s_check_models (client, &s, checks, &err);
    char summary[1024];
    const char *transport = client ? odoo_client_transport_name (client) : "auto";
    if (client && odoo_client_transport (client) == ODOO_XMLRPC)
        json_array_append_new (warnings, json_string (odoo_client_xmlrpc_warning));
    json_t *details = json_pack ("{s:s, s:s, s:s, s:I}", "transport", transport, "server_version",
                                 client ? odoo_client_version (client) : "", "url", s.url, "uid",
                                 (json_int_t)(client ? odoo_client_uid (client) : 0));
    if (rc == 0)
        snprintf (summary, sizeof summary, "Odoo %s at %s, user %" PRId64 ", transport %s",
                  odoo_client_version (client), s.url, odoo_client_uid (client), transport);
    else
        snprintf (summary, sizeof summary, "Odoo at %s: %s", s.url, err.msg);
    odoo_client_destroy (&client);
    return odoo_probe_build (id, summary, checks, warnings, details, rc == 0 ? NULL : &err,
                             s.api_key);
}

int
odoo_probe_test (bool verbose)
{
    int failures = 0;
    vd_error_t err;
    vd_error_set (&err, VD_ERR_PERMANENT, "Odoo refused the API key (HTTP 401)");
    snprintf (err.hint, sizeof err.hint, "rotate the API key");
    vd_error_detail (&err, "sent key 0123456789abcdef was refused");
    json_t *checks = json_pack ("[{s:s, s:b, s:s}]", "check", "authenticate", "ok", 0, "message",
                                "key 0123456789abcdef refused");
    json_t *a =
        odoo_probe_build ("req-7", "Odoo at https://x: refused", checks,
                          json_pack ("[s]", odoo_client_xmlrpc_warning),
                          json_pack ("{s:s}", "transport", "json2"), &err, "0123456789abcdef");
    char *text = json_dumps (a, JSON_COMPACT);
    failures += !text || strstr (text, "0123456789abcdef") != NULL;
    failures += strcmp (json_string_value (json_object_get (a, "type")), "tested") != 0;
    failures += strcmp (json_string_value (json_object_get (a, "request_id")), "req-7") != 0;
    failures += !json_is_false (json_object_get (a, "ok"));
    failures += !strstr (json_string_value (json_object_get (json_object_get (a, "error"), "hint")),
                         "rotate the API key");
    failures += json_array_size (json_object_get (a, "warnings")) != 1;
    free (text);
    json_decref (a);
    a = odoo_probe_build ("r", "Odoo 17.0 at http://x, user 2, transport xmlrpc", NULL, NULL, NULL,
                          NULL, NULL);
    failures += !json_is_true (json_object_get (a, "ok")) || json_object_get (a, "error");
    json_decref (a);
    /* settings: missing and bad values are named */
    odoo_settings_t s;
    json_t *bad[] = {json_pack ("{s:s}", "url", "http://x"),
                     json_pack ("{s:s, s:s, s:s, s:s, s:i}", "url", "u", "database", "d", "user",
                                "u", "api_key", "k", "page_size", 0),
                     json_pack ("{s:s, s:s, s:s, s:s, s:s}", "url", "u", "database", "d", "user",
                                "u", "api_key", "k", "reconcile", "weekly"),
                     json_pack ("{s:s, s:s, s:s, s:s, s:s}", "url", "u", "database", "d", "user",
                                "u", "api_key", "k", "transport", "soap"),
                     json_pack ("{s:s, s:s, s:s, s:s, s:s}", "url", "u", "database", "d", "user",
                                "u", "api_key", "k", "safety_lag_s", "ten")};
    for (size_t i = 0; i < 5; i++) {
        failures += odoo_settings_read (bad[i], &s, &err) == 0;
        json_decref (bad[i]);
    }
    json_t *good = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:i}", "url", "http://x", "database", "d",
                              "user", "u", "api_key", "k", "page_size", "500", "safety_lag_s", 0);
    failures += odoo_settings_read (good, &s, &err) != 0 || s.page_size != 500 ||
                s.safety_lag_s != 0 || s.reconcile_s != 86400;
    json_decref (good);
    /* a test against nothing: a clean failed answer, no secret */
    json_t *req = json_pack ("{s:s, s:s, s:{s:s, s:s, s:s, s:s}}", "type", "test", "request_id",
                             "q1", "settings", "url", "http://127.0.0.1:1", "database", "d", "user",
                             "u", "api_key", "topsecret-key");
    a = odoo_probe_answer (req, NULL, NULL);
    text = json_dumps (a, JSON_COMPACT);
    failures +=
        !text || strstr (text, "topsecret-key") || !json_is_false (json_object_get (a, "ok"));
    if (verbose)
        printf ("  odoo_probe: %s\n", text ? text : "?");
    free (text);
    json_decref (a);
    json_decref (req);
    return failures ? -1 : 0;
}
