/*  vd_smtp - e-mail through libcurl (see vd_smtp.h). */
#include "vendange.h"
#include "vd_smtp.h"
#include "vd_httpc.h"
#include <curl/curl.h>
#include <sodium.h>

#define CONNECT_TIMEOUT_MS 10000L
#define MAX_RECIPIENTS 32

typedef struct {
    const char *data;
    size_t len, pos;
} s_upload_t;

static size_t
s_read (char *out, size_t size, size_t nmemb, void *arg)
{
    s_upload_t *u = arg;
    size_t n = size * nmemb, left = u->len - u->pos;
    if (n > left)
        n = left;
    memcpy (out, u->data + u->pos, n);
    u->pos += n;
    return n;
}

/*  err from a curl result: kind by what failed, the URL's host only. */
static int
s_curl_error (CURLcode rc, const char *url, const char *errbuf, vd_error_t *err)
{
    char host[256];
    vd_httpc_url_host (url, host, sizeof host);
    bool permanent = rc == CURLE_LOGIN_DENIED || rc == CURLE_URL_MALFORMAT ||
                     rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_USE_SSL_FAILED;
    vd_error_set (err, permanent ? VD_ERR_PERMANENT : VD_ERR_TRANSIENT, "cannot reach %s", host);
    return vd_error_detail (err, "%s", errbuf[0] ? errbuf : curl_easy_strerror (rc));
}

