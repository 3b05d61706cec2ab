/*  hook_load - load test client of the webhook gateway.

    hook-load HOST PORT PATH TOKEN CONNECTIONS SECONDS ACKED_FILE

    Each connection (one thread, HTTP/1.1 keep-alive) posts one Brevo
    marketing event per request, each unique (camp_id 1, email
    c<conn>-<n>@load.test). At the end it prints one JSON line:
    {"requests":N,"acknowledged":A,"refused":R,"errors":E,"seconds":S,
     "events_per_s":X,"p50_ms":P,"p99_ms":Q}
    (latencies of acknowledged requests) and writes the contact_key of
    every acknowledged event to ACKED_FILE, one a line, for the
    exactly-once check.
*/
#include "vendange.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>

#define MAX_CONN 256
#define T0 1710495000

typedef struct {
    int id;
    struct sockaddr_in addr;
    const char *path, *token;
    int64_t end_ms;
    int64_t *lat_us;
    size_t nlat, cap;
    uint64_t sent, refused, errors;
    int64_t *acked;
    size_t nacked, cap_acked;
} s_worker_t;

static int64_t
s_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
s_connect (const struct sockaddr_in *addr)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (fd >= 0 && connect (fd, (const struct sockaddr *)addr, sizeof *addr) < 0) {
        close (fd);
        fd = -1;
    }
    return fd;
}

/*  Reads one response; returns its status, -1 on a broken connection. */
static int
s_response (int fd, char *buf, size_t size)
{
    size_t len = 0;
    char *end = NULL;
    while (!end) {
        ssize_t n = recv (fd, buf + len, size - 1 - len, 0);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
        end = strstr (buf, "\r\n\r\n");
        if (!end && len >= size - 1)
            return -1;
    }
    int status = 0;
    if (sscanf (buf, "HTTP/1.%*d %d", &status) != 1)
        return -1;
    const char *cl = strcasestr (buf, "\r\nContent-Length:");
    int64_t body = 0;
    if (cl)
        body = strtoll (cl + 17, NULL, 10);
    size_t have = len - (size_t)(end + 4 - buf);
    while ((int64_t)have < body) {
        ssize_t n = recv (fd, buf, size - 1, 0);
        if (n <= 0)
            return -1;
        have += (size_t)n;
    }
    return status;
}

static void
s_push (int64_t **a, size_t *n, size_t *cap, int64_t v)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4096;
        int64_t *grown = realloc (*a, *cap * sizeof **a);
        if (!grown)
            return;
        *a = grown;
    }
    (*a)[(*n)++] = v;
}

static void *
s_work (void *arg)
{
    s_worker_t *w = arg;
    char body[512], req[1024], buf[8192];
    int fd = -1;
    for (uint64_t n = 0; s_now_us () / 1000 < w->end_ms; n++) {
        if (fd < 0 && (fd = s_connect (&w->addr)) < 0) {
            w->errors++;
            continue;
        }
        int blen = snprintf (body, sizeof body,
                             "{\"id\":1,\"camp_id\":1,\"email\":\"c%d-%" PRIu64 "@load.test\","
                             "\"campaign name\":\"load\",\"event\":\"opened\",\"ts_event\":%d,"
                             "\"date_event\":\"2024-03-15 10:30:00\"}",
                             w->id, n, T0);
        int rlen = snprintf (req, sizeof req,
                             "POST %s HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer %s\r\n"
                             "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                             w->path, w->token, blen, body);
        int64_t start = s_now_us ();
        int status = send (fd, req, (size_t)rlen, MSG_NOSIGNAL) == rlen
                         ? s_response (fd, buf, sizeof buf)
                         : -1;
        w->sent++;
        if (status == 200) {
            s_push (&w->lat_us, &w->nlat, &w->cap, s_now_us () - start);
            s_push (&w->acked, &w->nacked, &w->cap_acked, (int64_t)n);
        } else if (status > 0)
            w->refused++;
        else {
            w->errors++; /* not known to be stored: not counted as acknowledged */
            close (fd);
            fd = -1;
        }
    }
    if (fd >= 0)
        close (fd);
    return NULL;
}

static int
s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
    int64_t port, conns, seconds;
    if (argc != 8 || vd_parse_int (argv[2], 1, 65535, &port) < 0 ||
        vd_parse_int (argv[5], 1, MAX_CONN, &conns) < 0 ||
        vd_parse_int (argv[6], 1, 3600, &seconds) < 0) {
        fprintf (stderr, "usage: hook-load HOST PORT PATH TOKEN CONNECTIONS SECONDS ACKED_FILE\n");
        return 64;
    }
    static s_worker_t workers[MAX_CONN];
    pthread_t threads[MAX_CONN];
    int64_t end_ms = s_now_us () / 1000 + seconds * 1000, start = s_now_us ();
    for (int i = 0; i < conns; i++) {
        workers[i] = (s_worker_t){.id = i, .path = argv[3], .token = argv[4], .end_ms = end_ms};
        workers[i].addr.sin_family = AF_INET;
        workers[i].addr.sin_port = htons ((uint16_t)port);
        if (inet_pton (AF_INET, argv[1], &workers[i].addr.sin_addr) != 1)
            return 64;
        pthread_create (&threads[i], NULL, s_work, &workers[i]);
    }
    size_t total = 0;
    uint64_t sent = 0, refused = 0, errors = 0;
    for (int i = 0; i < conns; i++) {
        pthread_join (threads[i], NULL);
        total += workers[i].nlat;
        sent += workers[i].sent;
        refused += workers[i].refused;
        errors += workers[i].errors;
    }
    double elapsed = (double)(s_now_us () - start) / 1e6;
    int64_t *all = calloc (total + 1, sizeof *all);
    FILE *acked = fopen (argv[7], "w");
    size_t k = 0;
    for (int i = 0; i < conns; i++) {
        for (size_t j = 0; j < workers[i].nlat; j++)
            all[k++] = workers[i].lat_us[j];
        for (size_t j = 0; acked && j < workers[i].nacked; j++)
            fprintf (acked, "c%d-%" PRId64 "@load.test %d\n", i, workers[i].acked[j], T0);
    }
    if (acked)
        fclose (acked);
    qsort (all, total, sizeof *all, s_cmp);
    printf ("{\"requests\":%" PRIu64 ",\"acknowledged\":%zu,\"refused\":%" PRIu64
            ",\"errors\":%" PRIu64 ",\"seconds\":%.1f,\"events_per_s\":%.0f,"
            "\"p50_ms\":%.2f,\"p99_ms\":%.2f}\n",
            sent, total, refused, errors, elapsed, (double)total / elapsed,
            total ? (double)all[total / 2] / 1000 : 0.0,
            total ? (double)all[total * 99 / 100] / 1000 : 0.0);
    free (all);
    return 0;
}
