/*  orch_settings - connector names, types and settings, from one table. */
#include "vendange.h"
#include "orch_schedule.h"
#include "orch_settings.h"
#include <ctype.h>
#include <strings.h>

typedef enum {
    S_TEXT,     /* any non-empty text                                  */
    S_PATH,     /* an absolute path (the extractor may run elsewhere)   */
    S_URL,      /* http:// or https://                                  */
    S_BOOL,     /* true/false, yes/no, 1/0                              */
    S_INT,      /* integer within [min, max]                            */
    S_ENCODING, /* a label vd_utf8_encoding_name knows                  */
    S_SCHEDULE, /* orch_schedule_parse accepts it                       */
    S_CHOICE,   /* one of choices ("a|b|c")                             */
    S_ADDRESSES /* IP addresses or CIDR ranges, comma separated         */
} s_kind_t;

#define S_REQUIRED 0x01
#define S_SECRET 0x02
#define S_ENDPOINT 0x04 /* where secrets go: changing it drops the stored secrets */

typedef struct {
    const char *type;
    const char *key;
    s_kind_t kind;
    unsigned flags;
    const char *choices;
    int64_t min, max;
} s_setting_t;

static const s_setting_t s_settings[] = {
    {"isavigne", "export_path", S_PATH, S_REQUIRED},
    {"isavigne", "mapping", S_PATH},
    {"isavigne", "unit_table", S_PATH},
    {"isavigne", "encoding", S_ENCODING},
    {"isavigne", "full_snapshot", S_BOOL},
    {"isavigne", "schedule", S_SCHEDULE},
    {"odoo", "url", S_URL, S_REQUIRED | S_ENDPOINT},
    {"odoo", "allow_insecure", S_BOOL},
    {"odoo", "database", S_TEXT, S_REQUIRED | S_ENDPOINT},
    {"odoo", "user", S_TEXT, S_REQUIRED | S_ENDPOINT},
    {"odoo", "api_key", S_TEXT, S_REQUIRED | S_SECRET},
    {"odoo", "api_key_created", S_TEXT}, /* YYYY-MM-DD: the odoo_key alert */
    {"odoo", "transport", S_CHOICE, 0, "auto|xmlrpc|json2"},
    {"odoo", "page_size", S_INT, 0, NULL, 1, 100000},
    {"odoo", "field_mapping", S_PATH},
    {"odoo", "unit_table", S_PATH},
    {"odoo", "safety_lag_s", S_INT, 0, NULL, 0, 86400},
    {"odoo", "reconcile", S_TEXT},
    {"odoo", "ca_file", S_PATH},
    {"odoo", "schedule", S_SCHEDULE},
    {"brevo", "token", S_TEXT, S_SECRET},
    {"brevo", "user", S_TEXT, S_ENDPOINT},
    {"brevo", "password", S_TEXT, S_SECRET},
    {"brevo", "allow_ips", S_ADDRESSES},
    {"brevo", "trusted_proxies", S_ADDRESSES},
    {"powerautomate", "token", S_TEXT, S_SECRET},
    {"powerautomate", "user", S_TEXT, S_ENDPOINT},
    {"powerautomate", "password", S_TEXT, S_SECRET},
    {"powerautomate", "allow_ips", S_ADDRESSES},
    {"powerautomate", "trusted_proxies", S_ADDRESSES},
};

#define NSETTINGS (sizeof s_settings / sizeof s_settings[0])

static const char *s_types[] = {"isavigne", "odoo", "brevo", "powerautomate", NULL};

bool
orch_settings_name_valid (const char *name)
{
    if (!name || !isalnum ((unsigned char)name[0]) || (unsigned char)name[0] >= 0x80)
        return false;
    size_t n = strlen (name);
    if (n > 64)
        return false;
    for (size_t i = 1; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!(isalnum (c) || c == '_' || c == '.' || c == '-') || c >= 0x80)
            return false;
    }
    return true;
}

