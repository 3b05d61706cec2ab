/*  vd_migrate - creates and updates the database schemas.

    Two parts, both idempotent, run under one advisory lock:
    1. canonical.*: reconciled from vd_schema (CREATE TABLE IF NOT EXISTS,
       ADD COLUMN IF NOT EXISTS), so adding a column to the schema table is
       all a new column needs;
    2. ops.* and indexes: an ordered list of versioned steps recorded in
       ops.schema_migrations; a step is never edited once released, a new
       one is appended.
*/
#include "vendange.h"
#include "vd_db.h"
#include "vd_migrate.h"

#define MIGRATE_LOCK "SELECT pg_advisory_lock(7366471)"
#define MIGRATE_UNLOCK "SELECT pg_advisory_unlock(7366471)"

static const char *s_steps[] = {
    /* 1: registry, runs and their accounting */
    "CREATE TABLE ops.connectors ("
    "  name text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),"
    "  type text NOT NULL CHECK (type IN ('isavigne','odoo','brevo','powerautomate')),"
    "  settings jsonb NOT NULL DEFAULT '{}',"
    "  secrets bytea,"
    "  cursor text,"
    "  schedule text,"
    "  created_at timestamptz NOT NULL DEFAULT now(),"
    "  updated_at timestamptz NOT NULL DEFAULT now());"
    "CREATE TABLE ops.sync_runs ("
    "  id bigserial PRIMARY KEY,"
    "  connector text NOT NULL,"
    "  connector_type text NOT NULL,"
    "  status text NOT NULL CHECK (status IN ('queued','running','success','partial','failed')),"
    "  full_sync boolean NOT NULL DEFAULT false,"
    "  trigger text NOT NULL DEFAULT 'manual',"
    "  queued_at timestamptz NOT NULL DEFAULT now(),"
    "  started_at timestamptz,"
    "  finished_at timestamptz,"
    "  cursor_before text,"
    "  cursor_after text,"
    "  extractor text,"
    "  extract_done boolean NOT NULL DEFAULT false,"
    "  load_done boolean NOT NULL DEFAULT false,"
    "  files jsonb NOT NULL DEFAULT '[]',"
    "  errors jsonb NOT NULL DEFAULT '[]',"
    "  last_progress_at timestamptz);"
    "CREATE UNIQUE INDEX sync_runs_one_active ON ops.sync_runs (connector)"
    "  WHERE status IN ('queued','running');"
    "CREATE INDEX sync_runs_by_connector ON ops.sync_runs (connector, id DESC);"
    "CREATE TABLE ops.run_tables ("
    "  run_id bigint NOT NULL REFERENCES ops.sync_runs ON DELETE CASCADE,"
    "  table_name text NOT NULL,"
    "  extracted bigint NOT NULL DEFAULT 0,"
    "  inserted bigint NOT NULL DEFAULT 0,"
    "  updated bigint NOT NULL DEFAULT 0,"
    "  unchanged bigint NOT NULL DEFAULT 0,"
    "  rejected bigint NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (run_id, table_name));"
    "CREATE TABLE ops.run_warnings ("
    "  id bigserial PRIMARY KEY,"
    "  run_id bigint NOT NULL REFERENCES ops.sync_runs ON DELETE CASCADE,"
    "  table_name text, file text, line bigint, field text,"
    "  reason text NOT NULL, raw_value text,"
    "  created_at timestamptz NOT NULL DEFAULT now());"
    "CREATE INDEX run_warnings_by_run ON ops.run_warnings (run_id);"
    "CREATE TABLE ops.rejects ("
    "  id bigserial PRIMARY KEY,"
    "  run_id bigint NOT NULL REFERENCES ops.sync_runs ON DELETE CASCADE,"
    "  table_name text, file text, line bigint,"
    "  reason text NOT NULL, raw text,"
    "  created_at timestamptz NOT NULL DEFAULT now());"
    "CREATE INDEX rejects_by_run ON ops.rejects (run_id);"
    "CREATE TABLE ops.key_map ("
    "  table_name text NOT NULL, source text NOT NULL, source_id text NOT NULL,"
    "  key text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),"
    "  PRIMARY KEY (table_name, source, source_id));"
    "CREATE TABLE ops.dirty_customers (customer_key text PRIMARY KEY);"
    "CREATE TABLE ops.services ("
    "  instance text PRIMARY KEY, role text NOT NULL, kind text, host text, pid integer,"
    "  state text, run_id bigint, version text,"
    "  first_seen timestamptz NOT NULL DEFAULT now(),"
    "  last_heartbeat timestamptz NOT NULL DEFAULT now(),"
    "  alive boolean NOT NULL DEFAULT true);"
    "CREATE INDEX sales_lines_customer ON canonical.sales_lines (customer_key);"
    "CREATE INDEX sales_lines_product ON canonical.sales_lines (product_key);"
    "CREATE INDEX customers_email ON canonical.customers (email);"
    "CREATE INDEX stock_levels_product ON canonical.stock_levels (product_key);"
    "CREATE INDEX contact_history_customer ON canonical.contact_history (customer_key);"
    "CREATE INDEX contact_history_email ON canonical.contact_history (email);",
    /* 2: secrets sealed (vd_secret); their names in clear for display */
    "ALTER TABLE ops.connectors ADD COLUMN secret_names text[] NOT NULL DEFAULT '{}';"
    "UPDATE ops.connectors SET secret_names = ARRAY(SELECT jsonb_object_keys("
    "  convert_from(secrets, 'UTF8')::jsonb) ORDER BY 1)"
    "  WHERE length(secrets) > 0 AND get_byte(secrets, 0) = 123;",
    /* 3: connector tests (orch_tests) */
    "CREATE TABLE ops.connector_tests ("
    "  id bigserial PRIMARY KEY,"
    "  connector text NOT NULL,"
    "  status text NOT NULL DEFAULT 'pending'"
    "    CHECK (status IN ('pending','running','ok','failed')),"
    "  extractor text,"
    "  requested_at timestamptz NOT NULL DEFAULT now(),"
    "  finished_at timestamptz,"
    "  result jsonb);"
    "CREATE INDEX connector_tests_open ON ops.connector_tests (id)"
    "  WHERE status IN ('pending','running');",
    /* 4: schedules (orch_schedules): when each connector runs next */
    "ALTER TABLE ops.connectors ADD COLUMN next_run_at timestamptz;",
    /* 5: what `vendange forget` did (counts only, never the values) */
    "CREATE TABLE ops.forget_log ("
    "  id bigserial PRIMARY KEY,"
    "  requested_at timestamptz NOT NULL DEFAULT now(),"
    "  customers bigint NOT NULL DEFAULT 0,"
    "  sales_lines bigint NOT NULL DEFAULT 0,"
    "  contacts bigint NOT NULL DEFAULT 0,"
    "  rejects bigint NOT NULL DEFAULT 0,"
    "  warnings bigint NOT NULL DEFAULT 0);",
    /* 6: webhook runs (one per connector, gateway spool and hour, closed by
       the gateway) and the batches the loader committed exactly once */
    "DROP INDEX ops.sync_runs_one_active;"
    "CREATE UNIQUE INDEX sync_runs_one_active ON ops.sync_runs (connector)"
    "  WHERE status IN ('queued','running') AND trigger <> 'webhook';"
    "CREATE UNIQUE INDEX sync_runs_one_webhook ON ops.sync_runs (connector, extractor)"
    "  WHERE status = 'running' AND trigger = 'webhook';"
    "CREATE TABLE ops.run_batches ("
    "  run_id bigint NOT NULL REFERENCES ops.sync_runs ON DELETE CASCADE,"
    "  seq bigint NOT NULL,"
    "  rows bigint NOT NULL,"
    "  committed_at timestamptz NOT NULL DEFAULT now(),"
    "  PRIMARY KEY (run_id, seq));"
    "CREATE INDEX contact_history_unmatched ON canonical.contact_history"
    "  ((payload->>'client_code')) WHERE customer_key IS NULL;",
    /* 7: deletions (Odoo), cross-source persons */
    "ALTER TABLE ops.run_tables ADD COLUMN IF NOT EXISTS deleted bigint NOT NULL DEFAULT 0;"
    "CREATE INDEX customers_person ON canonical.customers (person_key);"
    "CREATE VIEW canonical.persons AS SELECT coalesce(person_key, customer_key) AS person_key,"
    "  array_agg(customer_key ORDER BY customer_key) AS customer_keys,"
    "  array_agg(DISTINCT source ORDER BY source) AS sources,"
    "  (array_agg(email ORDER BY source = 'odoo' DESC, customer_key)"
    "    FILTER (WHERE email IS NOT NULL))[1] AS email,"
    "  (array_agg(first_name ORDER BY source = 'odoo' DESC, customer_key)"
    "    FILTER (WHERE first_name IS NOT NULL))[1] AS first_name,"
    "  (array_agg(last_name ORDER BY source = 'odoo' DESC, customer_key)"
    "    FILTER (WHERE last_name IS NOT NULL))[1] AS last_name,"
    "  min(first_purchase_date) AS first_purchase_date,"
    "  max(last_purchase_date) AS last_purchase_date,"
    "  coalesce(sum(total_spent), 0) AS total_spent,"
    "  coalesce(sum(purchase_count), 0)::integer AS purchase_count,"
    "  CASE WHEN sum(purchase_count) > 0"
    "    THEN round(sum(total_spent) / sum(purchase_count), 2) END AS avg_order_value"
    "  FROM canonical.customers GROUP BY 1;"
    "CREATE VIEW ops.person_matches AS SELECT c.customer_key, c.person_key,"
    "  CASE WHEN c.person_key IS NULL OR c.person_key = c.customer_key THEN 'none'"
    "    WHEN c.person_key = r.customer_key THEN 'ref' ELSE 'email' END AS matched_by,"
    "  CASE WHEN r.customer_key IS NOT NULL AND e.n > 0 AND NOT (r.customer_key = ANY (e.keys))"
    "    THEN 'ref and email name different iSaVigne customers'"
    "    WHEN e.n > 1 THEN 'email shared by ' || e.n || ' iSaVigne customers' END AS conflict"
    "  FROM canonical.customers c"
    "  LEFT JOIN canonical.customers r ON c.external_ref IS NOT NULL"
    "    AND r.customer_key = " VD_SCHEMA_KEY_SQL (
        "isavigne", "c.external_ref") "  LEFT JOIN LATERAL (SELECT count(*) AS n, "
                                      "array_agg(i.customer_key) AS keys"
                                      "    FROM canonical.customers i WHERE i.source = 'isavigne' "
                                      "AND c.email IS NOT NULL"
                                      "    AND i.email = c.email) e ON true"
                                      "  WHERE c.source = 'odoo';",
    /* 8: emails `vendange forget` erased, as hashes: events still in a
       gateway's spool when the person was forgotten are erased on arrival */
    "CREATE TABLE ops.forgotten_emails ("
    "  email_sha256 bytea PRIMARY KEY,"
    "  expires_at timestamptz NOT NULL);",
    /* 9: wake the orchestrator's loop when a run or a test is queued
       (orch_wake), whoever inserts it */
    "CREATE FUNCTION ops.notify_dispatch() RETURNS trigger LANGUAGE plpgsql AS $$"
    "  BEGIN PERFORM pg_notify('vendange_dispatch', TG_TABLE_NAME); RETURN NULL; END $$;"
    "CREATE TRIGGER sync_runs_queued AFTER INSERT ON ops.sync_runs"
    "  FOR EACH ROW EXECUTE FUNCTION ops.notify_dispatch();"
    "CREATE TRIGGER connector_tests_queued AFTER INSERT ON ops.connector_tests"
    "  FOR EACH ROW EXECUTE FUNCTION ops.notify_dispatch();"
    /* the daily segment pass (load_customers): when it last ran, with which rules */
    "CREATE TABLE ops.segment_pass (id boolean PRIMARY KEY DEFAULT true CHECK (id),"
    "  day date NOT NULL, rules text NOT NULL);",
    /* 10: recommendations (reco/): jobs, the current top N per customer
       with reasons, every pair ever proposed (precision), staff feedback
       and campaign exports */
    "CREATE SCHEMA reco;"
    "CREATE TABLE reco.runs ("
    "  id bigserial PRIMARY KEY,"
    "  scope text NOT NULL CHECK (scope IN ('all','customer')),"
    "  customer_key text CHECK ((scope = 'customer') = (customer_key IS NOT NULL)),"
    "  trigger text NOT NULL DEFAULT 'manual',"
    "  sync_run_id bigint,"
    "  model text NOT NULL DEFAULT 'vendange' CHECK (model IN ('vendange','popularity','random')),"
    "  status text NOT NULL DEFAULT 'queued'"
    "    CHECK (status IN ('queued','running','success','failed')),"
    "  model_version text, worker text,"
    "  queued_at timestamptz NOT NULL DEFAULT now(),"
    "  started_at timestamptz, finished_at timestamptz, heartbeat_at timestamptz,"
    "  customers bigint, recommendations bigint, weights jsonb, error text);"
    "CREATE UNIQUE INDEX reco_runs_one_queued ON reco.runs (scope, coalesce(customer_key, ''))"
    "  WHERE status = 'queued';"
    "CREATE INDEX reco_runs_open ON reco.runs (id) WHERE status IN ('queued','running');"
    "CREATE FUNCTION reco.notify_queued() RETURNS trigger LANGUAGE plpgsql AS $$"
    "  BEGIN PERFORM pg_notify('vendange_reco', NEW.id::text); RETURN NULL; END $$;"
    "CREATE TRIGGER reco_runs_queued AFTER INSERT ON reco.runs"
    "  FOR EACH ROW EXECUTE FUNCTION reco.notify_queued();"
    "CREATE TABLE reco.recommendations ("
    "  customer_key text NOT NULL,"
    "  rank integer NOT NULL,"
    "  product_key text NOT NULL,"
    "  score double precision NOT NULL,"
    "  reasons jsonb NOT NULL,"
    "  signals text[] NOT NULL DEFAULT '{}',"
    "  win_back boolean NOT NULL DEFAULT false,"
    "  campaign_ok boolean NOT NULL,"
    "  campaign_block text,"
    "  run_id bigint NOT NULL,"
    "  model_version text NOT NULL,"
    "  created_at timestamptz NOT NULL DEFAULT now(),"
    "  PRIMARY KEY (customer_key, rank));"
    "CREATE INDEX recommendations_product ON reco.recommendations (product_key);"
    "CREATE TABLE reco.issued ("
    "  customer_key text NOT NULL, product_key text NOT NULL,"
    "  first_at timestamptz NOT NULL, last_at timestamptz NOT NULL,"
    "  top_signal text NOT NULL, signals text[] NOT NULL, run_id bigint NOT NULL,"
    "  followed text CHECK (followed IN ('click','purchase')),"
    "  followed_at timestamptz, followed_detail text,"
    "  verdict text CHECK (verdict IN ('good','bad')), verdict_at timestamptz,"
    "  PRIMARY KEY (customer_key, product_key));"
    "CREATE INDEX issued_open ON reco.issued (first_at) WHERE followed IS NULL;"
    /* what followed a recommendation is looked for in recent sales and clicks */
    "CREATE INDEX sales_lines_date ON canonical.sales_lines (date_sale);"
    "CREATE INDEX contact_history_clicks ON canonical.contact_history (date_contact)"
    "  WHERE status = 'click';"
    "CREATE TABLE reco.feedback ("
    "  id bigserial PRIMARY KEY,"
    "  customer_key text NOT NULL, product_key text NOT NULL,"
    "  verdict text NOT NULL CHECK (verdict IN ('good','bad')),"
    "  reason text, signals text[] NOT NULL DEFAULT '{}',"
    "  source text NOT NULL DEFAULT 'staff' CHECK (source IN ('staff','click','purchase')),"
    "  created_at timestamptz NOT NULL DEFAULT now());"
    "CREATE INDEX feedback_customer ON reco.feedback (customer_key, created_at);"
    "CREATE TABLE reco.exports ("
    "  campaign text NOT NULL, customer_key text NOT NULL, product_key text NOT NULL,"
    "  exported_at timestamptz NOT NULL DEFAULT now(),"
    "  PRIMARY KEY (campaign, customer_key, product_key));",
    /* 11: a run that inserted many rows marks every customer's aggregates
       due at once (load_customers), in the transaction of its rows */
    "CREATE TABLE ops.dirty_all (id boolean PRIMARY KEY DEFAULT true CHECK (id));"
    /* the loader copies new rows straight into the tables: each index is
       paid on every row. Sales by product are never looked up (the
       recommender reads them all); sales by date only by recent dates,
       which a BRIN index serves at almost no cost to a load */
    "DROP INDEX canonical.sales_lines_product;"
    "DROP INDEX canonical.sales_lines_date;"
    "CREATE INDEX sales_lines_date ON canonical.sales_lines USING brin (date_sale);"
    /* every customer row is rewritten once its sales are counted: room in
       its page keeps that update off the indexes (HOT) */
    "ALTER TABLE canonical.customers SET (fillfactor = 50);",
    /* 12: per-line content hashes of the files an extractor read (one set
       per connector and file, written by the loader in the run's last
       transaction; trusted only while the connector's cursor names that
       run and no later run failed). A writer that clears a row's
       content_hash, or deletes rows, drops its connector's sets: every line
       is compared at the next run (the triggers, s_line_hash_triggers) */
    "CREATE TABLE ops.line_hashes ("
    "  connector text NOT NULL, file text NOT NULL,"
    "  run_id bigint NOT NULL, rules text NOT NULL, lines bigint NOT NULL,"
    "  hashes bytea NOT NULL, written_at timestamptz NOT NULL DEFAULT now(),"
    "  PRIMARY KEY (connector, file));"
    "ALTER TABLE ops.line_hashes ALTER COLUMN hashes SET STORAGE EXTERNAL;"
    "CREATE FUNCTION ops.line_hashes_cleared() RETURNS trigger LANGUAGE plpgsql AS $$"
    "  BEGIN DELETE FROM ops.line_hashes WHERE connector = OLD.connector; RETURN NULL; END $$;"
    "CREATE FUNCTION ops.line_hashes_deleted() RETURNS trigger LANGUAGE plpgsql AS $$"
    "  BEGIN DELETE FROM ops.line_hashes WHERE connector IN (SELECT connector FROM gone);"
    "  RETURN NULL; END $$;"
    "CREATE FUNCTION ops.line_hashes_truncated() RETURNS trigger LANGUAGE plpgsql AS $$"
    "  BEGIN DELETE FROM ops.line_hashes; RETURN NULL; END $$;",
    /* 13: rules that derive values from what an export leaves out (line
       totals, percentage margins, units from the product's packaging,
       pack_size): every iSaVigne file is read again at its connector's next
       run (cursor cleared), so rows already loaded get them. Odoo section
       and note lines (no product) loaded as sales lines were removed here
       too; that part is now the loader's (only it writes canonical.*): a
       later step queues it (drop_productless_odoo_lines) */
    "UPDATE ops.connectors SET cursor = NULL WHERE type = 'isavigne' AND cursor IS NOT NULL;",
    /* 14: the webhook configuration each gateway applied (orch_hooks), and
       a wake-up of the orchestrator's loop when a connector changes, so a
       new webhook connector reaches the gateways at once */
    "ALTER TABLE ops.services ADD COLUMN IF NOT EXISTS hook_config text;"
    "CREATE TRIGGER connectors_changed AFTER INSERT OR UPDATE OR DELETE ON ops.connectors"
    "  FOR EACH STATEMENT EXECUTE FUNCTION ops.notify_dispatch();",
    /* 15: a connector test may ask for a preview of the first rows of each
       export file (the mapping page) */
    "ALTER TABLE ops.connector_tests ADD COLUMN IF NOT EXISTS preview integer"
    "  CHECK (preview BETWEEN 1 AND 100);",
    /* 16: the secondary indexes of a canonical table the loader fills
       from empty, dropped in the transaction of its first COPY and built
       again at the run's end (or at the loader's next start, after a
       crash): one sort instead of a random insertion per row (load_index) */
    "CREATE TABLE ops.deferred_indexes (name text PRIMARY KEY, table_name text NOT NULL,"
    "  definition text NOT NULL, deferred_at timestamptz NOT NULL DEFAULT now());",
    /* 17: warnings that scale (load_warn): one summary per run, table,
       file, field and reason (count, the first examples with their raw
       value) and its lines as ranges, one row per block of 65,536 lines;
       ops.run_warnings becomes the view of one row per affected line.
       Rows of earlier runs are converted (a warning without a line keeps
       its count, no line). Independent of the other steps: it may be
       renumbered when branches merge (alerts take one too). */
    "CREATE TABLE ops.warning_summaries ("
    "  id bigserial PRIMARY KEY,"
    "  run_id bigint NOT NULL REFERENCES ops.sync_runs ON DELETE CASCADE,"
    "  table_name text, file text, field text, reason text NOT NULL,"
    "  count bigint NOT NULL,"
    "  example_lines bigint[] NOT NULL DEFAULT '{}',"
    "  example_values text[] NOT NULL DEFAULT '{}',"
    "  created_at timestamptz NOT NULL DEFAULT now());"
    "CREATE UNIQUE INDEX warning_summaries_kind ON ops.warning_summaries"
    "  (run_id, table_name, file, field, reason) NULLS NOT DISTINCT;"
    "CREATE TABLE ops.warning_lines ("
    "  warning_id bigint NOT NULL REFERENCES ops.warning_summaries ON DELETE CASCADE,"
    "  block bigint NOT NULL,"
    "  lines int8multirange NOT NULL,"
    "  PRIMARY KEY (warning_id, block));"
    "INSERT INTO ops.warning_summaries (run_id, table_name, file, field, reason, count,"
    "  example_lines, example_values, created_at)"
    "  SELECT run_id, table_name, file, field, reason, count(*),"
    "  (array_agg(line ORDER BY line, id))[1:5], (array_agg(raw_value ORDER BY line, id))[1:5],"
    "  min(created_at)"
    "  FROM ops.run_warnings GROUP BY run_id, table_name, file, field, reason;"
    "INSERT INTO ops.warning_lines (warning_id, block, lines)"
    "  SELECT s.id, w.line >> 16, range_agg(int8range(w.line, w.line + 1))"
    "  FROM ops.run_warnings w JOIN ops.warning_summaries s ON s.run_id = w.run_id"
    "  AND (s.table_name, s.file, s.field, s.reason)"
    "  IS NOT DISTINCT FROM (w.table_name, w.file, w.field, w.reason)"
    "  WHERE w.line IS NOT NULL GROUP BY 1, 2;"
    "DROP TABLE ops.run_warnings;"
    "CREATE VIEW ops.run_warnings AS SELECT w.id AS warning_id, w.run_id, w.table_name,"
    "  w.file, x.line, w.field, w.reason,"
    "  w.example_values[array_position(w.example_lines, x.line)] AS raw_value, w.created_at"
    "  FROM ops.warning_summaries w LEFT JOIN LATERAL (SELECT g AS line"
    "  FROM ops.warning_lines l CROSS JOIN LATERAL unnest(l.lines) AS r"
    "  CROSS JOIN LATERAL generate_series(lower(r), upper(r) - 1) AS g"
    "  WHERE l.warning_id = w.id) x ON true;",
    /* 18: alerts (orch_alerts): one row per opening of a rule on a subject,
       at most one open per (rule, subject); their settings per connector
       ('' for every connector), the channels that carry them (secrets
       sealed as the connectors'), and the durable outbox (vd_outbox) every
       notification goes through, shared with the automation rules */
    "CREATE TABLE ops.outbox ("
    "  id bigserial PRIMARY KEY,"
    "  origin text NOT NULL,"
    "  origin_id bigint,"
    "  target text NOT NULL,"
    "  idempotency_key text NOT NULL UNIQUE,"
    "  payload jsonb NOT NULL,"
    "  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sent','dead')),"
    "  attempts integer NOT NULL DEFAULT 0,"
    "  next_attempt_at timestamptz NOT NULL DEFAULT now(),"
    "  locked_until timestamptz,"
    "  last_error text,"
    "  created_at timestamptz NOT NULL DEFAULT now(),"
    "  sent_at timestamptz);"
    "CREATE INDEX outbox_due ON ops.outbox (next_attempt_at) WHERE status = 'pending';"
    "CREATE INDEX outbox_origin ON ops.outbox (origin, origin_id);"
    "CREATE TABLE ops.alert_channels ("
    "  name text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),"
    "  type text NOT NULL CHECK (type IN ('smtp','http')),"
    "  settings jsonb NOT NULL DEFAULT '{}',"
    "  secrets bytea,"
    "  secret_names text[] NOT NULL DEFAULT '{}',"
    "  created_at timestamptz NOT NULL DEFAULT now(),"
    "  updated_at timestamptz NOT NULL DEFAULT now());"
    "CREATE TABLE ops.alert_rules ("
    "  rule text NOT NULL,"
    "  connector text NOT NULL DEFAULT '',"
    "  enabled boolean,"
    "  settings jsonb NOT NULL DEFAULT '{}',"
    "  updated_at timestamptz NOT NULL DEFAULT now(),"
    "  PRIMARY KEY (rule, connector));"
    "CREATE TABLE ops.alerts ("
    "  id bigserial PRIMARY KEY,"
    "  rule text NOT NULL,"
    "  subject text NOT NULL,"
    "  connector text,"
    "  detail text NOT NULL,"
    "  opened_at timestamptz NOT NULL DEFAULT now(),"
    "  resolved_at timestamptz);"
    "CREATE UNIQUE INDEX alerts_one_open ON ops.alerts (rule, subject) WHERE resolved_at IS NULL;"
    "CREATE INDEX alerts_recent ON ops.alerts (opened_at DESC);"
    "CREATE FUNCTION ops.alert_setting(r text, c text, k text, def text) RETURNS text"
    "  LANGUAGE sql STABLE AS $$ SELECT coalesce("
    "  (SELECT settings ->> k FROM ops.alert_rules WHERE rule = r AND connector = c),"
    "  (SELECT settings ->> k FROM ops.alert_rules WHERE rule = r AND connector = ''), def) $$;"
    "CREATE FUNCTION ops.alert_enabled(r text, c text) RETURNS boolean"
    "  LANGUAGE sql STABLE AS $$ SELECT coalesce("
    "  (SELECT enabled FROM ops.alert_rules WHERE rule = r AND connector = c),"
    "  (SELECT enabled FROM ops.alert_rules WHERE rule = r AND connector = ''), true) $$;",
    /* the loader's commands: what other services change in canonical.*
       (forget, a connector's purge, retention), run by the loader in one
       transaction each (load_cmd); the insert wakes it */
    "CREATE TABLE ops.loader_commands ("
    "  id bigserial PRIMARY KEY,"
    "  kind text NOT NULL,"
    "  args jsonb NOT NULL DEFAULT '{}',"
    "  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued','done','failed')),"
    "  result jsonb,"
    "  error text,"
    "  created_at timestamptz NOT NULL DEFAULT now(),"
    "  done_at timestamptz);"
    "CREATE INDEX loader_commands_queued ON ops.loader_commands (id) WHERE status = 'queued';"
    "CREATE FUNCTION ops.notify_loader() RETURNS trigger LANGUAGE plpgsql AS $$"
    "  BEGIN PERFORM pg_notify('vendange_loader_commands', ''); RETURN NULL; END $$;"
    "CREATE TRIGGER loader_commands_queued AFTER INSERT ON ops.loader_commands"
    "  FOR EACH ROW EXECUTE FUNCTION ops.notify_loader();",
    /* the canonical part of step 13, for a database that ran step 13
       without it: the loader removes Odoo lines without a product */
    "INSERT INTO ops.loader_commands (kind) SELECT 'drop_productless_odoo_lines'"
    "  WHERE EXISTS (SELECT 1 FROM canonical.sales_lines"
    "  WHERE source = 'odoo' AND product_key IS NULL);",
};

