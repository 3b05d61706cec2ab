/*  normalizer - raw records in (PULL, bound), canonical records out (PUSH,
    connected to the loader). Stateless between messages but for the
    verdicts on runs (norm_fence: only runs the orchestrator says are
    open are converted): several normalizers may run side by side; END
    and DELETE messages pass through unchanged.
*/
#include "vendange.h"
#include "vd_ctl.h"
#include "vd_msg.h"
#include "vd_pipe.h"
#include "vd_service.h"
#include "norm_batch.h"
#include "norm_fence.h"

#define ASK_AGAIN_MS 1000 /* a run_status question unanswered this long */

typedef struct {
    vd_config_t *config;
    vd_ctl_t *ctl;
    zsock_t *input;
    zsock_t *output;
    norm_batch_t *batch;
    msgpack_sbuffer out;
    norm_fence_t *fence;
    int64_t asked_run; /* the run last asked about, and when        */
    int64_t asked_at_ms;
    int64_t refused_run; /* the run whose records were last refused   */
    bool terminated;
} self_t;

static bool
s_stop (void *arg)
{
    self_t *self = arg;
    return self->terminated || zsys_interrupted;
}

static void
s_report_failure (self_t *self, int64_t run_id, const vd_error_t *err)
{
    json_t *msg =
        json_pack ("{s:s, s:I, s:{s:s, s:s}}", "type", "failed", "run_id", (json_int_t)run_id,
                   "error", "reason", err->msg, "detail", err->detail);
    if (msg)
        vd_ctl_send (self->ctl, msg);
    json_decref (msg);
}

/*  Asks the orchestrator whether run_id is open (again after a while). */
static void
s_ask (self_t *self, int64_t run_id)
{
    if (run_id == self->asked_run && vd_clock_ms () - self->asked_at_ms < ASK_AGAIN_MS)
        return;
    self->asked_run = run_id;
    self->asked_at_ms = vd_clock_ms ();
    json_t *msg = json_pack ("{s:s, s:I}", "type", "run_status", "run_id", (json_int_t)run_id);
    if (msg)
        vd_ctl_send (self->ctl, msg);
    json_decref (msg);
}

/*  Handles one message. Returns -1 when the verdict on its run is not
    known yet (the caller holds the frame and tries again). */
static int
s_handle_data (self_t *self, zframe_t *frame, const vd_msg_t *msg)
{
    vd_error_t err;
    vd_error_clear (&err);
    int verdict = norm_fence_verdict (self->fence, msg->run_id);
    if (verdict < 0) {
        s_ask (self, msg->run_id);
        return -1;
    }
    vd_log_set_run (msg->run_id);
    if (verdict == 0 && msg->run_id != self->refused_run) {
        vd_warn ("records of run %" PRId64 " refused: the run is not open (aborted, failed or "
                 "over), nothing of it is converted",
                 msg->run_id);
        self->refused_run = msg->run_id; /* said once per run */
    } else if (verdict == 0)
        ;
    else if (msg->kind == VD_MSG_END || msg->kind == VD_MSG_DELETE || msg->kind == VD_MSG_HASHES)
        vd_pipe_send (self->output, zframe_data (frame), zframe_size (frame), self->ctl, s_stop,
                      self);
    else {
        msgpack_sbuffer_clear (&self->out);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &self->out, vd_mp_write);
        if (norm_batch_convert (self->batch, msg, &pk, &err) < 0) {
            vd_log_error (VD_LOG_ERROR, &err);
            s_report_failure (self, msg->run_id, &err);
        } else
            vd_pipe_send (self->output, self->out.data, self->out.size, self->ctl, s_stop, self);
    }
    vd_log_set_run (0);
    return 0;
}

static void
s_control (void *arg, json_t *msg, const char *type)
{
    self_t *self = arg;
    int64_t run_id = json_integer_value (json_object_get (msg, "run_id"));
    if (strcmp (type, "abort") == 0)
        norm_fence_set (self->fence, run_id, false);
    else if (strcmp (type, "run_status") == 0) {
        bool open = json_is_true (json_object_get (msg, "open"));
        if (!open) {
            vd_warn ("records of run %" PRId64 " refused: the orchestrator does not hold it open",
                     run_id);
            self->refused_run = run_id;
        }
        norm_fence_set (self->fence, run_id, open);
    }
}

static int
s_setup (void *arg, vd_error_t *err)
{
    self_t *self = arg;
    msgpack_sbuffer_init (&self->out);
    self->fence = norm_fence_new ();
    if (!self->fence)
        return vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    self->batch = norm_batch_new (vd_config_str (self->config, VD_CFG_VAT_RATE),
                                  vd_config_str (self->config, VD_CFG_TIMEZONE), err);
    if (!self->batch)
        return -1;
    self->input =
        vd_service_pipe (self->ctl, self->config, VD_CFG_NORMALIZER_ENDPOINT, ZMQ_PULL, true, err);
    self->output = self->input ? vd_service_pipe (self->ctl, self->config, VD_CFG_LOADER_ENDPOINT,
                                                  ZMQ_PUSH, false, err)
                               : NULL;
    return self->output ? 0 : -1;
}

static void
s_teardown (void *arg)
{
    self_t *self = arg;
    zsock_destroy (&self->input);
    zsock_destroy (&self->output);
    norm_batch_destroy (&self->batch);
    norm_fence_destroy (&self->fence);
    msgpack_sbuffer_destroy (&self->out);
}

/*  vd_service_serve_stage callbacks: a frame whose run has no verdict
    yet waits (s_handle_data asks the orchestrator). */
static int
s_data (void *arg, zframe_t *frame, const vd_msg_t *msg)
{
    return s_handle_data (arg, frame, msg) < 0 ? -1 : 0;
}

static const vd_service_info_t s_info = {
    "normalizer", NULL, VD_SVC_NORMALIZER,
    "usage: normalizer\nTurns raw records into canonical records (or rejects).\n\n"};
static const vd_stage_t s_stage = {s_data, s_control, NULL, s_stop, 200};
VD_STAGE_MAIN (self_t, s_info, s_stage, s_setup, s_teardown)
