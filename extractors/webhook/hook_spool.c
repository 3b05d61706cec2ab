/*  hook_spool - the gateway's durable spool. */
#include "hook_spool.h"
#include "vd_msg.h"
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>

#define FILE_MAX ((size_t)256 * 1024 * 1024) /* one .ev file or batch read back */

typedef struct s_entry {
    struct s_entry *next;
    char connector[72];
    int source;
    size_t len, events;
    int state; /* 0 queued, 1 durable, -1 failed */
    char why[160];
    int refs;    /* the submitter and the committer */
    char rows[]; /* a copy: a submitter that gave up may free its own */
} s_entry_t;

struct hook_spool {
    char dir[PATH_MAX];
    char id[128];
    int root; /* folder descriptor; sub-folders are always named from it */
    int lock_fd;
    uint64_t max_bytes;
    pthread_t thread;
    bool started;
    pthread_mutex_t mutex;
    pthread_cond_t work, done;
    bool stop;
    s_entry_t *head, *tail;
    /* guarded by mutex */
    hook_file_t *ready;
    size_t nready, cap_ready;
    uint64_t bytes;
    bool failing;
    /* committer only */
    uint64_t counter;
    /* found at open */
    hook_batch_id_t *recovered;
    size_t nrecovered;
};

/*  --------------------------------------------------------------------
    Files */