#define NSTEPS ((int)(sizeof s_steps / sizeof s_steps[0]))

int
vd_migrate_version (void)
{
    return NSTEPS;
}

/*  canonical.<table> from the schema description. */
static int
s_reconcile_table (PGconn *conn, const vd_table_t *t, vd_error_t *err)
{
    vd_buf_t sql;
    vd_buf_init (&sql, 64 * 1024);
    vd_buf_printf (&sql, "CREATE TABLE IF NOT EXISTS canonical.%s (%s text PRIMARY KEY);", t->name,
                   t->key);
    for (size_t i = 0; i < t->ncolumns; i++) {
        const vd_column_t *c = &t->columns[i];
        if (c->flags & VD_COL_KEY)
            continue;
        vd_buf_printf (&sql, "ALTER TABLE canonical.%s ADD COLUMN IF NOT EXISTS %s %s%s;", t->name,
                       c->name, vd_schema_sql_type (c->type),
                       strcmp (c->name, "synced_at") == 0 ? " NOT NULL DEFAULT now()" : "");
        if (c->initial)
            vd_buf_printf (&sql, "ALTER TABLE canonical.%s ALTER COLUMN %s SET DEFAULT %s;",
                           t->name, c->name, c->initial);
    }
    vd_buf_printf (
        &sql, "ALTER TABLE canonical.%s ADD COLUMN IF NOT EXISTS " VD_SCHEMA_HASH_COLUMN " bytea;",
        t->name);
    int rc = vd_db_script (conn, vd_buf_str (&sql), err);
    vd_buf_free (&sql);
    return rc;
}

