/*  hook_event - webhook payloads to raw contact_history records. */
#include "hook_event.h"
#include "vd_msg.h"
#include <sodium.h>

#define MAX_ID_PART 512 /* bytes of one identity part (message-id, event_id) */

const char *const hook_event_cols[HOOK_NFIELDS] = {
    [HOOK_F_SOURCE_ID] = "source_id",
    [HOOK_F_EMAIL] = "email",
    [HOOK_F_DATE] = "date_contact",
    [HOOK_F_CHANNEL] = "channel",
    [HOOK_F_CAMPAIGN] = "campaign",
    [HOOK_F_SUBJECT] = "subject",
    [HOOK_F_STATUS] = "status",
    [HOOK_F_RESPONSE_DETAILS] = "response_details",
    [HOOK_F_PRODUCT] = "product_code_suggested",
    [HOOK_F_PAYLOAD] = "payload",
    [HOOK_F_WARNING_FIELD] = "warning_field",
    [HOOK_F_WARNING] = "warning",
    [HOOK_F_WARNING_RAW] = "warning_raw",
};

/*  Brevo event names and the status stored for them. */
static const struct {
    const char *event, *status;
} s_brevo_events[] = {
    {"request", "sent"},
    {"sent", "sent"},
    {"delivered", "delivered"},
    {"opened", "opened"},
    {"unique_opened", "unique_opened"},
    {"proxy_open", "proxy_open"},
    {"unique_proxy_open", "unique_proxy_open"},
    {"click", "click"},
    {"clicked", "click"},
    {"soft_bounce", "soft_bounce"},
    {"soft_bounced", "soft_bounce"},
    {"hard_bounce", "hard_bounce"},
    {"hard_bounced", "hard_bounce"},
    {"invalid_email", "invalid_email"},
    {"deferred", "deferred"},
    {"blocked", "blocked"},
    {"complaint", "spam"},
    {"spam", "spam"},
    {"unsubscribe", "unsubscribed"},
    {"unsubscribed", "unsubscribed"},
    {"error", "error"},
    {"list_addition", "list_addition"},
    {"contact_updated", "contact_updated"},
    {"contact_deleted", "contact_deleted"},
};

static const char *const s_pa_actions[] = {"click",       "open",        "purchase", "form_submit",
                                           "unsubscribe", "resubscribe", NULL};

typedef struct {
    char *f[HOOK_NFIELDS];
} s_row_t;

const char *
hook_source_name (hook_source_t src)
{
    return src == HOOK_BREVO ? "brevo" : "powerautomate";
}

static void
s_row_free (s_row_t *row)
{
    for (int i = 0; i < HOOK_NFIELDS; i++)
        free (row->f[i]);
    memset (row, 0, sizeof *row);
}

static void
s_set (s_row_t *row, hook_field_t i, const char *s)
{
    free (row->f[i]);
    row->f[i] = s ? strdup (s) : NULL;
}

static int s_fault (hook_fault_t *fault, int status, long index, const char *field, const char *fmt,
                    ...) __attribute__ ((format (printf, 5, 6)));

static int
s_fault (hook_fault_t *fault, int status, long index, const char *field, const char *fmt, ...)
{
    fault->status = status;
    fault->index = index;
    snprintf (fault->field, sizeof fault->field, "%s", field);
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (fault->msg, sizeof fault->msg, fmt, ap);
    va_end (ap);
    return -1;
}

bool
hook_json_depth_ok (const char *s, size_t len, int max)
{
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"')
            in_string = true;
        else if (c == '[' || c == '{') {
            if (++depth > max)
                return false;
        } else if (c == ']' || c == '}')
            depth--;
    }
    return true;
}

/*  A scalar member as text (a string as is, an integer printed), into
    out; NULL when absent, empty, of another type, or too long. */
