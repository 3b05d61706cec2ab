/*  orch_layouts - accepting the new column layout of an export file. */
#include "vendange.h"
#include "vd_db.h"
#include "orch_layouts.h"

json_t *
orch_layouts_accept_cursor (json_t *cursor, const char *file)
{
    json_t *pending = json_object_get (cursor, "pending_layouts");
    json_t *change = file ? json_object_get (pending, file) : NULL;
    json_t *columns = json_object_get (change, "columns");
    if (!json_is_array (columns))
        return NULL;
    json_t *layouts = json_object_get (cursor, "layouts");
    if (!json_is_object (layouts)) {
        layouts = json_object ();
        if (json_object_set_new (cursor, "layouts", layouts) < 0)
            return NULL;
    }
    json_incref (change);
    if (json_object_set (layouts, file, columns) < 0) {
        json_decref (change);
        return NULL;
    }
    (void)json_object_del (pending, file); /* present: just read */
    return change;
}

/*  The connector's cursor, locked, in the caller's transaction. Returns 1
    with *cursor (NULL: none), 0 when there is no such connector, 2 when
    it has a run queued or running, -1 with err. */
static int
s_lock (PGconn *conn, const char *name, json_t **cursor, vd_error_t *err)
{
    *cursor = NULL;
    const char *params[] = {name};
    PGresult *res = vd_db_exec (conn,
                                "SELECT cursor, EXISTS (SELECT 1 FROM ops.sync_runs s WHERE "
                                "s.connector = c.name AND s.status IN ('queued', 'running')) "
                                "FROM ops.connectors c WHERE c.name = $1 FOR UPDATE",
                                1, params, err);
    if (!res)
        return -1;
    int rc = PQntuples (res) != 1 ? 0 : strcmp (PQgetvalue (res, 0, 1), "t") == 0 ? 2 : 1;
    if (rc == 1 && !PQgetisnull (res, 0, 0))
        *cursor = json_loads (PQgetvalue (res, 0, 0), 0, NULL);
    PQclear (res);
    return rc;
}

/*  Accepts in one transaction. 1 done (*change set), 0 no connector, 2
    busy, 3 no pending layout for file, -1 with err. */
static int
s_accept (PGconn *conn, const char *name, const char *file, json_t **change, vd_error_t *err)
{
    json_t *cursor = NULL;
    char *text = NULL;
    *change = NULL;
    if (vd_db_command (conn, "BEGIN", 0, NULL, err) < 0)
        return -1;
    int rc = s_lock (conn, name, &cursor, err);
    if (rc == 1 && !(*change = orch_layouts_accept_cursor (cursor, file)))
        rc = 3;
    if (rc == 1 && !(text = json_dumps (cursor, JSON_COMPACT | JSON_SORT_KEYS)))
        rc = vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
    if (rc == 1 && vd_db_command (conn,
                                  "UPDATE ops.connectors SET cursor = $2, updated_at = now() "
                                  "WHERE name = $1",
                                  2, (const char *[]){name, text}, err) < 0)
        rc = -1;
    if (rc == 1 && vd_db_command (conn, "COMMIT", 0, NULL, err) < 0)
        rc = -1;
    if (rc != 1)
        vd_db_command (conn, "ROLLBACK", 0, NULL, NULL);
    if (rc != 1) {
        json_decref (*change);
        *change = NULL;
    }
    free (text);
    json_decref (cursor);
    return rc;
}

void
orch_layouts_accept (PGconn *conn, const char *name, const orch_request_t *req, orch_answer_t *a)
{
    json_t *body = orch_request_json (req, a);
    if (!body)
        return;
    const char *file = json_string_value (json_object_get (body, "file"));
    if (!file || !*file) {
        json_decref (body);
        orch_answer_error (a, 400, "\"file\" is required", NULL,
                           "the export file's name, as the run's files list it");
        return;
    }
    vd_error_t err;
    vd_error_clear (&err);
    json_t *change = NULL;
    int rc = s_accept (conn, name, file, &change, &err);
    char msg[400];
    if (rc == 1) {
        vd_info ("connector %s: new columns of %s accepted", name, file);
        orch_answer_json (a, 200,
                          json_pack ("{s:s, s:s, s:O, s:O*, s:O*}", "connector", name, "file", file,
                                     "columns", json_object_get (change, "columns"), "added",
                                     json_object_get (change, "added"), "missing",
                                     json_object_get (change, "missing")));
    } else if (rc == 0) {
        snprintf (msg, sizeof msg, "connector \"%s\" not found", name);
        orch_answer_error (a, 404, msg, NULL, "vendange connector list");
    } else if (rc == 2) {
        snprintf (msg, sizeof msg, "connector \"%s\" already has a run in progress", name);
        orch_answer_error (a, 409, msg, NULL, "accept the layout once the run has ended");
    } else if (rc == 3) {
        snprintf (msg, sizeof msg, "no column change of \"%.200s\" to accept", file);
        orch_answer_error (a, 404, msg, NULL,
                           "a file whose columns changed is listed as layout_changed in the "
                           "connector's last run");
    } else
        orch_answer_fail (a, &err);
    json_decref (change);
    json_decref (body);
}

int
orch_layouts_test (bool verbose)
{
    int failed = 0;
    json_t *cursor = json_loads ("{\"files\": {\"v.csv\": \"ab\"}, \"layouts\": {\"v.csv\": "
                                 "[\"a\", \"b\"]}, \"pending_layouts\": {\"v.csv\": "
                                 "{\"columns\": [\"a\", \"c\"], \"added\": [\"c\"], "
                                 "\"missing\": [\"b\"]}}}",
                                 0, NULL);
    failed += !cursor;
    failed += orch_layouts_accept_cursor (cursor, "other.csv") != NULL;
    failed += orch_layouts_accept_cursor (cursor, NULL) != NULL;
    failed += orch_layouts_accept_cursor (NULL, "v.csv") != NULL;
    json_t *change = orch_layouts_accept_cursor (cursor, "v.csv");
    failed += !change || json_array_size (json_object_get (change, "added")) != 1;
    json_t *now = json_object_get (json_object_get (cursor, "layouts"), "v.csv");
    failed += json_array_size (now) != 2 ||
              strcmp (json_string_value (json_array_get (now, 1)), "c") != 0;
    failed += json_object_size (json_object_get (cursor, "pending_layouts")) != 0;
    failed += orch_layouts_accept_cursor (cursor, "v.csv") != NULL; /* accepted once */
    json_decref (change);
    json_decref (cursor);
    /* a cursor without layouts gets them */
    cursor = json_loads ("{\"pending_layouts\": {\"s.csv\": {\"columns\": [\"x\"]}}}", 0, NULL);
    change = orch_layouts_accept_cursor (cursor, "s.csv");
    failed += !change ||
              json_array_size (json_object_get (json_object_get (cursor, "layouts"), "s.csv")) != 1;
    json_decref (change);
    json_decref (cursor);
    if (verbose)
        printf ("orch_layouts_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