bool
orch_settings_type_known (const char *type)
{
    for (int i = 0; type && s_types[i]; i++)
        if (strcmp (type, s_types[i]) == 0)
            return true;
    return false;
}

static const s_setting_t *
s_find (const char *type, const char *key)
{
    for (size_t i = 0; i < NSETTINGS; i++)
        if (strcmp (s_settings[i].type, type) == 0 && strcmp (s_settings[i].key, key) == 0)
            return &s_settings[i];
    return NULL;
}

bool
orch_settings_is_secret (const char *type, const char *key)
{
    const s_setting_t *s = type && key ? s_find (type, key) : NULL;
    return s && (s->flags & S_SECRET);
}

bool
orch_settings_is_secret_name (const char *key)
{
    for (size_t i = 0; key && i < NSETTINGS; i++)
        if ((s_settings[i].flags & S_SECRET) && strcmp (s_settings[i].key, key) == 0)
            return true;
    return false;
}

bool
orch_settings_is_endpoint (const char *type, const char *key)
{
    const s_setting_t *s = type && key ? s_find (type, key) : NULL;
    return s && (s->flags & S_ENDPOINT);
}

bool
orch_settings_is_path (const char *type, const char *key)
{
    const s_setting_t *s = type && key ? s_find (type, key) : NULL;
    return s && s->kind == S_PATH;
}

/*  The accepted keys of a type, for hints ("export_path, mapping, ..."). */
static void
s_key_list (const char *type, char *out, size_t size)
{
    vd_buf_t b;
    vd_buf_init (&b, size > 0 ? size - 1 : 0);
    for (size_t i = 0; i < NSETTINGS; i++)
        if (strcmp (s_settings[i].type, type) == 0)
            if (vd_buf_printf (&b, "%s%s", b.len ? ", " : "", s_settings[i].key) < 0)
                break;
    snprintf (out, size, "%s", vd_buf_str (&b));
    vd_buf_free (&b);
}

static int
s_parse_bool (const char *s, bool *out)
{
    static const char *yes[] = {"true", "yes", "on", "1", NULL};
    static const char *no[] = {"false", "no", "off", "0", NULL};
    for (int i = 0; yes[i]; i++)
        if (strcasecmp (s, yes[i]) == 0)
            return (*out = true), 0;
    for (int i = 0; no[i]; i++)
        if (strcasecmp (s, no[i]) == 0)
            return (*out = false), 0;
    return -1;
}

static bool
s_addresses_valid (const char *s)
{
    for (const char *p = s; *p; p++)
        if (!(isxdigit ((unsigned char)*p) || strchr (".:/, ", *p)))
            return false;
    return true;
}

/*  The value as text: a string as is, an integer or boolean printed.
    Returns -1 for other JSON types. */
static int
s_value_text (json_t *value, char *out, size_t size)
{
    if (json_is_string (value))
        snprintf (out, size, "%s", json_string_value (value));
    else if (json_is_integer (value))
        snprintf (out, size, "%" JSON_INTEGER_FORMAT, json_integer_value (value));
    else if (json_is_boolean (value))
        snprintf (out, size, "%s", json_is_true (value) ? "true" : "false");
    else
        return -1;
    return 0;
}

