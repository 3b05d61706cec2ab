/*  odoo_pager - incremental reading by write_date with a keyset. */
#include "odoo_pager.h"

time_t
odoo_pager_epoch (const char *second)
{
    struct tm tm = {0};
    const char *end = second ? strptime (second, "%Y-%m-%d %H:%M:%S", &tm) : NULL;
    if (!end || (*end && *end != '.') || strlen (second) < 19)
        return -1;
    return timegm (&tm);
}

void
odoo_pager_format (time_t t, char out[ODOO_SECOND_LEN])
{
    struct tm tm;
    gmtime_r (&t, &tm);
    strftime (out, ODOO_SECOND_LEN, "%Y-%m-%d %H:%M:%S", &tm);
}

json_t *
odoo_pager_mark_json (const odoo_mark_t *mark)
{
    return json_pack ("{s:s, s:I}", "after", mark->second, "id", (json_int_t)mark->id);
}

int
odoo_pager_mark_parse (const json_t *doc, odoo_mark_t *mark)
{
    const char *s = json_string_value (json_object_get (doc, "after"));
    json_t *id = json_object_get (doc, "id");
    if (!s || !json_is_integer (id) || json_integer_value (id) < 0 ||
        (*s && odoo_pager_epoch (s) < 0))
        return -1;
    snprintf (mark->second, sizeof mark->second, "%s", s);
    mark->id = json_integer_value (id);
    return 0;
}

/*  The whole second of a record's write_date, or -1. */
static time_t
s_record_second (const json_t *rec)
{
    return odoo_pager_epoch (json_string_value (json_object_get (rec, "write_date")));
}

/*  Reads one page: the model's domain plus conditions (a JSON array of
    [field, op, value] triples, stolen). */
static int
s_read (const odoo_pager_t *p, json_t *conditions, const char *order, json_t *page, vd_error_t *err)
{
    json_t *domain = json_deep_copy (p->domain);
    json_array_extend (domain, conditions);
    json_decref (conditions);
    json_t *kwargs =
        json_pack ("{s:o, s:O, s:s, s:i, s:{s:b}}", "domain", domain, "fields", p->fields, "order",
                   order, "limit", p->page_size, "context", "active_test", 0);
    int rc = kwargs ? p->read (p->read_arg, p->model, kwargs, page, err)
                    : vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    json_decref (kwargs);
    return rc;
}

/*  Step 1: the records of second S with an id above mark->id. */
static int
s_finish_second (const odoo_pager_t *p, odoo_mark_t *mark, json_t *page, vd_error_t *err)
{
    char next[ODOO_SECOND_LEN];
    odoo_pager_format (odoo_pager_epoch (mark->second) + 1, next);
    for (;;) {
        json_t *cond =
            json_pack ("[[s, s, s], [s, s, s], [s, s, I]]", "write_date", ">=", mark->second,
                       "write_date", "<", next, "id", ">", (json_int_t)mark->id);
        if (s_read (p, cond, "id asc", page, err) < 0)
            return -1;
        size_t n = json_array_size (page);
        if (n && p->emit (p->emit_arg, page, n, err) < 0)
            return -1;
        for (size_t i = 0; i < n; i++) {
            json_int_t id = json_integer_value (json_object_get (json_array_get (page, i), "id"));
            mark->id = id > mark->id ? id : mark->id;
        }
        if (n < (size_t)p->page_size)
            return 0;
    }
}

int
odoo_pager_run (const odoo_pager_t *p, odoo_mark_t *mark, const char *upper, vd_error_t *err)
{
    time_t upper_t = odoo_pager_epoch (upper);
    if (upper_t < 0 || p->page_size < 1)
        return vd_error_set (err, VD_ERR_PERMANENT, "bad paging bounds");
    if (*mark->second && odoo_pager_epoch (mark->second) >= upper_t)
        return 0; /* nothing is safe to read yet past the mark */
    json_t *page = json_array ();
    int rc = 0;
    while (rc == 0) {
        char lower[ODOO_SECOND_LEN] = "";
        if (*mark->second) {
            if (s_finish_second (p, mark, page, err) < 0) {
                rc = -1;
                break;
            }
            odoo_pager_format (odoo_pager_epoch (mark->second) + 1, lower);
        }
        json_t *cond = *lower ? json_pack ("[[s, s, s], [s, s, s]]", "write_date", ">=", lower,
                                           "write_date", "<", upper)
                              : json_pack ("[[s, s, s]]", "write_date", "<", upper);
        if (s_read (p, cond, "write_date asc, id asc", page, err) < 0) {
            rc = -1;
            break;
        }
        size_t n = json_array_size (page);
        if (n < (size_t)p->page_size) {
            rc = n ? p->emit (p->emit_arg, page, n, err) : 0;
            if (rc == 0) {
                snprintf (mark->second, sizeof mark->second, "%s", upper);
                mark->id = 0;
            }
            break;
        }
        /* a full page: hand over the seconds before the last one */
        time_t last = s_record_second (json_array_get (page, n - 1));
        size_t k = 0;
        while (k < n && s_record_second (json_array_get (page, k)) < last)
            k++;
        if (last < 0 || s_record_second (json_array_get (page, 0)) < 0) {
            rc = vd_error_set (err, VD_ERR_PERMANENT, "%s: a record has no readable write_date",
                               p->model);
            break;
        }
        if (k && p->emit (p->emit_arg, page, k, err) < 0) {
            rc = -1;
            break;
        }
        odoo_pager_format (last, mark->second);
        mark->id = 0;
    }
    json_decref (page);
    return rc;
}