static const char *
s_scalar (json_t *obj, const char *key, char *out, size_t size)
{
    json_t *v = json_object_get (obj, key);
    if (json_is_integer (v))
        snprintf (out, size, "%" JSON_INTEGER_FORMAT, json_integer_value (v));
    else if (json_is_string (v) && json_string_length (v) > 0 && json_string_length (v) < size &&
             strlen (json_string_value (v)) == json_string_length (v))
        snprintf (out, size, "%s", json_string_value (v));
    else
        return NULL;
    return out;
}

/*  An instant in milliseconds since the epoch as ISO 8601 UTC. */
static int
s_iso_ms (int64_t ms, char *out, size_t size)
{
    if (ms < 0 || ms > INT64_C (7258118400000)) /* 2200-01-01 */
        return -1;
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r (&t, &tm))
        return -1;
    snprintf (out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
              tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    return 0;
}

/*  A timestamp member (integer, or a string of digits) times unit_ms, as
    ISO 8601 UTC. NULL when absent or unusable. */
static const char *
s_epoch (json_t *obj, const char *key, int64_t unit_ms, char *out, size_t size)
{
    char text[32];
    int64_t v;
    if (!s_scalar (obj, key, text, sizeof text) ||
        vd_parse_int (text, 0, INT64_MAX / unit_ms, &v) < 0 ||
        s_iso_ms (v * unit_ms, out, size) < 0)
        return NULL;
    return out;
}

/*  "sha:<hex>" of the event with its keys sorted: the identity of an
    event that lacks the parts of its natural one. */
static void
s_content_id (json_t *ev, char *out, size_t size)
{
    char *text = json_dumps (ev, JSON_COMPACT | JSON_SORT_KEYS);
    unsigned char digest[16];
    char hex[33];
    crypto_generichash (digest, sizeof digest, (const unsigned char *)(text ? text : ""),
                        text ? strlen (text) : 0, NULL, 0);
    sodium_bin2hex (hex, sizeof hex, digest, sizeof digest);
    snprintf (out, size, "sha:%s", hex);
    free (text);
}

/*  The list ids of a list event ("3,7"), or NULL. */
static const char *
s_list_ids (json_t *ev, char *out, size_t size)
{
    json_t *ids = json_object_get (ev, "list_id");
    if (!json_is_array (ids))
        return s_scalar (ev, "list_id", out, size);
    vd_buf_t b;
    vd_buf_init (&b, size - 1);
    size_t i;
    json_t *id;
    int rc = json_array_size (ids) ? 0 : -1;
    json_array_foreach (ids, i, id)
    {
        if (!json_is_integer (id) && !json_is_string (id)) {
            rc = -1;
            break;
        }
        rc |= json_is_integer (id)
                  ? vd_buf_printf (&b, "%s%" JSON_INTEGER_FORMAT, i ? "," : "",
                                   json_integer_value (id))
                  : vd_buf_printf (&b, "%s%s", i ? "," : "", json_string_value (id));
    }
    snprintf (out, size, "%s", vd_buf_str (&b));
    vd_buf_free (&b);
    return rc == 0 ? out : NULL;
}

/*  The lower-cased, trimmed email of an event, or NULL. */
static const char *
s_email (json_t *ev, char *out, size_t size)
{
    const char *email = s_scalar (ev, "email", out, size);
    if (!email)
        return NULL;
    size_t begin, end;
    vd_text_trim (out, strlen (out), &begin, &end);
    memmove (out, out + begin, end - begin);
    out[end - begin] = '\0';
    for (char *p = out; *p; p++)
        *p = (char)tolower ((unsigned char)*p);
    return *out ? out : NULL;
}

/*  The email of an event as it appears in an identity: "e-" and the hex
    of its BLAKE2b-64, so that keys never hold an address (vendange forget
    erases emails; a key cannot change). NULL when the event has none. */
static const char *
s_email_token (json_t *ev, char *out, size_t size)
{
    char email[MAX_ID_PART];
    if (!s_email (ev, email, sizeof email))
        return NULL;
    unsigned char digest[8];
    char hex[17];
    crypto_generichash (digest, sizeof digest, (const unsigned char *)email, strlen (email), NULL,
                        0);
    sodium_bin2hex (hex, sizeof hex, digest, sizeof digest);
    snprintf (out, size, "e-%s", hex);
    return out;
}

