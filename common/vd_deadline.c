/*  vd_deadline - a deadline for receiving each request (see the header). */
#include "vendange.h"
#include "vd_ctl.h"
#include "vd_deadline.h"
#include <pthread.h>
#include <sys/socket.h>

#define WATCH_MS 200 /* the watcher looks this often */

/*  One connection. Lives from the connection's start to its close
    notification, which libmicrohttpd sends before it closes the socket:
    under the lock, fd is always this connection's own. */
typedef struct s_conn {
    struct s_conn *prev, *next;
    vd_deadline_t *owner;
    int fd;
    int64_t due_ms; /* 0: no deadline (an answer is being sent) */
    bool cut;
} s_conn_t;

struct vd_deadline {
    int64_t timeout_ms;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t watcher;
    bool stopping;
    s_conn_t *head;
    uint64_t cut;
};

/*  Shuts down the sockets past their deadline; the server then reads an
    end of file and closes the connection. Called with the lock held. */
static void
s_sweep (vd_deadline_t *self, int64_t now)
{
    for (s_conn_t *c = self->head; c; c = c->next) {
        if (c->cut || !c->due_ms || now < c->due_ms)
            continue;
        c->cut = true;
        self->cut++;
        if (shutdown (c->fd, SHUT_RDWR) < 0)
            vd_debug ("http: shutdown of a slow connection: %s", strerror (errno));
        vd_info ("http: connection closed: request not received within %" PRId64 " ms",
                 self->timeout_ms);
    }
}

static void *
s_watch (void *arg)
{
    vd_deadline_t *self = arg;
    pthread_mutex_lock (&self->lock);
    while (!self->stopping) {
        s_sweep (self, vd_clock_ms ());
        struct timespec until;
        clock_gettime (CLOCK_REALTIME, &until);
        until.tv_nsec += WATCH_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        /* a timeout or a spurious wake-up: both just sweep again */
        (void)pthread_cond_timedwait (&self->wake, &self->lock, &until);
    }
    pthread_mutex_unlock (&self->lock);
    return NULL;
}

vd_deadline_t *
vd_deadline_new (int64_t timeout_ms)
{
    vd_deadline_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->timeout_ms = timeout_ms;
    if (pthread_mutex_init (&self->lock, NULL) != 0) {
        free (self);
        return NULL;
    }
    if (pthread_cond_init (&self->wake, NULL) != 0 ||
        pthread_create (&self->watcher, NULL, s_watch, self) != 0) {
        pthread_cond_destroy (&self->wake);
        pthread_mutex_destroy (&self->lock);
        free (self);
        return NULL;
    }
    return self;
}

void
vd_deadline_destroy (vd_deadline_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    vd_deadline_t *self = *self_p;
    pthread_mutex_lock (&self->lock);
    self->stopping = true;
    pthread_cond_signal (&self->wake);
    pthread_mutex_unlock (&self->lock);
    pthread_join (self->watcher, NULL);
    while (self->head) { /* none once the server is stopped; kept safe anyway */
        s_conn_t *c = self->head;
        self->head = c->next;
        free (c);
    }
    pthread_cond_destroy (&self->wake);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

void
vd_deadline_notify (void *cls, struct MHD_Connection *c, void **socket_context,
                    enum MHD_ConnectionNotificationCode code)
{
    vd_deadline_t *self = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info (c, MHD_CONNECTION_INFO_CONNECTION_FD);
        s_conn_t *conn = info ? calloc (1, sizeof *conn) : NULL;
        *socket_context = conn;
        if (!conn)
            return; /* no deadline for this one; the idle timeout still holds */
        conn->owner = self;
        conn->fd = info->connect_fd;
        pthread_mutex_lock (&self->lock);
        conn->due_ms = vd_clock_ms () + self->timeout_ms;
        conn->next = self->head;
        if (self->head)
            self->head->prev = conn;
        self->head = conn;
        pthread_mutex_unlock (&self->lock);
        return;
    }
    s_conn_t *conn = *socket_context;
    if (!conn)
        return;
    pthread_mutex_lock (&self->lock);
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        self->head = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    pthread_mutex_unlock (&self->lock);
    free (conn);
    *socket_context = NULL;
}

static void
s_set_due (struct MHD_Connection *c, bool armed)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info (c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    s_conn_t *conn = info ? info->socket_context : NULL;
    if (!conn)
        return;
    pthread_mutex_lock (&conn->owner->lock);
    conn->due_ms = armed ? vd_clock_ms () + conn->owner->timeout_ms : 0;
    pthread_mutex_unlock (&conn->owner->lock);
}

void
vd_deadline_answering (struct MHD_Connection *c)
{
    s_set_due (c, false);
}

void
vd_deadline_rearm (struct MHD_Connection *c)
{
    s_set_due (c, true);
}

uint64_t
vd_deadline_cut (const vd_deadline_t *self)
{
    pthread_mutex_lock ((pthread_mutex_t *)&self->lock);
    uint64_t n = self->cut;
    pthread_mutex_unlock ((pthread_mutex_t *)&self->lock);
    return n;
}

int
vd_deadline_test (bool verbose)
{
    int failed = 0;
    /* a socket pair stands for a connection: past its deadline the
       watcher shuts it down, and the peer reads an end of file */
    int sv[2];
    if (socketpair (AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return -1;
    vd_deadline_t *d = vd_deadline_new (300);
    failed += d == NULL;
    if (d) {
        s_conn_t *conn = calloc (1, sizeof *conn);
        void *ctx = conn;
        conn->owner = d;
        conn->fd = sv[0];
        pthread_mutex_lock (&d->lock);
        conn->due_ms = vd_clock_ms () + d->timeout_ms;
        d->head = conn;
        pthread_mutex_unlock (&d->lock);
        char byte;
        failed += recv (sv[1], &byte, 1, MSG_DONTWAIT) != -1; /* nothing yet, still open */
        int64_t until = vd_clock_ms () + 3000;
        while (vd_deadline_cut (d) == 0 && vd_clock_ms () < until)
            usleep (20000);
        failed += vd_deadline_cut (d) != 1;
        failed += recv (sv[1], &byte, 1, MSG_DONTWAIT) != 0; /* end of file */
        vd_deadline_notify (d, NULL, &ctx, MHD_CONNECTION_NOTIFY_CLOSED);
        failed += ctx != NULL || d->head != NULL;
        vd_deadline_destroy (&d);
        failed += d != NULL;
    }
    close (sv[0]);
    close (sv[1]);
    if (verbose)
        printf ("  vd_deadline: %d failures\n", failed);
    return failed ? -1 : 0;
}
