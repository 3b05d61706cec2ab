/*  load_sql - the loader's SQL, generated from vd_schema. */
#include "load_sql.h"

#define SQL_MAX (64 * 1024)

/*  The value a merged row gets for column c ("excluded.c", or the sticky
    expression for consent flags). */
static void
s_new_value (vd_buf_t *b, const vd_column_t *c)
{
    if (!(c->flags & VD_COL_STICKY))
        vd_buf_printf (b, "excluded.%s", c->name);
    else if (c->in[2]) /* cleared only when the column it follows changes */
        vd_buf_printf (b,
                       "CASE WHEN t.%s IS DISTINCT FROM excluded.%s THEN excluded.%s"
                       " ELSE coalesce(t.%s, false) OR coalesce(excluded.%s, false) END",
                       c->in[2], c->in[2], c->name, c->name, c->name);
    else
        vd_buf_printf (b, "coalesce(t.%s, false) OR coalesce(excluded.%s, false)", c->name,
                       c->name);
}

/*  Which customers a merge makes dirty (their aggregates are recomputed
    at the run's end): only those whose sales really changed. A sales row
    inserted or updated marks its customer, and an update that moves the
    row to another customer marks the one it left too. A customer row marks
    itself when inserted (its aggregates start then); an update of its
    name or email changes no aggregate. */
static bool
s_dirty_old (const vd_table_t *t)
{
    return (t->flags & VD_TABLE_CUSTOMER_AGG) && strcmp (t->key, "customer_key") != 0;
}

static const char *
s_dirty_expr (const vd_table_t *t)
{
    if (!(t->flags & VD_TABLE_CUSTOMER_AGG))
        return "NULL::text";
    return s_dirty_old (t) ? "CASE WHEN xmax = 0 OR synced_at = now() THEN customer_key END"
                           : "CASE WHEN xmax = 0 THEN customer_key END";
}

/*  ", o AS (...)": the customers the updated rows had before the merge
    (every part of one statement sees the same snapshot, the merge's own
    writes not included); one index lookup per updated row, none for an
    inserted one. */
static void
s_dirty_before (vd_buf_t *b, const vd_table_t *t)
{
    if (s_dirty_old (t))
        vd_buf_printf (b,
                       ", o AS (SELECT (SELECT x.customer_key FROM canonical.%s x"
                       " WHERE x.%s = m.k) AS old FROM m WHERE NOT m.inserted AND m.changed)",
                       t->name, t->key);
}

/*  ", col" for each column a new row gets its key in (VD_COL_INIT_KEY),
    or ", key" (the value) when value is true. */
static void
s_init_key (vd_buf_t *b, const vd_table_t *t, bool value)
{
    for (size_t i = 0; i < t->ncolumns; i++)
        if (t->columns[i].flags & VD_COL_INIT_KEY)
            vd_buf_printf (b, ", %s", value ? t->key : t->columns[i].name);
}

/*  The field types of the binary direct COPY of t, into out; false when
    a column has no binary form (the COPY stays text). */
static bool
s_direct_types (const vd_table_t *t, load_sql_t *out)
{
    vd_copy_bin_t *types = calloc (t->ncolumns + 1, sizeof *types);
    size_t n = 0;
    for (size_t i = 0; types && i < t->ncolumns; i++) {
        const vd_column_t *c = &t->columns[i];
        if (vd_schema_carried (c))
            switch (c->type) {
            case VD_SQL_TEXT:
                types[n++] = VD_COPY_BIN_TEXT;
                break;
            case VD_SQL_NUMERIC:
                types[n++] = VD_COPY_BIN_NUMERIC;
                break;
            case VD_SQL_DATE:
                types[n++] = VD_COPY_BIN_DATE;
                break;
            default:
                free (types);
                return false;
            }
    }
    if (!types)
        return false;
    types[n++] = VD_COPY_BIN_BYTEA; /* the content hash */
    out->ndirect_staged = n;
    for (size_t i = 0; i < t->ncolumns; i++)
        if (t->columns[i].flags & VD_COL_INIT_KEY)
            types[n++] = VD_COPY_BIN_TEXT;
    out->direct_types = types;
    out->ndirect = n;
    return true;
}

