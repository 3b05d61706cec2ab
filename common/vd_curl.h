/*  vd_curl - the HTTP and SMTP client of vendange's own calls: a JSON
    POST to a URL, a GET, an e-mail over SMTP (smtp:// with STARTTLS, or
    smtps://).

    Every call has a connect and a total timeout and reads at most
    VD_CURL_MAX_REPLY bytes of an answer. Errors come back in a vd_error_t
    whose kind tells the caller whether to retry: TRANSIENT for network
    failures, timeouts, HTTP 408, 429 and 5xx, SMTP 4xx answers;
    PERMANENT for a refused login, a bad URL, other HTTP 4xx, SMTP 5xx.
    URLs may hold a secret (a webhook token): they are never put into an
    error message, only their scheme and host.
*/
#ifndef VD_CURL_H_INCLUDED
#define VD_CURL_H_INCLUDED

#include "vd_error.h"
#include <stdbool.h>
#include <stddef.h>

#define VD_CURL_MAX_REPLY (64 * 1024)

typedef struct {
    const char *url;  /* smtp://host[:port] or smtps://host[:port]             */
    const char *user; /* NULL or "": no authentication                         */
    const char *password;
    const char *from;    /* envelope and From: address                            */
    const char *to;      /* recipients, comma separated                           */
    bool starttls;       /* smtp://: require STARTTLS (refuse to send in clear)   */
    const char *ca_file; /* NULL: the system's certificate authorities            */
    long timeout_ms;
} vd_smtp_t;

/*  Sends a message (subject and a plain-text UTF-8 body; the headers are
    made here) through smtp. Returns 0, -1 with err. */
int vd_curl_smtp_send (const vd_smtp_t *smtp, const char *subject, const char *body,
                       vd_error_t *err);

/*  POSTs body (JSON text) to url (http or https), ca_file as above.
    Returns 0 on a 2xx answer, -1 with err (err->http_status set when an
    answer came). */
int vd_curl_post_json (const char *url, const char *body, const char *ca_file, long timeout_ms,
                       vd_error_t *err);

/*  GETs url (http or https); returns the answer body of a 2xx answer
    (malloc'ed, at most VD_CURL_MAX_REPLY bytes), NULL with err. */
char *vd_curl_get (const char *url, long timeout_ms, vd_error_t *err);

/*  The scheme and host of url ("https://hooks.slack.com"), for messages
    that must not show a token in its path or query. */
void vd_curl_url_host (const char *url, char *out, size_t size);

/*  The RFC 5322 message vd_curl_smtp_send sends (malloc'ed; NULL on a bad
    argument: a header value holding CR or LF). date is an RFC 5322 date. */
char *vd_curl_smtp_message (const char *from, const char *to, const char *subject, const char *body,
                            const char *date);

int vd_curl_test (bool verbose);

#endif
