/*  selftest - runs the x_test() of every class.

    selftest            run every test
    selftest NAME...    run the named tests
    selftest -v ...     verbose
*/
#include "vendange.h"
#include "load_customers.h"
#include "vd_addr.h"
#include "vd_copy.h"
#include "vd_httpc.h"
#include "vd_smtp.h"
#include "vd_hashset.h"
#include "vd_outbox.h"
#include "vd_deadline.h"
#include "vd_http.h"
#include "vd_msg.h"
#include "vd_secret.h"
#include "vd_service.h"
#include "vd_curve.h"
#include "vd_keys.h"
#include "vd_zap.h"
#include "orch_trust.h"
#include "isv_extract.h"
#include "orch_preview.h"
#include "isv_layout.h"
#include "isv_fields.h"
#include "isv_lines.h"
#include "isv_mapping.h"
#include "isv_packaging.h"
#include "isv_reader.h"
#include "isv_xls.h"
#include "hook_auth.h"
#include "hook_event.h"
#include "hook_http.h"
#include "hook_spool.h"
#include "load_events.h"
#include "odoo_client.h"
#include "odoo_emit.h"
#include "odoo_json2.h"
#include "odoo_mapping.h"
#include "odoo_pager.h"
#include "odoo_probe.h"
#include "odoo_sync.h"
#include "odoo_xmlrpc.h"
#include "norm_batch.h"
#include "norm_fence.h"
#include "vd_copy.h"
#include "load_index.h"
#include "load_run.h"
#include "load_refs.h"
#include "load_lines.h"
#include "load_agg.h"
#include "load_cmd.h"
#include "load_warn.h"
#include "load_sql.h"
#include "orch_active.h"
#include "orch_engine.h"
#include "orch_alert_channels.h"
#include "orch_alert_rules.h"
#include "orch_alerts.h"
#include "orch_watch.h"
#include "orch_api.h"
#include "orch_guard.h"
#include "orch_hooks.h"
#include "orch_http.h"
#include "orch_json.h"
#include "orch_metrics.h"
#include "orch_registry.h"
#include "orch_route.h"
#include "orch_runs.h"
#include "orch_runview.h"
#include "orch_schedule.h"
#include "orch_secrets.h"
#include "orch_settings.h"
#include "orch_status.h"
#include "reco_load.h"
#include "reco_score.h"
#include "orch_tests.h"
#include "orch_warnings.h"
#include "orch_layouts.h"
#include "orch_reco.h"
#include "orch_wake.h"
#include "orch_web.h"
#include "cli_connector.h"
#include "cli_pg.h"
#include "cli_proc.h"
#include "cli_table.h"
#include "cli_up.h"
#include "cli_reco.h"
#include "orch_assets.h"
#include "orch_auth.h"
#include "orch_mapping.h"
#include "orch_quality.h"
#include "orch_quality_pdf.h"

typedef struct {
    const char *name;
    int (*fn) (bool verbose);
} selftest_t;