/*  The merge. full: a row is rewritten when its content differs from the
    staged one (sync --full, full snapshots, key-mapped tables); else only
    when its content_hash does, i.e. when the export's line changed since
    vendange last loaded it (or another writer cleared the hash): a row
    edited in the database keeps the edit until the export changes it. */
static char *
s_merge (const vd_table_t *t, bool full)
{
    vd_buf_t b, cols, set, old_row, new_row;
    vd_buf_init (&b, SQL_MAX);
    vd_buf_init (&cols, SQL_MAX);
    vd_buf_init (&set, SQL_MAX);
    vd_buf_init (&old_row, SQL_MAX);
    vd_buf_init (&new_row, SQL_MAX);
    for (size_t i = 0; i < t->ncolumns; i++) {
        const vd_column_t *c = &t->columns[i];
        if (!vd_schema_carried (c))
            continue;
        vd_buf_printf (&cols, "%s%s", cols.len ? ", " : "", c->name);
        if (c->flags & VD_COL_KEY)
            continue;
        vd_buf_printf (&set, "%s = ", c->name);
        s_new_value (&set, c);
        vd_buf_addstr (&set, ", ");
        if (c->flags & VD_COL_NOCOMPARE)
            continue;
        vd_buf_printf (&old_row, "%st.%s", old_row.len ? ", " : "", c->name);
        vd_buf_addstr (&new_row, new_row.len ? ", " : "");
        s_new_value (&new_row, c);
    }
    /* content_hash (vd_schema.h) is written with the row; a row whose hash
       alone differs (loaded before hashes, or cleared by another writer)
       gets it without counting as updated nor changing synced_at */
    vd_buf_t init_cols, init_vals;
    vd_buf_init (&init_cols, SQL_MAX);
    vd_buf_init (&init_vals, SQL_MAX);
    s_init_key (&init_cols, t, false);
    s_init_key (&init_vals, t, true);
    vd_buf_printf (&b,
                   "WITH m AS ("
                   " INSERT INTO canonical.%s AS t (%s, " VD_SCHEMA_HASH_COLUMN "%s)"
                   " SELECT DISTINCT ON (%s) %s, " VD_SCHEMA_HASH_COLUMN "%s FROM stage_%s"
                   " ORDER BY %s, _ord DESC"
                   " ON CONFLICT (%s) DO UPDATE SET %s" VD_SCHEMA_HASH_COLUMN
                   " = excluded." VD_SCHEMA_HASH_COLUMN ","
                   " synced_at = CASE WHEN ROW(%s) IS DISTINCT FROM ROW(%s) THEN now()"
                   " ELSE t.synced_at END"
                   " WHERE (%s%s%s%s%st." VD_SCHEMA_HASH_COLUMN
                   " IS DISTINCT FROM excluded." VD_SCHEMA_HASH_COLUMN ")%s"
                   " RETURNING %s AS k, (xmax = 0) AS inserted, synced_at = now() AS changed,"
                   " %s AS dirty)",
                   t->name, vd_buf_str (&cols), vd_buf_str (&init_cols), t->key, vd_buf_str (&cols),
                   vd_buf_str (&init_vals), t->name, t->key, t->key, vd_buf_str (&set),
                   vd_buf_str (&old_row), vd_buf_str (&new_row), full ? "ROW(" : "",
                   full ? vd_buf_str (&old_row) : "", full ? ") IS DISTINCT FROM ROW(" : "",
                   full ? vd_buf_str (&new_row) : "", full ? ") OR " : "",
                   (t->flags & VD_TABLE_ODOO_WINS)
                       ? " AND (t.source IS DISTINCT FROM 'odoo' OR excluded.source = 'odoo')"
                       : "",
                   t->key, s_dirty_expr (t));
    s_dirty_before (&b, t);
    vd_buf_printf (&b,
                   ", d AS (INSERT INTO ops.dirty_customers (customer_key)"
                   " SELECT DISTINCT dirty FROM m WHERE dirty IS NOT NULL%s"
                   " ON CONFLICT DO NOTHING)"
                   " SELECT count(*) FILTER (WHERE inserted),"
                   " count(*) FILTER (WHERE NOT inserted AND changed) FROM m",
                   s_dirty_old (t) ? " UNION SELECT old FROM o WHERE old IS NOT NULL" : "");
    vd_buf_free (&cols);
    vd_buf_free (&init_cols);
    vd_buf_free (&init_vals);
    vd_buf_free (&set);
    vd_buf_free (&old_row);
    vd_buf_free (&new_row);
    return vd_buf_take (&b);
}

