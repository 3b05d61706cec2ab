/*  orch_alert_channels - where alert notifications go. */
#include "vendange.h"
#include "vd_db.h"
#include "orch_alert_channels.h"
#include "orch_alerts.h"
#include "orch_runview.h"
#include "orch_secrets.h"
#include "orch_settings.h"

typedef struct {
    const char *type, *key;
    bool required, secret;
    const char *choices; /* "a|b", NULL: any text */
} s_key_t;

static const s_key_t s_keys[] = {
    {"smtp", "url", true, false, NULL},      {"smtp", "user", false, false, NULL},
    {"smtp", "password", false, true, NULL}, {"smtp", "from", true, false, NULL},
    {"smtp", "to", true, false, NULL},       {"smtp", "starttls", false, false, "on|off"},
    {"smtp", "ca_file", false, false, NULL}, {"smtp", "digest", false, false, NULL},
    {"http", "url", true, true, NULL},       {"http", "format", false, false, "json|slack|teams"},
    {"http", "ca_file", false, false, NULL}, {"http", "digest", false, false, NULL},
};

#define NKEYS (sizeof s_keys / sizeof s_keys[0])

static const s_key_t *
s_find (const char *type, const char *key)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp (s_keys[i].type, type) == 0 && strcmp (s_keys[i].key, key) == 0)
            return &s_keys[i];
    return NULL;
}

bool
orch_alert_channels_is_secret (const char *type, const char *key)
{
    const s_key_t *k = type && key ? s_find (type, key) : NULL;
    return k && k->secret;
}

/*  A value of choices "a|b". */
static bool
s_choice (const char *choices, const char *v)
{
    size_t n = strlen (v);
    for (const char *p = choices; p && *p;) {
        size_t len = strcspn (p, "|");
        if (len == n && strncmp (p, v, n) == 0)
            return true;
        p += len + (p[len] == '|');
    }
    return false;
}

/*  The scheme a url must have for its key. */
static bool
s_url_ok (const char *type, const char *v)
{
    if (strcmp (type, "smtp") == 0)
        return strncasecmp (v, "smtp://", 7) == 0 || strncasecmp (v, "smtps://", 8) == 0;
    return strncasecmp (v, "http://", 7) == 0 || strncasecmp (v, "https://", 8) == 0;
}

static int
s_check_one (const char *type, const char *key, const json_t *value, vd_error_t *err)
{
    const s_key_t *k = s_find (type, key);
    const char *v = json_string_value (value);
    if (!k) {
        vd_error_set (err, VD_ERR_PERMANENT, "unknown setting \"%.64s\" for a %s channel", key,
                      type);
        snprintf (err->hint, sizeof err->hint, "%s",
                  strcmp (type, "smtp") == 0 ? "smtp: url, user, password, from, to, starttls, "
                                               "ca_file, digest"
                                             : "http: url, format, ca_file, digest");
        return -1;
    }
    if (!v || !*v || strlen (v) > ORCH_SETTING_MAX_BYTES || !vd_utf8_valid (v, strlen (v)) ||
        strpbrk (v, "\r\n"))
        return vd_error_set (err, VD_ERR_PERMANENT, "setting %s must be a text on one line", key);
    if (k->choices && !s_choice (k->choices, v)) {
        vd_error_set (err, VD_ERR_PERMANENT, "invalid value for %s", key);
        return vd_error_detail (err, "one of %s", k->choices);
    }
    if (strcmp (key, "digest") == 0 &&
        (strlen (v) != 5 || v[2] != ':' || !isdigit ((unsigned char)v[0]) ||
         !isdigit ((unsigned char)v[1]) || !isdigit ((unsigned char)v[3]) ||
         !isdigit ((unsigned char)v[4]) || strcmp (v, "23:59") > 0 || v[3] > '5')) {
        vd_error_set (err, VD_ERR_PERMANENT, "invalid digest time");
        return vd_error_detail (err, "HH:MM, a local time (VENDANGE_TIMEZONE), e.g. 07:30");
    }
    if (strcmp (key, "url") == 0 && !s_url_ok (type, v)) {
        vd_error_set (err, VD_ERR_PERMANENT, "invalid url for a %s channel", type);
        return vd_error_detail (err, strcmp (type, "smtp") == 0 ? "smtp://HOST:PORT (STARTTLS) or "
                                                                  "smtps://HOST:PORT"
                                                                : "http:// or https://");
    }
    return 0;
}

