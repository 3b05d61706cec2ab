/*  vd_config - configuration from the environment and an optional .env.

    The table below is the only list of settings: --help, validation,
    redaction and the deployment test all read it.
*/
#include "vendange.h"
#include <libpq-fe.h>

#define INT_KEY 0x100 /* flag: numeric, checked against min..max */
#define SECRET 0x200  /* flag: never printed                     */

typedef struct {
    vd_cfg_key_t key;
    const char *name;
    const char *def;
    unsigned flags; /* VD_SVC_* mask | INT_KEY | SECRET */
    int64_t min, max;
    const char *help;
} s_entry_t;

static const s_entry_t s_table[VD_CFG_COUNT] = {
    {VD_CFG_DATABASE_URL, "DATABASE_URL", "",
     SECRET | VD_SVC_ORCHESTRATOR | VD_SVC_LOADER | VD_SVC_CLI | VD_SVC_RECO, 0, 0,
     "PostgreSQL connection (URL or key=value). Unset: `vendange up` runs an embedded server"},
    {VD_CFG_HOME, "VENDANGE_HOME", "", VD_SVC_ALL, 0, 0,
     "state folder (embedded database, logs, pid files, spool); default /var/lib/vendange as root"},
    {VD_CFG_LOG_LEVEL, "VENDANGE_LOG_LEVEL", "info", VD_SVC_ALL, 0, 0,
     "debug, info, warn or error"},
    {VD_CFG_ORCHESTRATOR_ENDPOINT, "VENDANGE_ORCHESTRATOR_ENDPOINT", "tcp://127.0.0.1:5570",
     VD_SVC_ALL, 0, 0,
     "ZeroMQ control endpoint of the orchestrator (services connect; it binds it unless "
     "VENDANGE_ORCHESTRATOR_BIND is set)"},
    {VD_CFG_NORMALIZER_ENDPOINT, "VENDANGE_NORMALIZER_ENDPOINT", "tcp://127.0.0.1:5571",
     VD_SVC_NORMALIZER | VD_SVC_EXTRACTOR, 0, 0,
     "ZeroMQ endpoint where the normalizer receives raw records (extractors connect; it binds "
     "it unless VENDANGE_NORMALIZER_BIND is set)"},
    {VD_CFG_LOADER_ENDPOINT, "VENDANGE_LOADER_ENDPOINT", "tcp://127.0.0.1:5572",
     VD_SVC_LOADER | VD_SVC_NORMALIZER, 0, 0,
     "ZeroMQ endpoint where the loader receives canonical records (normalizers connect; it "
     "binds it unless VENDANGE_LOADER_BIND is set)"},
    {VD_CFG_HTTP_ADDR, "VENDANGE_HTTP_ADDR", "127.0.0.1:8480", VD_SVC_ORCHESTRATOR, 0, 0,
     "host:port of the orchestrator's HTTP API and web page"},
    {VD_CFG_API_URL, "VENDANGE_API_URL", "http://127.0.0.1:8480", VD_SVC_CLI, 0, 0,
     "where the vendange CLI finds the orchestrator's API"},
    {VD_CFG_HEARTBEAT_MS, "VENDANGE_HEARTBEAT_MS", "1000", INT_KEY | VD_SVC_ALL, 50, 60000,
     "interval between heartbeats of each service, in milliseconds"},
    {VD_CFG_DEAD_AFTER_S, "VENDANGE_DEAD_AFTER_S", "60",
     INT_KEY | VD_SVC_ORCHESTRATOR | VD_SVC_RECO, 1, 3600,
     "a service silent this many seconds is dead and its runs fail"},
    {VD_CFG_DISPATCH_TIMEOUT_S, "VENDANGE_DISPATCH_TIMEOUT_S", "60", INT_KEY | VD_SVC_ORCHESTRATOR,
     1, 86400, "a queued run that no extractor can take within this many seconds fails"},
    {VD_CFG_STALL_TIMEOUT_S, "VENDANGE_STALL_TIMEOUT_S", "600", INT_KEY | VD_SVC_ORCHESTRATOR, 5,
     86400, "a running run without progress for this many seconds fails"},
    {VD_CFG_COMMAND_WAIT_S, "VENDANGE_COMMAND_WAIT_S", "15", INT_KEY | VD_SVC_ORCHESTRATOR, 0, 3600,
     "an API call that changes canonical data (forget, purge) waits this many seconds for the"
     " loader to run it, then answers 202: it runs when the loader is up"},
    {VD_CFG_BATCH_ROWS, "VENDANGE_BATCH_ROWS", "5000", INT_KEY | VD_SVC_LOADER | VD_SVC_EXTRACTOR,
     1, 1000000, "records per loader transaction (and per extractor message / 10)"},
    {VD_CFG_COPY_BINARY, "VENDANGE_COPY_BINARY", "1", INT_KEY | VD_SVC_LOADER, 0, 1,
     "1: new rows go into their table by binary COPY (the server parses no value); 0: by text"
     " COPY (a diagnostic switch: the tables end the same)"},
    {VD_CFG_VAT_RATE, "VENDANGE_VAT_RATE", "20",
     VD_SVC_NORMALIZER | VD_SVC_LOADER | VD_SVC_ORCHESTRATOR, 0, 0,
     "VAT rate in percent, converts prices given including VAT"},
    {VD_CFG_TIMEZONE, "VENDANGE_TIMEZONE", "Europe/Paris",
     VD_SVC_NORMALIZER | VD_SVC_LOADER | VD_SVC_ORCHESTRATOR, 0, 0,
     "time zone of local times in the sources"},
    {VD_CFG_SEGMENT_VIP_SPENT, "VENDANGE_SEGMENT_VIP_SPENT", "1000",
     INT_KEY | VD_SVC_LOADER | VD_SVC_ORCHESTRATOR, 0, 100000000,
     "segment vip: total spent (EUR excl. VAT) at least this"},
    {VD_CFG_SEGMENT_VIP_ORDERS, "VENDANGE_SEGMENT_VIP_ORDERS", "10",
     INT_KEY | VD_SVC_LOADER | VD_SVC_ORCHESTRATOR, 1, 1000000,
     "segment vip: or at least this many orders"},
    {VD_CFG_SEGMENT_AT_RISK_DAYS, "VENDANGE_SEGMENT_AT_RISK_DAYS", "365",
     INT_KEY | VD_SVC_LOADER | VD_SVC_ORCHESTRATOR, 1, 36500,
     "segment at_risk: last purchase older than this many days"},
    {VD_CFG_SEGMENT_INACTIVE_DAYS, "VENDANGE_SEGMENT_INACTIVE_DAYS", "730",
     INT_KEY | VD_SVC_LOADER | VD_SVC_ORCHESTRATOR, 1, 36500,
     "segment inactive: last purchase older than this many days"},
    {VD_CFG_EXTRACTORS_ISAVIGNE, "VENDANGE_EXTRACTORS_ISAVIGNE", "1", INT_KEY | VD_SVC_CLI, 0, 64,
     "number of iSaVigne extractor processes `vendange up` starts"},
    {VD_CFG_PG_PORT, "VENDANGE_PG_PORT", "54329", INT_KEY | VD_SVC_CLI, 1, 65535,
     "port (socket name) of the embedded PostgreSQL"},
    {VD_CFG_SECRET_KEY, "VENDANGE_SECRET_KEY", "", SECRET | VD_SVC_ORCHESTRATOR, 0, 0,
     "key that encrypts connector secrets at rest: 64 hex characters (`vendange secret-key`)"},
    {VD_CFG_SECRET_KEY_FILE, "VENDANGE_SECRET_KEY_FILE", "", VD_SVC_ORCHESTRATOR | VD_SVC_CLI, 0, 0,
     "file holding that key, when VENDANGE_SECRET_KEY is unset (`vendange up` makes "
     "$VENDANGE_HOME/secret.key)"},
    {VD_CFG_RETENTION_RAW_DAYS, "VENDANGE_RETENTION_RAW_DAYS", "90", INT_KEY | VD_SVC_ORCHESTRATOR,
     0, 36500,
     "days raw content is kept (rejected lines, raw values of warnings, event payloads); 0: "
     "forever"},
    {VD_CFG_RETENTION_RUNS_DAYS, "VENDANGE_RETENTION_RUNS_DAYS", "400",
     INT_KEY | VD_SVC_ORCHESTRATOR, 0, 36500,
     "days run history is kept (each connector keeps its latest run); 0: forever"},
    {VD_CFG_WEBHOOK_ADDR, "VENDANGE_WEBHOOK_ADDR", "127.0.0.1:8481",
     VD_SVC_WEBHOOK | VD_SVC_ORCHESTRATOR, 0, 0,
     "host:port where the webhook gateway listens (Brevo, Power Automate); the orchestrator "
     "reads its /health for the spool_full alert"},
    {VD_CFG_WEBHOOK_SPOOL, "VENDANGE_WEBHOOK_SPOOL", "", VD_SVC_WEBHOOK, 0, 0,
     "folder of the webhook gateway's spool; default $VENDANGE_HOME/spool/webhook"},
    {VD_CFG_WEBHOOK_MAX_BODY_KB, "VENDANGE_WEBHOOK_MAX_BODY_KB", "2048", INT_KEY | VD_SVC_WEBHOOK,
     1, 65536, "largest webhook request body in KiB (a 500-event Brevo batch is ~400 KiB)"},
    {VD_CFG_WEBHOOK_SPOOL_MAX_MB, "VENDANGE_WEBHOOK_SPOOL_MAX_MB", "1024",
     INT_KEY | VD_SVC_WEBHOOK | VD_SVC_ORCHESTRATOR, 1, 1048576,
     "spool ceiling in MiB: past it requests get 429 until the pipeline catches up"},
    {VD_CFG_WEBHOOK_IDLE_TIMEOUT_S, "VENDANGE_WEBHOOK_IDLE_TIMEOUT_S", "10",
     INT_KEY | VD_SVC_WEBHOOK, 1, 3600, "a webhook connection silent this many seconds is closed"},
    {VD_CFG_WEBHOOK_REQUEST_TIMEOUT_S, "VENDANGE_WEBHOOK_REQUEST_TIMEOUT_S", "30",
     INT_KEY | VD_SVC_WEBHOOK, 1, 3600,
     "a webhook request body not received within this many seconds gets 408"},
    {VD_CFG_WEBHOOK_ACK_TIMEOUT_S, "VENDANGE_WEBHOOK_ACK_TIMEOUT_S", "30", INT_KEY | VD_SVC_WEBHOOK,
     1, 86400,
     "a spooled batch the loader has not confirmed within this many seconds is sent again"},
    {VD_CFG_WEBHOOK_RETRY_AFTER_S, "VENDANGE_WEBHOOK_RETRY_AFTER_S", "30", INT_KEY | VD_SVC_WEBHOOK,
     1, 3600, "Retry-After of a 429 answer, in seconds"},
    {VD_CFG_WEBHOOK_BATCH_EVENTS, "VENDANGE_WEBHOOK_BATCH_EVENTS", "500", INT_KEY | VD_SVC_WEBHOOK,
     1, 100000, "events per batch forwarded from the spool"},
    {VD_CFG_WEBHOOK_RUN_S, "VENDANGE_WEBHOOK_RUN_S", "3600", INT_KEY | VD_SVC_WEBHOOK, 1, 86400,
     "length of a webhook connector's run in seconds (one run per connector and hour)"},
    {VD_CFG_EXTRACTORS_ODOO, "VENDANGE_EXTRACTORS_ODOO", "1", INT_KEY | VD_SVC_CLI, 0, 64,
     "number of Odoo extractor processes `vendange up` starts"},
    {VD_CFG_PERSON_MATCH, "VENDANGE_PERSON_MATCH", "ref,email", VD_SVC_LOADER | VD_SVC_ORCHESTRATOR,
     0, 0, "how customers of two sources are one person: ref,email, ref, email or none"},
    {VD_CFG_DISPATCH_POLL_MS, "VENDANGE_DISPATCH_POLL_MS", "500", INT_KEY | VD_SVC_ORCHESTRATOR, 50,
     600000,
     "the orchestrator also looks for queued runs this often, in milliseconds (a queued run "
     "wakes it at once; this catches runs waiting for a busy extractor)"},
    {VD_CFG_API_TOKEN, "VENDANGE_API_TOKEN", "", SECRET | VD_SVC_ORCHESTRATOR | VD_SVC_CLI, 0, 0,
     "bearer token of the HTTP API and web page (required, or a user, off loopback)"},
    {VD_CFG_API_USER, "VENDANGE_API_USER", "", VD_SVC_ORCHESTRATOR | VD_SVC_CLI, 0, 0,
     "basic-auth user of the HTTP API and web page (with VENDANGE_API_PASSWORD)"},
    {VD_CFG_API_PASSWORD, "VENDANGE_API_PASSWORD", "", SECRET | VD_SVC_ORCHESTRATOR | VD_SVC_CLI, 0,
     0, "basic-auth password of the HTTP API and web page"},
    {VD_CFG_RECO_TOP, "VENDANGE_RECO_TOP", "5", INT_KEY | VD_SVC_RECO, 1, 100,
     "recommendations kept per customer"},
    {VD_CFG_RECO_RECENT_DAYS, "VENDANGE_RECO_RECENT_DAYS", "90", INT_KEY | VD_SVC_RECO, 0, 3650,
     "a product the customer bought within this many days is not recommended"},
    {VD_CFG_RECO_FOLLOW_DAYS, "VENDANGE_RECO_FOLLOW_DAYS", "60",
     INT_KEY | VD_SVC_RECO | VD_SVC_ORCHESTRATOR, 1, 3650,
     "a click or a purchase within this many days of a recommendation follows it (precision)"},
    {VD_CFG_RECO_BAD_DAYS, "VENDANGE_RECO_BAD_DAYS", "365", INT_KEY | VD_SVC_RECO, 0, 36500,
     "a product marked bad for a customer is not proposed to them again for this many days"},
    {VD_CFG_RECO_POLL_S, "VENDANGE_RECO_POLL_S", "5", INT_KEY | VD_SVC_RECO, 1, 3600,
     "the recommender also looks for queued jobs this often (a queued job wakes it at once)"},
    {VD_CFG_RECO_AFTER_SYNC, "VENDANGE_RECO_AFTER_SYNC", "1", INT_KEY | VD_SVC_ORCHESTRATOR, 0, 1,
     "1: queue a recommendation run after a sync that changed sales, products, stock or "
     "customers; 0: only on demand"},
    {VD_CFG_ALLOWED_HOSTS, "VENDANGE_ALLOWED_HOSTS", "", VD_SVC_ORCHESTRATOR, 0, 0,
     "host names the API and page answer to besides IP addresses, localhost and the host of "
     "VENDANGE_HTTP_ADDR (comma separated, name or name:port; the public name behind a proxy)"},
    {VD_CFG_HTTP_REQUEST_TIMEOUT_S, "VENDANGE_HTTP_REQUEST_TIMEOUT_S", "30",
     INT_KEY | VD_SVC_ORCHESTRATOR, 1, 3600,
     "an API request (headers and body) not received within this many seconds is cut off"},
    {VD_CFG_HTTP_CLIENT_CONNECTIONS, "VENDANGE_HTTP_CLIENT_CONNECTIONS", "16",
     INT_KEY | VD_SVC_ORCHESTRATOR, 1, 1024,
     "connections one client address may hold open to the API at once"},
    {VD_CFG_FILES_ROOT, "VENDANGE_FILES_ROOT", "", VD_SVC_ORCHESTRATOR, 0, 0,
     "folders (colon separated) where connector file settings (unit_table, mapping, "
     "field_mapping, ca_file) may point, besides an iSaVigne connector's export folder"},
    {VD_CFG_ALERT_INTERVAL_S, "VENDANGE_ALERT_INTERVAL_S", "60", INT_KEY | VD_SVC_ORCHESTRATOR, 1,
     86400, "the alert rules are evaluated this often (README, Alerts)"},
    {VD_CFG_OUTBOX_RETRY_S, "VENDANGE_OUTBOX_RETRY_S", "30", INT_KEY | VD_SVC_ORCHESTRATOR, 1, 3600,
     "first wait before a failed notification is sent again; doubled at each attempt, at most "
     "one hour"},
    {VD_CFG_OUTBOX_MAX_ATTEMPTS, "VENDANGE_OUTBOX_MAX_ATTEMPTS", "10",
     INT_KEY | VD_SVC_ORCHESTRATOR, 1, 100,
     "a notification still failing after this many attempts is given up (dead)"},
    {VD_CFG_KEYS_DIR, "VENDANGE_KEYS_DIR", "", VD_SVC_ALL, 0, 0,
     "folder of the CURVE keys: <role>.key (secret, 0600) and public/*.pub, the keys the "
     "services accept; default $VENDANGE_HOME/keys (`vendange keys init` makes them)"},
    {VD_CFG_KEY_FILE, "VENDANGE_KEY_FILE", "", VD_SVC_ALL & ~VD_SVC_CLI, 0, 0,
     "this service's secret CURVE key file (0600); default $VENDANGE_KEYS_DIR/<role>.key"},
    {VD_CFG_ORCHESTRATOR_BIND, "VENDANGE_ORCHESTRATOR_BIND", "", VD_SVC_ORCHESTRATOR, 0, 0,
     "ZeroMQ address the orchestrator binds (a local interface, tcp://*:5570 for every one); "
     "default VENDANGE_ORCHESTRATOR_ENDPOINT"},
    {VD_CFG_NORMALIZER_BIND, "VENDANGE_NORMALIZER_BIND", "", VD_SVC_NORMALIZER, 0, 0,
     "ZeroMQ address the normalizer binds; default VENDANGE_NORMALIZER_ENDPOINT"},
    {VD_CFG_LOADER_BIND, "VENDANGE_LOADER_BIND", "", VD_SVC_LOADER, 0, 0,
     "ZeroMQ address the loader binds; default VENDANGE_LOADER_ENDPOINT"},
};