/*  Warnings for references to rows that do not exist (yet). */
static char *
s_orphans (const vd_table_t *t)
{
    vd_buf_t b;
    vd_buf_init (&b, SQL_MAX);
    for (size_t i = 0; i < t->ncolumns; i++) {
        const vd_column_t *c = &t->columns[i];
        const vd_table_t *target =
            c->rule == VD_RULE_CUSTOMER_REF  ? vd_schema_table (VD_TABLE_CUSTOMERS)
            : c->rule == VD_RULE_PRODUCT_REF ? vd_schema_table (VD_TABLE_PRODUCTS)
                                             : NULL;
        if (!target)
            continue;
        vd_buf_printf (&b,
                       "%sSELECT $1::bigint, $2, _file, _line, '%s', 'unknown %s', s.%s"
                       " FROM stage_%s s WHERE s.%s IS NOT NULL AND NOT EXISTS"
                       " (SELECT 1 FROM canonical.%s x WHERE x.%s = s.%s)",
                       b.len ? " UNION ALL " : "", c->name,
                       target == vd_schema_table (VD_TABLE_CUSTOMERS) ? "customer" : "product",
                       c->name, t->name, c->name, target->name, target->key, c->name);
    }
    if (b.len == 0) {
        vd_buf_free (&b);
        return NULL;
    }
    char *selects = vd_buf_take (&b);
    vd_buf_init (&b, SQL_MAX);
    vd_buf_printf (&b,
                   "INSERT INTO stage_warnings (run_id, table_name, file, line, field, reason,"
                   " raw_value) %s",
                   selects);
    free (selects);
    return vd_buf_take (&b);
}

/*  Rows of the source gone from it: listed ids ('l'), or, when the table
    was reconciled, every row whose id was not present ('p'); only rows the
    connector $3 wrote last (when given: two iSaVigne connectors share a
    source). */
static char *
s_deletion (const vd_table_t *t)
{
    vd_buf_t b;
    vd_buf_init (&b, SQL_MAX);
    bool mark = vd_schema_column (t, "active") >= 0;
    vd_buf_printf (&b, "WITH d AS (");
    if (mark)
        vd_buf_printf (&b,
                       "UPDATE canonical.%s t SET active = false, " VD_SCHEMA_HASH_COLUMN
                       " = NULL, synced_at = now()",
                       t->name);
    else
        vd_buf_printf (&b, "DELETE FROM canonical.%s t", t->name);
    vd_buf_printf (&b,
                   " WHERE t.source = $1 AND ($3::text IS NULL OR t.connector = $3)%s"
                   " AND (t.source_id IN (SELECT source_id FROM stage_ids"
                   " WHERE mode = 'l') OR ($2::boolean AND NOT EXISTS (SELECT 1 FROM stage_ids s"
                   " WHERE s.mode = 'p' AND s.source_id = t.source_id)))"
                   " RETURNING %s AS dirty),"
                   " x AS (INSERT INTO ops.dirty_customers (customer_key)"
                   " SELECT DISTINCT dirty FROM d WHERE dirty IS NOT NULL ON CONFLICT DO NOTHING)"
                   " SELECT count(*) FROM d",
                   mark ? " AND t.active IS DISTINCT FROM false" : "",
                   (t->flags & VD_TABLE_CUSTOMER_AGG) && !mark ? "t.customer_key" : "NULL::text");
    return vd_buf_take (&b);
}

