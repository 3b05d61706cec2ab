/*  load_events - customer matching and effects of contact events. */
#include "load_events.h"
#include "load_refs.h"

/* clang-format off */
#define OPT_OUT "'unsubscribed', 'unsubscribe', 'spam', 'complaint'"
#define CONSENT OPT_OUT ", 'resubscribe'"
#define INVALID "'hard_bounce', 'invalid_email'"
#define CLIENT_KEY(h) VD_SCHEMA_KEY_SQL ("isavigne", "(" h ".payload->>'client_code')")

/*  Unmatched staged events get the customer of their client code, else
    one with their email. */
static const char s_match[] =
    "UPDATE stage_contact_history s SET customer_key = ("
    " SELECT c.customer_key FROM canonical.customers c"
    " WHERE c.customer_key = " CLIENT_KEY ("s") " OR c.email = s.email"
    " ORDER BY c.customer_key IS NOT DISTINCT FROM " CLIENT_KEY ("s") " DESC, c.customer_key"
    " LIMIT 1) WHERE s.customer_key IS NULL";

/*  The customers a batch touches: T (customer_key, email). */
#define TOUCHED_BY_EVENTS                                                        \
    "WITH t AS (SELECT DISTINCT c.customer_key, c.email FROM stage_contact_history s" \
    " JOIN canonical.customers c ON c.customer_key = s.customer_key OR c.email = s.email" \
    " WHERE s.status IN (" CONSENT ", " INVALID "))"
#define TOUCHED_BY_CUSTOMERS                                                     \
    "WITH t AS (SELECT DISTINCT c.customer_key, c.email FROM stage_customers s"  \
    " JOIN canonical.customers c ON c.customer_key = s.customer_key)"

/*  A bounce is about an address: only events with the customer's
    current email count (email_invalid is cleared when the email changes). */
#define SET_INVALID(touched)                                                     \
    touched " UPDATE canonical.customers c SET email_invalid = true, synced_at = now()" \
    " FROM t WHERE c.customer_key = t.customer_key AND c.email_invalid IS NOT TRUE" \
    " AND EXISTS (SELECT 1 FROM canonical.contact_history h WHERE h.email = c.email" \
    " AND h.status IN (" INVALID "))"

/*  The latest consent event of each touched customer decides. */
#define SET_CONSENT(touched, only_opt_out)                                       \
    touched ", l AS (SELECT DISTINCT ON (t.customer_key) t.customer_key, h.status" \
    " FROM t JOIN canonical.contact_history h"                                   \
    " ON h.customer_key = t.customer_key OR h.email = t.email"                   \
    " WHERE h.status IN (" CONSENT ")"                                           \
    " ORDER BY t.customer_key, h.date_contact DESC, h.contact_key DESC)"         \
    " UPDATE canonical.customers c SET email_opt_out = (l.status <> 'resubscribe'),"  \
    " synced_at = now() FROM l WHERE c.customer_key = l.customer_key"            \
    " AND c.email_opt_out IS DISTINCT FROM (l.status <> 'resubscribe')" only_opt_out

/*  Events waiting for a customer that has just been merged. */
static const char s_rematch[] =
    "UPDATE canonical.contact_history h SET customer_key = c.customer_key, synced_at = now()"
    " FROM stage_customers s JOIN canonical.customers c ON c.customer_key = s.customer_key"
    " WHERE h.customer_key IS NULL AND (h.email = c.email OR c.customer_key = " CLIENT_KEY ("h") ")";
/*  Events of a person `vendange forget` erased that were still on their
    way (in a gateway's spool) lose what identifies them, as the events
    already stored did. */
static const char s_forgotten[] =
    "UPDATE stage_contact_history s SET email = NULL, payload = NULL, response_details = NULL"
    " WHERE s.email IS NOT NULL AND sha256(convert_to(lower(s.email), 'UTF8')) IN"
    " (SELECT email_sha256 FROM ops.forgotten_emails)";

/*  Whether customers of a batch may have events to apply: an event not
    matched to any customer yet, or a consent or bounce event of one of
    their emails or keys. */