/* One line per class; keep alphabetical inside each component. */
static const selftest_t s_tests[] = {
    {"vd_addr", vd_addr_test},
    {"vd_config", vd_config_test},
    {"vd_copy", vd_copy_test},
    {"vd_hashset", vd_hashset_test},
    {"vd_smtp", vd_smtp_test},
    {"vd_httpc", vd_httpc_test},
    {"vd_date", vd_date_test},
    {"vd_buf", vd_buf_test},
    {"vd_deadline", vd_deadline_test},
    {"vd_http", vd_http_test},
    {"vd_msg", vd_msg_test},
    {"vd_number", vd_number_test},
    {"vd_outbox", vd_outbox_test},
    {"vd_packaging", vd_packaging_test},
    {"vd_schema", vd_schema_test},
    {"vd_secret", vd_secret_test},
    {"vd_service", vd_service_test},
    {"vd_keys", vd_keys_test},
    {"vd_zap", vd_zap_test},
    {"vd_curve", vd_curve_test},
    {"vd_text", vd_text_test},
    {"vd_units", vd_units_test},
    {"isv_layout", isv_layout_test},
    {"isv_fields", isv_fields_test},
    {"isv_lines", isv_lines_test},
    {"isv_mapping", isv_mapping_test},
    {"isv_packaging", isv_packaging_test},
    {"isv_reader", isv_reader_test},
    {"isv_xls", isv_xls_test},
    {"hook_auth", hook_auth_test},
    {"hook_event", hook_event_test},
    {"hook_http", hook_http_test},
    {"hook_spool", hook_spool_test},
    {"odoo_client", odoo_client_test},
    {"odoo_emit", odoo_emit_test},
    {"odoo_json2", odoo_json2_test},
    {"odoo_mapping", odoo_mapping_test},
    {"odoo_pager", odoo_pager_test},
    {"odoo_probe", odoo_probe_test},
    {"odoo_sync", odoo_sync_test},
    {"odoo_xmlrpc", odoo_xmlrpc_test},
    {"norm_batch", norm_batch_test},
    {"norm_fence", norm_fence_test},
    {"load_index", load_index_test},
    {"load_run", load_run_test},
    {"load_events", load_events_test},
    {"load_refs", load_refs_test},
    {"load_lines", load_lines_test},
    {"load_agg", load_agg_test},
    {"load_customers", load_customers_test},
    {"load_cmd", load_cmd_test},
    {"load_warn", load_warn_test},
    {"load_sql", load_sql_test},
    {"cli_connector", cli_connector_test},
    {"cli_pg", cli_pg_test},
    {"cli_proc", cli_proc_test},
    {"cli_table", cli_table_test},
    {"cli_up", cli_up_test},
    {"cli_reco", cli_reco_test},
    {"orch_active", orch_active_test},
    {"orch_engine", orch_engine_test},
    {"orch_alert_channels", orch_alert_channels_test},
    {"orch_alert_rules", orch_alert_rules_test},
    {"orch_alerts", orch_alerts_test},
    {"orch_api", orch_api_test},
    {"orch_guard", orch_guard_test},
    {"orch_hooks", orch_hooks_test},
    {"orch_trust", orch_trust_test},
    {"orch_http", orch_http_test},
    {"orch_json", orch_json_test},
    {"orch_metrics", orch_metrics_test},
    {"orch_registry", orch_registry_test},
    {"orch_route", orch_route_test},
    {"orch_reco_feedback", orch_reco_feedback_test},
    {"orch_reco_export", orch_reco_export_test},
    {"orch_runs", orch_runs_test},
    {"orch_runview", orch_runview_test},
    {"orch_schedule", orch_schedule_test},
    {"orch_secrets", orch_secrets_test},
    {"orch_settings", orch_settings_test},
    {"orch_status", orch_status_test},
    {"reco_model", reco_model_test},
    {"reco_score", reco_score_test},
    {"reco_load", reco_load_test},
    {"orch_tests", orch_tests_test},
    {"orch_wake", orch_wake_test},
    {"orch_warnings", orch_warnings_test},
    {"orch_layouts", orch_layouts_test},
    {"orch_watch", orch_watch_test},
    {"orch_web", orch_web_test},
    {"orch_quality", orch_quality_test},
    {"orch_quality_pdf", orch_quality_pdf_test},
    {"orch_assets", orch_assets_test},
    {"orch_auth", orch_auth_test},
    {"orch_mapping", orch_mapping_test},
    {"orch_preview", orch_preview_test},
};

int
main (int argc, char **argv)
{
    bool verbose = false;
    int first = 1;
    if (argc > 1 && strcmp (argv[1], "-v") == 0) {
        verbose = true;
        first = 2;
    }
    size_t ntests = sizeof s_tests / sizeof s_tests[0];
    int passed = 0, failed = 0;
    for (size_t i = 0; i < ntests; i++) {
        bool wanted = first >= argc;
        for (int a = first; a < argc; a++)
            if (strcmp (argv[a], s_tests[i].name) == 0)
                wanted = true;
        if (!wanted)
            continue;
        int rc = s_tests[i].fn (verbose);
        printf ("%-24s %s\n", s_tests[i].name, rc == 0 ? "ok" : "FAILED");
        if (rc == 0)
            passed++;
        else
            failed++;
    }
    printf ("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
