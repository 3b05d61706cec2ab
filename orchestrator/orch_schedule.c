/*  orch_schedule - a connector's `schedule` setting. */
#include "vendange.h"
#include "vd_db.h"
#include "orch_schedule.h"

#define MAX_TOKENS 8
#define MAX_YEARS 5

static const char *s_forms = "every N{s|m|h|d}, hourly, daily HH:MM, weekly DAY HH:MM, "
                             "cron M H DOM MON DOW, or off";

static const char *s_days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/*  Splits a lower-cased copy of text into at most MAX_TOKENS words. */
static int
s_tokens (const char *text, char *buf, size_t size, char **tok)
{
    snprintf (buf, size, "%s", text);
    int n = 0;
    char *p = buf;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            *p++ = '\0';
        if (!*p)
            break;
        if (n == MAX_TOKENS)
            return -1;
        tok[n++] = p;
        while (*p && *p != ' ' && *p != '\t') {
            *p = (char)tolower ((unsigned char)*p);
            p++;
        }
    }
    return n;
}

/*  Sets bits lo..hi (step) of *bits for one cron field; 0, -1. */
static int
s_field (const char *text, int min, int max, uint64_t *bits, bool *star)
{
    char buf[64];
    snprintf (buf, sizeof buf, "%s", text);
    *bits = 0;
    *star = strcmp (buf, "*") == 0;
    for (char *part = buf, *next; part; part = next) {
        next = strchr (part, ',');
        if (next)
            *next++ = '\0';
        int64_t lo = min, hi = max, step = 1;
        char *slash = strchr (part, '/');
        if (slash) {
            *slash = '\0';
            if (vd_parse_int (slash + 1, 1, max, &step) < 0)
                return -1;
        }
        if (strcmp (part, "*") != 0) {
            char *dash = strchr (part, '-');
            if (dash)
                *dash = '\0';
            if (vd_parse_int (part, min, max, &lo) < 0 ||
                (dash && vd_parse_int (dash + 1, lo, max, &hi) < 0))
                return -1;
            if (!dash)
                hi = slash ? max : lo;
        }
        for (int64_t v = lo; v <= hi; v += step)
            *bits |= (uint64_t)1 << v;
    }
    return 0;
}

/*  "HH:MM" into hour and minute; 0, -1. */
static int
s_clock (const char *text, int64_t *hour, int64_t *minute)
{
    char buf[8];
    const char *colon = strchr (text, ':');
    if (!colon || colon - text > 2 || strlen (colon + 1) != 2)
        return -1;
    snprintf (buf, sizeof buf, "%.*s", (int)(colon - text), text);
    return vd_parse_int (buf, 0, 23, hour) == 0 && vd_parse_int (colon + 1, 0, 59, minute) == 0
               ? 0
               : -1;
}

static int
s_cron (char **f, orch_schedule_t *out)
{
    uint64_t b[5];
    bool star[5];
    static const int lim[5][2] = {{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 7}};
    for (int i = 0; i < 5; i++)
        if (s_field (f[i], lim[i][0], lim[i][1], &b[i], &star[i]) < 0)
            return -1;
    out->minutes = b[0];
    out->hours = (uint32_t)b[1];
    out->days = (uint32_t)b[2];
    out->months = (uint16_t)b[3];
    out->weekdays = (uint8_t)((b[4] | (b[4] >> 7)) & 0x7f); /* 7 is Sunday too */
    out->days_star = star[2];
    out->weekdays_star = star[4];
    return 0;
}

/*  A cron schedule at HH:MM every day (weekday < 0) or on weekday. */
static int
s_at (const char *clock, int weekday, orch_schedule_t *out)
{
    int64_t h, m;
    if (s_clock (clock, &h, &m) < 0)
        return -1;
    char min[8], hour[8], dow[8];
    snprintf (min, sizeof min, "%d", (int)m);
    snprintf (hour, sizeof hour, "%d", (int)h);
    snprintf (dow, sizeof dow, "%d", weekday);
    char *f[5] = {min, hour, "*", "*", weekday < 0 ? "*" : dow};
    return s_cron (f, out);
}

