/*  cli_reco - `vendange reco ...`. */
#include "vendange.h"
#include "orch_json.h"
#include "cli.h"
#include "cli_http.h"
#include "cli_reco.h"
#include <czmq.h>
#include <math.h>

#define POLL_MS 500
#define POLL_TIMEOUT_MS 5000
#define WAIT_MS (10 * 60 * 1000)
#define EXPORT_TIMEOUT_MS (30 * 60 * 1000)

static const char s_usage[] =
    "usage: vendange reco CUSTOMER [--json] [--refresh]\n"
    "       vendange reco run [--wait]\n"
    "       vendange reco feedback CUSTOMER PRODUCT good|bad [--reason TEXT]\n"
    "       vendange reco export [--campaign NAME] [--out FILE]\n"
    "       vendange reco precision [--json]\n\n"
    "CUSTOMER (also `reco show CUSTOMER`): the customer's segment, aggregates and\n"
    "campaign flag, then its current recommendations with their reasons; --json\n"
    "prints GET /api/customers/CUSTOMER/recommendations as is; --refresh first\n"
    "recomputes them (queues a job and waits until the recommender ran it).\n"
    "run: queues a run over every customer; --wait follows it to its end.\n"
    "feedback: a staff verdict on a recommendation (a bad one excludes the product\n"
    "for that customer and lowers its signals); the customer's recommendations\n"
    "are recomputed at once.\n"
    "export: the campaign CSV (opted-out, invalid and missing emails left out) on\n"
    "stdout or in FILE; --campaign NAME records the rows as exported in NAME, so\n"
    "a later click in that campaign counts as following them.\n"
    "precision: the share of past recommendations followed by a click or a\n"
    "purchase, overall and per signal, and the staff verdicts.\n";

typedef struct {
    char api[512];
    bool json, refresh, wait;
    const char *reason, *campaign, *out;
} s_opts_t;

/*  A JSON number (or numeric string) as a double; NAN when missing. */
static double
s_num (const json_t *obj, const char *key)
{
    json_t *v = json_object_get (obj, key);
    return json_is_number (v) ? json_number_value (v) : NAN;
}