static int
s_run_steps (PGconn *conn, vd_error_t *err)
{
    PGresult *res = vd_db_exec (conn, "SELECT coalesce(max(version), 0) FROM ops.schema_migrations",
                                0, NULL, err);
    if (!res)
        return -1;
    int64_t done = 0;
    vd_parse_int (PQgetvalue (res, 0, 0), 0, INT_MAX, &done);
    PQclear (res);
    for (int v = (int)done + 1; v <= NSTEPS; v++) {
        char version[16];
        snprintf (version, sizeof version, "%d", v);
        const char *params[] = {version};
        if (vd_db_command (conn, "BEGIN", 0, NULL, err) < 0)
            return -1;
        if (vd_db_script (conn, s_steps[v - 1], err) < 0 ||
            vd_db_command (conn, "INSERT INTO ops.schema_migrations (version) VALUES ($1)", 1,
                           params, err) < 0 ||
            vd_db_command (conn, "COMMIT", 0, NULL, err) < 0) {
            vd_db_command (conn, "ROLLBACK", 0, NULL, NULL);
            vd_error_detail (err, "migration step %d", v);
            return -1;
        }
    }
    return 0;
}

/*  The triggers of step 12 on every canonical table (made once): a row
    whose content_hash is cleared drops its connector's per-line hashes,
    deleted rows their connectors', a TRUNCATE every set. */