/*  Options every transfer has. Returns 0, -1 when one is refused. */
static int
s_common (CURL *c, const char *url, const char *protocols, const char *ca_file, long timeout_ms,
          char *errbuf)
{
    bool bad = false;
    bad |= curl_easy_setopt (c, CURLOPT_URL, url) != CURLE_OK;
    bad |= curl_easy_setopt (c, CURLOPT_PROTOCOLS_STR, protocols) != CURLE_OK;
    bad |= curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt (c, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK;
    bad |= curl_easy_setopt (c, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS) != CURLE_OK;
    bad |=
        curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 30000L) != CURLE_OK;
    bad |= curl_easy_setopt (c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
    bad |= curl_easy_setopt (c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
    if (ca_file && *ca_file)
        bad |= curl_easy_setopt (c, CURLOPT_CAINFO, ca_file) != CURLE_OK;
    bad |= curl_easy_setopt (c, CURLOPT_USERAGENT, "vendange/" VD_VERSION) != CURLE_OK;
    return bad ? -1 : 0;
}

/*  A header value: any CR or LF would start a new header. */
static bool
s_header_ok (const char *v)
{
    return v && !strpbrk (v, "\r\n");
}

/*  The subject as RFC 2047 base64 when it is not plain ASCII. */
static void
s_subject (vd_buf_t *m, const char *subject)
{
    bool ascii = true;
    for (const char *p = subject; *p; p++)
        ascii &= (unsigned char)*p < 0x80;
    if (ascii) {
        vd_buf_printf (m, "Subject: %s\r\n", subject);
        return;
    }
    size_t len = strlen (subject);
    size_t cap = sodium_base64_ENCODED_LEN (len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc (cap);
    if (!b64) {
        m->truncated = true;
        return;
    }
    sodium_bin2base64 (b64, cap, (const unsigned char *)subject, len,
                       sodium_base64_VARIANT_ORIGINAL);
    vd_buf_printf (m, "Subject: =?UTF-8?B?%s?=\r\n", b64);
    free (b64);
}

char *
vd_smtp_message (const char *from, const char *to, const char *subject, const char *body,
                 const char *date)
{
    if (!s_header_ok (from) || !s_header_ok (to) || !s_header_ok (subject) || !s_header_ok (date) ||
        !body)
        return NULL;
    vd_buf_t m;
    vd_buf_init (&m, 1024 * 1024);
    unsigned char rnd[12];
    randombytes_buf (rnd, sizeof rnd);
    char id[sizeof rnd * 2 + 1];
    sodium_bin2hex (id, sizeof id, rnd, sizeof rnd);
    const char *domain = strchr (from, '@');
    vd_buf_printf (&m, "Date: %s\r\nFrom: %s\r\nTo: %s\r\nMessage-ID: <%s%s>\r\n", date, from, to,
                   id, domain ? domain : "@vendange");
    s_subject (&m, subject);
    vd_buf_printf (&m, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                       "Content-Transfer-Encoding: 8bit\r\nAuto-Submitted: auto-generated\r\n\r\n");
    for (const char *p = body; *p; p++) { /* bare LF to CRLF */
        if (*p == '\n' && (p == body || p[-1] != '\r'))
            vd_buf_addc (&m, '\r');
        vd_buf_addc (&m, *p);
    }
    vd_buf_addstr (&m, "\r\n");
    if (m.truncated) {
        vd_buf_free (&m);
        return NULL;
    }
    return vd_buf_take (&m);
}

/*  Recipients of a comma-separated list as "<addr>" entries. NULL when
    the list is empty, too long or an address is malformed. */
static struct curl_slist *
s_recipients (const char *to)
{
    struct curl_slist *list = NULL;
    int n = 0;
    for (const char *p = to; p && *p;) {
        p += strspn (p, " \t,");
        size_t len = strcspn (p, ",");
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == 0)
            break;
        char addr[320];
        if (len > 254 || !memchr (p, '@', len) || memchr (p, '<', len) || memchr (p, '>', len) ||
            ++n > MAX_RECIPIENTS) {
            curl_slist_free_all (list);
            return NULL;
        }
        snprintf (addr, sizeof addr, "<%.*s>", (int)len, p);
        struct curl_slist *next = curl_slist_append (list, addr);
        if (!next) {
            curl_slist_free_all (list);
            return NULL;
        }
        list = next;
        p += len;
    }
    return list;
}

/*  Sets the SMTP-specific options. Returns 0, -1. */
static int
s_smtp_options (CURL *c, const vd_smtp_t *smtp, struct curl_slist *rcpt, s_upload_t *up,
                const char *from)
{
    bool bad = false;
    bool clear = strncasecmp (smtp->url, "smtp://", 7) == 0;
    bad |= curl_easy_setopt (c, CURLOPT_MAIL_FROM, from) != CURLE_OK;
    bad |= curl_easy_setopt (c, CURLOPT_MAIL_RCPT, rcpt) != CURLE_OK;
    bad |= curl_easy_setopt (c, CURLOPT_UPLOAD, 1L) != CURLE_OK;
    bad |= curl_easy_setopt (c, CURLOPT_READFUNCTION, s_read) != CURLE_OK;
    bad |= curl_easy_setopt (c, CURLOPT_READDATA, up) != CURLE_OK;
    bad |= curl_easy_setopt (c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up->len) != CURLE_OK;
    if (clear && smtp->starttls)
        bad |= curl_easy_setopt (c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL) != CURLE_OK;
    if (smtp->user && *smtp->user) {
        bad |= curl_easy_setopt (c, CURLOPT_USERNAME, smtp->user) != CURLE_OK;
        bad |= curl_easy_setopt (c, CURLOPT_PASSWORD, smtp->password ? smtp->password : "") !=
               CURLE_OK;
    }
    return bad ? -1 : 0;
}

int
vd_smtp_send (const vd_smtp_t *smtp, const char *subject, const char *body, vd_error_t *err)
{
    if (!smtp->url ||
        (strncasecmp (smtp->url, "smtp://", 7) != 0 && strncasecmp (smtp->url, "smtps://", 8) != 0))
        return vd_error_set (err, VD_ERR_PERMANENT, "the SMTP url must start smtp:// or smtps://");
    char date[64];
    time_t now = time (NULL);
    struct tm tm;
    gmtime_r (&now, &tm);
    strftime (date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    char from[320];
    snprintf (from, sizeof from, "<%s>", smtp->from ? smtp->from : "");
    struct curl_slist *rcpt = s_recipients (smtp->to);
    char *message = vd_smtp_message (smtp->from, smtp->to, subject, body, date);
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *c = rcpt && message ? curl_easy_init () : NULL;
    int rc = -1;
    if (!rcpt || !message || !s_header_ok (smtp->from) || !strchr (smtp->from, '@')) {
        vd_error_set (err, VD_ERR_PERMANENT, "invalid e-mail addresses or subject");
        goto err;
    }
    s_upload_t up = {message, strlen (message), 0};
    if (!c || s_common (c, smtp->url, "smtp,smtps", smtp->ca_file, smtp->timeout_ms, errbuf) < 0 ||
        s_smtp_options (c, smtp, rcpt, &up, from) < 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "libcurl refused an SMTP option");
        goto err;
    }
    CURLcode cc = curl_easy_perform (c);
    if (cc != CURLE_OK) {
        long code = 0;
        (void)curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &code); /* 0 when none */
        s_curl_error (cc, smtp->url, errbuf, err);
        if (code >= 500 && err)
            err->kind = VD_ERR_PERMANENT; /* the server refused for good */
        goto err;
    }
    rc = 0;
err:
    if (c)
        curl_easy_cleanup (c);
    curl_slist_free_all (rcpt);
    free (message);
    return rc;
}

int
vd_smtp_test (bool verbose)
{
    int failed = 0;
    char *m = vd_smtp_message ("a@x.fr", "b@y.fr", "Alerte: échec", "line 1\nline 2",
                               "Mon, 1 Jan 2024 00:00:00 +0000");
    failed += !m || !strstr (m, "Subject: =?UTF-8?B?") || !strstr (m, "line 1\r\nline 2\r\n") ||
              !strstr (m, "\r\n\r\nline 1");
    free (m);
    m = vd_smtp_message ("a@x.fr", "b@y.fr", "x\r\nBcc: evil@z", "body", "d");
    failed += m != NULL;
    struct curl_slist *l = s_recipients (" a@x.fr, b@y.fr ,");
    failed += !l || strcmp (l->data, "<a@x.fr>") != 0 || !l->next ||
              strcmp (l->next->data, "<b@y.fr>") != 0 || l->next->next;
    curl_slist_free_all (l);
    failed += s_recipients ("not-an-address") != NULL;
    failed += s_recipients ("") != NULL;
    vd_error_t err;
    vd_error_clear (&err);
    vd_smtp_t bad = {.url = "http://x", .from = "a@x", .to = "b@y"};
    failed += vd_smtp_send (&bad, "s", "b", &err) == 0 || err.kind != VD_ERR_PERMANENT;
    /* nothing listens on port 1 of the loopback: a transient failure */
    vd_error_clear (&err);
    vd_smtp_t none = {
        .url = "smtp://127.0.0.1:1", .from = "a@x.fr", .to = "b@y.fr", .timeout_ms = 2000};
    failed += vd_smtp_send (&none, "s", "b", &err) == 0 || err.kind != VD_ERR_TRANSIENT ||
              !strstr (err.msg, "cannot reach smtp://127.0.0.1:1");
    if (verbose)
        printf ("vd_smtp_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