struct vd_config {
    char *values[VD_CFG_COUNT];
    bool set[VD_CFG_COUNT];
    int64_t ints[VD_CFG_COUNT];
};

int
vd_parse_int (const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s || !*s)
        return -1;
    errno = 0;
    char *end = NULL;
    long long v = strtoll (s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/*  Value of KEY in the .env file, malloc'ed, or NULL. Lines: KEY=VALUE,
    optional "export ", '#' comments, single or double quotes stripped. */
static char *
s_env_file_value (const char *path, const char *key)
{
    FILE *f = fopen (path, "r");
    if (!f)
        return NULL;
    char line[4096];
    char *found = NULL;
    size_t klen = strlen (key);
    while (!found && fgets (line, sizeof line, f)) {
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp (p, "export ", 7) == 0)
            p += 7;
        if (strncmp (p, key, klen) != 0 || p[klen] != '=')
            continue;
        p += klen + 1;
        p[strcspn (p, "\r\n")] = '\0';
        size_t n = strlen (p);
        if (n >= 2 && (p[0] == '"' || p[0] == '\'') && p[n - 1] == p[0]) {
            p[n - 1] = '\0';
            p++;
        }
        found = strdup (p);
    }
    fclose (f);
    return found;
}

vd_config_t *
vd_config_load (unsigned service, vd_error_t *err)
{
    (void)service; /* every key is loaded; the mask only filters --help */
    vd_config_t *self = calloc (1, sizeof *self);
    if (!self) {
        vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
        return NULL;
    }
    const char *env_file = getenv ("VENDANGE_ENV_FILE");
    if (!env_file)
        env_file = ".env";
    for (int i = 0; i < VD_CFG_COUNT; i++) {
        const s_entry_t *e = &s_table[i];
        const char *v = getenv (e->name);
        char *from_file = v ? NULL : s_env_file_value (env_file, e->name);
        self->set[i] = v || from_file;
        self->values[i] = from_file ? from_file : strdup (v ? v : e->def);
        if (!self->values[i]) {
            vd_config_destroy (&self);
            vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
            return NULL;
        }
        if ((e->flags & INT_KEY) &&
            vd_parse_int (self->values[i], e->min, e->max, &self->ints[i]) < 0) {
            vd_error_set (err, VD_ERR_PERMANENT, "invalid value for %s", e->name);
            vd_error_detail (err, "expected an integer from %" PRId64 " to %" PRId64 ", got \"%s\"",
                             e->min, e->max, (e->flags & SECRET) ? "***" : self->values[i]);
            vd_config_destroy (&self);
            return NULL;
        }
    }
    return self;
}