static int
s_line_hash_triggers (PGconn *conn, vd_error_t *err)
{
    PGresult *res = vd_db_exec (
        conn, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%\\_line_hashes'", 0, NULL, err);
    if (!res)
        return -1;
    int64_t made = 0;
    vd_parse_int (PQgetvalue (res, 0, 0), 0, INT64_MAX, &made);
    bool done = made == 3 * VD_TABLE_COUNT;
    PQclear (res);
    vd_buf_t sql;
    vd_buf_init (&sql, 64 * 1024);
    for (int i = 0; !done && i < VD_TABLE_COUNT; i++) {
        const char *t = vd_schema_table (i)->name;
        vd_buf_printf (
            &sql,
            "CREATE OR REPLACE TRIGGER cleared_line_hashes AFTER UPDATE OF " VD_SCHEMA_HASH_COLUMN
            " ON canonical.%s FOR EACH ROW WHEN"
            " (OLD." VD_SCHEMA_HASH_COLUMN " IS NOT NULL AND NEW." VD_SCHEMA_HASH_COLUMN
            " IS NULL) EXECUTE FUNCTION ops.line_hashes_cleared();"
            "CREATE OR REPLACE TRIGGER deleted_line_hashes AFTER DELETE ON"
            " canonical.%s REFERENCING OLD TABLE AS gone FOR EACH STATEMENT"
            " EXECUTE FUNCTION ops.line_hashes_deleted();"
            "CREATE OR REPLACE TRIGGER truncated_line_hashes AFTER TRUNCATE ON"
            " canonical.%s FOR EACH STATEMENT"
            " EXECUTE FUNCTION ops.line_hashes_truncated();",
            t, t, t);
    }
    int rc = done ? 0 : vd_db_script (conn, vd_buf_str (&sql), err);
    vd_buf_free (&sql);
    return rc;
}

/*  The role every service but the loader takes (vd_db_set_role): it reads
    canonical.* and writes ops.* and reco.*, so that only the loader (the
    login role, which owns the tables) can write the canonical tables.
    Made when the login role may create roles; granted again at every
    migration (new tables). Without it the services keep the login role
    (vd_db_connect says so). */
static const char s_roles[] =
    "DO $$ BEGIN"
    "  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '" VD_DB_SERVICE_ROLE "') THEN"
    "    BEGIN CREATE ROLE " VD_DB_SERVICE_ROLE " NOLOGIN;"
    "    EXCEPTION WHEN insufficient_privilege THEN RETURN; END;"
    "  END IF;"
    "  BEGIN EXECUTE format('GRANT " VD_DB_SERVICE_ROLE " TO %I', current_user);"
    "  EXCEPTION WHEN insufficient_privilege THEN RETURN; END;"
    "  GRANT USAGE ON SCHEMA canonical, ops, reco TO " VD_DB_SERVICE_ROLE ";"
    "  GRANT SELECT ON ALL TABLES IN SCHEMA canonical TO " VD_DB_SERVICE_ROLE ";"
    "  REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA canonical "
    "FROM " VD_DB_SERVICE_ROLE ";"
    "  GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA ops, reco "
    "TO " VD_DB_SERVICE_ROLE ";"
    "  GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ops, reco TO " VD_DB_SERVICE_ROLE ";"
    "  ALTER DEFAULT PRIVILEGES IN SCHEMA canonical GRANT SELECT ON TABLES TO " VD_DB_SERVICE_ROLE
    ";"
    "  ALTER DEFAULT PRIVILEGES IN SCHEMA ops, reco GRANT SELECT, INSERT, UPDATE, DELETE,"
    "    TRUNCATE ON TABLES TO " VD_DB_SERVICE_ROLE ";"
    "  ALTER DEFAULT PRIVILEGES IN SCHEMA ops, reco GRANT USAGE, SELECT, UPDATE ON SEQUENCES "
    "TO " VD_DB_SERVICE_ROLE ";"
    "END $$";

int
vd_migrate (PGconn *conn, vd_error_t *err)
{
    /* as the login role (the owner), whatever role the session took */
    if (vd_db_command (conn, "RESET ROLE", 0, NULL, err) < 0 ||
        vd_db_command (conn, MIGRATE_LOCK, 0, NULL, err) < 0)
        return -1;
    int rc = vd_db_script (conn,
                           "SET client_min_messages = warning;"
                           "CREATE SCHEMA IF NOT EXISTS canonical;"
                           "CREATE SCHEMA IF NOT EXISTS ops;"
                           "CREATE TABLE IF NOT EXISTS ops.schema_migrations ("
                           "  version integer PRIMARY KEY,"
                           "  applied_at timestamptz NOT NULL DEFAULT now())",
                           err);
    for (int i = 0; rc == 0 && i < VD_TABLE_COUNT; i++)
        rc = s_reconcile_table (conn, vd_schema_table (i), err);
    if (rc == 0)
        rc = s_run_steps (conn, err);
    if (rc == 0)
        rc = s_line_hash_triggers (conn, err);
    if (rc == 0)
        rc = vd_db_command (conn, s_roles, 0, NULL, err);
    vd_db_command (conn, MIGRATE_UNLOCK, 0, NULL, NULL);
    if (rc == 0)
        vd_db_take_role (conn, true);
    return rc;
}
