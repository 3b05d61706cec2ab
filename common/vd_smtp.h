/*  vd_smtp - the alerts' e-mail over SMTP (smtp:// with STARTTLS, or
    smtps://), through libcurl; HTTP calls are vd_httpc's.

    A send has a connect and a total timeout. Errors come back in a
    vd_error_t whose kind tells the caller whether to retry: TRANSIENT for
    network failures, timeouts and SMTP 4xx answers; PERMANENT for a
    refused login, a bad URL, SMTP 5xx. Errors name the server by its
    scheme and host only.
*/
#ifndef VD_SMTP_H_INCLUDED
#define VD_SMTP_H_INCLUDED

#include "vd_error.h"
#include <stdbool.h>
#include <stddef.h>

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
int vd_smtp_send (const vd_smtp_t *smtp, const char *subject, const char *body, vd_error_t *err);

/*  The RFC 5322 message vd_smtp_send sends (malloc'ed; NULL on a bad
    argument: a header value holding CR or LF). date is an RFC 5322 date. */
char *vd_smtp_message (const char *from, const char *to, const char *subject, const char *body,
                       const char *date);

int vd_smtp_test (bool verbose);

#endif