void
vd_config_destroy (vd_config_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    for (int i = 0; i < VD_CFG_COUNT; i++)
        free ((*self_p)->values[i]);
    free (*self_p);
    *self_p = NULL;
}

const char *
vd_config_str (const vd_config_t *self, vd_cfg_key_t key)
{
    return self->values[key];
}

int64_t
vd_config_int (const vd_config_t *self, vd_cfg_key_t key)
{
    return self->ints[key];
}

const char *
vd_config_name (vd_cfg_key_t key)
{
    return s_table[key].name;
}

bool
vd_config_is_set (const vd_config_t *self, vd_cfg_key_t key)
{
    return self->set[key];
}

void
vd_config_usage (unsigned service, FILE *out)
{
    fprintf (out, "Environment (also read from .env or $VENDANGE_ENV_FILE):\n");
    for (int i = 0; i < VD_CFG_COUNT; i++) {
        const s_entry_t *e = &s_table[i];
        if (!(e->flags & service))
            continue;
        fprintf (out, "  %-32s %s%s%s%s\n", e->name, e->help, *e->def ? " (default " : "", e->def,
                 *e->def ? ")" : "");
    }
}

/*  Appends value as libpq reads it in a key=value string: bare when it
    is plain, else in single quotes with \ and ' escaped. */
