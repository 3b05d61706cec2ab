/*  cli_proc - the tiny process layer of `vendange up` / `down`. */
#include "vendange.h"
#include "cli_proc.h"
#include <ctype.h>
#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

pid_t
cli_proc_parse_pid (const char *text)
{
    char buf[32];
    if (!text)
        return -1;
    size_t n = strlen (text);
    while (n > 0 && isspace ((unsigned char)text[n - 1]))
        n--;
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy (buf, text, n);
    buf[n] = '\0';
    int64_t pid;
    if (vd_parse_int (buf, 2, INT32_MAX, &pid) < 0)
        return -1;
    return (pid_t)pid;
}

pid_t
cli_proc_read_pid (const char *path)
{
    char buf[32];
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read (fd, buf, sizeof buf - 1);
    close (fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    return cli_proc_parse_pid (buf);
}

int
cli_proc_write_pid (const char *path, pid_t pid, vd_error_t *err)
{
    char tmp[4096], text[32];
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    int len = snprintf (text, sizeof text, "%d\n", (int)pid);
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = fd >= 0 && write (fd, text, (size_t)len) == len;
    if (fd >= 0 && close (fd) < 0)
        ok = false;
    if (!ok || rename (tmp, path) < 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "cannot write pid file %s", path);
        vd_error_detail (err, "%s", strerror (errno));
        unlink (tmp);
        return -1;
    }
    return 0;
}

bool
cli_proc_cmdline_is (const char *cmdline, size_t len, const char *name)
{
    if (!cmdline || len == 0)
        return false;
    size_t n = strnlen (cmdline, len);
    const char *base = cmdline;
    for (size_t i = 0; i < n; i++)
        if (cmdline[i] == '/')
            base = cmdline + i + 1;
    return (size_t)(cmdline + n - base) == strlen (name) && memcmp (base, name, strlen (name)) == 0;
}

bool
cli_proc_is (pid_t pid, const char *name)
{
    if (pid <= 1 || (kill (pid, 0) < 0 && errno != EPERM))
        return false;
    char path[64], buf[4096];
    snprintf (path, sizeof path, "/proc/%d/cmdline", (int)pid);
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read (fd, buf, sizeof buf);
    close (fd);
    return n > 0 && cli_proc_cmdline_is (buf, (size_t)n, name);
}

/*  Child side of a fork: redirections, exec of path (argv[0] searched in
    PATH when path is NULL); reports errno on fd 3 (close-on-exec). */
static void
s_child (const char *path, const char *const *argv, const char *cwd, int in, int out, int errfd,
         bool daemon)
{
    if (daemon)
        setsid ();
    if (dup2 (in, 0) < 0 || dup2 (out, 1) < 0 || dup2 (out, 2) < 0 ||
        (errfd != 3 && dup3 (errfd, 3, O_CLOEXEC) < 0))
        _exit (126);
    close_range (4, ~0U, 0);
    signal (SIGPIPE, SIG_DFL);
    if (!cwd || chdir (cwd) == 0) {
        if (path)
            execv (path, (char *const *)argv);
        else
            execvp (argv[0], (char *const *)argv);
    }
    int e = errno;
    ssize_t rc = write (3, &e, sizeof e);
    (void)rc; /* the parent then sees EOF and an exit status of 127 */
    _exit (127);
}

/*  Forks and execs with stdin in and stdout/stderr out. Returns the pid,
    -1 with err when fork or exec failed. */
static pid_t
s_spawn (const char *path, const char *const *argv, const char *cwd, int in, int out, bool daemon,
         vd_error_t *err)
{
    int pipefd[2];
    if (pipe2 (pipefd, O_CLOEXEC) < 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "cannot create a pipe");
        return vd_error_detail (err, "%s", strerror (errno));
    }
    pid_t pid = fork ();
    if (pid == 0)
        s_child (path, argv, cwd, in, out, pipefd[1], daemon);
    close (pipefd[1]);
    int e = 0;
    ssize_t n = -1;
    if (pid > 0)
        do
            n = read (pipefd[0], &e, sizeof e);
        while (n < 0 && errno == EINTR);
    close (pipefd[0]);
    if (pid < 0 || n == (ssize_t)sizeof e) {
        if (pid > 0)
            waitpid (pid, NULL, 0);
        vd_error_set (err, VD_ERR_PERMANENT, "cannot run %s", path ? path : argv[0]);
        return vd_error_detail (err, "%s", strerror (pid < 0 ? errno : e));
    }
    return pid;
}

