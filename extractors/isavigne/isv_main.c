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
    vd_runner_t *runner; /* during a run */
} self_t;

/*  Answers a "test" request: the settings are checked the way a run
    would use them (mapping and unit table parsed, folder listed). */
static json_t *
s_test (void *arg, vd_runner_t *runner, json_t *msg)
{
    (void)arg, (void)runner;
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
    free (units);
    isv_mapping_destroy (&mapping);
    return answer;
}

#define LINES_WAIT_MS 30000

/*  isv_lines_fn: asks the orchestrator for the trusted per-line hashes
    of a file and waits for the answer (other control messages are
    handled meanwhile); none after LINES_WAIT_MS: every line is sent. */
static zframe_t *
s_fetch_lines (void *arg, const char *file, char *rules, size_t rules_size)
{
    self_t *self = arg;
    int64_t run_id = vd_runner_run_id (self->runner);
    json_t *ask = json_pack ("{s:s, s:I, s:s}", "type", "line_hashes", "run_id", (json_int_t)run_id,
                             "file", file);
    int sent = ask ? vd_ctl_send (self->ctl, ask) : -1;
    json_decref (ask);
    int64_t deadline = vd_clock_ms () + LINES_WAIT_MS;
    zpoller_t *poller = sent == 0 ? zpoller_new (vd_ctl_sock (self->ctl), NULL) : NULL;
    zframe_t *set = NULL;
    bool answered = false;
    while (poller && !answered && !vd_runner_stopped (self->runner) && vd_clock_ms () < deadline) {
        vd_ctl_tick (self->ctl);
        if (!zpoller_wait (poller, 100))
            continue;
        json_t *msg = vd_ctl_recv (self->ctl);
        const char *type = json_string_value (json_object_get (msg, "type"));
        const char *of = json_string_value (json_object_get (msg, "file"));
        if (type && strcmp (type, "line_hashes") == 0 && of && strcmp (of, file) == 0 &&
            json_integer_value (json_object_get (msg, "run_id")) == run_id) {
            answered = true;
            set = vd_ctl_take_blob (self->ctl);
            snprintf (rules, rules_size, "%s",
                      json_string_value (json_object_get (msg, "rules")) ?: "");
            json_decref (msg);
        } else if (msg)
            vd_runner_control (self->runner, msg);
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

/*  Extracts the run of start (vd_extractor_t.run). */
static int
s_run (void *arg, vd_runner_t *runner, int64_t run_id, json_t *start, json_t *report,
       vd_error_t *err)
{
    self_t *self = arg;
    self->runner = runner;
    json_t *settings = json_object_get (start, "settings");
    const char *mapping_path = json_string_value (json_object_get (settings, "mapping"));
    const char *unit_path = json_string_value (json_object_get (settings, "unit_table"));
    json_error_t jerr;
    const char *cursor_text = json_string_value (json_object_get (start, "cursor"));
    json_t *cursor = cursor_text ? json_loads (cursor_text, 0, &jerr) : NULL;
    isv_mapping_t *mapping =
        mapping_path ? isv_mapping_load (mapping_path, err) : isv_mapping_default (err);
    char *units = mapping && unit_path ? vd_units_read_text (unit_path, err) : NULL;
    isv_job_t job = {
        .run_id = run_id,
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
        .stop = vd_runner_stop,
        .stop_arg = runner,
        .lines = s_fetch_lines,
        .lines_arg = self,
    };
    int rc = -1;
    if (!job.connector || !job.export_path)
        vd_error_set (err, VD_ERR_PERMANENT, "start message without connector or export_path");
    else if (mapping && (!unit_path || units))
        rc = isv_extract_run (&job, report, err);
    json_decref (cursor);
    free (units);
    isv_mapping_destroy (&mapping);
    self->runner = NULL;
    return rc;
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
    zsock_destroy (&self->output);
}

static void
s_serve (void *arg)
{
    self_t *self = arg;
    static const vd_extractor_t extractor = {s_run, s_test};
    vd_service_serve_runs (self->ctl, &extractor, self);
}

int
main (int argc, char **argv)
{
    static const vd_service_info_t info = {
        "extractor-isavigne", "isavigne", VD_SVC_EXTRACTOR,
        "usage: extractor-isavigne [--print-mapping]\n"
        "Extracts iSaVigne export folders for the orchestrator's runs.\n"
        "--print-mapping prints the built-in column mapping (both dialects).\n\n",
        isv_mapping_default_text};
    static const vd_service_ops_t ops = {s_setup, s_serve, s_teardown};
    self_t self = {0};
    return vd_service_main (&info, &ops, argc, argv, &self.config, &self.ctl, &self);
}