/*  Checks the kinds stored as text. Returns 0, -1 with err. */
static int
s_check_text (const s_setting_t *def, const char *v, vd_error_t *err)
{
    if (def->kind == S_PATH && v[0] != '/') {
        vd_error_set (err, VD_ERR_PERMANENT, "setting \"%s\" must be an absolute path", def->key);
        vd_error_detail (err, "got \"%s\"", v);
        snprintf (err->hint, sizeof err->hint,
                  "the extractor may run in another folder or on another host");
        return -1;
    }
    if (def->kind == S_URL && strncmp (v, "http://", 7) != 0 && strncmp (v, "https://", 8) != 0)
        return vd_error_set (err, VD_ERR_PERMANENT,
                             "setting \"%s\" must be an http:// or https:// URL", def->key);
    if (def->kind == S_ADDRESSES && !s_addresses_valid (v))
        return vd_error_set (err, VD_ERR_PERMANENT,
                             "setting \"%s\" must list IP addresses or CIDR ranges", def->key);
    if (def->kind == S_CHOICE) {
        size_t n = strlen (v);
        const char *c = strstr (def->choices, v);
        bool ok = c && (c == def->choices || c[-1] == '|') && (c[n] == '\0' || c[n] == '|');
        if (!ok || strchr (v, '|')) {
            vd_error_set (err, VD_ERR_PERMANENT, "setting \"%s\" must be one of %s", def->key,
                          def->choices);
            return vd_error_detail (err, "got \"%s\"", v);
        }
    }
    return 0;
}

/*  Checks one value against its definition; returns the value to store
    (new reference) or NULL with err. */
static json_t *
s_check_value (const s_setting_t *def, json_t *value, vd_error_t *err)
{
    char v[ORCH_SETTING_MAX_BYTES + 2];
    if (s_value_text (value, v, sizeof v) < 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "setting \"%s\" must be a string", def->key);
        return NULL;
    }
    if (json_is_string (value) && json_string_length (value) > ORCH_SETTING_MAX_BYTES) {
        vd_error_set (err, VD_ERR_PERMANENT, "setting \"%s\" is too long", def->key);
        vd_error_detail (err, "at most %d bytes", ORCH_SETTING_MAX_BYTES);
        return NULL;
    }
    if ((json_is_string (value) && strlen (v) != json_string_length (value)) || *v == '\0') {
        vd_error_set (err, VD_ERR_PERMANENT, "setting \"%s\" is empty or holds a NUL byte",
                      def->key);
        return NULL;
    }
    bool b;
    int64_t n;
    const char *name;
    switch (def->kind) {
    case S_BOOL:
        if (s_parse_bool (v, &b) == 0)
            return json_boolean (b);
        vd_error_set (err, VD_ERR_PERMANENT, "setting \"%s\" must be true or false", def->key);
        vd_error_detail (err, "got \"%s\"", v);
        return NULL;
    case S_INT:
        if (vd_parse_int (v, def->min, def->max, &n) == 0)
            return json_integer (n);
        vd_error_set (err, VD_ERR_PERMANENT,
                      "setting \"%s\" must be an integer from %" PRId64 " to %" PRId64, def->key,
                      def->min, def->max);
        vd_error_detail (err, "got \"%s\"", v);
        return NULL;
    case S_SCHEDULE: {
        orch_schedule_t schedule;
        return orch_schedule_parse (v, &schedule, err) == 0 ? json_string (v) : NULL;
    }
    case S_ENCODING:
        name = vd_utf8_encoding_name (v);
        if (name)
            return json_string (name);
        vd_error_set (err, VD_ERR_PERMANENT, "unknown encoding \"%s\" in setting \"%s\"", v,
                      def->key);
        snprintf (err->hint, sizeof err->hint,
                  "use utf-8, windows-1252, iso-8859-1 or iso-8859-15");
        return NULL;
    default:
        if (s_check_text (def, v, err) < 0)
            return NULL;
        return json_string (v);
    }
}

/*  Required settings: isavigne export_path, odoo url/database/user/
    api_key; a webhook needs a token or a user and a password. */