static int
s_open_log (const char *log, vd_error_t *err)
{
    int fd = log ? open (log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640)
                 : open ("/dev/null", O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "cannot open %s", log ? log : "/dev/null");
        vd_error_detail (err, "%s", strerror (errno));
    } else if (log)
        (void)fchmod (fd, 0640); /* a log made 0644 before; not ours to change: left as is */
    return fd;
}

pid_t
cli_proc_spawn (const char *path, const char *name, const char *log, vd_error_t *err)
{
    int in = open ("/dev/null", O_RDONLY | O_CLOEXEC);
    int out = s_open_log (log, err);
    const char *argv[] = {name, NULL};
    pid_t pid = -1;
    if (in < 0 && out >= 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "cannot open /dev/null");
        vd_error_detail (err, "%s", strerror (errno));
    } else if (out >= 0)
        pid = s_spawn (path, argv, NULL, in, out, true, err);
    if (in >= 0)
        close (in);
    if (out >= 0)
        close (out);
    return pid;
}

/*  Waits for a child; its exit status, -1 with err when killed. */
static int
s_wait (pid_t pid, const char *what, vd_error_t *err)
{
    int status;
    while (waitpid (pid, &status, 0) < 0)
        if (errno != EINTR) {
            vd_error_set (err, VD_ERR_PERMANENT, "lost track of %s", what);
            return -1;
        }
    if (WIFEXITED (status))
        return WEXITSTATUS (status);
    vd_error_set (err, VD_ERR_PERMANENT, "%s was killed by signal %d", what, WTERMSIG (status));
    return -1;
}

int
cli_proc_run (const char *const *argv, const char *cwd, const char *log, vd_error_t *err)
{
    int in = open ("/dev/null", O_RDONLY | O_CLOEXEC);
    int out = s_open_log (log, err);
    pid_t pid = in >= 0 && out >= 0 ? s_spawn (NULL, argv, cwd, in, out, false, err) : -1;
    if (in >= 0)
        close (in);
    if (out >= 0)
        close (out);
    return pid > 0 ? s_wait (pid, argv[0], err) : -1;
}

