/*  vd_service - the start of every pipeline service. */
#include "vendange.h"
#include "vd_keys.h"
#include "vd_pipe.h"
#include "vd_service.h"
#include <malloc.h>

#define DATA_HWM 100 /* messages queued per socket: back pressure past it */

int
vd_service_start (const vd_service_info_t *info, int argc, char **argv, vd_config_t **config,
                  vd_ctl_t **ctl)
{
    if (argc > 1 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)) {
        fputs (info->usage, stdout);
        vd_config_usage (info->mask, stdout);
        return 1;
    }
    if (info->mapping && argc > 1 && strcmp (argv[1], "--print-mapping") == 0) {
        fputs (info->mapping (), stdout);
        return 1;
    }
    vd_log_init (info->role, VD_LOG_INFO);
    /* the buffers of one message (a few MB) are freed and asked for again
       with the next: kept by malloc instead of mapped and zeroed anew by
       the kernel each time */
    mallopt (M_MMAP_THRESHOLD, 4 * 1024 * 1024);
    mallopt (M_TRIM_THRESHOLD, 8 * 1024 * 1024);
    vd_error_t err;
    vd_error_clear (&err);
    *config = vd_config_load (info->mask, &err);
    if (!*config) {
        vd_log_error (VD_LOG_ERROR, &err);
        return -1;
    }
    vd_log_level_t level = VD_LOG_INFO;
    if (vd_log_level_parse (vd_config_str (*config, VD_CFG_LOG_LEVEL), &level) < 0)
        vd_warn ("unknown VENDANGE_LOG_LEVEL \"%s\": using info",
                 vd_config_str (*config, VD_CFG_LOG_LEVEL));
    vd_log_init (info->role, level);
    zsys_init (); /* SIGINT/SIGTERM set zsys_interrupted */
    vd_curve_t *curve = vd_curve_new (*config, info->role, &err);
    *ctl = curve ? vd_ctl_new (vd_config_str (*config, VD_CFG_ORCHESTRATOR_ENDPOINT), info->role,
                               info->kind, (int)vd_config_int (*config, VD_CFG_HEARTBEAT_MS),
                               &curve, &err)
                 : NULL;
    if (!*ctl) {
        vd_log_error (VD_LOG_ERROR, &err);
        vd_config_destroy (config);
        return -1;
    }
    return 0;
}

/*  The bind variable of a data endpoint and the role that serves it. */
static const struct {
    vd_cfg_key_t endpoint, bind;
    const char *server_role;
} s_pipes[] = {
    {VD_CFG_NORMALIZER_ENDPOINT, VD_CFG_NORMALIZER_BIND, "normalizer"},
    {VD_CFG_LOADER_ENDPOINT, VD_CFG_LOADER_BIND, "loader"},
};

zsock_t *
vd_service_pipe (vd_ctl_t *ctl, const vd_config_t *config, vd_cfg_key_t key, int type, bool bind,
                 vd_error_t *err)
{
    size_t i = 0;
    while (i < sizeof s_pipes / sizeof s_pipes[0] && s_pipes[i].endpoint != key)
        i++;
    if (i == sizeof s_pipes / sizeof s_pipes[0]) {
        vd_error_set (err, VD_ERR_PERMANENT, "%s is not a data endpoint", vd_config_name (key));
        return NULL;
    }
    /* a bind goes exactly where it is told: no other interface instead */
    vd_cfg_key_t which = bind && *vd_config_str (config, s_pipes[i].bind) ? s_pipes[i].bind : key;
    char endpoint[512];
    snprintf (endpoint, sizeof endpoint, "%c%s", bind ? '@' : '>', vd_config_str (config, which));
    zsock_t *sock =
        vd_pipe_new (type, endpoint, DATA_HWM, vd_ctl_curve (ctl), s_pipes[i].server_role, err);
    if (!sock && bind) {
        char detail[sizeof err->detail];
        snprintf (detail, sizeof detail, "%.200s%s%.300s", err->msg, err->detail[0] ? ": " : "",
                  err->detail);
        vd_error_set (err, VD_ERR_PERMANENT, "cannot bind %s \"%s\"", vd_config_name (which),
                      vd_config_str (config, which));
        vd_error_detail (err, "%s", detail);
        snprintf (err->hint, sizeof err->hint,
                  "set %s to an address of this host (tcp://*:PORT: every interface; "
                  "tcp://127.0.0.1:PORT: loopback), or stop the process that holds the port",
                  vd_config_name (s_pipes[i].bind));
    }
    return sock;
}

