/*  extractor-odoo - waits for the orchestrator's "start", extracts the
    connector's Odoo server into the pipeline (PUSH to the normalizer) and
    reports what it extracted; answers "test" (connector test) while
    idle. Several may run at once, on any host.
*/
#include "vendange.h"
#include "vd_ctl.h"
#include "vd_pipe.h"
#include "vd_service.h"
#include "odoo_probe.h"
#include "odoo_sync.h"

#define ATTEMPTS 5 /* per Odoo call, transient failures only */

typedef struct {
    vd_config_t *config;
    vd_ctl_t *ctl;
    zsock_t *output;
} self_t;

/*  Connects and runs the job. Returns 0 with the report filled. */
static int
s_extract (self_t *self, vd_runner_t *runner, int64_t run_id, json_t *start,
           const odoo_settings_t *s, odoo_mapping_t *mapping, const char *units, json_t *report,
           vd_error_t *err)
{
    odoo_client_opts_t opts = odoo_settings_client (s, ATTEMPTS, vd_runner_stop, runner);
    odoo_client_t *client = odoo_client_new (&opts, err);
    int rc = client ? odoo_client_connect (client, NULL, err) : -1;
    if (rc == 0) {
        vd_info ("connected to Odoo %s at %s (transport %s, user %" PRId64 ")",
                 odoo_client_version (client), s->url, odoo_client_transport_name (client),
                 odoo_client_uid (client));
        if (odoo_client_transport (client) == ODOO_XMLRPC)
            vd_warn ("%s", odoo_client_xmlrpc_warning);
        odoo_job_t job = {
            .run_id = run_id,
            .connector = json_string_value (json_object_get (start, "connector")),
            .client = client,
            .mapping = mapping,
            .units = units,
            .cursor = json_string_value (json_object_get (start, "cursor")),
            .full = json_is_true (json_object_get (start, "full")),
            .page_size = s->page_size,
            .safety_lag_s = s->safety_lag_s,
            .reconcile_s = s->reconcile_s,
            .batch_rows = (size_t)vd_config_int (self->config, VD_CFG_BATCH_ROWS) / 10 + 1,
            .output = self->output,
            .ctl = self->ctl,
            .stop = vd_runner_stop,
            .stop_arg = runner,
        };
        rc = job.connector ? odoo_sync_run (&job, report, err)
                           : vd_error_set (err, VD_ERR_PERMANENT, "start without a connector");
        json_object_set_new (report, "transport",
                             json_string (odoo_client_transport_name (client)));
        json_object_set_new (report, "requests", json_integer (odoo_client_requests (client)));
    }
    odoo_client_destroy (&client);
    return rc;
}

/*  Extracts the run of start (vd_extractor_t.run). */
static int
s_run (void *arg, vd_runner_t *runner, int64_t run_id, json_t *start, json_t *report,
       vd_error_t *err)
{
    odoo_settings_t s;
    odoo_mapping_t *mapping = NULL;
    char *units = NULL;
    int rc = odoo_settings_read (json_object_get (start, "settings"), &s, err);
    if (rc == 0) {
        mapping = s.field_mapping ? odoo_mapping_load (s.field_mapping, err)
                                  : odoo_mapping_new (NULL, 0, err);
        units = mapping && s.unit_table ? vd_units_read_text (s.unit_table, err) : NULL;
        rc = mapping && (!s.unit_table || units) ? 0 : -1;
    }
    if (rc == 0)
        rc = s_extract (arg, runner, run_id, start, &s, mapping, units, report, err);
    if (rc == 0)
        vd_info ("%" JSON_INTEGER_FORMAT " requests to Odoo",
                 json_integer_value (json_object_get (report, "requests")));
    free (units);
    odoo_mapping_destroy (&mapping);
    return rc;
}

/*  Answers a connector test (vd_extractor_t.test). */
static json_t *
s_test (void *arg, vd_runner_t *runner, json_t *msg)
{
    (void)arg;
    return odoo_probe_answer (msg, vd_runner_stop, runner);
}

static int
s_setup (void *arg, vd_error_t *err)
{
    self_t *self = arg;
    self->output =
        vd_service_pipe (self->ctl, self->config, VD_CFG_NORMALIZER_ENDPOINT, ZMQ_PUSH, false, err);
    return self->output ? 0 : -1;
}

static void
s_serve (void *arg)
{
    self_t *self = arg;
    static const vd_extractor_t extractor = {s_run, s_test};
    vd_service_serve_runs (self->ctl, &extractor, self);
}

static void
s_teardown (void *arg)
{
    self_t *self = arg;
    zsock_destroy (&self->output);
}

/*  --test FILE: the "tested" answer for the settings in FILE, on stdout. */
static int
s_test_settings (const char *path)
{
    vd_log_init ("extractor-odoo", VD_LOG_ERROR);
    json_error_t jerr;
    json_t *settings = json_load_file (path, 0, &jerr);
    if (!json_is_object (settings)) {
        fprintf (stderr, "extractor-odoo: %s: not a JSON object of settings (%s)\n", path,
                 jerr.text);
        json_decref (settings);
        return 2;
    }
    json_t *req =
        json_pack ("{s:s, s:s, s:o}", "type", "test", "request_id", "cli", "settings", settings);
    json_t *answer = odoo_probe_answer (req, NULL, NULL);
    char *text = answer ? json_dumps (answer, JSON_INDENT (2) | JSON_SORT_KEYS) : NULL;
    int rc = answer && json_is_true (json_object_get (answer, "ok")) ? 0 : 1;
    if (text)
        puts (text);
    free (text);
    json_decref (answer);
    json_decref (req);
    return rc;
}

int
main (int argc, char **argv)
{
    static const vd_service_info_t info = {
        "extractor-odoo", "odoo", VD_SVC_EXTRACTOR,
        "usage: extractor-odoo [--print-mapping | --test SETTINGS.json]\n"
        "Extracts Odoo servers (XML-RPC or JSON-2) for the orchestrator's runs.\n"
        "--print-mapping prints the built-in field mapping.\n"
        "--test answers `connector test` for the connector settings in a JSON file\n"
        "(from this host, without the orchestrator) and exits 0 when the test passed.\n\n",
        odoo_mapping_default_text};
    if (argc > 2 && strcmp (argv[1], "--test") == 0)
        return s_test_settings (argv[2]);
    static const vd_service_ops_t ops = {s_setup, s_serve, s_teardown};
    self_t self = {0};
    return vd_service_main (&info, &ops, argc, argv, &self.config, &self.ctl, &self);
}