int
cli_proc_capture (const char *const *argv, char *out, size_t size, vd_error_t *err)
{
    int fds[2];
    out[0] = '\0';
    if (pipe2 (fds, O_CLOEXEC) < 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "cannot create a pipe");
        return -1;
    }
    int in = open ("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_t pid = in >= 0 ? s_spawn (NULL, argv, NULL, in, fds[1], false, err) : -1;
    close (fds[1]);
    if (in >= 0)
        close (in);
    size_t len = 0;
    ssize_t n;
    char scratch[512];
    while (pid > 0 && (n = read (fds[0], scratch, sizeof scratch)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        size_t take = len + (size_t)n < size ? (size_t)n : size - 1 - len;
        memcpy (out + len, scratch, take);
        len += take;
    }
    close (fds[0]);
    out[len] = '\0';
    while (len > 0 && isspace ((unsigned char)out[len - 1]))
        out[--len] = '\0';
    return pid > 0 ? s_wait (pid, argv[0], err) : -1;
}

/*  True while pid runs: reaped when it is our child; a zombie waiting
    for its parent (init may be slow to reap) counts as gone. */
static bool
s_alive (pid_t pid)
{
    waitpid (pid, NULL, WNOHANG); /* ECHILD for others' children: ignored */
    if (kill (pid, 0) < 0)
        return false;
    char path[64], buf[512];
    snprintf (path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return true;
    ssize_t n = read (fd, buf, sizeof buf - 1);
    close (fd);
    buf[n > 0 ? n : 0] = '\0';
    const char *close_paren = strrchr (buf, ')'); /* "pid (comm) S ..." */
    return !(close_paren && close_paren[1] == ' ' &&
             (close_paren[2] == 'Z' || close_paren[2] == 'X'));
}

/*  Waits up to ms for pid to end: woken by its pidfd when the kernel has
    one (Linux 5.3+), else checking every 50 ms. True when it is gone. */
static bool
s_wait_gone (pid_t pid, int ms)
{
    int fd = (int)syscall (SYS_pidfd_open, pid, 0);
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    bool alive;
    for (int waited = 0; (alive = s_alive (pid)) && waited < ms; waited += 50)
        if (fd < 0 || poll (&pfd, 1, 50) <= 0)
            poll (NULL, 0, fd < 0 ? 50 : 0);
    if (fd >= 0)
        close (fd);
    return !alive;
}

int
cli_proc_stop (pid_t pid, int wait_ms)
{
    if (kill (pid, SIGTERM) < 0)
        return errno == ESRCH ? 0 : -1;
    if (s_wait_gone (pid, wait_ms))
        return 0;
    if (kill (pid, SIGKILL) < 0)
        return errno == ESRCH ? 0 : -1;
    return s_wait_gone (pid, 3000) ? 0 : -1;
}

int
cli_proc_test (bool verbose)
{
    int failed = 0;
    failed += cli_proc_parse_pid ("1234\n") != 1234;
    failed += cli_proc_parse_pid ("1234") != 1234;
    failed += cli_proc_parse_pid ("  ") != -1;
    failed += cli_proc_parse_pid ("1") != -1;
    failed += cli_proc_parse_pid ("0") != -1;
    failed += cli_proc_parse_pid ("-5") != -1;
    failed += cli_proc_parse_pid ("12ab") != -1;
    failed += cli_proc_parse_pid ("99999999999") != -1;
    failed += cli_proc_parse_pid (NULL) != -1;
    static const char cmd[] = "/usr/lib/vendange/loader\0--flag\0";
    failed += !cli_proc_cmdline_is (cmd, sizeof cmd - 1, "loader");
    failed += cli_proc_cmdline_is (cmd, sizeof cmd - 1, "load");
    failed += cli_proc_cmdline_is (cmd, sizeof cmd - 1, "normalizer");
    failed += !cli_proc_cmdline_is ("orchestrator", 12, "orchestrator");
    failed += cli_proc_cmdline_is ("orchestrator-x", 14, "orchestrator");
    failed += cli_proc_cmdline_is ("", 0, "loader");
    { /* a service log: 0640, also when it was made 0644 before */
        char log[] = "/tmp/vd-cli-log-XXXXXX";
        int made = mkstemp (log);
        struct stat st;
        vd_error_t err;
        vd_error_clear (&err);
        failed += made < 0 || fchmod (made, 0644) < 0;
        if (made >= 0)
            close (made);
        int fd = s_open_log (log, &err);
        failed += fd < 0 || fstat (fd, &st) < 0 || (st.st_mode & 0777) != 0640;
        if (fd >= 0)
            close (fd);
        unlink (log);
        fd = s_open_log (log, &err);
        failed += fd < 0 || fstat (fd, &st) < 0 || (st.st_mode & 0077) & ~0040;
        if (fd >= 0)
            close (fd);
        unlink (log);
    }
    char path[] = "/tmp/vd-cli-proc-XXXXXX";
    int fd = mkstemp (path);
    if (fd >= 0)
        close (fd);
    vd_error_t err;
    vd_error_clear (&err);
    failed +=
        fd < 0 || cli_proc_write_pid (path, 4321, &err) < 0 || cli_proc_read_pid (path) != 4321;
    unlink (path);
    failed += cli_proc_read_pid (path) != -1;
    char out[64];
    const char *echo[] = {"echo", "hello", NULL};
    failed += cli_proc_capture (echo, out, sizeof out, &err) != 0 || strcmp (out, "hello") != 0;
    const char *nope[] = {"/nonexistent/program", NULL};
    failed += cli_proc_run (nope, NULL, NULL, &err) != -1 || !strstr (err.msg, "cannot run");
    const char *f[] = {"false", NULL};
    failed += cli_proc_run (f, NULL, NULL, &err) != 1;
    failed += cli_proc_is (getpid (), "no-such-program");
    if (verbose)
        printf ("cli_proc_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
