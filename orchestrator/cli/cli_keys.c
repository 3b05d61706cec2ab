/*  cli_keys - `vendange keys`: the CURVE key pairs of the services. */
#include "vendange.h"
#include "cli_http.h"
#include "cli_keys.h"
#include "cli_up.h"
#include "vd_keys.h"

static const char s_usage[] =
    "usage: vendange keys init | rotate ROLE | retire ROLE | list  [--dir DIR]\n\n"
    "The CURVE key pairs of the services (one per role), in DIR (default\n"
    "VENDANGE_KEYS_DIR, else $VENDANGE_HOME/keys):\n"
    "  init         make the key pair of every role that has none (`vendange up`\n"
    "               does it); ROLE.key is that service's secret (0600), public/\n"
    "               holds the public keys every service accepts\n"
    "  rotate ROLE  a new key pair for ROLE; its old public key stays accepted\n"
    "               (public/ROLE.<time>.pub) until `retire`: restart the services\n"
    "               of ROLE (and, for orchestrator, normalizer or loader, the\n"
    "               services that connect to it), then retire\n"
    "  retire ROLE  stop accepting the older keys of ROLE\n"
    "  list         the accepted public keys, by role\n"
    "Roles: orchestrator, normalizer, loader, extractor-isavigne, extractor-odoo,\n"
    "extractor-webhook, recommender.\n";

int
cli_keys_dir (const vd_config_t *cfg, char *out, size_t size, vd_error_t *err)
{
    const char *dir = vd_config_str (cfg, VD_CFG_KEYS_DIR);
    char home[PATH_MAX];
    int n;
    if (*dir)
        n = snprintf (out, size, "%s", dir);
    else if (cli_up_home (vd_config_str (cfg, VD_CFG_HOME), geteuid () == 0,
                          getenv ("XDG_DATA_HOME"), getenv ("HOME"), home, sizeof home) == 0)
        n = snprintf (out, size, "%s/keys", home);
    else
        n = -1;
    if (n < 0 || (size_t)n >= size) {
        vd_error_set (err, VD_ERR_PERMANENT, "cannot choose the keys folder");
        snprintf (err->hint, sizeof err->hint, "set VENDANGE_KEYS_DIR or VENDANGE_HOME");
        return -1;
    }
    return 0;
}

int
cli_keys_ensure (const char *dir, vd_error_t *err)
{
    int made = 0;
    for (size_t i = 0; vd_keys_roles[i]; i++) {
        int rc = vd_keys_make (dir, vd_keys_roles[i], false, err);
        if (rc < 0)
            return -1;
        made += rc;
    }
    return made;
}

static void
s_print (void *arg, const char *role, const char *key, const char *file)
{
    (void)arg;
    printf ("%-20s %s  %s\n", role, key, file);
}

/*  Runs one action on dir; role is argv's ROLE or NULL. */
static int
s_act (const char *action, const char *role, const char *dir, vd_error_t *err)
{
    int rc;
    if (strcmp (action, "init") == 0) {
        if ((rc = cli_keys_ensure (dir, err)) >= 0)
            printf ("%d key pair(s) made in %s\n", rc, dir);
    } else if (strcmp (action, "rotate") == 0) {
        if ((rc = vd_keys_make (dir, role, true, err)) >= 0)
            printf ("new key pair of %s in %s; the old public key stays accepted until "
                    "`vendange keys retire %s`\n",
                    role, dir, role);
    } else if (strcmp (action, "retire") == 0) {
        if ((rc = vd_keys_retire (dir, role, err)) >= 0)
            printf ("%d older key(s) of %s no longer accepted\n", rc, role);
    } else
        rc = vd_keys_each (dir, s_print, NULL, err);
    return rc < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int
cli_keys_main (int argc, char **argv, const vd_config_t *cfg)
{
    static const struct option options[] = {{"dir", required_argument, NULL, 'd'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    const char *dir_arg = NULL;
    int c, rc;
    optind = 0;
    while ((rc = cli_getopt (argc, argv, "d:h", options, s_usage, &c)) == -1 && c != -1)
        if (c == 'd')
            dir_arg = optarg;
    if (rc != -1)
        return rc;
    const char *action = optind < argc ? argv[optind] : NULL;
    const char *role = optind + 1 < argc ? argv[optind + 1] : NULL;
    bool needs_role = action && (strcmp (action, "rotate") == 0 || strcmp (action, "retire") == 0);
    bool known =
        action && (needs_role || strcmp (action, "init") == 0 || strcmp (action, "list") == 0);
    if (!known || (needs_role && !role) || optind + (needs_role ? 2 : 1) != argc) {
        fprintf (stderr, "%s", s_usage);
        return CLI_EXIT_USAGE;
    }
    if (needs_role && !vd_keys_role_known (role)) {
        fprintf (stderr, "vendange: unknown role \"%s\"\n%s", role, s_usage);
        return CLI_EXIT_USAGE;
    }
    vd_error_t err;
    vd_error_clear (&err);
    char dir[PATH_MAX];
    if (dir_arg)
        snprintf (dir, sizeof dir, "%s", dir_arg);
    else if (cli_keys_dir (cfg, dir, sizeof dir, &err) < 0) {
        cli_print_error (&err);
        return CLI_EXIT_FAIL;
    }
    rc = s_act (action, role, dir, &err);
    if (rc != CLI_EXIT_OK)
        cli_print_error (&err);
    return rc;
}
