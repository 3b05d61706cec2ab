/*  cli_proc - the tiny process layer of `vendange up` / `down`: pid
    files, checking that a pid is still the program it claims to be,
    starting daemons, running a helper program and stopping processes.
    fork + exec only: no shell, no pasted command lines.
*/
#ifndef CLI_PROC_H_INCLUDED
#define CLI_PROC_H_INCLUDED

#include "vd_error.h"
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*  The pid in a pid file's text (decimal, optional trailing white
    space), or -1 when malformed or not > 1. */
pid_t cli_proc_parse_pid (const char *text);
/*  The pid in a pid file, -1 when missing or malformed. */
pid_t cli_proc_read_pid (const char *path);
/*  Writes a pid file atomically (temporary file + rename). */
int cli_proc_write_pid (const char *path, pid_t pid, vd_error_t *err);

/*  True when a /proc/PID/cmdline (NUL-separated argv, len bytes) has an
    argv[0] whose base name is name. */
bool cli_proc_cmdline_is (const char *cmdline, size_t len, const char *name);
/*  True when pid is alive and runs program name. */
bool cli_proc_is (pid_t pid, const char *name);

/*  Starts path as a daemon: fork, setsid, stdin from /dev/null, stdout
    and stderr appended to log, argv = { name }, the environment passed
    on. Returns the pid, -1 with err (exec failure included). */
pid_t cli_proc_spawn (const char *path, const char *name, const char *log, vd_error_t *err);

/*  Runs argv[0] (searched in PATH when it has no '/') with argv in cwd
    (NULL: unchanged), stdout and stderr appended to log (NULL: /dev/null),
    and waits. Returns the exit status (0..255), -1 with err when it could
    not run or was killed by a signal. */
int cli_proc_run (const char *const *argv, const char *cwd, const char *log, vd_error_t *err);
/*  Same, capturing up to size-1 bytes of stdout into out (trimmed). */
int cli_proc_capture (const char *const *argv, char *out, size_t size, vd_error_t *err);

/*  SIGTERM, wait up to wait_ms for it to go, then SIGKILL. Returns 0
    when it is gone, -1 when it could not be stopped. */
int cli_proc_stop (pid_t pid, int wait_ms);

int cli_proc_test (bool verbose);

#endif
