/*  orch_quality_pdf - the data-quality report as a one-page A4 PDF. */
#include "vendange.h"
#include "vd_date.h"
#include "orch_json.h"
#include "orch_quality.h"
#include "orch_quality_pdf.h"
#include <cairo-pdf.h>
#include <cairo.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <time.h>

#define PAGE_W 595.276 /* A4 in points */
#define PAGE_H 841.89
#define MARGIN 36.0
#define CONTENT_W (PAGE_W - 2 * MARGIN)
#define BAND_H 58.0 /* the title band */
#define FOOTER_Y (PAGE_H - 24)
#define FONT "DejaVu Sans"
#define ROW_H 11.0     /* a row of the sources' and the anomalies' tables */
#define BAR_ROW_H 8.6  /* a completeness bar, at most                      */
#define SOURCES_MAX 8  /* connectors listed; the others are counted      */
#define CHART_MIN_H 96 /* the chart's plot, at least                     */
#define NOTE_H 22      /* the note under the tables' bars                */
#define BAR_MIN_H 7    /* a completeness bar, at least when it can       */
/* the tables' section but its bars: title, score and counts, the note */
#define TABLES_FIXED_H (20 + 54 + 5 + NOTE_H)
#define CHART_BELOW 30 /* under the plot: dates and the legend           */

/* colours, as the web page's (web/app.css) */
#define WINE 0x6b1d3a
#define INK 0x222222
#define MUTED 0x666666
#define RULE 0xdddddd
#define TRACK 0xeeeeee
#define GOOD 0x17702a
#define WARN 0xb36b00
#define BAD 0xb00020
#define BLUE 0x1f4fa0
#define WHITE 0xffffff

typedef enum { S_LEFT, S_RIGHT, S_CENTER } s_align_t;

typedef struct {
    cairo_t *cr;
    PangoLayout *layout;
    double y; /* top of the next block */
} s_page_t;

/*  Connector colours in the chart, in order of first appearance. */
static const uint32_t s_palette[] = {WINE, BLUE, 0x2a8a8a, WARN, 0x7a4fa0, 0x777777};
#define NPALETTE (sizeof s_palette / sizeof s_palette[0])

static const char *s_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *s_month_names[] = {"January",   "February", "March",    "April",
                                      "May",       "June",     "July",     "August",
                                      "September", "October",  "November", "December"};

static void
s_rgb (cairo_t *cr, uint32_t rgb)
{
    cairo_set_source_rgb (cr, ((rgb >> 16) & 0xff) / 255.0, ((rgb >> 8) & 0xff) / 255.0,
                          (rgb & 0xff) / 255.0);
}

static void
s_rect (cairo_t *cr, double x, double y, double w, double h, uint32_t rgb)
{
    s_rgb (cr, rgb);
    cairo_rectangle (cr, x, y, w, h);
    cairo_fill (cr);
}

static void
s_hline (cairo_t *cr, double x, double y, double w, uint32_t rgb)
{
    s_rgb (cr, rgb);
    cairo_set_line_width (cr, 0.6);
    cairo_move_to (cr, x, y);
    cairo_line_to (cr, x + w, y);
    cairo_stroke (cr);
}

/*  Sets the layout's text and font: size in points, at most lines lines
    in a box w wide (0: one line, no limit), ellipsized at the end. */
