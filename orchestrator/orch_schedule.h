/*  orch_schedule - a connector's `schedule` setting.

    Forms (case-insensitive):
      every N{s|m|h|d}        an interval ("every 6h", "every 30m"; 1 s to
                              366 days); the first run comes one interval
                              after the schedule is set
      hourly                  at minute 0 of every hour
      daily HH:MM             every day at that local time
      weekly DAY HH:MM        DAY: mon tue wed thu fri sat sun
      cron M H DOM MON DOW    five cron fields, each "*", N, N-M or a list
                              of them, "*" and ranges optionally followed
                              by a step "/S"; DOW 0-7 (0 and 7: Sunday); as
                              in cron, when both DOM and DOW are restricted
                              a day matching either one matches
      off                     no schedule
    Times are local times in VENDANGE_TIMEZONE (PostgreSQL converts).
*/
#ifndef ORCH_SCHEDULE_H_INCLUDED
#define ORCH_SCHEDULE_H_INCLUDED

#include "vd_error.h"
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    bool off;
    int64_t every_s;  /* > 0: an interval schedule                   */
    uint64_t minutes; /* cron: bit i = minute i allowed (0..59)     */
    uint32_t hours;   /* bit i = hour i (0..23)                      */
    uint32_t days;    /* bit i = day of month i (1..31)              */
    uint16_t months;  /* bit i = month i (1..12)                     */
    uint8_t weekdays; /* bit i = weekday i (0 Sunday .. 6)           */
    bool days_star, weekdays_star;
} orch_schedule_t;

/*  A local wall-clock time to the minute. */
typedef struct {
    int year, month, day, hour, minute;
} orch_civil_t;

/*  Parses text. Returns 0, -1 with err saying what is wrong and the forms
    in the hint. */
int orch_schedule_parse (const char *text, orch_schedule_t *out, vd_error_t *err);

/*  The first minute strictly after after that a cron-like schedule
    allows, within the next 5 years. Returns 0, -1 when there is none
    (e.g. "cron 0 0 31 2 *"). */
int orch_schedule_next (const orch_schedule_t *s, const orch_civil_t *after, orch_civil_t *next);

/*  Queues a run (trigger "schedule") for every connector whose next_run_at
    has come, unless it has one in progress, and sets its next_run_at to
    the next occurrence after now: downtime that missed several runs gives
    one run, not one per occurrence. A schedule just set (next_run_at NULL)
    gets its first occurrence without a run. tz: VENDANGE_TIMEZONE. Returns
    the number of runs queued, -1 with err. */
int orch_schedule_tick (PGconn *conn, const char *tz, vd_error_t *err);

int orch_schedule_test (bool verbose);

#endif