static int
s_check_required (const char *type, json_t *pub, json_t *sec, vd_error_t *err)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        const s_setting_t *d = &s_settings[i];
        if (strcmp (d->type, type) != 0 || !(d->flags & S_REQUIRED))
            continue;
        if (!json_object_get ((d->flags & S_SECRET) ? sec : pub, d->key)) {
            vd_error_set (err, VD_ERR_PERMANENT, "setting \"%s\" is required for a %s connector",
                          d->key, type);
            snprintf (err->hint, sizeof err->hint, "add --set %s=...", d->key);
            return -1;
        }
    }
    if (strcmp (type, "brevo") == 0 || strcmp (type, "powerautomate") == 0) {
        bool token = json_object_get (sec, "token") != NULL;
        bool basic = json_object_get (pub, "user") && json_object_get (sec, "password");
        if (!token && !basic) {
            vd_error_set (err, VD_ERR_PERMANENT,
                          "a %s connector needs a \"token\" or a \"user\" and a \"password\"",
                          type);
            snprintf (err->hint, sizeof err->hint,
                      "give secrets as --set token=@FILE or --set token=env:VAR");
            return -1;
        }
    }
    return 0;
}

/*  True when path, absolute, is root or inside it, written without "."
    or ".." segments. */
static bool
s_under (const char *path, const char *root, size_t rlen)
{
    while (rlen > 1 && root[rlen - 1] == '/')
        rlen--;
    if (rlen == 0 || root[0] != '/' || strncmp (path, root, rlen) != 0)
        return false;
    if (!(path[rlen] == '/' || path[rlen] == '\0' || rlen == 1))
        return false;
    for (const char *p = path; (p = strchr (p, '/')) != NULL; p++) {
        size_t n = strcspn (p + 1, "/");
        if ((n == 1 && p[1] == '.') || (n == 2 && p[1] == '.' && p[2] == '.'))
            return false;
    }
    return true;
}

int
orch_settings_path_allowed (const char *type, const char *key, const char *path,
                            const char *export_path, const char *files_root, vd_error_t *err)
{
    if (strcmp (key, "export_path") == 0)
        return 0; /* the export folder is itself a root */
    if (export_path && *export_path && s_under (path, export_path, strlen (export_path)))
        return 0;
    for (const char *r = files_root ? files_root : ""; *r;) {
        size_t n = strcspn (r, ":");
        if (n && s_under (path, r, n))
            return 0;
        r += n + (r[n] == ':');
    }
    vd_error_set (err, VD_ERR_PERMANENT, "setting \"%s\" must name a file %sin a folder of %s", key,
                  strcmp (type, "isavigne") == 0 ? "of the export folder or " : "",
                  "VENDANGE_FILES_ROOT");
    vd_error_detail (err, "got \"%.200s\"", path);
    snprintf (err->hint, sizeof err->hint,
              "put the file in the export folder, or list its folder in VENDANGE_FILES_ROOT "
              "(colon separated) on the orchestrator");
    return -1;
}

/*  Rules across settings: an http:// Odoo only with allow_insecure, file
    settings under the roots. Returns 0, -1 with err. */
static int
s_check_cross (const char *type, json_t *pub, const char *files_root, vd_error_t *err)
{
    const char *url = json_string_value (json_object_get (pub, "url"));
    if (strcmp (type, "odoo") == 0 && url && strncmp (url, "http://", 7) == 0 &&
        !json_is_true (json_object_get (pub, "allow_insecure"))) {
        vd_error_set (err, VD_ERR_PERMANENT, "an http:// Odoo URL would send the API key in clear");
        snprintf (err->hint, sizeof err->hint,
                  "use https://, or add --set allow_insecure=true for a server on a trusted "
                  "network");
        return -1;
    }
    const char *export_path = json_string_value (json_object_get (pub, "export_path"));
    const char *key;
    json_t *value;
    json_object_foreach (pub, key, value)
    {
        if (orch_settings_is_path (type, key) &&
            orch_settings_path_allowed (type, key, json_string_value (value), export_path,
                                        files_root, err) < 0)
            return -1;
    }
    return 0;
}