struct vd_runner {
    vd_ctl_t *ctl;
    int64_t run_id; /* the run in progress, 0 when idle or testing */
    bool aborted;
};

/*  "start" and "test" while busy: refused, the orchestrator tries again. */
static void
s_refuse (vd_runner_t *r, json_t *msg, const char *type)
{
    json_t *reply =
        strcmp (type, "test") == 0
            ? json_pack ("{s:s, s:O?, s:b, s:{s:s, s:s}}", "type", "tested", "request_id",
                         json_object_get (msg, "request_id"), "ok", 0, "error", "reason",
                         "the extractor was busy with a run", "hint", "test again")
            : json_pack ("{s:s, s:I, s:{s:s}}", "type", "failed", "run_id",
                         (json_int_t)json_integer_value (json_object_get (msg, "run_id")), "error",
                         "reason", "the extractor given the run was busy");
    if (reply)
        vd_ctl_send (r->ctl, reply);
    json_decref (reply);
}

void
vd_runner_control (vd_runner_t *r, json_t *msg)
{
    const char *type = json_string_value (json_object_get (msg, "type"));
    int64_t run_id = json_integer_value (json_object_get (msg, "run_id"));
    if (type && strcmp (type, "abort") == 0 && run_id && run_id == r->run_id)
        r->aborted = true;
    else if (type && (strcmp (type, "start") == 0 || strcmp (type, "test") == 0))
        s_refuse (r, msg, type);
    json_decref (msg);
}

bool
vd_runner_stop (void *arg)
{
    vd_runner_t *r = arg;
    vd_ctl_tick (r->ctl);
    while (!r->aborted && zsock_events (vd_ctl_sock (r->ctl)) & ZMQ_POLLIN) {
        json_t *msg = vd_ctl_recv (r->ctl);
        if (msg)
            vd_runner_control (r, msg);
    }
    return vd_runner_stopped (r);
}

bool
vd_runner_stopped (const vd_runner_t *r)
{
    return r->aborted || zsys_interrupted;
}

int64_t
vd_runner_run_id (const vd_runner_t *r)
{
    return r->run_id;
}

/*  Runs start and reports its end. */
static void
s_run (vd_runner_t *r, const vd_extractor_t *x, void *self, json_t *start)
{
    int64_t run_id = json_integer_value (json_object_get (start, "run_id"));
    vd_log_set_run (run_id);
    vd_ctl_set_state (r->ctl, "busy", run_id);
    vd_info ("run started for connector %s",
             json_string_value (json_object_get (start, "connector")));
    r->run_id = run_id;
    r->aborted = false;
    vd_error_t err;
    vd_error_clear (&err);
    json_t *report = json_object ();
    json_t *reply = NULL;
    if (report && x->run (self, r, run_id, start, report, &err) == 0) {
        json_object_set_new (report, "type", json_string ("extracted"));
        json_object_set_new (report, "run_id", json_integer (run_id));
        vd_info ("run extracted: %" JSON_INTEGER_FORMAT " records",
                 json_integer_value (json_object_get (report, "records")));
        reply = json_incref (report);
    } else {
        if (!report)
            vd_error_set (&err, VD_ERR_PERMANENT, "out of memory");
        vd_log_error (VD_LOG_ERROR, &err);
        reply = json_pack ("{s:s, s:I, s:{s:s, s:s, s:s, s:s, s:I}}", "type", "failed", "run_id",
                           (json_int_t)run_id, "error", "reason", err.msg, "detail", err.detail,
                           "hint", err.hint, "file", err.file, "line", (json_int_t)err.line);
    }
    if (reply && !r->aborted)
        vd_ctl_send (r->ctl, reply);
    json_decref (reply);
    json_decref (report);
    r->run_id = 0;
    r->aborted = false;
    vd_ctl_set_state (r->ctl, "idle", 0);
    vd_log_set_run (0);
}

