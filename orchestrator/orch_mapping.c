/*  orch_mapping - the iSaVigne column mapping in use. */
#include "vendange.h"
#include "vd_db.h"
#include "orch_json.h"
#include "orch_mapping.h"
#include "orch_settings.h"
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

static char *
s_trim (char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen (s);
    while (n > 0 && strchr (" \t\r", s[n - 1]))
        s[--n] = '\0';
    return s;
}

/*  The canonical columns of table that read input. */
static json_t *
s_canonical (const char *table, const char *input)
{
    json_t *list = json_array ();
    const vd_table_t *t = vd_schema_table (vd_schema_table_id (table));
    for (size_t i = 0; t && i < t->ncolumns; i++) {
        const vd_column_t *c = &t->columns[i];
        bool reads = c->in[0] == NULL && strcmp (c->name, input) == 0;
        for (int j = 0; j < VD_COL_INPUTS && !reads; j++)
            reads = c->in[j] && strcmp (c->in[j], input) == 0;
        if (reads)
            json_array_append_new (list, json_string (c->name));
    }
    return list;
}

static json_t *
s_columns (char *value)
{
    json_t *list = json_array ();
    char *save = NULL;
    for (char *p = strtok_r (value, "|", &save); p; p = strtok_r (NULL, "|", &save))
        if (*s_trim (p))
            json_array_append_new (list, json_string (s_trim (p)));
    return list;
}

json_t *
orch_mapping_parse (const char *text)
{
    json_t *tables = json_array ();
    char *copy = strdup (text ? text : "");
    if (!tables || !copy) {
        free (copy);
        json_decref (tables);
        return NULL;
    }
    json_t *cur = NULL;
    char *save = NULL;
    for (char *line = strtok_r (copy, "\n", &save); line; line = strtok_r (NULL, "\n", &save)) {
        line = s_trim (line);
        size_t n = strlen (line);
        if (*line == '#' || *line == ';' || n == 0)
            continue;
        if (*line == '[' && line[n - 1] == ']') {
            line[n - 1] = '\0';
            cur = json_pack ("{s:s, s:s, s:[]}", "table", s_trim (line + 1), "file", "", "fields");
            if (cur && json_is_string (json_object_get (cur, "table")))
                json_array_append_new (tables, cur);
            continue;
        }
        char *eq = strchr (line, '=');
        if (!cur || !eq)
            continue;
        *eq = '\0';
        char *key = s_trim (line), *value = s_trim (eq + 1);
        if (strcmp (key, "files") == 0) {
            json_object_set_new (cur, "file", json_string (value));
            continue;
        }
        const char *table = json_string_value (json_object_get (cur, "table"));
        json_array_append_new (json_object_get (cur, "fields"),
                               json_pack ("{s:s, s:o, s:o}", "field", key, "canonical",
                                          s_canonical (table, key), "columns", s_columns (value)));
    }
    free (copy);
    return tables;
}

/*  The output of `extractor-isavigne --print-mapping` (next to this
    binary), malloc'ed; NULL with err. */
static char *
s_builtin (vd_error_t *err)
{
    char exe[4096];
    ssize_t n = readlink ("/proc/self/exe", exe, sizeof exe - 32);
    char *slash = n > 0 ? memchr (exe, '/', (size_t)n) : NULL;
    if (!slash) {
        vd_error_set (err, VD_ERR_PERMANENT, "cannot find the orchestrator's own folder");
        return NULL;
    }
    exe[n] = '\0';
    snprintf (strrchr (exe, '/') + 1, 32, "extractor-isavigne");
    int fd[2];
    if (pipe (fd) < 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "pipe: %s", strerror (errno));
        return NULL;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init (&fa);
    posix_spawn_file_actions_adddup2 (&fa, fd[1], 1);
    posix_spawn_file_actions_addclose (&fa, fd[0]);
    char *argv[] = {exe, "--print-mapping", NULL};
    pid_t pid;
    bool spawned = posix_spawn (&pid, exe, &fa, NULL, argv, environ) == 0;
    posix_spawn_file_actions_destroy (&fa);
    close (fd[1]);
    vd_buf_t out;
    vd_buf_init (&out, ORCH_MAPPING_MAX);
    int rc = spawned ? vd_buf_read_fd (&out, fd[0]) : -1;
    close (fd[0]);
    int status = 1;
    if (spawned)
        waitpid (pid, &status, 0);
    if (rc != 0 || !WIFEXITED (status) || WEXITSTATUS (status) != 0) {
        vd_buf_free (&out);
        vd_error_set (err, VD_ERR_PERMANENT, "cannot run %s --print-mapping", exe);
        return NULL;
    }
    return vd_buf_take (&out);
}

