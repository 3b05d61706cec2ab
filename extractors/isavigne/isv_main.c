/*  extractor-isavigne - waits for the orchestrator's "start", extracts the
    connector's export folder into the pipeline (PUSH to the normalizer),
    and reports what it extracted. Several may run at once, on any host.
*/
#include "vendange.h"
#include "vd_ctl.h"
#include "vd_pipe.h"
#include "vd_service.h"
#include "isv_extract.h"
#include "isv_mapping.h"
#include <sodium.h>

typedef struct {
    vd_config_t *config;
    vd_ctl_t *ctl;
    zsock_t *output;
    int64_t run_id; /* the run in progress, 0 when idle */
    bool aborted;
} self_t;

/*  Answers a "test" request: the settings are checked the way a run
    would use them (mapping and unit table parsed, folder listed). */
static void
s_test (self_t *self, json_t *msg)
{
    json_t *settings = json_object_get (msg, "settings");
    const char *mapping_path = json_string_value (json_object_get (settings, "mapping"));
    const char *unit_path = json_string_value (json_object_get (settings, "unit_table"));
    vd_error_t err;
    vd_error_clear (&err);
    json_t *answer = json_object ();
    isv_mapping_t *mapping =
        mapping_path ? isv_mapping_load (mapping_path, &err) : isv_mapping_default (&err);
    char *units = mapping && unit_path ? vd_units_read_text (unit_path, &err) : NULL;
    json_int_t preview = json_integer_value (json_object_get (msg, "preview"));
    isv_job_t job = {
        .run_id = 1, /* a preview's messages are never sent: any valid id */
        .connector = json_string_value (json_object_get (msg, "connector")),
        .export_path = json_string_value (json_object_get (settings, "export_path")),
        .encoding = json_string_value (json_object_get (settings, "encoding")),
        .mapping = mapping,
        .units = units,
        .batch_rows = 1000,
        .preview_rows = preview > 0 && preview <= 100 ? (size_t)preview : 0,
    };
    int rc = -1;
    if (!job.export_path)
        vd_error_set (&err, VD_ERR_PERMANENT, "the connector has no export_path");
    else if (mapping && (!unit_path || units))
        rc = isv_extract_probe (&job, answer, &err);
    /* the mapping page's preview: the first rows of each file, as a run
       would send them */
    if (rc == 0 && job.preview_rows && !job.connector)
        vd_error_set (&err, VD_ERR_PERMANENT, "preview request without a connector");
    if (rc == 0 && job.preview_rows &&
        (!job.connector || isv_extract_preview (&job, answer, &err) < 0))
        rc = -1;
    json_object_set_new (answer, "type", json_string ("tested"));
    json_object_set (answer, "request_id", json_object_get (msg, "request_id"));
    json_object_set_new (answer, "ok", json_boolean (rc == 0));
    if (rc < 0)
        json_object_set_new (answer, "error",
                             json_pack ("{s:s, s:s, s:s}", "reason", err.msg, "detail", err.detail,
                                        "hint", err.hint));
    vd_info ("connector test of %s: %s", json_string_value (json_object_get (msg, "connector")),
             rc == 0 ? "ok" : err.msg);
    vd_ctl_send (self->ctl, answer);
    json_decref (answer);
    free (units);
    isv_mapping_destroy (&mapping);
}

/*  Handles a control message; while a run is in progress only "abort"
    matters (a second "start" is refused). */
