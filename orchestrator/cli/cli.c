/*  cli - what every `vendange` command shares. */
#include "vendange.h"
#include "cli.h"
#include "cli_http.h"

void
cli_api_url (const vd_config_t *cfg, char *out, size_t size)
{
    const char *url = vd_config_str (cfg, VD_CFG_API_URL);
    const char *addr = vd_config_str (cfg, VD_CFG_HTTP_ADDR);
    if (!vd_config_is_set (cfg, VD_CFG_API_URL) && vd_config_is_set (cfg, VD_CFG_HTTP_ADDR) &&
        *addr) {
        bool any =
            addr[0] == ':' || strncmp (addr, "*:", 2) == 0 || strncmp (addr, "0.0.0.0:", 8) == 0;
        snprintf (out, size, "http://%s%s", any ? "127.0.0.1" : "",
                  any ? strchr (addr, ':') : addr);
    } else
        snprintf (out, size, "%s", url);
    size_t n = strlen (out);
    while (n > 0 && out[n - 1] == '/')
        out[--n] = '\0';
    cli_http_set_auth (vd_config_str (cfg, VD_CFG_API_TOKEN), vd_config_str (cfg, VD_CFG_API_USER),
                       vd_config_str (cfg, VD_CFG_API_PASSWORD));
}

int
cli_usage_error (char **argv, int c, const char *usage)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "?";
    if (c == ':')
        fprintf (stderr, "vendange: option \"%s\" needs a value\n", arg);
    else
        fprintf (stderr, "vendange: unknown option \"%s\"\n", arg);
    fprintf (stderr, "%s", usage);
    return CLI_EXIT_USAGE;
}

int
cli_getopt (int argc, char **argv, const char *shortopts, const struct option *longopts,
            const char *usage, int *c)
{
    opterr = 0;
    *c = getopt_long (argc, argv, shortopts, longopts, NULL);
    if (*c == 'h') {
        printf ("%s", usage);
        return CLI_EXIT_OK;
    }
    if (*c == '?' || *c == ':')
        return cli_usage_error (argv, *c, usage);
    return -1;
}