/* ---- self test: an in-memory Odoo model -------------------------------- */

typedef struct {
    int64_t id;
    int64_t us; /* write_date in microseconds since the epoch */
} s_fake_rec_t;

typedef struct {
    s_fake_rec_t *recs;
    size_t n;
    bool whole_seconds; /* Odoo 19: compare datetimes in whole seconds */
    int64_t transferred, calls;
    int fail_at; /* fail this call number (0: never)              */
    int *seen;   /* emitted count per record index               */
} s_fake_t;

static bool
s_fake_match (const s_fake_t *f, const s_fake_rec_t *r, const json_t *cond)
{
    const char *field = json_string_value (json_array_get (cond, 0));
    const char *op = json_string_value (json_array_get (cond, 1));
    const json_t *v = json_array_get (cond, 2);
    int64_t left, right;
    if (strcmp (field, "id") == 0) {
        left = r->id;
        right = json_integer_value (v);
    } else {
        right = (int64_t)odoo_pager_epoch (json_string_value (v)) * 1000000;
        left = f->whole_seconds ? r->us / 1000000 * 1000000 : r->us;
    }
    return strcmp (op, ">=") == 0  ? left >= right
           : strcmp (op, "<") == 0 ? left < right
           : strcmp (op, ">") == 0 ? left > right
                                   : false;
}