static void
s_on_control (self_t *self, json_t *msg, json_t **start)
{
    const char *type = json_string_value (json_object_get (msg, "type"));
    int64_t run_id = json_integer_value (json_object_get (msg, "run_id"));
    if (type && strcmp (type, "abort") == 0 && run_id == self->run_id && run_id)
        self->aborted = true;
    else if (type && strcmp (type, "test") == 0 && !self->run_id)
        s_test (self, msg);
    else if (type && strcmp (type, "test") == 0) {
        json_t *reply = json_pack ("{s:s, s:O, s:b, s:{s:s, s:s}}", "type", "tested", "request_id",
                                   json_object_get (msg, "request_id"), "ok", 0, "error", "reason",
                                   "the extractor was busy with a run", "hint", "test again");
        if (reply)
            vd_ctl_send (self->ctl, reply);
        json_decref (reply);
    } else if (type && strcmp (type, "start") == 0 && !self->run_id && start) {
        *start = msg;
        return;
    } else if (type && strcmp (type, "start") == 0) {
        json_t *reply =
            json_pack ("{s:s, s:I, s:{s:s}}", "type", "failed", "run_id", (json_int_t)run_id,
                       "error", "reason", "the extractor given the run was busy");
        vd_ctl_send (self->ctl, reply);
        json_decref (reply);
    }
    json_decref (msg);
}

static void
s_handle_control (void *arg, json_t **start)
{
    self_t *self = arg;
    json_t *msg = vd_ctl_recv (self->ctl);
    if (msg)
        s_on_control (self, msg, start);
}

static bool
s_stop (void *arg)
{
    self_t *self = arg;
    while (!self->aborted && zsock_events (vd_ctl_sock (self->ctl)) & ZMQ_POLLIN)
        s_handle_control (self, NULL);
    return self->aborted || zsys_interrupted;
}

#define LINES_WAIT_MS 30000

/*  isv_lines_fn: asks the orchestrator for the trusted per-line hashes
    of a file and waits for the answer (other control messages are
    handled meanwhile); none after LINES_WAIT_MS: every line is sent. */
static zframe_t *
s_fetch_lines (void *arg, const char *file, char *rules, size_t rules_size)
{
    self_t *self = arg;
    json_t *ask = json_pack ("{s:s, s:I, s:s}", "type", "line_hashes", "run_id",
                             (json_int_t)self->run_id, "file", file);
    int sent = ask ? vd_ctl_send (self->ctl, ask) : -1;
    json_decref (ask);
    int64_t deadline = vd_clock_ms () + LINES_WAIT_MS;
    zpoller_t *poller = sent == 0 ? zpoller_new (vd_ctl_sock (self->ctl), NULL) : NULL;
    zframe_t *set = NULL;
    bool answered = false;
    while (poller && !answered && !self->aborted && !zsys_interrupted &&
           vd_clock_ms () < deadline) {
        vd_ctl_tick (self->ctl);
        if (!zpoller_wait (poller, 100))
            continue;
        json_t *msg = vd_ctl_recv (self->ctl);
        const char *type = json_string_value (json_object_get (msg, "type"));
        const char *of = json_string_value (json_object_get (msg, "file"));
        if (type && strcmp (type, "line_hashes") == 0 && of && strcmp (of, file) == 0 &&
            json_integer_value (json_object_get (msg, "run_id")) == self->run_id) {
            answered = true;
            set = vd_ctl_take_blob (self->ctl);
            snprintf (rules, rules_size, "%s",
                      json_string_value (json_object_get (msg, "rules")) ?: "");
            json_decref (msg);
        } else if (msg)
            s_on_control (self, msg, NULL);
    }
    zpoller_destroy (&poller);
    if (!answered)
        vd_warn ("%s: no answer about its per-line hashes: every line is sent", file);
    if (set && zframe_size (set) % ISV_LINE_HASH) {
        vd_warn ("%s: malformed per-line hashes ignored", file);
        zframe_destroy (&set);
    }
    return set;
}