void
vd_service_serve_runs (vd_ctl_t *ctl, const vd_extractor_t *x, void *self)
{
    vd_runner_t r = {.ctl = ctl};
    zpoller_t *poller = zpoller_new (vd_ctl_sock (ctl), NULL);
    while (!zsys_interrupted) {
        vd_ctl_tick (ctl);
        void *which = zpoller_wait (poller, 200);
        if (zpoller_terminated (poller))
            break;
        json_t *msg = which ? vd_ctl_recv (ctl) : NULL;
        const char *type = msg ? json_string_value (json_object_get (msg, "type")) : NULL;
        if (type && strcmp (type, "start") == 0)
            s_run (&r, x, self, msg);
        else if (type && strcmp (type, "test") == 0) {
            json_t *answer = x->test (self, &r, msg);
            if (answer)
                vd_ctl_send (ctl, answer);
            json_decref (answer);
        }
        json_decref (msg);
    }
    zpoller_destroy (&poller);
}

int
vd_service_main (const vd_service_info_t *info, const vd_service_ops_t *ops, int argc, char **argv,
                 vd_config_t **config, vd_ctl_t **ctl, void *self)
{
    int rc = vd_service_start (info, argc, argv, config, ctl);
    if (rc != 0)
        return rc > 0 ? 0 : 1;
    vd_error_t err;
    vd_error_clear (&err);
    rc = ops->setup (self, &err);
    if (rc < 0)
        vd_log_error (VD_LOG_ERROR, &err);
    else {
        vd_info ("%s started: %s", info->role, vd_ctl_instance (*ctl));
        if (ops->serve)
            ops->serve (self);
        else
            vd_service_serve_stage (*ctl, *(zsock_t **)((char *)self + ops->input), ops->stage,
                                    self);
        vd_info ("%s stopped", info->role);
    }
    ops->teardown (self);
    vd_ctl_destroy (ctl);
    vd_config_destroy (config);
    return rc < 0 ? 1 : 0;
}

bool
vd_service_control (vd_ctl_t *ctl, vd_control_fn *control, void *self)
{
    json_t *msg = vd_ctl_recv (ctl);
    if (!msg)
        return false;
    const char *type = json_string_value (json_object_get (msg, "type"));
    control (self, msg, type ? type : "");
    json_decref (msg);
    return true;
}

/*  Decodes frame and hands it to the stage: 0 taken, -1 held. */
static int
s_offer (const vd_stage_t *stage, void *self, zframe_t *frame)
{
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    vd_msg_t msg;
    vd_error_t err;
    vd_error_clear (&err);
    int rc = 0;
    if (vd_msg_decode ((const char *)zframe_data (frame), zframe_size (frame), &u, &msg, &err) < 0)
        vd_log_error (VD_LOG_ERROR, &err); /* no run to blame: logged, dropped */
    else
        rc = stage->data (self, frame, &msg);
    msgpack_unpacked_destroy (&u);
    return rc;
}