/*  /api/customers/<escaped key><suffix> into path. Returns 0, -1. */
static int
s_customer_path (const char *key, const char *suffix, char *path, size_t size)
{
    char *e = vd_httpc_escape (key);
    int n = e ? snprintf (path, size, "/api/customers/%s%s", e, suffix) : -1;
    free (e);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

static void
s_print_header (const json_t *c, const json_t *reco, FILE *out)
{
    const char *first = orch_json_member (c, "first_name"),
               *last = orch_json_member (c, "last_name");
    fprintf (out, "%s%s%s (%s)", first, *first && *last ? " " : "", last,
             orch_json_member (reco, "customer_key"));
    if (*orch_json_member (c, "segment"))
        fprintf (out, ", segment %s", orch_json_member (c, "segment"));
    fputc ('\n', out);
    const json_t *agg = json_object_get (c, "aggregates");
    if (agg)
        fprintf (out,
                 "  %" JSON_INTEGER_FORMAT " purchase(s), first %s, last %s, total %.2f, "
                 "average order %.2f\n",
                 json_integer_value (json_object_get (agg, "purchase_count")),
                 orch_json_member (agg, "first_purchase_date"),
                 orch_json_member (agg, "last_purchase_date"), s_num (agg, "total_spent"),
                 s_num (agg, "avg_order_value"));
    const json_t *totals = json_object_get (c, "totals");
    if (totals)
        fprintf (out,
                 "  bought %.2f bottles (75 cl eq.) for %.2f in %" JSON_INTEGER_FORMAT " line(s)\n",
                 s_num (totals, "bottles_75cl_eq"), s_num (totals, "money"),
                 json_integer_value (json_object_get (totals, "lines")));
    const char *block = orch_json_member (reco, "campaign_block");
    fprintf (out, "  email %s; campaign: %s%s%s%s\n",
             *orch_json_member (c, "email") ? orch_json_member (c, "email") : "-",
             json_is_true (json_object_get (reco, "campaign_ok")) ? "ok" : "excluded",
             *block ? " (" : "", block, *block ? ")" : "");
    if (json_is_true (json_object_get (reco, "win_back")))
        fprintf (out, "  win-back suggestions (the customer is slipping away)\n");
}

void
cli_reco_print (const json_t *customer, const json_t *reco, FILE *out)
{
    s_print_header (customer, reco, out);
    json_t *list = json_object_get (reco, "recommendations");
    if (json_array_size (list) == 0) {
        fprintf (out, "\nno recommendations yet (`vendange reco %s --refresh` computes them)\n",
                 orch_json_member (reco, "customer_key"));
        return;
    }
    fprintf (out, "\nrecommendations (run %" JSON_INTEGER_FORMAT ", model %s, %s):\n",
             json_integer_value (json_object_get (reco, "run_id")),
             orch_json_member (reco, "model_version"), orch_json_member (reco, "computed_at"));
    size_t i, k;
    json_t *r, *why;
    json_array_foreach (list, i, r)
    {
        const char *name = orch_json_member (r, "product_name");
        fprintf (out, "  %" JSON_INTEGER_FORMAT ". %s%s%s%s  score %.3f",
                 json_integer_value (json_object_get (r, "rank")),
                 *name ? name : orch_json_member (r, "product_key"), *name ? " (" : "",
                 *name ? orch_json_member (r, "product_key") : "", *name ? ")" : "",
                 s_num (r, "score"));
        if (*orch_json_member (r, "verdict"))
            fprintf (out, "  [marked %s]", orch_json_member (r, "verdict"));
        fputc ('\n', out);
        json_array_foreach (json_object_get (r, "reasons"), k, why)
            fprintf (out, "       - %s\n", orch_json_member (why, "text"));
    }
}

/*  Polls GET /api/reco/runs/ID until the run ended. Returns the run
    (caller decrefs), NULL with the error printed. */
static json_t *
s_wait_run (const char *api, json_int_t id)
{
    char path[64];
    snprintf (path, sizeof path, "/api/reco/runs/%" JSON_INTEGER_FORMAT, id);
    int64_t deadline = zclock_mono () + WAIT_MS;
    while (zclock_mono () < deadline) {
        cli_reply_t reply;
        static const long ok[] = {200, 0};
        if (cli_api (api, "GET", path, NULL, &reply, ok) < 0)
            return NULL;
        const char *status = orch_json_member (reply.json, "status");
        if (strcmp (status, "success") == 0 || strcmp (status, "failed") == 0) {
            json_t *run = json_incref (reply.json);
            cli_reply_clear (&reply);
            return run;
        }
        cli_reply_clear (&reply);
        zclock_sleep (POLL_MS);
    }
    fprintf (stderr,
             "vendange: recommendation run %" JSON_INTEGER_FORMAT " did not end within %d s\n"
             "  hint: is the recommender running? `vendange status` lists it\n",
             id, WAIT_MS / 1000);
    return NULL;
}

/*  Waits for run id; 0 when it succeeded, -1 (said why) otherwise. */
static int
s_wait_success (const char *api, json_int_t id, bool summary)
{
    json_t *run = s_wait_run (api, id);
    if (!run)
        return -1;
    int rc = strcmp (orch_json_member (run, "status"), "success") == 0 ? 0 : -1;
    if (rc < 0)
        fprintf (stderr, "vendange: recommendation run %" JSON_INTEGER_FORMAT " failed: %s\n", id,
                 orch_json_member (run, "error"));
    else if (summary)
        printf ("recommendation run %" JSON_INTEGER_FORMAT " success: %" JSON_INTEGER_FORMAT
                " customer(s), %" JSON_INTEGER_FORMAT " recommendation(s) in %.1f s, model %s\n",
                id, json_integer_value (json_object_get (run, "customers")),
                json_integer_value (json_object_get (run, "recommendations")),
                s_num (run, "duration_s"), orch_json_member (run, "model_version"));
    json_decref (run);
    return rc;
}

static int
s_show (const s_opts_t *o, const char *key)
{
    char path[700];
    if (s_customer_path (key, "/recommendations", path, sizeof path) < 0) {
        fprintf (stderr, "vendange: customer key too long\n");
        return CLI_EXIT_USAGE;
    }
    cli_reply_t reply, customer;
    if (o->refresh) {
        static const long queued[] = {202, 0};
        if (cli_api (o->api, "POST", path, NULL, &reply, queued) < 0)
            return CLI_EXIT_FAIL;
        json_int_t id = json_integer_value (json_object_get (reply.json, "reco_run_id"));
        cli_reply_clear (&reply);
        if (s_wait_success (o->api, id, false) < 0)
            return CLI_EXIT_FAIL;
    }
    static const long ok[] = {200, 0};
    if (cli_api (o->api, "GET", path, NULL, &reply, ok) < 0)
        return CLI_EXIT_FAIL;
    if (o->json) {
        char *text = json_dumps (reply.json, JSON_INDENT (2));
        printf ("%s\n", text ? text : "null");
        free (text);
    } else {
        vd_error_t err;
        vd_error_clear (&err);
        s_customer_path (key, "", path, sizeof path);
        bool have = cli_http_call (o->api, "GET", path, NULL, 0, &customer, &err) == 0;
        cli_reco_print (have && customer.status == 200 ? customer.json : NULL, reply.json, stdout);
        if (have)
            cli_reply_clear (&customer);
    }
    cli_reply_clear (&reply);
    return CLI_EXIT_OK;
}

static int
s_run (const s_opts_t *o)
{
    cli_reply_t reply;
    vd_error_t err;
    vd_error_clear (&err);
    if (cli_http_call (o->api, "POST", "/api/reco/run", NULL, 0, &reply, &err) < 0) {
        cli_print_error (&err);
        return CLI_EXIT_FAIL;
    }
    json_int_t id = json_integer_value (json_object_get (reply.json, "reco_run_id"));
    bool queued = reply.status == 202, waiting = reply.status == 409 && o->wait && id > 0;
    if (!queued && !waiting) {
        cli_print_api_error (&reply);
        cli_reply_clear (&reply);
        return CLI_EXIT_FAIL;
    }
    cli_reply_clear (&reply);
    if (queued)
        printf ("queued recommendation run %" JSON_INTEGER_FORMAT "\n", id);
    else
        printf ("recommendation run %" JSON_INTEGER_FORMAT " was already queued\n", id);
    if (o->wait && s_wait_success (o->api, id, true) < 0)
        return CLI_EXIT_FAIL;
    return CLI_EXIT_OK;
}

static int
s_feedback (const s_opts_t *o, char **args)
{
    const char *verdict = args[2];
    if (strcmp (verdict, "good") != 0 && strcmp (verdict, "bad") != 0) {
        fprintf (stderr, "vendange: the verdict is good or bad, not \"%s\"\n%s", verdict, s_usage);
        return CLI_EXIT_USAGE;
    }
    char *product = vd_httpc_escape (args[1]);
    char suffix[512], path[1200];
    snprintf (suffix, sizeof suffix, "/recommendations/%s/feedback", product ? product : "");
    free (product);
    if (s_customer_path (args[0], suffix, path, sizeof path) < 0) {
        fprintf (stderr, "vendange: customer or product key too long\n");
        return CLI_EXIT_USAGE;
    }
    json_t *body = json_pack ("{s:s}", "verdict", verdict);
    if (body && o->reason)
        json_object_set_new (body, "reason", json_string (o->reason));
    cli_reply_t reply;
    static const long ok[] = {201, 0};
    int rc = body ? cli_api (o->api, "POST", path, body, &reply, ok) : -1;
    json_decref (body);
    if (rc < 0)
        return CLI_EXIT_FAIL;
    printf ("recorded a %s verdict on %s for %s (signals:", verdict, args[1], args[0]);
    size_t i;
    json_t *s;
    json_array_foreach (json_object_get (reply.json, "signals"), i, s)
        printf ("%s %s", i ? "," : "", json_string_value (s));
    printf ("); recommendation run %" JSON_INTEGER_FORMAT " recomputes them\n",
            json_integer_value (json_object_get (reply.json, "reco_run_id")));
    cli_reply_clear (&reply);
    return CLI_EXIT_OK;
}

/*  Data rows of a CSV text (records after the header; quoted line
    breaks are not record ends). */
static long
s_csv_rows (const char *csv)
{
    long n = 0;
    bool quoted = false;
    for (const char *p = csv; *p; p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (*p == '\n' && !quoted)
            n++;
    }
    return n > 0 ? n - 1 : 0;
}

static int
s_export (const s_opts_t *o)
{
    char path[512] = "/api/reco/campaign.csv";
    if (o->campaign) {
        char *e = vd_httpc_escape (o->campaign);
        snprintf (path, sizeof path, "/api/reco/campaign.csv?campaign=%s", e ? e : "");
        free (e);
    }
    cli_reply_t reply;
    vd_error_t err;
    vd_error_clear (&err);
    if (cli_http_call (o->api, "GET", path, NULL, EXPORT_TIMEOUT_MS, &reply, &err) < 0) {
        cli_print_error (&err);
        return CLI_EXIT_FAIL;
    }
    if (reply.status != 200) {
        cli_print_api_error (&reply);
        cli_reply_clear (&reply);
        return CLI_EXIT_FAIL;
    }
    bool ok = cli_reply_save (&reply, o->out) == 0;
    if (ok && o->out)
        fprintf (stderr, "wrote %ld row(s) to %s%s%s\n", s_csv_rows (reply.body), o->out,
                 o->campaign ? ", recorded as exported in campaign " : "",
                 o->campaign ? o->campaign : "");
    cli_reply_clear (&reply);
    return ok ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static void
s_print_share (const char *label, const json_t *o)
{
    json_t *p = json_object_get (o, "precision");
    printf ("%s", label);
    if (json_is_number (p))
        printf ("%.1f %%", 100 * json_number_value (p));
    else
        printf ("-");
    printf (" (%" JSON_INTEGER_FORMAT " followed of %" JSON_INTEGER_FORMAT ")",
            json_integer_value (json_object_get (o, "followed")),
            json_integer_value (json_object_get (o, "evaluated")));
}

static int
s_precision (const s_opts_t *o)
{
    cli_reply_t reply;
    static const long ok[] = {200, 0};
    if (cli_api (o->api, "GET", "/api/reco/precision", NULL, &reply, ok) < 0)
        return CLI_EXIT_FAIL;
    json_t *j = reply.json;
    if (o->json) {
        char *text = json_dumps (j, JSON_INDENT (2));
        printf ("%s\n", text ? text : "null");
        free (text);
        cli_reply_clear (&reply);
        return CLI_EXIT_OK;
    }
    printf ("precision of past recommendations (followed by a click or a purchase within "
            "%" JSON_INTEGER_FORMAT " days):\n",
            json_integer_value (json_object_get (j, "follow_days")));
    s_print_share ("  all          ", j);
    printf (", %" JSON_INTEGER_FORMAT " too recent to judge\n",
            json_integer_value (json_object_get (j, "pending")));
    const char *name;
    json_t *s;
    json_object_foreach (json_object_get (j, "by_signal"), name, s)
    {
        char label[40];
        snprintf (label, sizeof label, "  %-13s", name);
        s_print_share (label, s);
        putchar ('\n');
    }
    json_t *fb = json_object_get (j, "feedback");
    printf ("staff verdicts: %" JSON_INTEGER_FORMAT " good, %" JSON_INTEGER_FORMAT " bad\n",
            json_integer_value (json_object_get (fb, "good")),
            json_integer_value (json_object_get (fb, "bad")));
    cli_reply_clear (&reply);
    return CLI_EXIT_OK;
}

/*  Which options each subcommand takes. */
enum { O_JSON = 1, O_REFRESH = 2, O_WAIT = 4, O_REASON = 8, O_CAMPAIGN = 16, O_OUT = 32 };

static const struct {
    const char *name; /* NULL: show a customer */
    int nargs;
    int options;
} s_subs[] = {
    {"run", 0, O_WAIT},       {"feedback", 3, O_REASON},       {"export", 0, O_CAMPAIGN | O_OUT},
    {"precision", 0, O_JSON}, {"show", 1, O_JSON | O_REFRESH},
};

/*  The subcommand of args (s_subs index; the last one when args[0] is a
    customer key); -1 on a wrong argument count, -2 on an option that
    does not apply. */
static int
s_find (const char *name)
{
    int i = 0, n = (int)(sizeof s_subs / sizeof s_subs[0]);
    while (i < n - 1 && strcmp (name, s_subs[i].name) != 0)
        i++;
    return i;
}

static int
s_sub (int nargs, char **args, int used)
{
    int i = s_find (args[0]);
    bool named = strcmp (args[0], s_subs[i].name) == 0;
    if (nargs - named != s_subs[i].nargs)
        return -1;
    return used & ~s_subs[i].options ? -2 : i;
}

int
cli_reco_main (int argc, char **argv, const vd_config_t *cfg)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},           {"refresh", no_argument, NULL, 'r'},
        {"wait", no_argument, NULL, 'w'},           {"reason", required_argument, NULL, 'R'},
        {"campaign", required_argument, NULL, 'c'}, {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    s_opts_t o = {0};
    int c, rc, used = 0;
    optind = 0;
    while ((rc = cli_getopt (argc, argv, ":h", longopts, s_usage, &c)) < 0 && c != -1) {
        used |= c == 'j'   ? O_JSON
                : c == 'r' ? O_REFRESH
                : c == 'w' ? O_WAIT
                : c == 'R' ? O_REASON
                : c == 'c' ? O_CAMPAIGN
                           : O_OUT;
        o.json |= c == 'j';
        o.refresh |= c == 'r';
        o.wait |= c == 'w';
        o.reason = c == 'R' ? optarg : o.reason;
        o.campaign = c == 'c' ? optarg : o.campaign;
        o.out = c == 'o' ? optarg : o.out;
    }
    if (rc >= 0)
        return rc;
    if (optind >= argc) {
        fprintf (stderr, "vendange: reco wants a CUSTOMER or a subcommand\n%s", s_usage);
        return CLI_EXIT_USAGE;
    }
    char **args = argv + optind;
    int sub = s_sub (argc - optind, args, used);
    if (sub < 0) {
        int i = s_find (args[0]);
        if (sub == -1)
            fprintf (stderr, "vendange: reco %s wants %d argument(s)\n%s", s_subs[i].name,
                     s_subs[i].nargs, s_usage);
        else
            fprintf (stderr, "vendange: an option given does not apply to reco %s\n%s",
                     s_subs[i].name, s_usage);
        return CLI_EXIT_USAGE;
    }
    cli_api_url (cfg, o.api, sizeof o.api);
    bool named = strcmp (args[0], s_subs[sub].name) == 0;
    switch (sub) {
    case 0:
        return s_run (&o);
    case 1:
        return s_feedback (&o, args + 1);
    case 2:
        return s_export (&o);
    case 3:
        return s_precision (&o);
    default:
        return s_show (&o, args[named]);
    }
}

int
cli_reco_test (bool verbose)
{
    int failed = 0;
    json_t *c = json_loads ("{\"first_name\":\"Anne\",\"last_name\":\"Muller\",\"segment\":"
                            "\"loyal\",\"email\":\"a@x.fr\",\"aggregates\":{\"purchase_count\":3,"
                            "\"total_spent\":120.5},\"totals\":{\"lines\":4,\"bottles_75cl_eq\":"
                            "12,\"money\":120.5}}",
                            0, NULL);
    json_t *r = json_loads ("{\"customer_key\":\"isavigne-C1\",\"campaign_ok\":false,"
                            "\"campaign_block\":\"email_opt_out\",\"run_id\":4,\"recommendations\":"
                            "[{\"rank\":1,\"product_key\":\"RIES\",\"product_name\":\"Riesling\","
                            "\"score\":0.5,\"verdict\":\"bad\",\"reasons\":[{\"text\":\"You like "
                            "Riesling\"}]}]}",
                            0, NULL);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&text, &len);
    if (f && c && r) {
        cli_reco_print (c, r, f);
        fclose (f);
        failed += strstr (text, "Anne Muller (isavigne-C1), segment loyal") == NULL;
        failed += strstr (text, "campaign: excluded (email_opt_out)") == NULL;
        failed += strstr (text, "1. Riesling (RIES)  score 0.500  [marked bad]") == NULL;
        failed += strstr (text, "- You like Riesling") == NULL;
        failed += strstr (text, "12.00 bottles (75 cl eq.) for 120.50") == NULL;
    } else
        failed++;
    free (text);
    json_decref (c);
    json_decref (r);
    failed += s_csv_rows ("h\r\na,\"x\ny\"\r\nb\r\n") != 2 || s_csv_rows ("h\r\n") != 0;
    char *args[] = {(char *)"feedback", (char *)"C", (char *)"P", (char *)"bad", NULL};
    failed +=
        s_sub (4, args, O_REASON) != 1 || s_sub (3, args, 0) >= 0 || s_sub (4, args, O_JSON) >= 0;
    char *show[] = {(char *)"isavigne-C1", NULL};
    failed += s_sub (1, show, O_JSON | O_REFRESH) != 4 || s_sub (1, show, O_WAIT) >= 0;
    if (verbose)
        printf ("cli_reco_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