static void
s_layout (s_page_t *p, const char *text, double size, bool bold, double w, int lines,
          s_align_t align)
{
    PangoFontDescription *fd = pango_font_description_new ();
    pango_font_description_set_family (fd, FONT);
    pango_font_description_set_absolute_size (fd, size * PANGO_SCALE);
    pango_font_description_set_weight (fd, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_layout_set_font_description (p->layout, fd);
    pango_font_description_free (fd);
    pango_layout_set_text (p->layout, text ? text : "", -1);
    pango_layout_set_width (p->layout, w > 0 ? (int)(w * PANGO_SCALE) : -1);
    pango_layout_set_height (p->layout, -(lines > 0 ? lines : 1));
    pango_layout_set_wrap (p->layout, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_ellipsize (p->layout, w > 0 ? PANGO_ELLIPSIZE_END : PANGO_ELLIPSIZE_NONE);
    pango_layout_set_alignment (p->layout, align == S_RIGHT    ? PANGO_ALIGN_RIGHT
                                           : align == S_CENTER ? PANGO_ALIGN_CENTER
                                                               : PANGO_ALIGN_LEFT);
}

/*  Draws text with its top left at (x, y) (see s_layout; right and centre
    alignment need w). Returns the width of the text's ink box. */
static double
s_text_lines (s_page_t *p, double x, double y, double w, int lines, double size, bool bold,
              s_align_t align, uint32_t rgb, const char *text)
{
    s_layout (p, text, size, bold, w, lines, align);
    PangoRectangle logical;
    pango_layout_get_extents (p->layout, NULL, &logical);
    s_rgb (p->cr, rgb);
    cairo_move_to (p->cr, x, y);
    pango_cairo_show_layout (p->cr, p->layout);
    return (double)logical.width / PANGO_SCALE;
}

static double
s_text (s_page_t *p, double x, double y, double w, double size, bool bold, s_align_t align,
        uint32_t rgb, const char *text)
{
    return s_text_lines (p, x, y, w, 1, size, bold, align, rgb, text);
}

/*  n with a comma every three digits ("1,234,567"). */
static void
s_count (int64_t n, char *out, size_t size)
{
    char digits[32];
    snprintf (digits, sizeof digits, "%" PRId64, n < 0 ? -n : n);
    size_t len = strlen (digits), o = 0;
    if (n < 0 && o + 1 < size)
        out[o++] = '-';
    for (size_t i = 0; i < len && o + 1 < size; i++) {
        out[o++] = digits[i];
        if ((len - i - 1) % 3 == 0 && i + 1 < len && o + 1 < size)
            out[o++] = ',';
    }
    out[o] = '\0';
}

/*  "2.5 s", "3 min 05 s", "2 h 07 min". */
static void
s_duration (double s, char *out, size_t size)
{
    long n = lround (s);
    if (s < 60)
        snprintf (out, size, "%.1f s", s < 0 ? 0 : s);
    else if (n < 3600)
        snprintf (out, size, "%ld min %02ld s", n / 60, n % 60);
    else
        snprintf (out, size, "%ld h %02ld min", n / 3600, n % 3600 / 60);
}

static int64_t
s_int (const json_t *o, const char *key)
{
    json_t *v = json_object_get (o, key);
    return json_is_integer (v) ? (int64_t)json_integer_value (v)
                               : (int64_t)llround (json_number_value (v));
}

/*  The smallest of 1, 2, 5 x 10^k at least v (1 for v <= 1). */
static double
s_nice_max (double v)
{
    double scale = 1;
    while (scale * 10 < v && scale < 1e15)
        scale *= 10;
    for (int i = 0; i < 4; i++) {
        static const double steps[] = {1, 2, 5, 10};
        if (steps[i] * scale >= v)
            return steps[i] * scale;
    }
    return 10 * scale;
}

/*  Seconds since the epoch of an ISO 8601 instant ("...Z"); -1 when it is
    not one. */
static double
s_epoch (const char *iso)
{
    vd_date_t d;
    if (!iso || vd_date_parse (iso, strlen (iso), &d) < 0)
        return -1;
    struct tm tm = {.tm_year = d.year - 1900,
                    .tm_mon = d.month - 1,
                    .tm_mday = d.day,
                    .tm_hour = d.hour,
                    .tm_min = d.minute,
                    .tm_sec = d.second};
    return (double)timegm (&tm) - 60.0 * d.offset_min;
}

/*  "6 Dec" for the local date of local ("YYYY-MM-DD HH:MM") minus days;
    "" when local is not a date. */
static void
s_day_label (const char *local, int days, char *out, size_t size)
{
    vd_date_t d;
    out[0] = '\0';
    if (!local || vd_date_parse (local, strlen (local), &d) < 0)
        return;
    struct tm tm = {
        .tm_year = d.year - 1900, .tm_mon = d.month - 1, .tm_mday = d.day - days, .tm_hour = 12};
    time_t t = timegm (&tm);
    if (gmtime_r (&t, &tm))
        snprintf (out, size, "%d %s", tm.tm_mday, s_months[tm.tm_mon % 12]);
}

static uint32_t
s_status_colour (const char *status)
{
    if (strcmp (status, "success") == 0)
        return GOOD;
    if (strcmp (status, "partial") == 0)
        return WARN;
    if (strcmp (status, "failed") == 0)
        return BAD;
    return BLUE;
}

/*  A section's title, a rule under it, and optional text on the right. */
static void
s_heading (s_page_t *p, const char *title, const char *right)
{
    s_text (p, MARGIN, p->y, 0, 10.5, true, S_LEFT, WINE, title);
    if (right)
        s_text (p, MARGIN, p->y + 2.5, CONTENT_W, 7, false, S_RIGHT, MUTED, right);
    s_hline (p->cr, MARGIN, p->y + 15.5, CONTENT_W, WINE);
    p->y += 20;
}

/*  The title band: what the report is, its date and time zone. */
static void
s_header (s_page_t *p, const json_t *report)
{
    s_rect (p->cr, 0, 0, PAGE_W, BAND_H, WINE);
    s_text (p, MARGIN, 14, 0, 17, true, S_LEFT, WHITE, "Data quality report");
    s_text (p, MARGIN, 36, 0, 8, false, S_LEFT, WHITE,
            "vendange: the canonical tables, their sources and their rejects");
    const char *local = orch_json_member (report, "generated_local");
    vd_date_t d;
    char date[96] = "", zone[96];
    if (vd_date_parse (local, strlen (local), &d) == 0)
        snprintf (date, sizeof date, "%d %s %d, %02d:%02d", d.day,
                  s_month_names[(d.month + 11) % 12], d.year, d.hour, d.minute);
    snprintf (zone, sizeof zone, "time zone %s", orch_json_member (report, "timezone"));
    s_text (p, MARGIN, 16, CONTENT_W, 11, true, S_RIGHT, WHITE, date);
    s_text (p, MARGIN, 33, CONTENT_W, 8, false, S_RIGHT, WHITE, zone);
    p->y = BAND_H + 16;
}

/*  Column edges of the sources' table (x from the margin). */
static const struct {
    const char *title;
    double x, w;
    s_align_t align;
} s_source_cols[] = {
    {"connector", 0, 112, S_LEFT}, {"type", 114, 66, S_LEFT},
    {"last run", 182, 44, S_LEFT}, {"status", 228, 52, S_LEFT},
    {"started", 282, 82, S_LEFT},  {"duration", 366, 46, S_RIGHT},
    {"records", 414, 52, S_RIGHT}, {"rejected", 468, CONTENT_W - 468, S_RIGHT},
};
#define NSOURCE_COLS (sizeof s_source_cols / sizeof s_source_cols[0])

static void
s_source_row (s_page_t *p, const json_t *c)
{
    const json_t *run = json_object_get (c, "last_run");
    char id[32] = "", duration[32] = "", records[32] = "", rejected[32] = "";
    const char *status = json_is_object (run) ? orch_json_member (run, "status") : "never run";
    if (json_is_object (run)) {
        snprintf (id, sizeof id, "#%" PRId64, s_int (run, "id"));
        json_t *s = json_object_get (run, "duration_s");
        if (json_is_number (s))
            s_duration (json_number_value (s), duration, sizeof duration);
        s_count (s_int (run, "records"), records, sizeof records);
        s_count (s_int (run, "rejected"), rejected, sizeof rejected);
    }
    const char *cells[NSOURCE_COLS] = {
        orch_json_member (c, "name"),
        orch_json_member (c, "type"),
        id,
        status,
        json_is_object (run) ? orch_json_member (run, "started_local") : "",
        duration,
        records,
        rejected};
    for (size_t i = 0; i < NSOURCE_COLS; i++)
        s_text (p, MARGIN + s_source_cols[i].x, p->y, s_source_cols[i].w, 8, i == 0,
                s_source_cols[i].align,
                i == 3 ? (json_is_object (run) ? s_status_colour (status) : MUTED) : INK, cells[i]);
    p->y += ROW_H;
}

/*  The connectors and their last run. */
static void
s_sources (s_page_t *p, const json_t *report)
{
    const json_t *sources = json_object_get (report, "sources");
    size_t n = json_array_size (sources);
    char right[64];
    snprintf (right, sizeof right, "%zu connector%s", n, n == 1 ? "" : "s");
    s_heading (p, "Sources and their last run", right);
    if (n == 0) {
        s_text (p, MARGIN, p->y, 0, 8, false, S_LEFT, MUTED, "No connector is registered.");
        p->y += ROW_H + 8;
        return;
    }
    for (size_t i = 0; i < NSOURCE_COLS; i++)
        s_text (p, MARGIN + s_source_cols[i].x, p->y, s_source_cols[i].w, 7, true,
                s_source_cols[i].align, MUTED, s_source_cols[i].title);
    p->y += ROW_H;
    for (size_t i = 0; i < n && i < SOURCES_MAX; i++)
        s_source_row (p, json_array_get (sources, i));
    if (n > SOURCES_MAX) {
        char more[96];
        snprintf (more, sizeof more, "... and %zu more (vendange status lists them all)",
                  n - SOURCES_MAX);
        s_text (p, MARGIN, p->y, 0, 7, false, S_LEFT, MUTED, more);
        p->y += ROW_H;
    }
    p->y += 8;
}

static uint32_t
s_score_colour (double score)
{
    return score >= 90 ? GOOD : score >= 75 ? WARN : BAD;
}

/*  One completeness bar: the column's name over a track filled to its
    percentage, the percentage on the right. */
static void
s_bar (s_page_t *p, double x, double y, double w, double h, const json_t *c)
{
    double pct = json_number_value (json_object_get (c, "percent"));
    pct = pct < 0 ? 0 : pct > 100 ? 100 : pct;
    uint32_t fill = pct >= 90 ? 0xc6e3cc : pct >= 50 ? 0xf3dcb2 : 0xf3c4cb;
    s_rect (p->cr, x, y, w, h - 1.4, TRACK);
    s_rect (p->cr, x, y, w * pct / 100, h - 1.4, fill);
    char text[32];
    snprintf (text, sizeof text, "%.0f %%", floor (pct));
    double size = h * 0.66 < 6.2 ? h * 0.66 : 6.2;
    double ty = y + (h - 1.4 - size * 1.17) / 2;
    s_text (p, x + 2, ty, w - 26, size, false, S_LEFT, INK, orch_json_member (c, "column"));
    s_text (p, x, ty, w - 2, size, false, S_RIGHT, INK, text);
}

/*  One table's column: name, score, counts, then a bar per column. */
static void
s_table_column (s_page_t *p, double x, double w, double bar_h, const json_t *t)
{
    double y = p->y;
    s_text (p, x, y, w, 8.5, true, S_LEFT, INK, orch_json_member (t, "table"));
    json_t *score = json_object_get (t, "score");
    char text[96], rows[32];
    if (json_is_number (score)) {
        snprintf (text, sizeof text, "%.1f", json_number_value (score));
        double sw = s_text (p, x, y + 12, 0, 17, true, S_LEFT,
                            s_score_colour (json_number_value (score)), text);
        s_text (p, x + sw + 3, y + 20, 0, 7, false, S_LEFT, MUTED, "/ 100");
    } else
        s_text (p, x, y + 12, 0, 17, true, S_LEFT, MUTED, "-");
    s_count (s_int (t, "rows"), rows, sizeof rows);
    snprintf (text, sizeof text, "%s rows, %.1f %% filled", rows,
              json_number_value (json_object_get (t, "completeness_mean")));
    s_text (p, x, y + 34, w, 6.5, false, S_LEFT, MUTED, text);
    s_count (s_int (t, "anomalous_rows"), rows, sizeof rows);
    snprintf (text, sizeof text, "%s anomalous row%s", rows,
              s_int (t, "anomalous_rows") == 1 ? "" : "s");
    s_text (p, x, y + 42.5, w, 6.5, false, S_LEFT, MUTED, text);
    size_t i;
    json_t *c;
    json_array_foreach (json_object_get (t, "completeness"), i, c)
        s_bar (p, x, y + 54 + bar_h * (double)i, w, bar_h, c);
}

/*  The most columns a table has (at least 1). */
static size_t
s_most_columns (const json_t *report)
{
    size_t most = 1, i;
    json_t *t;
    json_array_foreach (json_object_get (report, "tables"), i, t)
    {
        size_t k = json_array_size (json_object_get (t, "completeness"));
        most = k > most ? k : most;
    }
    return most;
}

/*  Scores and completeness: one column per table. The bars shrink when
    a table has more columns than the section's height max_h holds. */
static void
s_tables (s_page_t *p, const json_t *report, double max_h)
{
    s_heading (p, "Tables: score and completeness of each column", NULL);
    const json_t *tables = json_object_get (report, "tables");
    size_t n = json_array_size (tables), most = s_most_columns (report);
    double bar_h = (max_h - TABLES_FIXED_H) / (double)most;
    bar_h = bar_h > BAR_ROW_H ? BAR_ROW_H : bar_h;
    double gap = 9, w = n ? (CONTENT_W - gap * (double)(n - 1)) / (double)n : CONTENT_W;
    for (size_t i = 0; i < n; i++)
        s_table_column (p, MARGIN + (w + gap) * (double)i, w, bar_h, json_array_get (tables, i));
    p->y += 54 + bar_h * (double)most + 5;
    char note[256];
    snprintf (note, sizeof note,
              "score = %s; an anomalous row fails a check below. A bar: the rows where the "
              "column is filled.",
              orch_json_member (report, "score_formula"));
    s_text_lines (p, MARGIN, p->y, CONTENT_W, 2, 6.5, false, S_LEFT, MUTED, note);
    p->y += NOTE_H;
}

/*  "key: detail" of a check's first examples, joined. */
static void
s_examples (const json_t *check, vd_buf_t *b)
{
    size_t i;
    json_t *s;
    json_array_foreach (json_object_get (check, "sample"), i, s)
    {
        vd_buf_printf (b, "%s%s", i ? "  \u00b7  " : "", orch_json_member (s, "key"));
        const char *detail = orch_json_member (s, "detail");
        if (*detail)
            vd_buf_printf (b, ": %s", detail);
        if (b->len > 600)
            break;
    }
}

/*  Every check of every table: its count and its first examples (on at
    most lines lines). */
static void
s_anomalies (s_page_t *p, const json_t *report, int lines)
{
    const json_t *tables = json_object_get (report, "tables");
    int64_t total = 0;
    size_t i, j;
    json_t *t, *k;
    json_array_foreach (tables, i, t) json_array_foreach (json_object_get (t, "checks"), j, k)
        total += s_int (k, "count");
    char right[64], count[32];
    s_count (total, count, sizeof count);
    snprintf (right, sizeof right, "%s anomal%s in all", count, total == 1 ? "y" : "ies");
    s_heading (p, "Anomalies", right);
    static const double xs[] = {0, 68, 250, 292, 334};
    static const char *titles[] = {"table", "check", "kind", "rows", "examples"};
    for (int c = 0; c < 5; c++)
        s_text (p, MARGIN + xs[c], p->y, c == 3 ? xs[4] - xs[3] - 8 : 0, 7, true,
                c == 3 ? S_RIGHT : S_LEFT, MUTED, titles[c]);
    p->y += ROW_H;
    vd_buf_t b;
    vd_buf_init (&b, 4096);
    json_array_foreach (tables, i, t) json_array_foreach (json_object_get (t, "checks"), j, k)
    {
        int64_t n = s_int (k, "count");
        s_count (n, count, sizeof count);
        uint32_t ink = n ? INK : MUTED;
        s_text (p, MARGIN, p->y, xs[1] - 2, 7.5, false, S_LEFT, ink,
                j == 0 ? orch_json_member (t, "table") : "");
        s_text (p, MARGIN + xs[1], p->y + 0.5, xs[2] - xs[1] - 4, 7, false, S_LEFT, ink,
                orch_json_member (k, "label"));
        s_text (p, MARGIN + xs[2], p->y + 0.5, xs[3] - xs[2] - 2, 7, false, S_LEFT, ink,
                orch_json_member (k, "kind"));
        s_text (p, MARGIN + xs[3], p->y, xs[4] - xs[3] - 8, 7.5, n > 0, S_RIGHT, n ? BAD : MUTED,
                count);
        vd_buf_reset (&b);
        s_examples (k, &b);
        s_text_lines (p, MARGIN + xs[4], p->y + 0.9, CONTENT_W - xs[4], n ? lines : 1, 6.5, false,
                      S_LEFT, MUTED, b.len ? vd_buf_str (&b) : "-");
        /* a second line only when the examples need it */
        p->y += ROW_H + 6.5 * (pango_layout_get_line_count (p->layout) - 1);
    }
    vd_buf_free (&b);
    p->y += 8;
}

/*  Index of name in names (added when new, at most NPALETTE). */
static size_t
s_connector_index (const char **names, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp (names[i], name) == 0)
            return i;
    if (*n < NPALETTE)
        names[(*n)++] = name;
    return *n - 1;
}

/*  Grid steps of a chart whose axis ends at ymax (s_nice_max): one per
    unit up to 5, else 4 or 5 round steps. */
static int
s_grid_steps (double ymax)
{
    if (ymax <= 5)
        return (int)ymax;
    while (ymax >= 10)
        ymax /= 10;
    return ymax < 1.5 ? 5 : ymax < 3 ? 4 : 5;
}

/*  The chart's axes: grid lines with their counts, a date every five
    days. */
static void
s_chart_axes (s_page_t *p, const json_t *report, double x, double y, double w, double h,
              double ymax, int days)
{
    char label[32];
    int steps = s_grid_steps (ymax);
    for (int g = 0; g <= steps; g++) {
        double gy = y + h - h * g / steps;
        s_hline (p->cr, x, gy, w, g ? RULE : MUTED);
        s_count ((int64_t)llround (ymax * g / steps), label, sizeof label);
        s_text (p, x - 34, gy - 4.2, 30, 7, false, S_RIGHT, MUTED, label);
    }
    for (int d = days; d >= 0; d -= 5) {
        double tx = x + w * (days - d) / days;
        s_day_label (orch_json_member (report, "generated_local"), d, label, sizeof label);
        s_rgb (p->cr, MUTED);
        cairo_set_line_width (p->cr, 0.6);
        cairo_move_to (p->cr, tx, y + h);
        cairo_line_to (p->cr, tx, y + h + 3);
        cairo_stroke (p->cr);
        s_text (p, tx - 20, y + h + 4, 40, 7, false, S_CENTER, MUTED, label);
    }
}

/*  A legend entry at (x, y): a square of colour rgb, then text. Returns
    the x of the next entry. */
static double
s_legend (s_page_t *p, double x, double y, uint32_t rgb, const char *text)
{
    s_rect (p->cr, x, y + 1.5, 7, 7, rgb);
    return x + 9 + s_text (p, x + 9, y, 0, 7, false, S_LEFT, INK, text) + 12;
}

/*  Rejects of each run of the last days: a bar per run at its start,
    in its connector's colour; a failed run is marked under the axis. */
static void
s_chart (s_page_t *p, const json_t *report, double bottom)
{
    const json_t *runs = json_object_get (report, "runs");
    int days = (int)s_int (report, "runs_days");
    days = days > 0 ? days : ORCH_QUALITY_DAYS;
    int64_t rejects = 0, records = 0, most = 0, failed = 0;
    size_t i;
    json_t *r;
    json_array_foreach (runs, i, r)
    {
        int64_t n = s_int (r, "rejected");
        rejects += n;
        records += s_int (r, "records");
        most = n > most ? n : most;
        failed += strcmp (orch_json_member (r, "status"), "failed") == 0;
    }
    char right[160], a[32], b[32];
    s_count (rejects, a, sizeof a);
    s_count (records, b, sizeof b);
    snprintf (right, sizeof right, "%zu run%s, %s rejected of %s records", json_array_size (runs),
              json_array_size (runs) == 1 ? "" : "s", a, b);
    char title[64];
    snprintf (title, sizeof title, "Rejects per run, last %d days", days);
    s_heading (p, title, right);
    double x = MARGIN + 38, w = CONTENT_W - 38 - 4, y = p->y + 6, h = bottom - y - CHART_BELOW;
    h = h < CHART_MIN_H ? CHART_MIN_H : h;
    double ymax = s_nice_max ((double)most);
    s_chart_axes (p, report, x, y, w, h, ymax, days);
    double end = s_epoch (orch_json_member (report, "generated_at")), start = end - days * 86400.0;
    const char *names[NPALETTE];
    size_t nnames = 0;
    json_array_foreach (runs, i, r)
    {
        double t = s_epoch (orch_json_member (r, "started_at"));
        size_t c = s_connector_index (names, &nnames, orch_json_member (r, "connector"));
        if (t < start || t > end || end <= start)
            continue;
        double bx = x + (w - 3.2) * (t - start) / (end - start);
        double bh = h * (double)s_int (r, "rejected") / ymax;
        s_rect (p->cr, bx, y + h - bh, 3.2, bh, s_palette[c]);
        if (strcmp (orch_json_member (r, "status"), "failed") == 0)
            s_rect (p->cr, bx, y + h + 1, 3.2, 2.5, BAD);
    }
    if (json_array_size (runs) == 0)
        s_text (p, x, y + h / 2 - 5, w, 8, false, S_CENTER, MUTED,
                "No run finished in these days.");
    double lx = x;
    for (size_t c = 0; c < nnames; c++)
        lx = s_legend (p, lx, y + h + 16, s_palette[c], names[c]);
    if (failed)
        s_legend (p, lx, y + h + 16, BAD, "failed run (mark under the axis)");
    p->y = y + h + CHART_BELOW;
}

static void
s_footer (s_page_t *p, const json_t *report)
{
    char text[160];
    snprintf (text, sizeof text, "vendange quality report, %s UTC",
              orch_json_member (report, "generated_at"));
    s_hline (p->cr, MARGIN, FOOTER_Y - 4, CONTENT_W, RULE);
    s_text (p, MARGIN, FOOTER_Y, 0, 6.5, false, S_LEFT, MUTED, text);
    s_text (p, MARGIN, FOOTER_Y, CONTENT_W, 6.5, false, S_RIGHT, MUTED,
            "page 1 of 1  -  every anomaly: vendange quality --csv");
}

/*  Draws the page on cr. */
static void
s_draw (cairo_t *cr, PangoLayout *layout, const json_t *report)
{
    s_page_t p = {.cr = cr, .layout = layout, .y = 0};
    s_header (&p, report);
    s_sources (&p, report);
    /* the bars take what the anomalies and the smallest chart leave */
    size_t checks = 0, shown = 0, i, j;
    json_t *t, *k;
    json_array_foreach (json_object_get (report, "tables"), i, t)
        json_array_foreach (json_object_get (t, "checks"), j, k)
    {
        checks++;
        shown += s_int (k, "count") > 0;
    }
    double chart = 20 + 6 + CHART_MIN_H + CHART_BELOW;
    double rest = FOOTER_Y - 12 - p.y - chart - (20 + ROW_H * (double)(checks + 1) + 8);
    /* examples on two lines while the bars keep BAR_MIN_H */
    bool two =
        rest - 6.5 * (double)shown - TABLES_FIXED_H >= BAR_MIN_H * (double)s_most_columns (report);
    s_tables (&p, report, rest - (two ? 6.5 * (double)shown : 0));
    s_anomalies (&p, report, two ? 2 : 1);
    s_chart (&p, report, FOOTER_Y - 12);
    s_footer (&p, report);
}

static cairo_status_t
s_write (void *closure, const unsigned char *data, unsigned int length)
{
    return vd_buf_add (closure, data, length) == 0 ? CAIRO_STATUS_SUCCESS
                                                   : CAIRO_STATUS_WRITE_ERROR;
}

/*  Text drawn the same on every output: no hinting, no rounding of glyph
    positions to device pixels. */
static PangoLayout *
s_new_layout (cairo_t *cr)
{
    PangoLayout *layout = pango_cairo_create_layout (cr);
    if (!layout)
        return NULL;
    PangoContext *ctx = pango_layout_get_context (layout);
    cairo_font_options_t *fo = cairo_font_options_create ();
    cairo_font_options_set_hint_metrics (fo, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_hint_style (fo, CAIRO_HINT_STYLE_NONE);
    pango_cairo_context_set_font_options (ctx, fo);
    cairo_font_options_destroy (fo);
    pango_context_set_round_glyph_positions (ctx, FALSE);
    pango_layout_context_changed (layout);
    pango_layout_set_single_paragraph_mode (layout, TRUE);
    return layout;
}

int
orch_quality_pdf (const json_t *report, vd_buf_t *out, vd_error_t *err)
{
    if (!json_is_object (report)) {
        vd_error_set (err, VD_ERR_PERMANENT, "no quality report to draw");
        return -1;
    }
    cairo_surface_t *surface = cairo_pdf_surface_create_for_stream (s_write, out, PAGE_W, PAGE_H);
    cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_TITLE, "Data quality report");
    cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_CREATOR, "vendange");
    const char *date = orch_json_member (report, "generated_at");
    if (*date)
        cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_CREATE_DATE, date);
    cairo_t *cr = cairo_create (surface);
    PangoLayout *layout = cairo_status (cr) == CAIRO_STATUS_SUCCESS ? s_new_layout (cr) : NULL;
    if (layout) {
        s_draw (cr, layout, report);
        cairo_show_page (cr);
        g_object_unref (layout);
    }
    cairo_status_t status = layout ? cairo_status (cr) : CAIRO_STATUS_NO_MEMORY;
    cairo_destroy (cr);
    cairo_surface_finish (surface);
    if (status == CAIRO_STATUS_SUCCESS)
        status = cairo_surface_status (surface);
    cairo_surface_destroy (surface);
    if (status == CAIRO_STATUS_SUCCESS)
        return 0;
    if (status == CAIRO_STATUS_WRITE_ERROR)
        vd_error_set (err, VD_ERR_PERMANENT, "the quality report's PDF is larger than %zu bytes",
                      out->max);
    else
        vd_error_set (err, VD_ERR_TRANSIENT, "cannot draw the quality report");
    vd_error_detail (err, "cairo: %s", cairo_status_to_string (status));
    return -1;
}