/*  The connector's mapping file setting ("" when none); -1 with a 404,
    or a 403 when the file is outside the roots a file setting may name. */
static int
s_setting (PGconn *conn, const char *name, const char *files_root, char *path, size_t size,
           orch_answer_t *a)
{
    vd_error_t err;
    vd_error_clear (&err);
    const char *params[] = {name};
    PGresult *res = vd_db_exec (
        conn,
        "SELECT coalesce(settings ->> 'mapping', ''), type, settings ->> 'export_path' FROM "
        "ops.connectors WHERE name = $1",
        1, params, &err);
    if (!res) {
        orch_answer_fail (a, &err);
        return -1;
    }
    int rc = PQntuples (res) == 1 ? 0 : -1;
    if (rc == 0)
        snprintf (path, size, "%s", PQgetvalue (res, 0, 0));
    if (rc == 0 && *path &&
        orch_settings_path_allowed (PQgetvalue (res, 0, 1), "mapping", path, PQgetvalue (res, 0, 2),
                                    files_root, &err) < 0) {
        orch_answer_error (a, 403, err.msg, NULL, err.hint);
        rc = -1;
    } else if (rc < 0)
        orch_answer_error (a, 404, "no such connector", name, NULL);
    PQclear (res);
    return rc;
}

static char *
s_read_file (const char *path, vd_error_t *err)
{
    vd_buf_t out;
    vd_buf_init (&out, ORCH_MAPPING_MAX);
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || vd_buf_read_fd (&out, fd) < 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "cannot read the mapping file \"%s\"", path);
        vd_error_detail (err, "%s (it is read on the orchestrator's host, at most %d KiB)",
                         strerror (errno), ORCH_MAPPING_MAX / 1024);
        if (fd >= 0)
            close (fd);
        vd_buf_free (&out);
        return NULL;
    }
    close (fd);
    return vd_buf_take (&out);
}

void
orch_mapping_get (PGconn *conn, const char *files_root, const orch_request_t *req, orch_answer_t *a)
{
    char path[1024] = "";
    if (req->q_connector && *req->q_connector &&
        s_setting (conn, req->q_connector, files_root, path, sizeof path, a) < 0)
        return;
    vd_error_t err;
    vd_error_clear (&err);
    char *text = *path ? s_read_file (path, &err) : s_builtin (&err);
    if (!text) {
        orch_answer_error (a, 500, err.msg, err.detail, NULL);
        return;
    }
    json_t *tables = orch_mapping_parse (text);
    free (text);
    char source[1100];
    snprintf (source, sizeof source, "%s%s",
              *path ? "mapping file " : "built-in mapping (extractor-isavigne --print-mapping)",
              path);
    orch_answer_json (a, 200,
                      tables ? json_pack ("{s:s, s:o}", "source", source, "tables", tables) : NULL);
}

int
orch_mapping_test (bool verbose)
{
    int failed = 0;
    json_t *t = orch_mapping_parse ("# c\n[customers]\nfiles = *client*\n"
                                    "email = email | mail\n junk\n[sales_lines]\n"
                                    "price_unit_incl_vat = pu_ttc\n=\n");
    json_t *c = json_array_get (t, 0);
    failed += json_array_size (t) != 2;
    failed += strcmp (json_string_value (json_object_get (c, "file")), "*client*") != 0;
    json_t *f = json_array_get (json_object_get (c, "fields"), 0);
    failed += json_array_size (json_object_get (f, "columns")) != 2;
    failed += strcmp (json_string_value (json_array_get (json_object_get (f, "canonical"), 0)),
                      "email") != 0;
    f = json_array_get (json_object_get (json_array_get (t, 1), "fields"), 0);
    failed += strcmp (json_string_value (json_array_get (json_object_get (f, "canonical"), 0)),
                      "price_unit") != 0;
    json_decref (t);
    t = orch_mapping_parse ("");
    failed += json_array_size (t) != 0;
    json_decref (t);
    int fd[2];
    vd_buf_t b;
    vd_buf_init (&b, 5);
    if (pipe (fd) == 0) {
        failed += write (fd[1], "0123456789", 10) != 10;
        close (fd[1]);
        failed += vd_buf_read_fd (&b, fd[0]) == 0 || errno != EFBIG;
        close (fd[0]);
    }
    vd_buf_free (&b);
    if (verbose)
        printf ("orch_mapping_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