int
orch_settings_validate (const char *type, json_t *settings, const char *files_root,
                        json_t **public_out, json_t **secrets_out, vd_error_t *err)
{
    *public_out = *secrets_out = NULL;
    if (!orch_settings_type_known (type)) {
        vd_error_set (err, VD_ERR_PERMANENT, "unknown connector type \"%s\"", type ? type : "");
        snprintf (err->hint, sizeof err->hint, "types: isavigne, odoo, brevo, powerautomate");
        return -1;
    }
    if (settings && !json_is_object (settings))
        return vd_error_set (err, VD_ERR_PERMANENT, "\"settings\" must be a JSON object");
    json_t *pub = json_object ();
    json_t *sec = json_object ();
    const char *key;
    json_t *value;
    json_object_foreach (settings, key, value)
    {
        const s_setting_t *def = s_find (type, key);
        if (!def) {
            vd_error_set (err, VD_ERR_PERMANENT, "unknown setting \"%.100s\" for a %s connector",
                          key, type);
            char keys[200];
            s_key_list (type, keys, sizeof keys);
            snprintf (err->hint, sizeof err->hint, "settings of a %s connector: %s", type, keys);
            goto err;
        }
        json_t *stored = s_check_value (def, value, err);
        if (!stored || json_object_set_new ((def->flags & S_SECRET) ? sec : pub, key, stored) < 0)
            goto err;
    }
    if (s_check_required (type, pub, sec, err) < 0 ||
        s_check_cross (type, pub, files_root, err) < 0)
        goto err;
    *public_out = pub;
    *secrets_out = sec;
    return 0;
err:
    json_decref (pub);
    json_decref (sec);
    return -1;
}

/*  Validates settings given as JSON text; returns 0/-1 and, on failure,
    copies the error message into msg. */
static int
s_try (const char *type, const char *text, char *msg, size_t size, json_t **pub_out)
{
    json_t *in = json_loads (text, 0, NULL);
    json_t *pub = NULL, *sec = NULL;
    vd_error_t err;
    vd_error_clear (&err);
    int rc = orch_settings_validate (type, in, "/etc/vendange:/srv/files/", &pub, &sec, &err);
    snprintf (msg, size, "%s", err.msg);
    if (pub_out && rc == 0)
        *pub_out = json_incref (pub);
    json_decref (in);
    json_decref (pub);
    json_decref (sec);
    return rc;
}

static void
s_test_names (int *failed)
{
    char msg[512];
    msg[0] = '\0';
    VD_CHECK_WHY (failed, orch_settings_name_valid ("isv_main"), msg);
    VD_CHECK_WHY (failed, orch_settings_name_valid ("A.b-c_9"), msg);
    VD_CHECK_WHY (failed, !orch_settings_name_valid ("_x"), msg);
    VD_CHECK_WHY (failed, !orch_settings_name_valid (""), msg);
    VD_CHECK_WHY (failed, !orch_settings_name_valid ("a b"), msg);
    VD_CHECK_WHY (failed, !orch_settings_name_valid ("caf\xc3\xa9"), msg);
    VD_CHECK_WHY (failed,
                  orch_settings_name_valid (
                      "a234567890123456789012345678901234567890123456789012345678901234"),
                  msg);
    VD_CHECK_WHY (failed,
                  !orch_settings_name_valid (
                      "a2345678901234567890123456789012345678901234567890123456789012345"),
                  msg);
    VD_CHECK_WHY (failed, orch_settings_type_known ("odoo") && !orch_settings_type_known ("csv"),
                  msg);
    VD_CHECK_WHY (failed, !orch_settings_type_known (NULL), msg);
    VD_CHECK_WHY (failed, orch_settings_is_secret ("odoo", "api_key"), msg);
    VD_CHECK_WHY (failed, !orch_settings_is_secret ("odoo", "url"), msg);
    VD_CHECK_WHY (failed, orch_settings_is_path ("isavigne", "export_path"), msg);
    VD_CHECK_WHY (failed, !orch_settings_is_path ("isavigne", "encoding"), msg);
    VD_CHECK_WHY (failed, !orch_settings_is_path ("nope", "export_path"), msg);
}