/*  Brevo's identity of an event (see the header). */
static void
s_brevo_identity (json_t *ev, const char *status, char *out, size_t size)
{
    char a[MAX_ID_PART], b[MAX_ID_PART], c[MAX_ID_PART];
    const char *email = s_email_token (ev, c, sizeof c);
    bool ok = false;
    if (strcmp (status, "list_addition") == 0 || strcmp (status, "contact_updated") == 0 ||
        strcmp (status, "contact_deleted") == 0) {
        const char *lists = s_list_ids (ev, a, sizeof a);
        const char *when = s_scalar (ev, "ts_event", b, sizeof b);
        when = when ? when : s_scalar (ev, "ts", b, sizeof b);
        when = when ? when : s_scalar (ev, "date", b, sizeof b);
        ok = email && when &&
             snprintf (out, size, "%s:%s:%s:%s", status, email, lists ? lists : "", when) <
                 (int)size;
    } else if (json_object_get (ev, "camp_id")) {
        const char *camp = s_scalar (ev, "camp_id", a, sizeof a);
        const char *when = s_scalar (ev, "ts_event", b, sizeof b);
        ok = camp && email && when &&
             snprintf (out, size, "%s:%s:%s:%s", status, camp, email, when) < (int)size;
    } else {
        const char *message = s_scalar (ev, "message-id", a, sizeof a);
        const char *when = s_scalar (ev, "ts_epoch", b, sizeof b);
        ok = message && when && snprintf (out, size, "%s:%s:%s", status, message, when) < (int)size;
    }
    if (!ok)
        s_content_id (ev, out, size);
}

/*  date_contact of a Brevo event. */
static const char *
s_brevo_date (json_t *ev, char *out, size_t size)
{
    const char *d = s_epoch (ev, "ts_epoch", 1, out, size);
    d = d ? d : s_epoch (ev, "ts_event", 1000, out, size);
    d = d ? d : s_scalar (ev, "date_event", out, size);
    d = d ? d : s_scalar (ev, "date", out, size);
    return d ? d : s_epoch (ev, "ts", 1000, out, size);
}

static void
s_brevo_row (json_t *ev, s_row_t *row)
{
    char text[MAX_ID_PART * 4], raw[128];
    const char *event = s_scalar (ev, "event", raw, sizeof raw);
    const char *status = NULL;
    for (size_t i = 0; event && i < sizeof s_brevo_events / sizeof s_brevo_events[0]; i++)
        if (strcasecmp (event, s_brevo_events[i].event) == 0)
            status = s_brevo_events[i].status;
    if (!status) {
        for (char *p = raw; event && *p; p++)
            *p = (char)tolower ((unsigned char)*p);
        s_set (row, HOOK_F_WARNING_FIELD, "status");
        s_set (row, HOOK_F_WARNING,
               event ? "unknown Brevo event type: stored as received"
                     : "Brevo event without an \"event\" type");
        s_set (row, HOOK_F_WARNING_RAW, event);
        status = event ? raw : "unknown";
    }
    s_set (row, HOOK_F_STATUS, status);
    s_brevo_identity (ev, status, text, sizeof text);
    s_set (row, HOOK_F_SOURCE_ID, text);
    s_set (row, HOOK_F_EMAIL, s_scalar (ev, "email", text, sizeof text));
    s_set (row, HOOK_F_DATE, s_brevo_date (ev, text, sizeof text));
    s_set (row, HOOK_F_CHANNEL, "email");
    const char *campaign = s_scalar (ev, "campaign name", text, sizeof text);
    s_set (row, HOOK_F_CAMPAIGN, campaign ? campaign : s_scalar (ev, "camp_id", text, sizeof text));
    s_set (row, HOOK_F_SUBJECT, s_scalar (ev, "subject", text, sizeof text));
    const char *details = s_scalar (ev, "link", text, sizeof text);
    details = details ? details : s_scalar (ev, "URL", text, sizeof text);
    s_set (row, HOOK_F_RESPONSE_DETAILS,
           details ? details : s_scalar (ev, "reason", text, sizeof text));
}

