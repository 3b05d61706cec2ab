/*  cli_http - the CLI's HTTP client (libcurl) for the orchestrator API. */
#include "vendange.h"
#include "cli.h"
#include "cli_http.h"

#define CALL_TIMEOUT_MS 30000
#define CONNECT_TIMEOUT_MS 2000

static const char *s_token, *s_user, *s_password;

void
cli_http_set_auth (const char *token, const char *user, const char *password)
{
    s_token = token;
    s_user = user;
    s_password = password;
}

int
cli_http_call (const char *base, const char *method, const char *path, const json_t *body,
               long timeout_ms, cli_reply_t *reply, vd_error_t *err)
{
    memset (reply, 0, sizeof *reply);
    char peer[300];
    snprintf (peer, sizeof peer, "the orchestrator at %s", base);
    timeout_ms = timeout_ms ? timeout_ms : CALL_TIMEOUT_MS;
    vd_httpc_opts_t opts = {.base_url = base,
                            .connect_timeout_ms =
                                timeout_ms < CONNECT_TIMEOUT_MS ? timeout_ms : CONNECT_TIMEOUT_MS,
                            .timeout_ms = timeout_ms,
                            .peer = peer,
                            .url_setting = "VENDANGE_API_URL",
                            .bearer = s_token,
                            .user = s_token && *s_token ? NULL : s_user,
                            .password = s_password};
    char *text = body ? json_dumps (body, JSON_COMPACT) : NULL;
    /* every write says JSON, a body or not: the API's guard refuses
       other writes (a form a page could post) */
    const char *headers[] = {"Accept: application/json",
                             text ? NULL : "Content-Type: application/json", NULL};
    vd_httpc_req_t req = {.method = method,
                          .path = path,
                          .headers = headers,
                          .body = text,
                          .len = text ? strlen (text) : 0,
                          .max_body = CLI_HTTP_MAX_BODY};
    vd_httpc_res_t res = {0};
    int rc = body && !text ? vd_error_set (err, VD_ERR_PERMANENT, "out of memory")
                           : vd_httpc_once (&opts, &req, &res, err);
    if (rc == 0 && res.truncated)
        rc = vd_error_set (err, VD_ERR_PERMANENT, "the orchestrator's answer is larger than %d MiB",
                           CLI_HTTP_MAX_BODY >> 20);
    else if (rc < 0 && !err->hint[0])
        snprintf (err->hint, sizeof err->hint, "is it running? `vendange up` starts it");
    if (rc == 0) {
        reply->status = res.status;
        reply->len = res.body.len;
        reply->body = vd_buf_take (&res.body);
        reply->json = reply->body ? json_loads (reply->body, JSON_DECODE_ANY, NULL) : NULL;
        rc = reply->body ? 0 : vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    }
    vd_httpc_res_free (&res);
    free (text);
    return rc;
}

void
cli_reply_clear (cli_reply_t *reply)
{
    free (reply->body);
    json_decref (reply->json);
    memset (reply, 0, sizeof *reply);
}

int
cli_reply_save (const cli_reply_t *reply, const char *path)
{
    bool out = !path;
    FILE *f = out ? stdout : fopen (path, "w");
    bool ok = f && fwrite (reply->body, 1, reply->len, f) == reply->len;
    if (f && !out)
        ok = fclose (f) == 0 && ok;
    else if (f)
        ok = fflush (f) == 0 && ok;
    if (!ok)
        fprintf (stderr, "vendange: cannot write %s: %s\n", out ? "the output" : path,
                 strerror (errno));
    return ok ? 0 : -1;
}

void
cli_print_api_error (const cli_reply_t *reply)
{
    const char *msg = json_string_value (json_object_get (reply->json, "error"));
    json_t *detail = json_object_get (reply->json, "detail");
    const char *hint = json_string_value (json_object_get (reply->json, "hint"));
    if (msg)
        fprintf (stderr, "vendange: %s\n", msg);
    else
        fprintf (stderr, "vendange: the orchestrator answered HTTP %ld\n", reply->status);
    if (json_is_string (detail))
        fprintf (stderr, "  detail: %s\n", json_string_value (detail));
    if (hint)
        fprintf (stderr, "  hint: %s\n", hint);
    if (json_is_integer (json_object_get (reply->json, "run_id")))
        fprintf (stderr, "  run: %" JSON_INTEGER_FORMAT "\n",
                 json_integer_value (json_object_get (reply->json, "run_id")));
}

void
cli_print_error (const vd_error_t *err)
{
    fprintf (stderr, "vendange: %s\n", err->msg);
    if (err->detail[0])
        fprintf (stderr, "  detail: %s\n", err->detail);
    if (err->hint[0])
        fprintf (stderr, "  hint: %s\n", err->hint);
}

int
cli_api (const char *base, const char *method, const char *path, const json_t *body,
         cli_reply_t *reply, const long *ok_status)
{
    vd_error_t err;
    vd_error_clear (&err);
    if (cli_http_call (base, method, path, body, 0, reply, &err) < 0) {
        cli_print_error (&err);
        return -1;
    }
    for (int i = 0; ok_status[i]; i++)
        if (reply->status == ok_status[i])
            return 0;
    cli_print_api_error (reply);
    cli_reply_clear (reply);
    return -1;
}