void
vd_service_serve_stage (vd_ctl_t *ctl, zsock_t *input, const vd_stage_t *stage, void *self)
{
    zpoller_t *reading = zpoller_new (input, vd_ctl_sock (ctl), NULL);
    zpoller_t *waiting = zpoller_new (vd_ctl_sock (ctl), NULL);
    zframe_t *held = NULL;
    while (!(stage->stop && stage->stop (self))) {
        vd_ctl_tick (ctl);
        /* while a frame waits, read nothing more */
        zpoller_t *poller = held ? waiting : reading;
        void *which = zpoller_wait (poller, stage->poll_ms);
        if (zpoller_terminated (poller))
            break;
        if (which == input) {
            zframe_t *frame = zframe_recv (input);
            if (frame && s_offer (stage, self, frame) < 0)
                held = frame;
            else
                zframe_destroy (&frame);
        } else if (which == vd_ctl_sock (ctl))
            vd_service_control (ctl, stage->control, self);
        if (held && s_offer (stage, self, held) == 0)
            zframe_destroy (&held);
        if (stage->work)
            stage->work (self);
    }
    zframe_destroy (&held);
    zpoller_destroy (&reading);
    zpoller_destroy (&waiting);
}

/*  --------------------------------------------------------------------
    Self test */

/*  A bind address that is no local interface (a docker service name)
    fails with a message naming the variable; nothing listens elsewhere. */
static int
s_bind_by_name (const char *dir)
{
    setenv ("VENDANGE_KEYS_DIR", dir, 1);
    setenv ("VENDANGE_LOADER_ENDPOINT", "tcp://127.0.0.1:1", 1);
    setenv ("VENDANGE_LOADER_BIND", "tcp://vd-selftest.invalid:5572", 1);
    vd_error_t err;
    vd_error_clear (&err);
    vd_config_t *cfg = vd_config_load (VD_SVC_LOADER, &err);
    unsetenv ("VENDANGE_KEYS_DIR");
    unsetenv ("VENDANGE_LOADER_ENDPOINT");
    unsetenv ("VENDANGE_LOADER_BIND");
    vd_curve_t *curve = cfg ? vd_curve_new (cfg, "loader", &err) : NULL;
    vd_ctl_t *ctl =
        curve ? vd_ctl_new ("tcp://127.0.0.1:1", "loader", NULL, 1000, &curve, &err) : NULL;
    zsock_t *pull =
        ctl ? vd_service_pipe (ctl, cfg, VD_CFG_LOADER_ENDPOINT, ZMQ_PULL, true, &err) : NULL;
    bool ok = ctl && !pull && strstr (err.msg, "VENDANGE_LOADER_BIND") &&
              strstr (err.hint, "tcp://*:PORT");
    zsock_destroy (&pull);
    vd_ctl_destroy (&ctl);
    vd_curve_destroy (&curve);
    vd_config_destroy (&cfg);
    return ok ? 0 : -1;
}

int
vd_service_test (bool verbose)
{
    int failures = 0;
    char dir[] = "/tmp/vd-service-test-XXXXXX";
    vd_error_t err;
    vd_error_clear (&err);
    if (!mkdtemp (dir) || vd_keys_make (dir, "loader", false, &err) < 0 ||
        vd_keys_make (dir, "orchestrator", false, &err) < 0)
        failures++;
    else if (s_bind_by_name (dir) < 0)
        failures++;
    vd_keys_remove_dir (dir);
    /* an "abort" stops the run it names, not another, nor a test */
    vd_runner_t r = {.run_id = 5};
    vd_runner_control (&r, json_pack ("{s:s, s:I}", "type", "abort", "run_id", (json_int_t)4));
    VD_CHECK (&failures, !vd_runner_stopped (&r));
    vd_runner_control (&r, json_pack ("{s:s, s:I}", "type", "abort", "run_id", (json_int_t)5));
    VD_CHECK (&failures, vd_runner_stopped (&r));
    r = (vd_runner_t){.run_id = 0};
    vd_runner_control (&r, json_pack ("{s:s, s:I}", "type", "abort", "run_id", (json_int_t)0));
    VD_CHECK (&failures, !vd_runner_stopped (&r));
    if (verbose)
        printf ("  vd_service: %d failures\n", failures);
    return failures ? -1 : 0;
}