/*  Runs one start message; reports "extracted" or "failed". */
static void
s_run (void *arg, int64_t run_id, json_t *start)
{
    self_t *self = arg;
    (void)run_id; /* also in self->run_id (vd_service_serve_runs) */
    self->aborted = false;
    json_t *settings = json_object_get (start, "settings");
    const char *mapping_path = json_string_value (json_object_get (settings, "mapping"));
    const char *unit_path = json_string_value (json_object_get (settings, "unit_table"));
    vd_error_t err;
    vd_error_clear (&err);
    json_error_t jerr;
    const char *cursor_text = json_string_value (json_object_get (start, "cursor"));
    json_t *cursor = cursor_text ? json_loads (cursor_text, 0, &jerr) : NULL;
    isv_mapping_t *mapping =
        mapping_path ? isv_mapping_load (mapping_path, &err) : isv_mapping_default (&err);
    char *units = mapping && unit_path ? vd_units_read_text (unit_path, &err) : NULL;
    json_t *report = json_object ();
    isv_job_t job = {
        .run_id = self->run_id,
        .connector = json_string_value (json_object_get (start, "connector")),
        .export_path = json_string_value (json_object_get (settings, "export_path")),
        .encoding = json_string_value (json_object_get (settings, "encoding")),
        .mapping = mapping,
        .units = units,
        .cursor_files = json_object_get (cursor, "files"),
        .cursor_lines = json_object_get (cursor, "lines"),
        .cursor_layouts = json_object_get (cursor, "layouts"),
        .full = json_is_true (json_object_get (start, "full")) ||
                json_is_true (json_object_get (settings, "full_snapshot")),
        .full_snapshot = json_is_true (json_object_get (settings, "full_snapshot")),
        .batch_rows = (size_t)vd_config_int (self->config, VD_CFG_BATCH_ROWS) / 10 + 1,
        .output = self->output,
        .ctl = self->ctl,
        .stop = s_stop,
        .stop_arg = self,
        .lines = s_fetch_lines,
        .lines_arg = self,
    };
    int rc = -1;
    if (!job.connector || !job.export_path)
        vd_error_set (&err, VD_ERR_PERMANENT, "start message without connector or export_path");
    else if (mapping && (!unit_path || units))
        rc = isv_extract_run (&job, report, &err);
    json_t *reply;
    if (rc == 0) {
        reply = report;
        json_object_set_new (reply, "type", json_string ("extracted"));
        json_object_set_new (reply, "run_id", json_integer (self->run_id));
        vd_info ("run extracted: %" JSON_INTEGER_FORMAT " records",
                 json_integer_value (json_object_get (report, "records")));
    } else {
        json_decref (report);
        vd_log_error (VD_LOG_ERROR, &err);
        reply =
            json_pack ("{s:s, s:I, s:{s:s, s:s, s:s, s:s, s:I}}", "type", "failed", "run_id",
                       (json_int_t)self->run_id, "error", "reason", err.msg, "detail", err.detail,
                       "hint", err.hint, "file", err.file, "line", (json_int_t)err.line);
    }
    if (!self->aborted)
        vd_ctl_send (self->ctl, reply);
    json_decref (reply);
    json_decref (cursor);
    free (units);
    isv_mapping_destroy (&mapping);
}

static int
s_setup (void *arg, vd_error_t *err)
{
    self_t *self = arg;
    if (sodium_init () < 0)
        return vd_error_set (err, VD_ERR_PERMANENT, "libsodium failed to initialise");
    self->output =
        vd_service_pipe (self->ctl, self->config, VD_CFG_NORMALIZER_ENDPOINT, ZMQ_PUSH, false, err);
    return self->output ? 0 : -1;
}

static void
s_teardown (void *arg)
{
    self_t *self = arg;
    vd_ctl_destroy (&self->ctl);
    zsock_destroy (&self->output);
    vd_config_destroy (&self->config);
}

static void
s_serve (void *arg)
{
    self_t *self = arg;
    vd_service_serve_runs (self->ctl, s_handle_control, s_run, self, &self->run_id);
}

int
main (int argc, char **argv)
{
    static const vd_service_info_t info = {
        "extractor-isavigne", "isavigne", VD_SVC_EXTRACTOR,
        "usage: extractor-isavigne [--print-mapping]\n"
        "Extracts iSaVigne export folders for the orchestrator's runs.\n"
        "--print-mapping prints the built-in column mapping (both dialects).\n\n"};
    if (argc > 1 && strcmp (argv[1], "--print-mapping") == 0) {
        fputs (isv_mapping_default_text (), stdout);
        return 0;
    }
    static const vd_service_ops_t ops = {s_setup, s_serve, s_teardown};
    self_t self = {0};
    return vd_service_main (&info, &ops, argc, argv, &self.config, &self.ctl, &self);
}