static int
s_every (const char *text, orch_schedule_t *out)
{
    size_t n = strlen (text);
    char num[24];
    int64_t v;
    static const struct {
        char unit;
        int64_t seconds;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
    if (n < 2 || n > sizeof num)
        return -1;
    snprintf (num, sizeof num, "%.*s", (int)(n - 1), text);
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (text[n - 1] == units[i].unit && vd_parse_int (num, 1, 366 * 86400, &v) == 0 &&
            v * units[i].seconds <= 366 * 86400) {
            out->every_s = v * units[i].seconds;
            return 0;
        }
    return -1;
}

int
orch_schedule_parse (const char *text, orch_schedule_t *out, vd_error_t *err)
{
    memset (out, 0, sizeof *out);
    char buf[128], *tok[MAX_TOKENS];
    int n = text && strlen (text) < sizeof buf ? s_tokens (text, buf, sizeof buf, tok) : -1;
    int rc = -1;
    if (n == 1 && strcmp (tok[0], "off") == 0) {
        out->off = true;
        rc = 0;
    } else if (n == 1 && strcmp (tok[0], "hourly") == 0)
        rc = s_cron ((char *[]){"0", "*", "*", "*", "*"}, out);
    else if (n == 2 && strcmp (tok[0], "every") == 0)
        rc = s_every (tok[1], out);
    else if (n == 2 && strcmp (tok[0], "daily") == 0)
        rc = s_at (tok[1], -1, out);
    else if (n == 3 && strcmp (tok[0], "weekly") == 0) {
        for (int d = 0; d < 7 && rc < 0; d++)
            if (strncmp (tok[1], s_days[d], 3) == 0)
                rc = s_at (tok[2], d, out);
    } else if (n == 6 && strcmp (tok[0], "cron") == 0)
        rc = s_cron (tok + 1, out);
    orch_civil_t from = {2026, 1, 1, 0, 0}, next;
    if (rc == 0 && !out->off && !out->every_s && orch_schedule_next (out, &from, &next) < 0)
        rc = -1; /* "cron 0 0 31 2 *": never */
    if (rc < 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "invalid schedule \"%.100s\"", text ? text : "");
        snprintf (err->hint, sizeof err->hint, "a schedule is %s", s_forms);
    }
    return rc;
}