static void
s_conninfo_value (vd_buf_t *b, const char *v)
{
    bool plain = *v != '\0';
    for (const char *p = v; *p && plain; p++)
        plain = !isspace ((unsigned char)*p) && *p != '\'' && *p != '\\';
    if (plain) {
        vd_buf_addstr (b, v);
        return;
    }
    vd_buf_addc (b, '\'');
    for (const char *p = v; *p; p++) {
        if (*p == '\'' || *p == '\\')
            vd_buf_addc (b, '\\');
        vd_buf_addc (b, *p);
    }
    vd_buf_addc (b, '\'');
}

void
vd_redact_dsn (const char *dsn, char *out, size_t size)
{
    /* libpq's own parser reads the string (URL or key=value, spaces around
       '=', quoted values) exactly as a connection would; it is printed
       back as key=value with every password replaced */
    char *msg = NULL;
    PQconninfoOption *opts = PQconninfoParse (dsn ? dsn : "", &msg);
    if (msg)
        PQfreemem (msg);
    if (!opts) {
        snprintf (out, size, "(a connection string libpq cannot read; not shown)");
        return;
    }
    vd_buf_t b;
    vd_buf_init (&b, size ? size - 1 : 0);
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val || !*o->val)
            continue;
        vd_buf_printf (&b, "%s%s=", b.len ? " " : "", o->keyword);
        if (strstr (o->keyword, "password") || o->dispchar[0] == '*')
            vd_buf_addstr (&b, "***");
        else
            s_conninfo_value (&b, o->val);
    }
    PQconninfoFree (opts);
    snprintf (out, size, "%s", vd_buf_str (&b));
    vd_buf_free (&b);
}