static int
s_fake_order (const void *a, const void *b, void *by_date)
{
    const s_fake_rec_t *x = *(s_fake_rec_t *const *)a, *y = *(s_fake_rec_t *const *)b;
    if (*(bool *)by_date && x->us != y->us)
        return x->us < y->us ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int
s_fake_read (void *arg, const char *model, const json_t *kwargs, json_t *page, vd_error_t *err)
{
    (void)model;
    s_fake_t *f = arg;
    json_array_clear (page);
    if (++f->calls == f->fail_at)
        return vd_error_set (err, VD_ERR_TRANSIENT, "injected failure");
    const json_t *domain = json_object_get (kwargs, "domain");
    bool by_date = strncmp (json_string_value (json_object_get (kwargs, "order")), "write", 5) == 0;
    s_fake_rec_t **hits = calloc (f->n + 1, sizeof *hits);
    size_t nhits = 0;
    for (size_t i = 0; i < f->n; i++) {
        bool ok = true;
        for (size_t c = 0; c < json_array_size (domain) && ok; c++)
            ok = s_fake_match (f, &f->recs[i], json_array_get (domain, c));
        if (ok)
            hits[nhits++] = &f->recs[i];
    }
    qsort_r (hits, nhits, sizeof *hits, s_fake_order, &by_date);
    size_t limit = (size_t)json_integer_value (json_object_get (kwargs, "limit"));
    for (size_t i = 0; i < nhits && i < limit; i++) {
        char wd[ODOO_SECOND_LEN];
        odoo_pager_format ((time_t)(hits[i]->us / 1000000), wd);
        json_array_append_new (
            page, json_pack ("{s:I, s:s}", "id", (json_int_t)hits[i]->id, "write_date", wd));
        f->transferred++;
    }
    free (hits);
    return 0;
}

static int
s_fake_emit (void *arg, const json_t *page, size_t n, vd_error_t *err)
{
    (void)err;
    s_fake_t *f = arg;
    for (size_t i = 0; i < n; i++)
        f->seen[json_integer_value (json_object_get (json_array_get (page, i), "id")) - 1]++;
    return 0;
}

/*  Runs until success (retrying after injected failures). */
static int
s_fake_sync (s_fake_t *f, odoo_mark_t *mark, int page_size, const char *upper)
{
    json_t *domain = json_array (), *fields = json_pack ("[s, s]", "id", "write_date");
    odoo_pager_t p = {s_fake_read, f, "res.partner", domain, fields, page_size, s_fake_emit, f};
    vd_error_t err;
    int rc = -1;
    for (int tries = 0; tries < 50 && rc < 0; tries++)
        rc = odoo_pager_run (&p, mark, upper, &err);
    json_decref (domain);
    json_decref (fields);
    return rc;
}

static int
s_check_once (const s_fake_t *f, size_t first, size_t count, const char *what, bool verbose)
{
    int bad = 0;
    for (size_t i = 0; i < f->n; i++)
        bad += f->seen[i] != (i >= first && i < first + count ? 1 : 0);
    if (bad || verbose)
        fprintf (bad ? stderr : stdout,
                 "  odoo_pager %s: %d records off, %" PRId64 " transferred in %" PRId64 " calls\n",
                 what, bad, f->transferred, f->calls);
    return bad ? 1 : 0;
}

int
odoo_pager_test (bool verbose)
{
    int failures = 0;
    const int64_t t0 = (int64_t)odoo_pager_epoch ("2025-11-25 10:00:00") * 1000000;
    size_t n = 2600;
    s_fake_rec_t *recs = calloc (n, sizeof *recs);
    int *seen = calloc (n, sizeof *seen);
    for (int mode = 0; mode < 2; mode++) {
        /* 2,500 records of one second (microseconds differ, ids out of
           date order), then 100 spread over the next seconds */
        for (size_t i = 0; i < n; i++) {
            recs[i].id = (int64_t)i + 1;
            recs[i].us = i < 2500 ? t0 + (int64_t)((i * 7919) % 2500) * 100
                                  : t0 + (int64_t)(1 + i % 5) * 1000000 + (int64_t)i;
        }
        int sizes[] = {1000, 7, 1, 2600};
        for (size_t s = 0; s < 4; s++) {
            s_fake_t f = {recs, n, mode == 1, 0, 0, 0, seen};
            memset (seen, 0, n * sizeof *seen);
            odoo_mark_t mark = {"", 0};
            if (s_fake_sync (&f, &mark, sizes[s], "2025-11-25 10:00:10") < 0 ||
                strcmp (mark.second, "2025-11-25 10:00:10") != 0)
                failures++;
            failures += s_check_once (&f, 0, n, "full sync", verbose);
            if (s == 0 && f.transferred > (int64_t)n + 2000)
                failures++; /* a page of second S is re-read once, no more */
        }
        /* incremental: 37 records change later: exactly 37 transferred */
        s_fake_t f = {recs, n, mode == 1, 0, 0, 0, seen};
        odoo_mark_t mark = {"2025-11-25 10:00:10", 0};
        for (size_t i = 100; i < 137; i++)
            recs[i].us = t0 + 11 * 1000000 + (int64_t)i;
        memset (seen, 0, n * sizeof *seen);
        failures += s_fake_sync (&f, &mark, 1000, "2025-11-25 10:00:12") < 0;
        failures += s_check_once (&f, 100, 37, "37 updated", verbose);
        failures += f.transferred != 37;
        /* nothing new past the lag bound: records at 10:00:12 wait */
        recs[5].us = t0 + 12 * 1000000 + 5;
        memset (seen, 0, n * sizeof *seen);
        f.transferred = 0;
        failures += s_fake_sync (&f, &mark, 1000, "2025-11-25 10:00:12") < 0;
        failures += s_check_once (&f, 0, 0, "before the bound", verbose);
        failures += s_fake_sync (&f, &mark, 1000, "2025-11-25 10:00:13") < 0;
        failures += s_check_once (&f, 5, 1, "past the bound", verbose);
        /* every 5th call fails: still each record exactly once */
        for (size_t i = 0; i < n; i++)
            recs[i].us = t0 + (int64_t)(i % 3) * 1000000 + (int64_t)(i % 17);
        memset (seen, 0, n * sizeof *seen);
        s_fake_t g = {recs, n, mode == 1, 0, 0, 3, seen};
        odoo_mark_t m2 = {"", 0};
        for (int tries = 0; tries < 40; tries++) {
            json_t *domain = json_array (), *fields = json_array ();
            odoo_pager_t p = {s_fake_read, &g, "m", domain, fields, 97, s_fake_emit, &g};
            vd_error_t err;
            g.fail_at = (int)g.calls + 5;
            int rc = odoo_pager_run (&p, &m2, "2025-11-25 10:00:05", &err);
            json_decref (domain);
            json_decref (fields);
            if (rc == 0)
                break;
        }
        failures += s_check_once (&g, 0, n, "with failures", verbose);
    }
    /* marks and seconds: malformed input */
    odoo_mark_t m;
    json_t *bad[] = {
        json_pack ("{s:s, s:I}", "after", "yesterday", "id", (json_int_t)1), json_pack ("[]"),
        json_pack ("{s:s, s:s}", "after", "", "id", "1"),
        json_pack ("{s:s, s:I}", "after", "2025-11-25 10:00:00", "id", (json_int_t)-4)};
    for (int i = 0; i < 4; i++) {
        failures += odoo_pager_mark_parse (bad[i], &m) == 0;
        json_decref (bad[i]);
    }
    json_t *good = json_pack ("{s:s, s:I}", "after", "2025-11-25 10:00:00", "id", (json_int_t)42);
    failures += odoo_pager_mark_parse (good, &m) != 0 || m.id != 42;
    json_decref (good);
    failures += odoo_pager_epoch ("2025-11-25") != -1 || odoo_pager_epoch (NULL) != -1;
    failures +=
        odoo_pager_epoch ("2025-11-25 10:00:00.123456") != odoo_pager_epoch ("2025-11-25 10:00:00");
    free (recs);
    free (seen);
    return failures ? -1 : 0;
}