static void
s_test_values (int *failed)
{
    char msg[512] = "";
    json_t *pub = NULL;
    VD_CHECK_WHY (failed,
                  s_try ("isavigne", "{\"export_path\":\"/srv/x\"}", msg, sizeof msg, NULL) == 0,
                  msg);
    VD_CHECK_WHY (
        failed,
        s_try ("isavigne", "{\"export_path\":\"/x\",\"foo\":\"1\"}", msg, sizeof msg, NULL) < 0,
        msg);
    VD_CHECK_WHY (failed, strcmp (msg, "unknown setting \"foo\" for a isavigne connector") == 0,
                  msg);
    VD_CHECK_WHY (failed, s_try ("isavigne", "{}", msg, sizeof msg, NULL) < 0, msg);
    VD_CHECK_WHY (failed, strstr (msg, "export_path") != NULL, msg);
    VD_CHECK_WHY (
        failed, s_try ("isavigne", "{\"export_path\":\"rel/x\"}", msg, sizeof msg, NULL) < 0, msg);
    VD_CHECK_WHY (failed, s_try ("isavigne", "{\"export_path\":\"\"}", msg, sizeof msg, NULL) < 0,
                  msg);
    VD_CHECK_WHY (failed, s_try ("isavigne", "{\"export_path\":[1]}", msg, sizeof msg, NULL) < 0,
                  msg);
    VD_CHECK_WHY (failed,
                  s_try ("isavigne", "{\"export_path\":\"/x\",\"encoding\":\"klingon\"}", msg,
                         sizeof msg, NULL) < 0,
                  msg);
    VD_CHECK_WHY (failed, strstr (msg, "klingon") != NULL, msg);
    VD_CHECK_WHY (failed,
                  s_try ("isavigne", "{\"export_path\":\"/x\",\"full_snapshot\":\"yes\"}", msg,
                         sizeof msg, &pub) == 0,
                  msg);
    VD_CHECK_WHY (failed, pub && json_is_true (json_object_get (pub, "full_snapshot")), msg);
    json_decref (pub);
    pub = NULL;
    VD_CHECK_WHY (failed,
                  s_try ("isavigne", "{\"export_path\":\"/x\",\"full_snapshot\":\"maybe\"}", msg,
                         sizeof msg, NULL) < 0,
                  msg);
    VD_CHECK_WHY (failed, s_try ("isavigne", "[1,2]", msg, sizeof msg, NULL) < 0, msg);
    VD_CHECK_WHY (failed, s_try ("csv", "{}", msg, sizeof msg, NULL) < 0, msg);
    VD_CHECK_WHY (failed,
                  s_try ("odoo",
                         "{\"url\":\"https://o\",\"database\":\"d\",\"user\":\"u\","
                         "\"api_key\":\"k\",\"page_size\":\"500\",\"transport\":\"json2\"}",
                         msg, sizeof msg, &pub) == 0,
                  msg);
    VD_CHECK_WHY (failed, pub && !json_object_get (pub, "api_key"), msg);
    VD_CHECK_WHY (failed, pub && json_integer_value (json_object_get (pub, "page_size")) == 500,
                  msg);
    json_decref (pub);
    VD_CHECK_WHY (failed,
                  s_try ("odoo",
                         "{\"url\":\"https://o\",\"database\":\"d\",\"user\":\"u\","
                         "\"api_key\":\"k\",\"transport\":\"json\"}",
                         msg, sizeof msg, NULL) < 0,
                  msg);
    VD_CHECK_WHY (failed,
                  s_try ("odoo",
                         "{\"url\":\"ftp://o\",\"database\":\"d\",\"user\":\"u\","
                         "\"api_key\":\"k\"}",
                         msg, sizeof msg, NULL) < 0,
                  msg);
    VD_CHECK_WHY (failed,
                  s_try ("odoo",
                         "{\"url\":\"https://o\",\"database\":\"d\",\"user\":\"u\","
                         "\"api_key\":\"k\",\"page_size\":0}",
                         msg, sizeof msg, NULL) < 0,
                  msg);
    VD_CHECK_WHY (failed,
                  s_try ("odoo",
                         "{\"url\":\"http://o\",\"database\":\"d\",\"user\":\"u\","
                         "\"api_key\":\"k\"}",
                         msg, sizeof msg, NULL) < 0,
                  msg);
    VD_CHECK_WHY (failed, strstr (msg, "in clear") != NULL, msg);
    VD_CHECK_WHY (failed,
                  s_try ("odoo",
                         "{\"url\":\"http://o\",\"database\":\"d\",\"user\":\"u\","
                         "\"api_key\":\"k\",\"allow_insecure\":true}",
                         msg, sizeof msg, NULL) == 0,
                  msg);
    VD_CHECK_WHY (failed, s_try ("brevo", "{}", msg, sizeof msg, NULL) < 0, msg);
    VD_CHECK_WHY (failed,
                  s_try ("brevo", "{\"token\":\"t\",\"allow_ips\":\"10.0.0.0/8, ::1\"}", msg,
                         sizeof msg, NULL) == 0,
                  msg);
    VD_CHECK_WHY (
        failed,
        s_try ("powerautomate", "{\"user\":\"u\",\"password\":\"p\"}", msg, sizeof msg, NULL) == 0,
        msg);
    VD_CHECK_WHY (failed,
                  s_try ("powerautomate", "{\"user\":\"u\",\"allow_ips\":\"x;rm\"}", msg,
                         sizeof msg, NULL) < 0,
                  msg);
}