int
load_sql_build (int table_id, bool binary, load_sql_t *out)
{
    const vd_table_t *t = vd_schema_table (table_id);
    memset (out, 0, sizeof *out);
    vd_buf_t b, cols;
    vd_buf_init (&cols, SQL_MAX);
    for (size_t i = 0; i < t->ncolumns; i++)
        if (vd_schema_carried (&t->columns[i]))
            vd_buf_printf (&cols, "%s, ", t->columns[i].name);

    vd_buf_init (&b, SQL_MAX);
    vd_buf_printf (&b,
                   "CREATE TEMP TABLE IF NOT EXISTS stage_%s (LIKE canonical.%s INCLUDING DEFAULTS,"
                   " _ord bigint, _file text, _line bigint) ON COMMIT DELETE ROWS",
                   t->name, t->name);
    out->stage_ddl = vd_buf_take (&b);
    vd_buf_init (&b, SQL_MAX);
    vd_buf_printf (&b, "COPY stage_%s (%s" VD_SCHEMA_HASH_COLUMN ", _ord, _file, _line) FROM STDIN",
                   t->name, vd_buf_str (&cols));
    out->copy = vd_buf_take (&b);
    if (t->flags & VD_TABLE_KEY_MAPPED) {
        vd_buf_init (&b, SQL_MAX);
        vd_buf_printf (&b,
                       "INSERT INTO ops.key_map (table_name, source, source_id, key)"
                       " SELECT DISTINCT ON (source, source_id) $1, source, source_id, %s"
                       " FROM stage_%s ORDER BY source, source_id, _ord DESC"
                       " ON CONFLICT DO NOTHING",
                       t->key, t->name);
        out->key_map = vd_buf_take (&b);
        vd_buf_init (&b, SQL_MAX);
        vd_buf_printf (&b,
                       "UPDATE stage_%s s SET %s = m.key FROM ops.key_map m"
                       " WHERE m.table_name = $1 AND m.source = s.source"
                       " AND m.source_id = s.source_id AND m.key <> s.%s",
                       t->name, t->key, t->key);
        out->key_apply = vd_buf_take (&b);
    }
    out->merge = s_merge (t, (t->flags & VD_TABLE_KEY_MAPPED) != 0);
    out->merge_full = s_merge (t, true);
    vd_buf_init (&b, SQL_MAX);
    vd_buf_printf (&b,
                   "INSERT INTO stage_warnings (run_id, table_name, file, line, field, reason,"
                   " raw_value) SELECT $1::bigint, $2, s._file, s._line, '%s',"
                   " 'duplicate key in the same batch: the later line wins', s.%s"
                   " FROM stage_%s s WHERE EXISTS (SELECT 1 FROM stage_%s s2"
                   " WHERE s2.%s = s.%s AND s2._ord > s._ord)",
                   t->key, t->key, t->name, t->name, t->key, t->key);
    out->duplicates = vd_buf_take (&b);
    out->orphans = (t->flags & VD_TABLE_EVENTS) ? s_orphans (t) : NULL;
    if (!(t->flags & (VD_TABLE_KEY_MAPPED | VD_TABLE_EVENTS))) {
        vd_buf_init (&b, SQL_MAX);
        vd_buf_printf (&b, "COPY canonical.%s (%s" VD_SCHEMA_HASH_COLUMN, t->name,
                       vd_buf_str (&cols));
        s_init_key (&b, t, false);
        vd_buf_addstr (&b, ") FROM STDIN");
        if (binary && s_direct_types (t, out))
            vd_buf_addstr (&b, " (FORMAT binary)");
        out->direct = vd_buf_take (&b);
    }
    out->deletion = s_deletion (t);
    vd_buf_free (&cols);
    return out->stage_ddl && out->copy && out->merge && out->merge_full && out->duplicates &&
                   out->deletion
               ? 0
               : -1;
}