int
orch_alert_channels_validate (const char *type, const json_t *settings, json_t **pub, json_t **sec,
                              vd_error_t *err)
{
    *pub = *sec = NULL;
    if (!type || (strcmp (type, "smtp") != 0 && strcmp (type, "http") != 0))
        return vd_error_set (err, VD_ERR_PERMANENT, "a channel's type is smtp or http");
    if (!json_is_object (settings))
        return vd_error_set (err, VD_ERR_PERMANENT, "\"settings\" must be an object");
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *)settings, key, value)
    {
        if (s_check_one (type, key, value, err) < 0)
            return -1;
    }
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp (s_keys[i].type, type) == 0 && s_keys[i].required &&
            !json_object_get (settings, s_keys[i].key))
            return vd_error_set (err, VD_ERR_PERMANENT, "a %s channel needs %s", type,
                                 s_keys[i].key);
    *pub = json_object ();
    *sec = json_object ();
    json_object_foreach ((json_t *)settings, key, value)
    {
        json_object_set (orch_alert_channels_is_secret (type, key) ? *sec : *pub, key, value);
    }
    return 0;
}

void
orch_alert_channels_list (PGconn *conn, orch_answer_t *a)
{
    orch_answer_query (
        conn,
        "SELECT coalesce(json_agg(json_build_object('name', name, 'type', type,"
        " 'settings', settings, 'secrets', secret_names, 'updated_at', " ORCH_SQL_ISO (
            "updated_at") ") ORDER BY name), '[]') FROM ops.alert_channels",
        0, NULL, 200, "no channels", NULL, a);
}

static void
s_store (PGconn *conn, const vd_secret_key_t *key, const char *name, const char *type,
         const json_t *pub, const json_t *sec, orch_answer_t *a)
{
    vd_error_t err;
    vd_error_clear (&err);
    char context[120], *hex = NULL;
    orch_alerts_channel_context (name, context, sizeof context);
    if (json_object_size (sec) > 0 && (!key || !key->set)) {
        orch_answer_error (a, 409,
                           "no VENDANGE_SECRET_KEY: a channel with secrets cannot be stored", NULL,
                           "set VENDANGE_SECRET_KEY (vendange secret-key prints one)");
        return;
    }
    if (orch_secrets_seal (key, context, sec, &hex, &err) < 0) {
        orch_answer_fail (a, &err);
        return;
    }
    char *settings = json_dumps (pub, JSON_COMPACT);
    json_t *names = json_array ();
    const char *k;
    json_t *v;
    json_object_foreach ((json_t *)sec, k, v) json_array_append_new (names, json_string (k));
    char *secret_names = json_dumps (names, JSON_COMPACT);
    json_decref (names);
    const char *params[] = {name, type, settings, hex, secret_names};
    if (!settings || !secret_names)
        vd_error_set (&err, VD_ERR_TRANSIENT, "out of memory");
    else if (vd_db_command (conn,
                            "INSERT INTO ops.alert_channels (name, type, settings, secrets,"
                            " secret_names) VALUES ($1, $2, $3::jsonb, decode($4, 'hex'),"
                            " ARRAY(SELECT jsonb_array_elements_text($5::jsonb)))"
                            " ON CONFLICT (name) DO UPDATE SET type = EXCLUDED.type,"
                            " settings = EXCLUDED.settings, secrets = EXCLUDED.secrets,"
                            " secret_names = EXCLUDED.secret_names, updated_at = now()",
                            5, params, &err) == 0)
        orch_answer_json (a, 201, json_pack ("{s:s, s:s}", "name", name, "type", type));
    if (err.msg[0])
        orch_answer_fail (a, &err);
    free (settings);
    free (secret_names);
    free (hex);
}