static void
s_test_paths (int *failed)
{
    char msg[512] = "";
    static const struct {
        const char *settings;
        bool ok;
    } cases[] = {
        {"{\"export_path\":\"/srv/x\",\"unit_table\":\"/srv/x/units.txt\"}", true},
        {"{\"export_path\":\"/srv/x/\",\"mapping\":\"/srv/x/sub/m.ini\"}", true},
        {"{\"export_path\":\"/srv/x\",\"unit_table\":\"/etc/vendange/u.txt\"}", true},
        {"{\"export_path\":\"/srv/x\",\"unit_table\":\"/srv/files/u.txt\"}", true},
        {"{\"export_path\":\"/srv/x\",\"unit_table\":\"/var/lib/vendange/secret.key\"}", false},
        {"{\"export_path\":\"/srv/x\",\"unit_table\":\"/srv/x/../../etc/shadow\"}", false},
        {"{\"export_path\":\"/srv/x\",\"unit_table\":\"/srv/xy/u.txt\"}", false},
        {"{\"export_path\":\"/srv/x\",\"mapping\":\"/etc/vendangeX/m.ini\"}", false},
        {"{\"export_path\":\"/srv/x\",\"mapping\":\"/srv/x/./m.ini\"}", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = s_try ("isavigne", cases[i].settings, msg, sizeof msg, NULL);
        VD_CHECK_WHY (failed, (rc == 0) == cases[i].ok, msg);
    }
    VD_CHECK_WHY (failed,
                  s_try ("isavigne", cases[4].settings, msg, sizeof msg, NULL) < 0 &&
                      strstr (msg, "unit_table") != NULL,
                  msg);
    VD_CHECK_WHY (
        failed, orch_settings_is_secret_name ("api_key") && orch_settings_is_secret_name ("token"),
        msg);
    VD_CHECK_WHY (failed, !orch_settings_is_secret_name ("user"), msg);
    VD_CHECK_WHY (failed,
                  orch_settings_is_endpoint ("odoo", "url") &&
                      !orch_settings_is_endpoint ("odoo", "page_size"),
                  msg);
}
#undef CHECK

int
orch_settings_test (bool verbose)
{
    int failed = 0;
    s_test_names (&failed);
    s_test_values (&failed);
    s_test_paths (&failed);
    if (verbose)
        printf ("orch_settings_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