void
orch_quality_pdf_get (PGconn *conn, const char *timezone, orch_answer_t *a)
{
    vd_error_t err;
    vd_error_clear (&err);
    vd_buf_t out;
    vd_buf_init (&out, ORCH_QUALITY_PDF_MAX);
    json_t *report = orch_quality_json (conn, timezone, &err);
    int rc = report ? orch_quality_pdf (report, &out, &err) : -1;
    json_decref (report);
    if (rc < 0) {
        vd_buf_free (&out);
        orch_answer_fail (a, &err);
        return;
    }
    a->status = 200;
    a->html_len = out.len;
    a->html = vd_buf_take (&out);
    a->content_type = "application/pdf";
    if (!a->html)
        orch_answer_error (a, 500, "out of memory", NULL, NULL);
}

/*  Pages of a PDF: its "/Type /Page" objects (not "/Type /Pages"). */
static int
s_pages (const vd_buf_t *b)
{
    int n = 0;
    for (size_t i = 0; i + 11 < b->len; i++)
        if (memcmp (b->data + i, "/Type /Page", 11) == 0 && b->data[i + 11] != 's')
            n++;
    return n;
}

int
orch_quality_pdf_test (bool verbose)
{
    int failed = 0;
    char text[32];
    s_count (1234567, text, sizeof text);
    failed += strcmp (text, "1,234,567") != 0;
    s_count (-999, text, sizeof text);
    failed += strcmp (text, "-999") != 0;
    s_count (0, text, sizeof text);
    failed += strcmp (text, "0") != 0;
    failed += s_nice_max (0) != 1 || s_nice_max (7) != 10 || s_nice_max (12) != 20 ||
              s_nice_max (300) != 500 || s_nice_max (1000) != 1000;
    failed += s_epoch ("2026-12-06T07:27:40Z") != 1796542060.0 || s_epoch ("nope") != -1;
    s_duration (2.54, text, sizeof text);
    failed += strcmp (text, "2.5 s") != 0;
    s_duration (185, text, sizeof text);
    failed += strcmp (text, "3 min 05 s") != 0;
    s_duration (7650, text, sizeof text);
    failed += strcmp (text, "2 h 07 min") != 0;
    s_day_label ("2026-03-02 08:27", 5, text, sizeof text);
    failed += strcmp (text, "25 Feb") != 0;

    json_t *report = json_loads (
        "{\"generated_at\": \"2026-12-06T07:27:40Z\", \"generated_local\": \"2026-12-06 08:27\","
        " \"timezone\": \"Europe/Paris\", \"runs_days\": 30,"
        " \"sources\": [{\"name\": \"boutique\", \"type\": \"isavigne\", \"last_run\": {\"id\": 7,"
        "  \"status\": \"partial\", \"started_local\": \"2026-12-06 08:20\", \"duration_s\": 2.5,"
        "  \"records\": 12345, \"rejected\": 3}}, {\"name\": \"odoo\", \"type\": \"odoo\","
        "  \"last_run\": null}],"
        " \"runs\": [{\"id\": 6, \"connector\": \"boutique\", \"status\": \"failed\","
        "  \"started_at\": \"2026-11-20T02:30:00Z\", \"records\": 10, \"rejected\": 0},"
        "  {\"id\": 7, \"connector\": \"boutique\", \"status\": \"partial\","
        "  \"started_at\": \"2026-12-06T07:20:00Z\", \"records\": 12345, \"rejected\": 3}],"
        " \"tables\": [{\"table\": \"customers\", \"rows\": 62, \"score\": 89.7,"
        "  \"completeness_mean\": 85.9, \"invalid\": 2, \"duplicate\": 4, \"orphan\": 0,"
        "  \"completeness\": [{\"column\": \"email\", \"filled\": 60, \"percent\": 96.8},"
        "   {\"column\": \"phone\", \"filled\": 2, \"percent\": 3.2}],"
        "  \"checks\": [{\"check\": \"duplicate_email\", \"kind\": \"duplicate\", \"label\":"
        "   \"email shared with another customer\", \"count\": 2, \"sample\": [{\"key\": "
        "   \"isavigne-C0002\", \"detail\": \"a@b.fr (also isavigne-C9999)\\nnext line\"}]}]},"
        "  {\"table\": \"contact_history\", \"rows\": 0, \"score\": null, \"completeness\": [],"
        "   \"checks\": []}]}",
        0, NULL);
    vd_buf_t out;
    vd_error_t err;
    vd_error_clear (&err);
    vd_buf_init (&out, ORCH_QUALITY_PDF_MAX);
    failed += !report || orch_quality_pdf (report, &out, &err) < 0;
    failed += out.len < 1000 || memcmp (out.data, "%PDF-", 5) != 0 || s_pages (&out) != 1;
    if (verbose)
        printf ("  orch_quality_pdf: %zu bytes, %d page(s) %s\n", out.len, s_pages (&out), err.msg);
    /* an empty report is still one page; no report is an error */
    json_t *empty = json_object ();
    vd_buf_reset (&out);
    failed += orch_quality_pdf (empty, &out, &err) < 0 || s_pages (&out) != 1;
    failed += orch_quality_pdf (NULL, &out, &err) == 0;
    json_decref (empty);
    vd_buf_free (&out);
    /* past the ceiling */
    vd_buf_init (&out, 512);
    vd_error_clear (&err);
    failed += orch_quality_pdf (report, &out, &err) == 0 || !strstr (err.msg, "larger than");
    vd_buf_free (&out);
    json_decref (report);
    if (verbose)
        printf ("orch_quality_pdf_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