void
orch_alert_channels_create (PGconn *conn, const vd_secret_key_t *key, const orch_request_t *req,
                            orch_answer_t *a)
{
    json_t *body = orch_request_json (req, a);
    if (!body)
        return;
    const char *name = json_string_value (json_object_get (body, "name"));
    const char *type = json_string_value (json_object_get (body, "type"));
    json_t *pub = NULL, *sec = NULL;
    vd_error_t err;
    vd_error_clear (&err);
    if (!orch_settings_name_valid (name))
        orch_answer_error (a, 400, "invalid channel name", NULL,
                           "letters, digits, '_', '.', '-'; at most 64");
    else if (orch_alert_channels_validate (type, json_object_get (body, "settings"), &pub, &sec,
                                           &err) < 0)
        orch_answer_error (a, 400, err.msg, err.detail[0] ? err.detail : NULL,
                           err.hint[0] ? err.hint : NULL);
    else
        s_store (conn, key, name, type, pub, sec, a);
    json_decref (pub);
    json_decref (sec);
    json_decref (body);
}

void
orch_alert_channels_delete (PGconn *conn, const char *name, orch_answer_t *a)
{
    orch_answer_query (conn,
                       "WITH d AS (DELETE FROM ops.alert_channels WHERE name = $1 RETURNING name)"
                       " SELECT json_build_object('removed', name) FROM d",
                       1, (const char *[]){name}, 200, "no such channel",
                       "vendange alerts channel list", a);
}

int
orch_alert_channels_test (bool verbose)
{
    int failed = 0;
    vd_error_t err;
    vd_error_clear (&err);
    json_t *pub, *sec;
    json_t *s = json_pack ("{s:s, s:s, s:s, s:s, s:s}", "url", "smtp://mail:587", "user", "u",
                           "password", "p", "from", "a@x.fr", "to", "b@y.fr");
    failed += orch_alert_channels_validate ("smtp", s, &pub, &sec, &err) != 0 ||
              json_object_get (pub, "password") || !json_object_get (sec, "password") ||
              !json_object_get (pub, "url");
    json_decref (pub);
    json_decref (sec);
    json_object_set_new (s, "starttls", json_string ("maybe"));
    failed += orch_alert_channels_validate ("smtp", s, &pub, &sec, &err) == 0;
    json_object_set_new (s, "starttls", json_string ("off"));
    json_object_set_new (s, "url", json_string ("http://mail"));
    failed += orch_alert_channels_validate ("smtp", s, &pub, &sec, &err) == 0;
    json_object_del (s, "url");
    failed += orch_alert_channels_validate ("smtp", s, &pub, &sec, &err) == 0 ||
              !strstr (err.msg, "needs url");
    json_decref (s);
    s = json_pack ("{s:s, s:s}", "url", "https://hooks.slack.com/x", "format", "slack");
    failed += orch_alert_channels_validate ("http", s, &pub, &sec, &err) != 0 ||
              json_object_get (pub, "url") || !json_object_get (sec, "url");
    json_decref (pub);
    json_decref (sec);
    json_object_set_new (s, "bogus", json_string ("1"));
    failed += orch_alert_channels_validate ("http", s, &pub, &sec, &err) == 0 ||
              !strstr (err.msg, "bogus");
    json_object_del (s, "bogus");
    json_object_set_new (s, "format", json_string ("x\nBcc"));
    failed += orch_alert_channels_validate ("http", s, &pub, &sec, &err) == 0;
    failed += orch_alert_channels_validate ("pigeon", s, &pub, &sec, &err) == 0;
    json_object_set_new (s, "format", json_string ("teams"));
    json_object_set_new (s, "digest", json_string ("24:00"));
    failed += orch_alert_channels_validate ("http", s, &pub, &sec, &err) == 0;
    json_object_set_new (s, "digest", json_string ("07:60"));
    failed += orch_alert_channels_validate ("http", s, &pub, &sec, &err) == 0;
    json_object_set_new (s, "digest", json_string ("07:30"));
    failed += orch_alert_channels_validate ("http", s, &pub, &sec, &err) != 0;
    json_decref (pub);
    json_decref (sec);
    json_decref (s);
    failed += !orch_alert_channels_is_secret ("http", "url");
    failed += orch_alert_channels_is_secret ("smtp", "url");
    if (verbose)
        printf ("orch_alert_channels_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