/*  Checks a Power Automate event and fills its row; -1 with fault. */
static int
s_pa_row (json_t *ev, long index, s_row_t *row, hook_fault_t *fault)
{
    char id[MAX_ID_PART], action[128], text[MAX_ID_PART * 4];
    if (!s_scalar (ev, "event_id", id, sizeof id))
        return s_fault (fault, 400, index, "event_id",
                        "\"event_id\" is required: a non-empty string of at most %d bytes",
                        MAX_ID_PART - 1);
    if (!s_scalar (ev, "action", action, sizeof action) ||
        json_is_integer (json_object_get (ev, "action")))
        return s_fault (fault, 400, index, "action",
                        "\"action\" is required: a non-empty string (click, open, purchase, "
                        "form_submit, unsubscribe, resubscribe, ...)");
    json_t *email = json_object_get (ev, "email");
    json_t *code = json_object_get (ev, "client_code");
    if (email && !json_is_string (email) && !json_is_null (email))
        return s_fault (fault, 400, index, "email", "\"email\" must be a string");
    if (code && !json_is_string (code) && !json_is_integer (code) && !json_is_null (code))
        return s_fault (fault, 400, index, "client_code", "\"client_code\" must be a string");
    if (!s_scalar (ev, "email", text, sizeof text) &&
        !s_scalar (ev, "client_code", text, sizeof text))
        return s_fault (fault, 400, index, "email", "\"email\" or \"client_code\" is required");
    json_t *ts = json_object_get (ev, "timestamp");
    vd_date_t d;
    if (!json_is_string (ts) ||
        vd_date_parse (json_string_value (ts), json_string_length (ts), &d) < 0 || !d.has_time ||
        !d.has_offset)
        return s_fault (fault, 400, index, "timestamp",
                        "\"timestamp\" must be ISO 8601 with a time and an offset or Z "
                        "(2024-03-15T10:30:00.1234567Z)");
    json_t *meta = json_object_get (ev, "metadata");
    if (meta && !json_is_object (meta) && !json_is_null (meta))
        return s_fault (fault, 400, index, "metadata", "\"metadata\" must be a JSON object");
    for (char *p = action; *p; p++)
        *p = (char)tolower ((unsigned char)*p);
    bool known = false;
    for (int i = 0; s_pa_actions[i]; i++)
        known |= strcmp (action, s_pa_actions[i]) == 0;
    if (!known) {
        s_set (row, HOOK_F_WARNING_FIELD, "status");
        s_set (row, HOOK_F_WARNING, "unknown Power Automate action: stored as received");
        s_set (row, HOOK_F_WARNING_RAW, action);
    }
    s_set (row, HOOK_F_SOURCE_ID, id);
    s_set (row, HOOK_F_STATUS, action);
    s_set (row, HOOK_F_DATE, json_string_value (ts));
    s_set (row, HOOK_F_EMAIL, s_scalar (ev, "email", text, sizeof text));
    s_set (row, HOOK_F_CHANNEL, s_scalar (ev, "channel", text, sizeof text));
    s_set (row, HOOK_F_CAMPAIGN, s_scalar (ev, "campaign", text, sizeof text));
    s_set (row, HOOK_F_SUBJECT, s_scalar (ev, "subject", text, sizeof text));
    s_set (row, HOOK_F_PRODUCT, s_scalar (ev, "product_code", text, sizeof text));
    return 0;
}

static void
s_pack_row (msgpack_packer *pk, long line, const s_row_t *row)
{
    msgpack_pack_array (pk, 2);
    msgpack_pack_int64 (pk, line);
    msgpack_pack_array (pk, HOOK_NFIELDS);
    for (int i = 0; i < HOOK_NFIELDS; i++)
        vd_mp_pack_cstr (pk, row->f[i]);
}