static const char s_pending[] =
    "SELECT EXISTS (SELECT 1 FROM canonical.contact_history WHERE customer_key IS NULL)"
    " OR EXISTS (SELECT 1 FROM canonical.contact_history h"
    " WHERE (h.email = ANY ($1::text[]) OR h.customer_key = ANY ($2::text[]))"
    " AND h.status IN (" CONSENT ", " INVALID "))";
/* clang-format on */

static const char *const s_none[] = {NULL};
static const char *const s_events_before[] = {s_forgotten, s_match, NULL};
static const char *const s_events_after[] = {SET_INVALID (TOUCHED_BY_EVENTS),
                                             SET_CONSENT (TOUCHED_BY_EVENTS, ""), NULL};
static const char *const s_customers_after[] = {
    s_rematch, SET_INVALID (TOUCHED_BY_CUSTOMERS),
    SET_CONSENT (TOUCHED_BY_CUSTOMERS, " AND l.status <> 'resubscribe'"), NULL};

const char *const *
load_events_before (int table_id)
{
    const vd_table_t *t = vd_schema_table (table_id);
    return t && (t->flags & VD_TABLE_EVENTS) ? s_events_before : s_none;
}

const char *const *
load_events_after (int table_id)
{
    const vd_table_t *t = vd_schema_table (table_id);
    if (t && (t->flags & VD_TABLE_EVENTS))
        return s_events_after;
    return table_id == VD_TABLE_CUSTOMERS ? s_customers_after : s_none;
}

int
load_events_pending (PGconn *conn, const vd_table_t *t, const char *rows, const size_t *start,
                     size_t n, size_t end, vd_error_t *err)
{
    vd_buf_t emails, keys;
    vd_buf_init (&emails, 256 * 1024 * 1024);
    vd_buf_init (&keys, 256 * 1024 * 1024);
    int email = vd_schema_column (t, "email");
    int rc = -1;
    if (email < 0 || load_refs_keys (rows, start, n, end, (size_t)email, &emails) < 0 ||
        load_refs_keys (rows, start, n, end, 0, &keys) < 0)
        vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    else {
        const char *params[] = {vd_buf_str (&emails), vd_buf_str (&keys)};
        PGresult *res = vd_db_exec (conn, s_pending, 2, params, err);
        if (res)
            rc = strcmp (PQgetvalue (res, 0, 0), "t") == 0;
        PQclear (res);
    }
    vd_buf_free (&emails);
    vd_buf_free (&keys);
    return rc;
}

int
load_events_test (bool verbose)
{
    int failures = 0;
    /* the statements name real columns of the schema */
    const vd_table_t *contacts = vd_schema_table (VD_TABLE_CONTACTS);
    const vd_table_t *customers = vd_schema_table (VD_TABLE_CUSTOMERS);
    const char *used[] = {"status", "email", "customer_key", "date_contact", "payload"};
    for (size_t i = 0; i < sizeof used / sizeof used[0]; i++)
        failures += vd_schema_column (contacts, used[i]) < 0;
    failures += vd_schema_column (customers, "email_opt_out") < 0 ||
                vd_schema_column (customers, "email_invalid") < 0;
    failures += !(contacts->flags & VD_TABLE_EVENTS);
    failures += load_events_before (VD_TABLE_CONTACTS)[0] != s_forgotten ||
                load_events_before (VD_TABLE_CONTACTS)[1] != s_match;
    failures += load_events_before (VD_TABLE_SALES)[0] != NULL;
    failures += load_events_after (VD_TABLE_SALES)[0] != NULL;
    failures += load_events_after (VD_TABLE_CUSTOMERS)[0] != s_rematch;
    failures += load_events_before (-1)[0] != NULL || load_events_after (99)[0] != NULL;
    /* a sync only sets opt-outs; events also clear them */
    failures += strstr (load_events_after (VD_TABLE_CUSTOMERS)[2], "<> 'resubscribe'") == NULL;
    failures += strstr (load_events_after (VD_TABLE_CONTACTS)[1], "resubscribe") == NULL;
    if (verbose)
        for (const char *const *s = load_events_after (VD_TABLE_CONTACTS); *s; s++)
            printf ("%s\n\n", *s);
    return failures ? -1 : 0;
}