int
vd_config_test (bool verbose)
{
    int failures = 0;
    char out[256];
    struct {
        const char *in, *want;
    } dsn[] = {
        {"postgresql://u:secret@h:5432/db", "user=u password=*** dbname=db host=h port=5432"},
        {"host=h password=secret dbname=x", "password=*** dbname=x host=h"},
        {"host=h password = secret dbname=x", "password=*** dbname=x host=h"},
        {"host=h password='se cret' dbname=x", "password=*** dbname=x host=h"},
        {"host=h password='it''s' dbname=x", "(a connection string libpq cannot read; not shown)"},
        {"host=h password='it\\'s' dbname='a b'", "password=*** dbname='a b' host=h"},
        {"postgresql:///db?host=/tmp&password=secret&port=5",
         "password=*** dbname=db host=/tmp port=5"},
        {"postgresql://u:p%40ss@h/db?sslpassword=k", "user=u password=*** dbname=db host=h "
                                                     "sslpassword=***"},
        {"postgresql:///db?host=/tmp", "dbname=db host=/tmp"},
        {"host=h password=secret broken", "(a connection string libpq cannot read; not shown)"},
    };
    for (size_t i = 0; i < sizeof dsn / sizeof dsn[0]; i++) {
        vd_redact_dsn (dsn[i].in, out, sizeof out);
        if (strcmp (out, dsn[i].want) != 0 || strstr (out, "secret") || strstr (out, "cret")) {
            fprintf (stderr, "vd_config: redact %s gave %s\n", dsn[i].in, out);
            failures++;
        }
    }
    int64_t v;
    if (vd_parse_int ("42", 0, 100, &v) != 0 || v != 42 || vd_parse_int ("42x", 0, 100, &v) == 0 ||
        vd_parse_int ("", 0, 100, &v) == 0 || vd_parse_int ("101", 0, 100, &v) == 0 ||
        vd_parse_int ("99999999999999999999", 0, INT64_MAX, &v) == 0)
        failures++;
    setenv ("VENDANGE_HEARTBEAT_MS", "abc", 1);
    vd_error_t err;
    vd_error_clear (&err);
    vd_config_t *cfg = vd_config_load (VD_SVC_ALL, &err);
    if (cfg || !strstr (err.msg, "VENDANGE_HEARTBEAT_MS"))
        failures++;
    vd_config_destroy (&cfg);
    setenv ("VENDANGE_HEARTBEAT_MS", "250", 1);
    cfg = vd_config_load (VD_SVC_ALL, &err);
    if (!cfg || vd_config_int (cfg, VD_CFG_HEARTBEAT_MS) != 250 ||
        !vd_config_is_set (cfg, VD_CFG_HEARTBEAT_MS) ||
        strcmp (vd_config_str (cfg, VD_CFG_TIMEZONE), "Europe/Paris") != 0)
        failures++;
    vd_config_destroy (&cfg);
    unsetenv ("VENDANGE_HEARTBEAT_MS");
    if (verbose)
        printf ("  vd_config: %d failures\n", failures);
    return failures ? -1 : 0;
}