/*  One event of the body. -1 with fault. */
static int
s_event (hook_source_t src, json_t *ev, long index, msgpack_packer *pk, hook_fault_t *fault)
{
    if (!json_is_object (ev))
        return s_fault (fault, 400, index, "", "%s is not a JSON object",
                        index < 0 ? "the body" : "an event of the batch");
    s_row_t row = {0};
    int rc = 0;
    if (src == HOOK_BREVO)
        s_brevo_row (ev, &row);
    else
        rc = s_pa_row (ev, index, &row, fault);
    if (rc == 0) {
        char *payload = json_dumps (ev, JSON_COMPACT);
        s_set (&row, HOOK_F_PAYLOAD, payload);
        free (payload);
        s_pack_row (pk, index < 0 ? 1 : index + 1, &row);
    }
    s_row_free (&row);
    return rc;
}

int
hook_event_parse (hook_source_t src, const char *body, size_t len, msgpack_packer *pk,
                  size_t *count, hook_fault_t *fault)
{
    *count = 0;
    if (!hook_json_depth_ok (body, len, HOOK_MAX_DEPTH))
        return s_fault (fault, 400, -1, "", "JSON nested deeper than %d levels", HOOK_MAX_DEPTH);
    json_error_t jerr;
    json_t *doc = json_loadb (body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!doc)
        return s_fault (fault, 400, -1, "", "invalid JSON: %s (at byte %d)", jerr.text,
                        jerr.position);
    int rc = 0;
    if (json_is_array (doc)) {
        if (json_array_size (doc) > HOOK_MAX_EVENTS)
            rc =
                s_fault (fault, 413, -1, "", "more than %d events in one request", HOOK_MAX_EVENTS);
        for (size_t i = 0; rc == 0 && i < json_array_size (doc); i++)
            rc = s_event (src, json_array_get (doc, i), (long)i, pk, fault);
        *count = rc == 0 ? json_array_size (doc) : 0;
    } else {
        rc = s_event (src, doc, -1, pk, fault);
        *count = rc == 0 ? 1 : 0;
    }
    json_decref (doc);
    return rc;
}

/* ---- self test ---------------------------------------------------------- */

/*  Parses body and returns field f of row r ("<fault: msg>" on failure). */
static const char *
s_test_field (hook_source_t src, const char *body, uint32_t r, hook_field_t f, char *out,
              size_t size)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, vd_mp_write);
    hook_fault_t fault;
    size_t count = 0;
    if (hook_event_parse (src, body, strlen (body), &pk, &count, &fault) < 0)
        snprintf (out, size, "<fault %d %s: %s>", fault.status, fault.field, fault.msg);
    else {
        size_t off = 0;
        msgpack_unpacked u;
        msgpack_unpacked_init (&u);
        snprintf (out, size, "<no row>");
        for (uint32_t i = 0;
             i <= r && msgpack_unpack_next (&u, sb.data, sb.size, &off) == MSGPACK_UNPACK_SUCCESS;
             i++) {
            const msgpack_object *fields = &u.data.via.array.ptr[1];
            if (i == r && vd_mp_copy (&fields->via.array.ptr[f], out, size) < 0)
                snprintf (out, size, "<nil>");
        }
        msgpack_unpacked_destroy (&u);
    }
    msgpack_sbuffer_destroy (&sb);
    return out;
}

