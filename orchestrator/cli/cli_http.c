/*  cli_http - the CLI's HTTP client (libcurl) for the orchestrator API. */
#include "vendange.h"
#include "cli.h"
#include "cli_http.h"
#include <curl/curl.h>

#define CALL_TIMEOUT_MS 30000

static const char *s_token, *s_user, *s_password;

void
cli_http_set_auth (const char *token, const char *user, const char *password)
{
    s_token = token;
    s_user = user;
    s_password = password;
}

/*  The credentials of a call. Returns 0, -1. */
static int
s_auth (CURL *curl)
{
    int bad = 0;
    if (s_token && *s_token) {
        bad |= curl_easy_setopt (curl, CURLOPT_HTTPAUTH, CURLAUTH_BEARER) != CURLE_OK;
        bad |= curl_easy_setopt (curl, CURLOPT_XOAUTH2_BEARER, s_token) != CURLE_OK;
    } else if (s_user && *s_user) {
        bad |= curl_easy_setopt (curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC) != CURLE_OK;
        bad |= curl_easy_setopt (curl, CURLOPT_USERNAME, s_user) != CURLE_OK;
        bad |= curl_easy_setopt (curl, CURLOPT_PASSWORD, s_password ? s_password : "") != CURLE_OK;
    }
    return bad ? -1 : 0;
}

static size_t
s_write (char *data, size_t size, size_t nmemb, void *arg)
{
    vd_buf_t *buf = arg;
    size_t n = size * nmemb;
    /* returning less than n makes curl stop with CURLE_WRITE_ERROR */
    return vd_buf_add (buf, data, n) == 0 ? n : 0;
}

/*  Sets the options of one call. Returns 0, -1. */
static int
s_setup (CURL *curl, const char *url, const char *method, const char *body,
         struct curl_slist *headers, long timeout_ms, vd_buf_t *buf, char *errbuf)
{
    int bad = 0;
    bad |= curl_easy_setopt (curl, CURLOPT_URL, url) != CURLE_OK;
    bad |= curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK;
    bad |= curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT_MS,
                             timeout_ms < 2000 ? timeout_ms : 2000L) != CURLE_OK;
    bad |= curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_write) != CURLE_OK;
    bad |= curl_easy_setopt (curl, CURLOPT_WRITEDATA, buf) != CURLE_OK;
    bad |= curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK;
    bad |= curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers) != CURLE_OK;
    bad |= curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    if (body) {
        bad |= curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body) != CURLE_OK;
        bad |= curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE, (long)strlen (body)) != CURLE_OK;
    } else if (strcmp (method, "POST") == 0)
        bad |= curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE, 0L) != CURLE_OK;
    if (strcmp (method, "HEAD") == 0)
        bad |= curl_easy_setopt (curl, CURLOPT_NOBODY, 1L) != CURLE_OK;
    bad |= s_auth (curl) < 0;
    return bad ? -1 : 0;
}

int
cli_http_call (const char *base, const char *method, const char *path, const json_t *body,
               long timeout_ms, cli_reply_t *reply, vd_error_t *err)
{
    memset (reply, 0, sizeof *reply);
    char url[2048];
    snprintf (url, sizeof url, "%s%s", base, path);
    char *text = body ? json_dumps (body, JSON_COMPACT) : NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    vd_buf_t buf;
    vd_buf_init (&buf, CLI_HTTP_MAX_BODY);
    struct curl_slist *headers = curl_slist_append (NULL, "Content-Type: application/json");
    struct curl_slist *more =
        headers ? curl_slist_append (headers, "Accept: application/json") : NULL;
    CURL *curl = curl_easy_init ();
    int rc = -1;
    CURLcode res = CURLE_FAILED_INIT;
    if (curl && more && (!body || text) &&
        s_setup (curl, url, method, text, more, timeout_ms ? timeout_ms : CALL_TIMEOUT_MS, &buf,
                 errbuf) == 0)
        res = curl_easy_perform (curl);
    if (res == CURLE_OK &&
        curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &reply->status) == CURLE_OK) {
        reply->len = buf.len;
        reply->body = vd_buf_take (&buf);
        reply->json = reply->body ? json_loads (reply->body, JSON_DECODE_ANY, NULL) : NULL;
        rc = reply->body ? 0 : -1;
    }
    if (rc < 0) {
        vd_error_set (err, VD_ERR_TRANSIENT, "cannot reach the orchestrator at %s", base);
        vd_error_detail (err, "%s", *errbuf ? errbuf : curl_easy_strerror (res));
        snprintf (err->hint, sizeof err->hint, "is it running? `vendange up` starts it");
    }
    curl_easy_cleanup (curl);
    curl_slist_free_all (more ? more : headers);
    vd_buf_free (&buf);
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

char *
cli_http_escape (const char *s)
{
    char *e = curl_easy_escape (NULL, s, 0);
    char *copy = e ? strdup (e) : NULL;
    curl_free (e);
    return copy;
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