/*  fsync of a folder below the root ("" for the root itself). */
static int
s_sync_dir (hook_spool_t *self, const char *path)
{
    int fd = openat (self->root, *path ? path : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = fd >= 0 && fsync (fd) == 0 ? 0 : -1;
    if (fd >= 0)
        close (fd);
    return rc;
}

/*  Writes path (below the root) durably: temporary file, fsync, rename,
    fsync of its folder. */
static int
s_write_durable (hook_spool_t *self, const char *folder, const char *name, const char *tmp,
                 const char *data, size_t len)
{
    char tmp_path[PATH_MAX], path[PATH_MAX];
    snprintf (tmp_path, sizeof tmp_path, "%s%s%s", folder, *folder ? "/" : "", tmp);
    snprintf (path, sizeof path, "%s%s%s", folder, *folder ? "/" : "", name);
    int fd = openat (self->root, tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int rc = vd_buf_write_fd (fd, data, len) == 0 && fsync (fd) == 0 ? 0 : -1;
    if (close (fd) < 0)
        rc = -1;
    if (rc == 0 && renameat (self->root, tmp_path, self->root, path) < 0)
        rc = -1;
    if (rc < 0)
        unlinkat (self->root, tmp_path, 0);
    return rc == 0 ? s_sync_dir (self, folder) : -1;
}

/*  Reads a whole file below the root (at most FILE_MAX bytes). */
static char *
s_read_file (hook_spool_t *self, const char *path, size_t *len)
{
    int fd = openat (self->root, path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char *data = NULL;
    if (fd >= 0 && fstat (fd, &st) == 0 && (size_t)st.st_size <= FILE_MAX &&
        (data = malloc ((size_t)st.st_size + 1)) != NULL) {
        size_t got = 0;
        ssize_t n;
        while (got < (size_t)st.st_size &&
               ((n = read (fd, data + got, (size_t)st.st_size - got)) > 0 || errno == EINTR))
            got += n > 0 ? (size_t)n : 0;
        data[got] = '\0';
        *len = got;
    }
    if (fd >= 0)
        close (fd);
    return data;
}

/*  Checks a .ev file's content: header and rows. Fills f (name kept)
    and, when rows is given, appends the packed rows to it. */
static int
s_parse_ev (const char *data, size_t len, hook_file_t *f, vd_buf_t *rows)
{
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    size_t off = 0;
    int64_t version = 0, source = -1, n = -1;
    int rc = -1;
    if (msgpack_unpack_next (&u, data, len, &off) != MSGPACK_UNPACK_SUCCESS ||
        u.data.type != MSGPACK_OBJECT_ARRAY || u.data.via.array.size != 4)
        goto done;
    const msgpack_object *h = u.data.via.array.ptr;
    if (vd_mp_int (&h[0], &version) < 0 || version != 1 ||
        vd_mp_copy (&h[1], f->connector, sizeof f->connector) < 0 ||
        vd_mp_int (&h[2], &source) < 0 || source < 0 || source > 1 || vd_mp_int (&h[3], &n) < 0 ||
        n < 0)
        goto done;
    size_t start = off;
    for (int64_t i = 0; i < n; i++) {
        if (msgpack_unpack_next (&u, data, len, &off) != MSGPACK_UNPACK_SUCCESS ||
            u.data.type != MSGPACK_OBJECT_ARRAY || u.data.via.array.size != 2 ||
            u.data.via.array.ptr[1].type != MSGPACK_OBJECT_ARRAY ||
            u.data.via.array.ptr[1].via.array.size != HOOK_NFIELDS)
            goto done;
    }
    if (off != len || (rows && vd_buf_add (rows, data + start, len - start) < 0))
        goto done;
    f->source = (int)source;
    f->events = (size_t)n;
    f->bytes = len;
    rc = 0;
done:
    msgpack_unpacked_destroy (&u);
    return rc;
}

static int
s_name_cmp (const void *a, const void *b)
{
    return strcmp (*(char *const *)a, *(char *const *)b);
}

/*  The entries of a folder below the root with the given suffix, sorted
    (names malloc'ed). Returns the count, -1 when it cannot be read. */
static long
s_list (hook_spool_t *self, const char *folder, const char *suffix, char ***names)
{
    int fd = openat (self->root, folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = fd >= 0 ? fdopendir (fd) : NULL;
    if (!dir) {
        if (fd >= 0)
            close (fd);
        return -1;
    }
    size_t n = 0, cap = 0, slen = strlen (suffix);
    char **list = NULL;
    struct dirent *e;
    while ((e = readdir (dir)) != NULL) {
        size_t len = strlen (e->d_name);
        if (e->d_name[0] == '.' || len <= slen || strcmp (e->d_name + len - slen, suffix) != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **grown = realloc (list, cap * sizeof *list);
            if (!grown)
                break;
            list = grown;
        }
        list[n++] = strdup (e->d_name);
    }
    closedir (dir);
    if (n)
        qsort (list, n, sizeof *list, s_name_cmp);
    *names = list;
    return (long)n;
}

static void
s_free_names (char **names, long n)
{
    for (long i = 0; i < n; i++)
        free (names[i]);
    free (names);
}

/*  --------------------------------------------------------------------
    Open and recovery */

static void
s_add_ready (hook_spool_t *self, const hook_file_t *f)
{
    if (self->nready == self->cap_ready) {
        size_t cap = self->cap_ready ? self->cap_ready * 2 : 64;
        hook_file_t *grown = realloc (self->ready, cap * sizeof *grown);
        if (!grown)
            return; /* stays on disk: found again at the next start */
        self->ready = grown;
        self->cap_ready = cap;
    }
    self->ready[self->nready++] = *f;
}

/*  Hidden temporary files of a folder (a write that never finished:
    never acknowledged) are deleted. */
static void
s_drop_temporaries (hook_spool_t *self, const char *folder)
{
    int fd = openat (self->root, folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = fd >= 0 ? fdopendir (fd) : NULL;
    struct dirent *e;
    while (dir && (e = readdir (dir)) != NULL) {
        size_t len = strlen (e->d_name);
        if (e->d_name[0] == '.' && len > 5 && strcmp (e->d_name + len - 4, ".tmp") == 0)
            unlinkat (fd, e->d_name, 0);
    }
    if (dir)
        closedir (dir);
    else if (fd >= 0)
        close (fd);
}

/*  incoming/: temporary files are dropped (never acknowledged), complete
    ones are ready; an unreadable one is set aside in corrupt/. */
static int
s_recover_incoming (hook_spool_t *self)
{
    s_drop_temporaries (self, "incoming");
    s_drop_temporaries (self, "state");
    self->counter = (uint64_t)time (NULL) * 1000000; /* names keep growing across lives */
    char **names = NULL;
    long n = s_list (self, "incoming", ".ev", &names);
    for (long i = 0; i < n; i++) {
        char path[PATH_MAX];
        snprintf (path, sizeof path, "incoming/%s", names[i]);
        size_t len = 0;
        char *data = s_read_file (self, path, &len);
        hook_file_t f = {0};
        snprintf (f.name, sizeof f.name, "%s", names[i]);
        uint64_t counter = strtoull (names[i], NULL, 10);
        if (counter > self->counter)
            self->counter = counter;
        if (data && s_parse_ev (data, len, &f, NULL) == 0) {
            s_add_ready (self, &f);
            self->bytes += f.bytes;
        } else {
            char dest[PATH_MAX];
            snprintf (dest, sizeof dest, "corrupt/%s", names[i]);
            vd_warn ("spool file %s is unreadable: set aside in %s/corrupt", names[i], self->dir);
            if (renameat (self->root, path, self->root, dest) < 0)
                vd_warn ("cannot set %s aside: %s", names[i], strerror (errno));
        }
        free (data);
    }
    s_free_names (names, n);
    return n < 0 ? -1 : 0;
}

/*  The files of a batch folder (below the root), counted into bytes. */
static void
s_count_batch (hook_spool_t *self, const char *folder)
{
    char **names = NULL;
    long n = s_list (self, folder, ".ev", &names);
    for (long i = 0; i < n; i++) {
        char path[PATH_MAX];
        struct stat st;
        snprintf (path, sizeof path, "%s/%s", folder, names[i]);
        if (fstatat (self->root, path, &st, 0) == 0)
            self->bytes += (uint64_t)st.st_size;
    }
    s_free_names (names, n);
}

/*  batches/: a .tmp folder was never sent: its files go back to
    incoming/; a complete one is recovered (to send again). */
static int
s_recover_batches (hook_spool_t *self)
{
    char **names = NULL;
    long n = s_list (self, "batches", ".tmp", &names);
    for (long i = 0; i < n; i++) {
        char folder[320];
        snprintf (folder, sizeof folder, "batches/%s", names[i]);
        char **files = NULL;
        long nf = s_list (self, folder, ".ev", &files);
        for (long k = 0; k < nf; k++) {
            char from[PATH_MAX * 2], to[PATH_MAX];
            snprintf (from, sizeof from, "%s/%s", folder, files[k]);
            snprintf (to, sizeof to, "incoming/%s", files[k]);
            if (renameat (self->root, from, self->root, to) < 0)
                vd_warn ("cannot move %s back to incoming: %s", from, strerror (errno));
        }
        s_free_names (files, nf);
        unlinkat (self->root, folder, AT_REMOVEDIR);
    }
    s_free_names (names, n);
    n = s_list (self, "batches", "", &names);
    self->recovered = calloc ((size_t)(n > 0 ? n : 0) + 1, sizeof *self->recovered);
    for (long i = 0; self->recovered && i < n; i++) {
        int64_t run = 0;
        uint64_t seq = 0;
        char folder[320];
        if (sscanf (names[i], "%" SCNd64 "-%" SCNu64, &run, &seq) != 2 || strchr (names[i], '.'))
            continue;
        self->recovered[self->nrecovered++] = (hook_batch_id_t){run, seq};
        snprintf (folder, sizeof folder, "batches/%s", names[i]);
        s_count_batch (self, folder);
    }
    s_free_names (names, n);
    return n < 0 ? -1 : 0;
}

/*  The spool id: read, or made once. */
static int
s_load_id (hook_spool_t *self)
{
    size_t len = 0;
    char *text = s_read_file (self, "id", &len);
    if (text && len > 0 && len < sizeof self->id) {
        text[strcspn (text, "\r\n")] = '\0';
        snprintf (self->id, sizeof self->id, "%s", text);
        free (text);
        return 0;
    }
    free (text);
    char host[64] = "host";
    uint64_t nonce = 0;
    if (gethostname (host, sizeof host) < 0 || getrandom (&nonce, sizeof nonce, 0) != sizeof nonce)
        nonce = (uint64_t)time (NULL) ^ (uint64_t)getpid ();
    host[sizeof host - 1] = '\0';
    snprintf (self->id, sizeof self->id, "webhook-%s-%016" PRIx64, host, nonce);
    char line[160];
    snprintf (line, sizeof line, "%s\n", self->id);
    return s_write_durable (self, "", "id", ".id.tmp", line, strlen (line));
}

static int
s_make_dirs (hook_spool_t *self, const char *dir, vd_error_t *err)
{
    char buf[PATH_MAX];
    snprintf (buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir (buf, 0755) < 0 && errno != EEXIST)
                break;
            *p = '/';
        }
    if (mkdir (buf, 0700) < 0 && errno != EEXIST)
        return vd_error_set (err, VD_ERR_PERMANENT, "cannot create the spool folder %s: %s", dir,
                             strerror (errno));
    self->root = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (self->root < 0)
        return vd_error_set (err, VD_ERR_PERMANENT, "cannot open the spool folder %s: %s", dir,
                             strerror (errno));
    const char *subs[] = {"incoming", "batches", "state", "corrupt"};
    for (size_t i = 0; i < 4; i++)
        if (mkdirat (self->root, subs[i], 0700) < 0 && errno != EEXIST)
            return vd_error_set (err, VD_ERR_PERMANENT, "cannot create %s/%s: %s", dir, subs[i],
                                 strerror (errno));
    self->lock_fd = openat (self->root, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (self->lock_fd < 0 || flock (self->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "the spool %s is in use by another gateway", dir);
        snprintf (err->hint, sizeof err->hint,
                  "give each gateway its own VENDANGE_WEBHOOK_SPOOL (or VENDANGE_HOME)");
        return -1;
    }
    return 0;
}

static void *s_committer (void *arg);

hook_spool_t *
hook_spool_open (const char *dir, uint64_t max_bytes, vd_error_t *err)
{
    hook_spool_t *self = calloc (1, sizeof *self);
    if (!self) {
        vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
        return NULL;
    }
    self->root = self->lock_fd = -1;
    self->max_bytes = max_bytes;
    snprintf (self->dir, sizeof self->dir, "%s", dir);
    pthread_mutex_init (&self->mutex, NULL);
    pthread_cond_init (&self->work, NULL);
    pthread_cond_init (&self->done, NULL);
    if (s_make_dirs (self, dir, err) < 0)
        goto err;
    if (s_load_id (self) < 0 || s_recover_batches (self) < 0 || s_recover_incoming (self) < 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "cannot read the spool %s: %s", dir, strerror (errno));
        goto err;
    }
    if (pthread_create (&self->thread, NULL, s_committer, self) != 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "cannot start the spool's committer thread");
        goto err;
    }
    self->started = true;
    return self;
err:
    hook_spool_destroy (&self);
    return NULL;
}

void
hook_spool_destroy (hook_spool_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hook_spool_t *self = *self_p;
    pthread_mutex_lock (&self->mutex);
    self->stop = true;
    pthread_cond_broadcast (&self->work);
    pthread_mutex_unlock (&self->mutex);
    if (self->started)
        pthread_join (self->thread, NULL);
    if (self->lock_fd >= 0)
        close (self->lock_fd); /* releases the lock */
    if (self->root >= 0)
        close (self->root);
    pthread_mutex_destroy (&self->mutex);
    pthread_cond_destroy (&self->work);
    pthread_cond_destroy (&self->done);
    free (self->ready);
    free (self->recovered);
    free (self);
    *self_p = NULL;
}

const char *
hook_spool_id (const hook_spool_t *self)
{
    return self->id;
}

/*  --------------------------------------------------------------------
    Group commit */

static void
s_release (hook_spool_t *self, s_entry_t *e)
{
    (void)self; /* called with the mutex held */
    if (--e->refs == 0)
        free (e);
}

/*  Writes the entries of one connector (list[0..n)) into one .ev file. */
static int
s_write_group (hook_spool_t *self, s_entry_t **list, size_t n, hook_file_t *f)
{
    size_t events = 0, len = 0;
    for (size_t i = 0; i < n; i++) {
        events += list[i]->events;
        len += list[i]->len;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, vd_mp_write);
    msgpack_pack_array (&pk, 4);
    msgpack_pack_int (&pk, 1);
    vd_mp_pack_cstr (&pk, list[0]->connector);
    msgpack_pack_int (&pk, list[0]->source);
    msgpack_pack_uint64 (&pk, events);
    for (size_t i = 0; i < n; i++)
        vd_mp_write (&sb, list[i]->rows, list[i]->len);
    memset (f, 0, sizeof *f);
    snprintf (f->name, sizeof f->name, "%020" PRIu64 ".ev", ++self->counter);
    snprintf (f->connector, sizeof f->connector, "%s", list[0]->connector);
    f->source = list[0]->source;
    f->events = events;
    f->bytes = sb.size;
    char tmp[64];
    snprintf (tmp, sizeof tmp, ".%s.tmp", f->name);
    char path[PATH_MAX];
    snprintf (path, sizeof path, "incoming/%s", tmp);
    int fd = openat (self->root, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int rc = !vd_mp_write_failed () && fd >= 0 && vd_buf_write_fd (fd, sb.data, sb.size) == 0 &&
                     fsync (fd) == 0
                 ? 0
                 : -1;
    if (fd >= 0 && close (fd) < 0)
        rc = -1;
    char final[PATH_MAX];
    snprintf (final, sizeof final, "incoming/%s", f->name);
    if (rc == 0 && renameat (self->root, path, self->root, final) < 0)
        rc = -1;
    if (rc < 0 && fd >= 0)
        unlinkat (self->root, path, 0);
    msgpack_sbuffer_destroy (&sb);
    return rc;
}

/*  One group: every queued entry, one file per connector, then one fsync
    of incoming/. Sets each entry's state. */
static void
s_commit (hook_spool_t *self, s_entry_t *group)
{
    size_t count = 0;
    for (s_entry_t *e = group; e; e = e->next)
        count++;
    s_entry_t **list = calloc (count, sizeof *list);
    hook_file_t *files = calloc (count, sizeof *files);
    bool *taken = calloc (count, sizeof *taken);
    size_t nfiles = 0, k = 0;
    int rc = list && files && taken ? 0 : -1;
    for (s_entry_t *e = group; rc == 0 && e; e = e->next)
        list[k++] = e;
    for (size_t i = 0; rc == 0 && i < count; i++) {
        if (taken[i])
            continue;
        size_t n = 0;
        s_entry_t **same = calloc (count, sizeof *same);
        for (size_t j = i; same && j < count; j++)
            if (!taken[j] && strcmp (list[j]->connector, list[i]->connector) == 0) {
                same[n++] = list[j];
                taken[j] = true;
            }
        rc = same ? s_write_group (self, same, n, &files[nfiles]) : -1;
        nfiles += rc == 0;
        free (same);
    }
    int saved_errno = errno;
    if (rc == 0 && s_sync_dir (self, "incoming") < 0)
        rc = -1;
    if (rc < 0) /* nothing of the group was acknowledged: no trace of it */
        for (size_t i = 0; i < nfiles; i++) {
            char path[PATH_MAX];
            snprintf (path, sizeof path, "incoming/%s", files[i].name);
            unlinkat (self->root, path, 0);
        }
    pthread_mutex_lock (&self->mutex);
    for (s_entry_t *e = group, *next; e; e = next) {
        next = e->next;
        e->state = rc == 0 ? 1 : -1;
        if (rc < 0)
            snprintf (e->why, sizeof e->why, "the spool cannot be written: %s",
                      strerror (saved_errno ? saved_errno : EIO));
        s_release (self, e);
    }
    for (size_t i = 0; rc == 0 && i < nfiles; i++) {
        s_add_ready (self, &files[i]);
        self->bytes += files[i].bytes;
    }
    self->failing = rc < 0;
    pthread_cond_broadcast (&self->done);
    pthread_mutex_unlock (&self->mutex);
    free (list);
    free (files);
    free (taken);
}

static void *
s_committer (void *arg)
{
    hook_spool_t *self = arg;
    pthread_mutex_lock (&self->mutex);
    while (true) {
        while (!self->head && !self->stop)
            pthread_cond_wait (&self->work, &self->mutex);
        if (!self->head && self->stop)
            break;
        s_entry_t *group = self->head;
        self->head = self->tail = NULL;
        pthread_mutex_unlock (&self->mutex);
        s_commit (self, group);
        pthread_mutex_lock (&self->mutex);
    }
    pthread_mutex_unlock (&self->mutex);
    return NULL;
}

int
hook_spool_submit (hook_spool_t *self, const char *connector, hook_source_t source,
                   const char *rows, size_t len, size_t nevents, int timeout_ms, vd_error_t *err)
{
    s_entry_t *e = calloc (1, sizeof *e + len);
    if (!e)
        return vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
    snprintf (e->connector, sizeof e->connector, "%s", connector);
    e->source = (int)source;
    memcpy (e->rows, rows, len);
    e->len = len;
    e->events = nevents;
    e->refs = 2;
    struct timespec deadline;
    clock_gettime (CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock (&self->mutex);
    if (self->stop || self->bytes + len > self->max_bytes) {
        vd_error_set (err, VD_ERR_TRANSIENT,
                      self->stop ? "the gateway is stopping" : "the spool is full");
        pthread_mutex_unlock (&self->mutex);
        free (e);
        return -1;
    }
    if (self->tail)
        self->tail->next = e;
    else
        self->head = e;
    self->tail = e;
    pthread_cond_signal (&self->work);
    int wait = 0;
    while (e->state == 0 && wait != ETIMEDOUT)
        wait = pthread_cond_timedwait (&self->done, &self->mutex, &deadline);
    int state = e->state;
    if (state < 0)
        vd_error_set (err, VD_ERR_TRANSIENT, "%s", e->why);
    else if (state == 0) /* the committer may still write them: at least once */
        vd_error_set (err, VD_ERR_TRANSIENT, "the spool did not answer within %d ms", timeout_ms);
    s_release (self, e);
    pthread_mutex_unlock (&self->mutex);
    return state == 1 ? 0 : -1;
}

uint64_t
hook_spool_bytes (hook_spool_t *self)
{
    pthread_mutex_lock (&self->mutex);
    uint64_t n = self->bytes;
    pthread_mutex_unlock (&self->mutex);
    return n;
}

bool
hook_spool_failing (hook_spool_t *self)
{
    pthread_mutex_lock (&self->mutex);
    bool failing = self->failing;
    pthread_mutex_unlock (&self->mutex);
    return failing;
}

/*  --------------------------------------------------------------------
    Batches and state (forwarding thread) */

size_t
hook_spool_take_ready (hook_spool_t *self, hook_file_t **files)
{
    pthread_mutex_lock (&self->mutex);
    size_t n = self->nready;
    *files = self->ready;
    self->ready = NULL;
    self->nready = self->cap_ready = 0;
    pthread_mutex_unlock (&self->mutex);
    return n;
}

size_t
hook_spool_recovered (hook_spool_t *self, hook_batch_id_t **ids)
{
    *ids = self->recovered;
    return self->nrecovered;
}

int
hook_spool_batch_make (hook_spool_t *self, int64_t run, uint64_t seq, const hook_file_t *files,
                       size_t n, vd_error_t *err)
{
    char tmp[96], final[96];
    snprintf (tmp, sizeof tmp, "batches/%" PRId64 "-%" PRIu64 ".tmp", run, seq);
    snprintf (final, sizeof final, "batches/%" PRId64 "-%" PRIu64, run, seq);
    if (mkdirat (self->root, tmp, 0700) < 0)
        return vd_error_set (err, VD_ERR_TRANSIENT, "cannot create a batch folder: %s",
                             strerror (errno));
    size_t moved = 0;
    for (; moved < n; moved++) {
        char from[PATH_MAX], to[PATH_MAX];
        snprintf (from, sizeof from, "incoming/%s", files[moved].name);
        snprintf (to, sizeof to, "%s/%s", tmp, files[moved].name);
        if (renameat (self->root, from, self->root, to) < 0)
            break;
    }
    if (moved == n && s_sync_dir (self, tmp) == 0 && s_sync_dir (self, "incoming") == 0 &&
        renameat (self->root, tmp, self->root, final) == 0 && s_sync_dir (self, "batches") == 0)
        return 0;
    vd_error_set (err, VD_ERR_TRANSIENT, "cannot make a batch in the spool: %s", strerror (errno));
    for (size_t i = 0; i < moved; i++) { /* back where they were */
        char from[PATH_MAX], to[PATH_MAX];
        snprintf (from, sizeof from, "%s/%s", tmp, files[i].name);
        snprintf (to, sizeof to, "incoming/%s", files[i].name);
        renameat (self->root, from, self->root, to);
    }
    unlinkat (self->root, tmp, AT_REMOVEDIR);
    return -1;
}

int
hook_spool_batch_read (hook_spool_t *self, int64_t run, uint64_t seq, hook_batch_t *out,
                       vd_error_t *err)
{
    char folder[96];
    snprintf (folder, sizeof folder, "batches/%" PRId64 "-%" PRIu64, run, seq);
    memset (out, 0, sizeof *out);
    vd_buf_init (&out->rows, FILE_MAX);
    char **names = NULL;
    long n = s_list (self, folder, ".ev", &names);
    int rc = n > 0 ? 0 : -1;
    for (long i = 0; rc == 0 && i < n; i++) {
        char path[PATH_MAX];
        snprintf (path, sizeof path, "%s/%s", folder, names[i]);
        size_t len = 0;
        char *data = s_read_file (self, path, &len);
        hook_file_t f = {0};
        rc = data && s_parse_ev (data, len, &f, &out->rows) == 0 ? 0 : -1;
        if (rc == 0 && i > 0 && strcmp (f.connector, out->connector) != 0)
            rc = -1;
        snprintf (out->connector, sizeof out->connector, "%s", f.connector);
        out->source = f.source;
        out->events += f.events;
        free (data);
    }
    s_free_names (names, n);
    if (rc < 0) {
        vd_buf_free (&out->rows);
        return vd_error_set (err, VD_ERR_PERMANENT, "spool batch %s is missing or unreadable",
                             folder);
    }
    return 0;
}

void
hook_spool_batch_free (hook_batch_t *batch)
{
    vd_buf_free (&batch->rows);
}

void
hook_spool_batch_drop (hook_spool_t *self, int64_t run, uint64_t seq)
{
    char folder[96];
    snprintf (folder, sizeof folder, "batches/%" PRId64 "-%" PRIu64, run, seq);
    char **names = NULL;
    long n = s_list (self, folder, ".ev", &names);
    uint64_t freed = 0;
    for (long i = 0; i < n; i++) {
        char path[PATH_MAX];
        struct stat st;
        snprintf (path, sizeof path, "%s/%s", folder, names[i]);
        if (fstatat (self->root, path, &st, 0) == 0)
            freed += (uint64_t)st.st_size;
        unlinkat (self->root, path, 0);
    }
    s_free_names (names, n);
    unlinkat (self->root, folder, AT_REMOVEDIR);
    pthread_mutex_lock (&self->mutex);
    self->bytes = self->bytes > freed ? self->bytes - freed : 0;
    pthread_mutex_unlock (&self->mutex);
}

int
hook_spool_state_save (hook_spool_t *self, const char *connector, const char *text, vd_error_t *err)
{
    char name[96], tmp[104];
    snprintf (name, sizeof name, "%s.json", connector);
    snprintf (tmp, sizeof tmp, ".%s.tmp", name);
    if (s_write_durable (self, "state", name, tmp, text, strlen (text)) < 0)
        return vd_error_set (err, VD_ERR_TRANSIENT, "cannot write the state of connector %s: %s",
                             connector, strerror (errno));
    return 0;
}

char *
hook_spool_state_load (hook_spool_t *self, const char *connector)
{
    char path[128];
    snprintf (path, sizeof path, "state/%s.json", connector);
    size_t len = 0;
    return s_read_file (self, path, &len);
}

size_t
hook_spool_state_list (hook_spool_t *self, char ***names)
{
    long n = s_list (self, "state", ".json", names);
    for (long i = 0; i < n; i++)
        (*names)[i][strlen ((*names)[i]) - 5] = '\0';
    return n > 0 ? (size_t)n : 0;
}

/* ---- self test ---------------------------------------------------------- */

static int
s_test_rows (msgpack_sbuffer *sb, int n)
{
    msgpack_packer pk;
    msgpack_packer_init (&pk, sb, vd_mp_write);
    for (int i = 0; i < n; i++) {
        msgpack_pack_array (&pk, 2);
        msgpack_pack_int (&pk, i + 1);
        msgpack_pack_array (&pk, HOOK_NFIELDS);
        for (int f = 0; f < HOOK_NFIELDS; f++)
            vd_mp_pack_cstr (&pk, f == 0 ? "id" : NULL);
    }
    return n;
}

int
hook_spool_test (bool verbose)
{
    int failures = 0;
#define F(c)                                                                                       \
    do {                                                                                           \
        if (c) {                                                                                   \
            failures++;                                                                            \
            fprintf (stderr, "hook_spool_test:%d: %s (%s)\n", __LINE__, #c, err.msg);              \
        }                                                                                          \
    } while (0)
    char dir[] = "/tmp/vd-spool-test-XXXXXX";
    if (!mkdtemp (dir))
        return -1;
    vd_error_t err;
    vd_error_clear (&err);
    hook_spool_t *s = hook_spool_open (dir, 1024 * 1024, &err);
    F (s == NULL);
    F (hook_spool_open (dir, 1024, &err) != NULL); /* locked */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_test_rows (&sb, 3);
    F (hook_spool_submit (s, "b1", HOOK_BREVO, sb.data, sb.size, 3, 5000, &err) != 0);
    F (hook_spool_submit (s, "p1", HOOK_POWERAUTOMATE, sb.data, sb.size, 3, 5000, &err));
    char id[128];
    snprintf (id, sizeof id, "%s", hook_spool_id (s));
    hook_file_t *files = NULL;
    size_t n = hook_spool_take_ready (s, &files);
    F (n != 2 || files[0].events != 3 || strcmp (files[1].connector, "p1") != 0);
    F (n && hook_spool_batch_make (s, 7, 1, files, 1, &err) != 0);
    free (files);
    files = NULL;
    F (hook_spool_state_save (s, "b1", "{\"run_id\":7}", &err) != 0);
    hook_spool_destroy (&s);
    /* a new life: the batch, the other file and the state are found again */
    s = hook_spool_open (dir, 1024 * 1024, &err);
    hook_batch_id_t *ids = NULL;
    F (!s || hook_spool_recovered (s, &ids) != 1 || ids[0].run != 7 || ids[0].seq != 1);
    F (s && strcmp (hook_spool_id (s), id) != 0);
    n = s ? hook_spool_take_ready (s, &files) : 0;
    F (n != 1 || !files || strcmp (files[0].connector, "p1") != 0);
    free (files);
    hook_batch_t b;
    F (!s || hook_spool_batch_read (s, 7, 1, &b, &err) != 0 || b.events != 3 ||
       b.rows.len != sb.size || memcmp (b.rows.data, sb.data, sb.size) != 0);
    if (s)
        hook_spool_batch_free (&b);
    char *state = s ? hook_spool_state_load (s, "b1") : NULL;
    F (!state || strcmp (state, "{\"run_id\":7}") != 0);
    free (state);
    /* bad input: a missing batch, a full spool */
    F (s && hook_spool_batch_read (s, 7, 2, &b, &err) == 0);
    msgpack_sbuffer big;
    msgpack_sbuffer_init (&big);
    s_test_rows (&big, 100000);
    failures +=
        s && hook_spool_submit (s, "b1", HOOK_BREVO, big.data, big.size, 100000, 5000, &err) == 0;
    F (strstr (err.msg, "full") == NULL);
    if (s)
        hook_spool_batch_drop (s, 7, 1);
    hook_spool_destroy (&s);
    msgpack_sbuffer_destroy (&big);
    msgpack_sbuffer_destroy (&sb);
    char cmd[PATH_MAX + 16];
    snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
    F (system (cmd) != 0);
    if (verbose)
        printf ("  hook_spool: %d failures\n", failures);
    return failures ? -1 : 0;
}