int
hook_event_test (bool verbose)
{
    int failures = 0;
    char got[1024];
    /* clang-format off */
    static const char tx[] =
        "{\"event\":\"hard_bounce\",\"email\":\" Jean@Example.FR\",\"id\":77,"
        "\"date\":\"2024-03-15 10:30:00\",\"ts\":1710495000,\"message-id\":\"<abc@smtp>\","
        "\"ts_event\":1710495000,\"subject\":\"Offre\",\"ts_epoch\":1710495000123,"
        "\"reason\":\"mailbox unknown\"}";
    static const char mk[] =
        "[{\"event\":\"unsubscribe\",\"email\":\"a@b.fr\",\"id\":77,\"camp_id\":12,"
        "\"campaign name\":\"Printemps\",\"date_event\":\"2024-03-15 10:30:00\",\"ts_event\":1710495000},"
        "{\"event\":\"list_addition\",\"email\":\"a@b.fr\",\"list_id\":[3,7],\"date\":\"2024-03-15 10:30:00\",\"ts\":1710495000},"
        "{\"event\":\"click\",\"email\":\"a@b.fr\",\"camp_id\":12,\"URL\":\"https://x\",\"date_event\":\"2024-03-15 11:00:00\"},"
        "{\"event\":\"teleported\",\"email\":\"a@b.fr\"}]";
    static const char pa[] =
        "{\"event_id\":\"pa-1\",\"action\":\"Resubscribe\",\"client_code\":\"C0042\","
        "\"timestamp\":\"2024-03-15T10:30:00.1234567Z\",\"metadata\":{\"flow\":\"x\"},\"channel\":\"web\"}";
    const struct {
        hook_source_t src;
        const char *body;
        uint32_t row;
        hook_field_t field;
        const char *want;
    } cases[] = {
        {HOOK_BREVO, tx, 0, HOOK_F_SOURCE_ID, "hard_bounce:<abc@smtp>:1710495000123"},
        {HOOK_BREVO, tx, 0, HOOK_F_DATE, "2024-03-15T09:30:00.123Z"},
        {HOOK_BREVO, tx, 0, HOOK_F_STATUS, "hard_bounce"},
        {HOOK_BREVO, tx, 0, HOOK_F_RESPONSE_DETAILS, "mailbox unknown"},
        {HOOK_BREVO, tx, 0, HOOK_F_WARNING, "<nil>"},
        {HOOK_BREVO, mk, 0, HOOK_F_SOURCE_ID, "unsubscribed:12:e-c3cb60ab70f8ccb5:1710495000"},
        {HOOK_BREVO, mk, 0, HOOK_F_CAMPAIGN, "Printemps"},
        {HOOK_BREVO, mk, 0, HOOK_F_DATE, "2024-03-15T09:30:00.000Z"},
        {HOOK_BREVO, mk, 1, HOOK_F_SOURCE_ID, "list_addition:e-c3cb60ab70f8ccb5:3,7:1710495000"},
        {HOOK_BREVO, mk, 1, HOOK_F_DATE, "2024-03-15 10:30:00"},
        {HOOK_BREVO, mk, 2, HOOK_F_RESPONSE_DETAILS, "https://x"},
        {HOOK_BREVO, mk, 2, HOOK_F_DATE, "2024-03-15 11:00:00"},
        {HOOK_BREVO, mk, 2, HOOK_F_SOURCE_ID, "sha:"}, /* no ts_event: content id */
        {HOOK_BREVO, mk, 3, HOOK_F_STATUS, "teleported"},
        {HOOK_BREVO, mk, 3, HOOK_F_WARNING_RAW, "teleported"},
        {HOOK_POWERAUTOMATE, pa, 0, HOOK_F_SOURCE_ID, "pa-1"},
        {HOOK_POWERAUTOMATE, pa, 0, HOOK_F_STATUS, "resubscribe"},
        {HOOK_POWERAUTOMATE, pa, 0, HOOK_F_DATE, "2024-03-15T10:30:00.1234567Z"},
        {HOOK_POWERAUTOMATE, pa, 0, HOOK_F_EMAIL, "<nil>"},
        {HOOK_POWERAUTOMATE, pa, 0, HOOK_F_CHANNEL, "web"},
        /* malformed input: a 400 naming the field */
        {HOOK_POWERAUTOMATE, "{\"action\":\"click\"}", 0, HOOK_F_STATUS, "<fault 400 event_id:"},
        {HOOK_POWERAUTOMATE, "{\"event_id\":\"1\",\"email\":\"a@b\",\"timestamp\":\"2024-03-15T10:30:00Z\"}", 0, HOOK_F_STATUS, "<fault 400 action:"},
        {HOOK_POWERAUTOMATE, "{\"event_id\":\"1\",\"action\":\"click\",\"timestamp\":\"2024-03-15T10:30:00Z\"}", 0, HOOK_F_STATUS, "<fault 400 email:"},
        {HOOK_POWERAUTOMATE, "{\"event_id\":\"1\",\"action\":\"click\",\"email\":\"a@b\",\"timestamp\":\"2024-03-15 10:30\"}", 0, HOOK_F_STATUS, "<fault 400 timestamp:"},
        {HOOK_POWERAUTOMATE, "{\"event_id\":\"1\",\"action\":\"click\",\"email\":\"a@b\",\"timestamp\":\"2024-02-30T10:30:00Z\"}", 0, HOOK_F_STATUS, "<fault 400 timestamp:"},
        {HOOK_POWERAUTOMATE, "{\"event_id\":\"1\",\"action\":\"click\",\"email\":\"a@b\",\"timestamp\":\"2024-03-15T10:30:00Z\",\"metadata\":[1]}", 0, HOOK_F_STATUS, "<fault 400 metadata:"},
        {HOOK_POWERAUTOMATE, "[{\"event_id\":\"1\",\"action\":\"click\",\"email\":\"a@b\",\"timestamp\":\"2024-03-15T10:30:00Z\"},7]", 1, HOOK_F_STATUS, "<fault 400 : an event"},
        {HOOK_POWERAUTOMATE, "{\"event_id\":\"1\",\"event_id\":\"2\"}", 0, HOOK_F_STATUS, "<fault 400 : invalid JSON"},
        {HOOK_BREVO, "{\"event\":\"delivered\"", 0, HOOK_F_STATUS, "<fault 400 : invalid JSON"},
        {HOOK_BREVO, "", 0, HOOK_F_STATUS, "<fault 400 : invalid JSON"},
        {HOOK_BREVO, "\"just a string\"", 0, HOOK_F_STATUS, "<fault 400 : the body is not"},
        {HOOK_BREVO, "{\"event\":\"delivered\",\"ts_epoch\":-5,\"email\":7}", 0, HOOK_F_DATE, "<nil>"},
        {HOOK_BREVO, "{\"event\":\"delivered\",\"ts_epoch\":99999999999999999}", 0, HOOK_F_SOURCE_ID, "sha:"},
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s_test_field (cases[i].src, cases[i].body, cases[i].row, cases[i].field, got, sizeof got);
        bool ok = strncmp (got, cases[i].want, strlen (cases[i].want)) == 0;
        if (!ok || verbose)
            fprintf (ok ? stdout : stderr, "  hook_event case %zu: want \"%s\" got \"%s\"\n", i,
                     cases[i].want, got);
        failures += !ok;
    }
    /* the same event twice gives the same identity; depth bombs are refused */
    char a[128], b[128];
    s_test_field (HOOK_BREVO, "{\"event\":\"opened\",\"b\":1,\"a\":2}", 0, HOOK_F_SOURCE_ID, a,
                  sizeof a);
    s_test_field (HOOK_BREVO, "{\"a\":2,\"event\":\"opened\",\"b\":1}", 0, HOOK_F_SOURCE_ID, b,
                  sizeof b);
    failures += strcmp (a, b) != 0 || strncmp (a, "sha:", 4) != 0;
    char bomb[200];
    memset (bomb, '[', sizeof bomb - 1);
    bomb[sizeof bomb - 1] = '\0';
    failures += hook_json_depth_ok (bomb, strlen (bomb), HOOK_MAX_DEPTH);
    failures += !hook_json_depth_ok ("[\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"]", 42, 2);
    s_test_field (HOOK_BREVO, bomb, 0, HOOK_F_STATUS, got, sizeof got);
    failures += strstr (got, "deeper") == NULL;
    if (verbose)
        printf ("  hook_event: %d failures\n", failures);
    return failures ? -1 : 0;
}