void
load_sql_free (load_sql_t *sql)
{
    free (sql->stage_ddl);
    free (sql->copy);
    free (sql->key_map);
    free (sql->key_apply);
    free (sql->merge);
    free (sql->merge_full);
    free (sql->duplicates);
    free (sql->direct);
    free (sql->direct_types);
    free (sql->orphans);
    free (sql->deletion);
    memset (sql, 0, sizeof *sql);
}

int
load_sql_test (bool verbose)
{
    int failures = 0;
    for (int i = 0; i < VD_TABLE_COUNT; i++) {
        load_sql_t sql;
        if (load_sql_build (i, i != VD_TABLE_STOCK, &sql) < 0) {
            failures++;
            continue;
        }
        if (verbose)
            printf ("%s\n%s\n%s\n\n", sql.copy, sql.merge, sql.orphans ? sql.orphans : "-");
        /* derived columns never travel; consent flags are sticky */
        if (strstr (sql.copy, "person_key") || strstr (sql.copy, "total_spent"))
            failures++;
        if (i == VD_TABLE_CUSTOMERS && !strstr (sql.merge, "coalesce(t.email_opt_out, false) OR"))
            failures++;
        if (i == VD_TABLE_PRODUCTS && (!sql.key_map || !strstr (sql.merge, "'odoo'")))
            failures++;
        /* events' references are checked in SQL, the others' by load_refs;
           keys kept in ops.key_map and events always merge */
        if ((i == VD_TABLE_CONTACTS) != (sql.orphans != NULL) ||
            (i == VD_TABLE_CONTACTS && !strstr (sql.orphans, "unknown customer")))
            failures++;
        if ((i == VD_TABLE_PRODUCTS || i == VD_TABLE_CONTACTS) != (sql.direct == NULL) ||
            (sql.direct && !strstr (sql.direct, ") FROM STDIN")))
            failures++;
        /* sales lines go by binary COPY (text, numeric, date columns);
           customers stay text (timestamptz, text[] columns); stock was
           built without binary */
        if ((i == VD_TABLE_SALES) != (sql.direct_types != NULL) ||
            (i == VD_TABLE_SALES && (!strstr (sql.direct, "FROM STDIN (FORMAT binary)") ||
                                     sql.ndirect != sql.ndirect_staged ||
                                     sql.direct_types[sql.ndirect - 1] != VD_COPY_BIN_BYTEA)))
            failures++;
        /* a new customer is its own person from the start */
        if (i == VD_TABLE_CUSTOMERS && (!strstr (sql.direct, "content_hash, person_key)") ||
                                        !strstr (sql.merge, "content_hash, customer_key FROM")))
            failures++;
        /* gone from the source: products and customers are marked, lines deleted */
        if (i == VD_TABLE_PRODUCTS && !strstr (sql.deletion, "SET active = false"))
            failures++;
        if (i == VD_TABLE_SALES && (!strstr (sql.deletion, "DELETE FROM canonical.sales_lines") ||
                                    !strstr (sql.deletion, "RETURNING t.customer_key")))
            failures++;
        /* a sales line moved to another customer marks both; a customer
           marks itself when inserted only */
        if (i == VD_TABLE_SALES && !strstr (sql.merge, "UNION SELECT old FROM o"))
            failures++;
        /* a line unchanged since vendange loaded it is not rewritten, even
           if the row was edited meanwhile; a full comparison rewrites it */
        if (i == VD_TABLE_SALES &&
            (!strstr (sql.merge, "WHERE (t.content_hash IS DISTINCT FROM excluded.content_hash)") ||
             !strstr (sql.merge_full, "WHERE (ROW(t.source, ") ||
             !strstr (sql.merge_full, ") OR t.content_hash IS DISTINCT")))
            failures++;
        if (i == VD_TABLE_CUSTOMERS &&
            (!strstr (sql.merge, "CASE WHEN xmax = 0 THEN customer_key END") ||
             strstr (sql.merge, "FROM o")))
            failures++;
        if (i == VD_TABLE_STOCK && !strstr (sql.merge, "NULL::text AS dirty"))
            failures++;
        load_sql_free (&sql);
    }
    return failures ? -1 : 0;
}