static bool
s_leap (int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
s_month_days (int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && s_leap (y) ? 29 : days[m - 1];
}

/*  0 Sunday .. 6 Saturday (Sakamoto). */
static int
s_weekday (int y, int m, int d)
{
    static const int t[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
    if (m < 3)
        y -= 1;
    return (y + y / 4 - y / 100 + y / 400 + t[m - 1] + d) % 7;
}

static bool
s_day_ok (const orch_schedule_t *s, const orch_civil_t *c)
{
    bool dom = s->days & (1u << c->day);
    bool dow = s->weekdays & (1u << s_weekday (c->year, c->month, c->day));
    if (s->days_star || s->weekdays_star)
        return dom && dow;
    return dom || dow;
}

/*  Moves c to the start of the next day (month, year rolled). */
static void
s_next_day (orch_civil_t *c)
{
    c->hour = c->minute = 0;
    if (++c->day > s_month_days (c->year, c->month)) {
        c->day = 1;
        if (++c->month > 12) {
            c->month = 1;
            c->year++;
        }
    }
}

int
orch_schedule_next (const orch_schedule_t *s, const orch_civil_t *after, orch_civil_t *next)
{
    orch_civil_t c = *after;
    if (++c.minute == 60) {
        c.minute = 0;
        if (++c.hour == 24)
            s_next_day (&c);
    }
    while (c.year <= after->year + MAX_YEARS) {
        if (!(s->months & (1u << c.month))) {
            c.day = s_month_days (c.year, c.month);
            s_next_day (&c);
        } else if (!s_day_ok (s, &c))
            s_next_day (&c);
        else if (!(s->hours & (1u << c.hour))) {
            c.minute = 0;
            if (++c.hour == 24)
                s_next_day (&c);
        } else if (!(s->minutes & ((uint64_t)1 << c.minute))) {
            if (++c.minute == 60) {
                c.minute = 0;
                if (++c.hour == 24)
                    s_next_day (&c);
            }
        } else {
            *next = c;
            return 0;
        }
    }
    return -1;
}

/*  Row i of the due query: (name, schedule, next_run_at is null, local
    now as "YYYY MM DD HH MI"). Queues and moves next_run_at in one
    transaction. Returns 1 queued, 0 not, -1 with err. */
static int
s_tick_one (PGconn *conn, const char *tz, const PGresult *res, int i, vd_error_t *err)
{
    const char *name = PQgetvalue (res, i, 0);
    bool first = strcmp (PQgetvalue (res, i, 2), "t") == 0;
    orch_schedule_t s;
    orch_civil_t now, next;
    char every[24] = "", local[32] = "";
    if (orch_schedule_parse (PQgetvalue (res, i, 1), &s, err) < 0 ||
        (!s.every_s && (sscanf (PQgetvalue (res, i, 3), "%d %d %d %d %d", &now.year, &now.month,
                                &now.day, &now.hour, &now.minute) != 5 ||
                        orch_schedule_next (&s, &now, &next) < 0))) {
        /* only a hand-edited row gets here (settings are checked): said once a day */
        vd_error_set (err, VD_ERR_PERMANENT, "schedule of connector %s cannot run", name);
        const char *p[] = {name};
        vd_error_t ignored;
        vd_db_command (conn,
                       "UPDATE ops.connectors SET next_run_at = now() + interval '1 day' "
                       "WHERE name = $1",
                       1, p, &ignored);
        return -1;
    }
    if (s.every_s)
        snprintf (every, sizeof every, "%" PRId64, s.every_s);
    else
        snprintf (local, sizeof local, "%04d-%02d-%02d %02d:%02d", next.year, next.month, next.day,
                  next.hour, next.minute);
    const char *params[] = {name, every[0] ? every : NULL, local[0] ? local : NULL, tz};
    if (vd_db_command (conn, "BEGIN", 0, NULL, err) < 0)
        return -1;
    PGresult *q = first ? NULL
                        : vd_db_exec (conn,
                                      "INSERT INTO ops.sync_runs (connector, connector_type, "
                                      "status, trigger) SELECT name, type, 'queued', 'schedule' "
                                      "FROM ops.connectors c WHERE name = $1 AND NOT EXISTS "
                                      "(SELECT 1 FROM ops.sync_runs r WHERE r.connector = $1 AND "
                                      "r.status IN ('queued', 'running')) RETURNING id",
                                      1, params, err);
    int queued = q ? PQntuples (q) : 0;
    if (q)
        PQclear (q);
    if ((first || q) &&
        vd_db_command (conn,
                       "UPDATE ops.connectors SET next_run_at = CASE WHEN $2::bigint IS NOT NULL "
                       "THEN now() + make_interval(secs => $2::bigint) ELSE $3::timestamp AT TIME "
                       "ZONE $4 END WHERE name = $1",
                       4, params, err) == 0 &&
        vd_db_command (conn, "COMMIT", 0, NULL, err) == 0) {
        if (!first)
            vd_info ("schedule of %s: %s", name,
                     queued ? "run queued" : "run skipped, one is in progress");
        return queued;
    }
    vd_db_command (conn, "ROLLBACK", 0, NULL, NULL);
    return -1;
}

int
orch_schedule_tick (PGconn *conn, const char *tz, vd_error_t *err)
{
    const char *params[] = {tz};
    PGresult *res = vd_db_exec (conn,
                                "SELECT name, schedule, next_run_at IS NULL, to_char(now() AT "
                                "TIME ZONE $1, 'YYYY MM DD HH24 MI') FROM ops.connectors WHERE "
                                "schedule IS NOT NULL AND lower(btrim(schedule)) <> 'off' AND "
                                "(next_run_at IS NULL OR next_run_at <= now()) ORDER BY name",
                                1, params, err);
    if (!res)
        return -1;
    int queued = 0;
    for (int i = 0; i < PQntuples (res); i++) {
        vd_error_t one;
        vd_error_clear (&one);
        int rc = s_tick_one (conn, tz, res, i, &one);
        if (rc < 0 && one.sqlstate[0]) { /* a database error: the turn is retried */
            *err = one;
            queued = -1;
            break;
        }
        if (rc < 0) /* a schedule that cannot run: said, retried in a day */
            vd_log_error (VD_LOG_WARN, &one);
        queued += rc > 0;
    }
    PQclear (res);
    return queued;
}

int
orch_schedule_test (bool verbose)
{
    (void)verbose;
    int failures = 0;
    orch_schedule_t s;
    vd_error_t err;
    orch_civil_t from, next;
#define NEXT(text, y, mo, d, h, mi, ey, emo, ed, eh, emi)                                          \
    do {                                                                                           \
        from = (orch_civil_t){y, mo, d, h, mi};                                                    \
        if (orch_schedule_parse (text, &s, &err) < 0 ||                                            \
            orch_schedule_next (&s, &from, &next) < 0 || next.year != ey || next.month != emo ||   \
            next.day != ed || next.hour != eh || next.minute != emi) {                             \
            failures++;                                                                            \
            fprintf (stderr, "orch_schedule_test:%d: %s\n", __LINE__, text);                       \
        }                                                                                          \
    } while (0)
    NEXT ("daily 02:30", 2026, 12, 2, 1, 0, 2026, 12, 2, 2, 30);
    NEXT ("daily 02:30", 2026, 12, 2, 2, 30, 2026, 12, 3, 2, 30); /* strictly after */
    NEXT ("Daily 2:30", 2026, 12, 31, 23, 59, 2027, 1, 1, 2, 30);
    NEXT ("weekly mon 03:00", 2026, 12, 2, 10, 0, 2026, 12, 7, 3, 0); /* 2 Dec 2026 is a Wed */
    NEXT ("weekly sunday 00:00", 2026, 12, 5, 23, 59, 2026, 12, 6, 0, 0);
    NEXT ("hourly", 2026, 12, 2, 23, 5, 2026, 12, 3, 0, 0);
    NEXT ("cron */15 * * * *", 2026, 12, 2, 10, 14, 2026, 12, 2, 10, 15);
    NEXT ("cron 0 6 29 2 *", 2026, 3, 1, 0, 0, 2028, 2, 29, 6, 0); /* leap day */
    NEXT ("cron 0 8 1 * 0", 2026, 12, 2, 0, 0, 2026, 12, 6, 8, 0); /* 1st or a Sunday */
    NEXT ("cron 0 8 * * 7", 2026, 12, 2, 0, 0, 2026, 12, 6, 8, 0); /* 7 = Sunday */
    NEXT ("cron 30 1-3/2 * 1,7 *", 2026, 12, 2, 0, 0, 2027, 1, 1, 1, 30);
    failures += orch_schedule_parse ("every 6h", &s, &err) != 0 || s.every_s != 21600;
    failures += orch_schedule_parse ("every 2s", &s, &err) != 0 || s.every_s != 2;
    failures += orch_schedule_parse ("off", &s, &err) != 0 || !s.off;
    /* bad input */
    const char *bad[] = {"",
                         "every",
                         "every 0m",
                         "every 5y",
                         "every -3h",
                         "every 400d",
                         "daily 25:00",
                         "daily 2:3",
                         "daily",
                         "weekly xyz 03:00",
                         "cron * * * *",
                         "cron 60 * * * *",
                         "cron 0 0 31 2 *",
                         "cron 5-1 * * * *",
                         "cron */0 * * * *",
                         "sometimes",
                         "cron 1 2 3 4 5 6 7 8 9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (orch_schedule_parse (bad[i], &s, &err) == 0 || !strstr (err.hint, "daily HH:MM")) {
            failures++;
            fprintf (stderr, "orch_schedule_test: accepted \"%s\"\n", bad[i]);
        }
    failures += orch_schedule_parse (NULL, &s, &err) == 0;
    return failures;
}
