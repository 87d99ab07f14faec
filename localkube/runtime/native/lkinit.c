/*
 * lkinit - PID 1 of a localkube container, and the process that `exec` runs.
 *
 *   lkinit init CONFIG
 *       Run as the first process of fresh PID/mount/UTS namespaces (started by
 *       `unshare --fork`).  CONFIG is a file of NUL-separated key/value pairs
 *       written by the runtime (hostname, status_fd, setup, rootfs, uid, gid,
 *       group*, cwd, env*, arg*).  lkinit sets the host name, runs the setup
 *       script (mounts), pivots into the new root, drops to the container's
 *       user, reports "ready <host pid>" on the status fd and starts the
 *       container's command as its child.  Afterwards it reaps every process
 *       that ends up as its child, forwards signals to the command and exits
 *       with the command's status (128+N for a signal death), reporting
 *       "exit <code>" first.  SIGTERM is sent to every process of the
 *       container (a graceful stop), and lkinit then waits for all of them.
 *       Why a separate init: a PID 1 without handlers ignores SIGTERM, and an
 *       unreaped orphan would linger as a zombie.
 *
 *   lkinit exec -u UID -g GID [-G g1,g2] [-c CWD] [-t] [-e K=V]... -- ARGV...
 *       Run by `nsenter` inside a running container: new session (controlling
 *       terminal with -t), groups, user, parent-death signal, working
 *       directory, environment, then execve of ARGV resolved along the
 *       environment's PATH.
 *
 * A command that cannot be executed ends with 127 (not found) or 126 (not
 * executable) and a message in the style of runc; for `init` the message goes
 * to the status fd ("exec-error <message>") so the runtime can report it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define MAX_GROUPS 64
#define MSG_MAX 1024

struct identity {
    uid_t uid;
    gid_t gid;
    gid_t groups[MAX_GROUPS];
    size_t ngroups;
};

struct config {
    char *hostname;
    char *setup;
    char *rootfs;
    char *cwd;
    int status_fd;
    struct identity id;
    char **env;
    size_t nenv;
    char **args;
    size_t nargs;
};

static int status_fd = -1;

static void die(const char *fmt, ...)
{
    va_list ap;

    fputs("lkinit: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(125);
}

static void report(const char *fmt, ...)
{
    char buf[MSG_MAX + 64];
    va_list ap;
    int n;

    if (status_fd < 0)
        return;
    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof(buf) - 2)
        n = sizeof(buf) - 2;
    buf[n++] = '\n';
    if (write(status_fd, buf, n) < 0) {
        /* The runtime went away; nothing useful to do. */
    }
}

static char **push(char **list, size_t *n, char *item)
{
    list = realloc(list, sizeof(char *) * (*n + 2));
    if (list == NULL)
        die("out of memory");
    list[(*n)++] = item;
    list[*n] = NULL;
    return list;
}

static unsigned long parse_num(const char *s, const char *what)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || *s == '\0' || *end != '\0')
        die("invalid %s: %s", what, s);
    return v;
}

static void add_group(struct identity *id, gid_t g)
{
    size_t i;

    for (i = 0; i < id->ngroups; i++)
        if (id->groups[i] == g)
            return;
    if (id->ngroups == MAX_GROUPS)
        die("too many groups");
    id->groups[id->ngroups++] = g;
}

static void add_group_list(struct identity *id, char *list)
{
    char *save = NULL, *tok;

    for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        add_group(id, (gid_t)parse_num(tok, "group"));
}

static void read_config(const char *path, struct config *c)
{
    struct stat st;
    char *buf, *p, *end;
    ssize_t got = 0, r;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0)
        die("cannot read %s: %s", path, strerror(errno));
    buf = malloc(st.st_size + 1);
    if (buf == NULL)
        die("out of memory");
    while (got < st.st_size) {
        r = read(fd, buf + got, st.st_size - got);
        if (r <= 0)
            die("cannot read %s", path);
        got += r;
    }
    close(fd);
    buf[got] = '\0';

    memset(c, 0, sizeof(*c));
    c->status_fd = -1;
    c->cwd = "/";
    p = buf;
    end = buf + got;
    while (p < end) {
        char *key = p, *val;

        p += strlen(p) + 1;
        if (p >= end)
            die("truncated config");
        val = p;
        p += strlen(p) + 1;
        if (!strcmp(key, "hostname"))
            c->hostname = val;
        else if (!strcmp(key, "setup"))
            c->setup = val;
        else if (!strcmp(key, "rootfs"))
            c->rootfs = val;
        else if (!strcmp(key, "cwd"))
            c->cwd = val;
        else if (!strcmp(key, "status_fd"))
            c->status_fd = (int)parse_num(val, "status_fd");
        else if (!strcmp(key, "uid"))
            c->id.uid = (uid_t)parse_num(val, "uid");
        else if (!strcmp(key, "gid"))
            c->id.gid = (gid_t)parse_num(val, "gid");
        else if (!strcmp(key, "group"))
            add_group(&c->id, (gid_t)parse_num(val, "group"));
        else if (!strcmp(key, "env"))
            c->env = push(c->env, &c->nenv, val);
        else if (!strcmp(key, "arg"))
            c->args = push(c->args, &c->nargs, val);
        else
            die("unknown config key %s", key);
    }
    if (c->nargs == 0)
        die("no command");
    if (c->env == NULL)
        c->env = push(NULL, &c->nenv, "PATH=" DEFAULT_PATH);
}

static void become(const struct identity *id)
{
    if (setgroups(id->ngroups, id->groups) != 0)
        die("setgroups: %s", strerror(errno));
    if (setresgid(id->gid, id->gid, id->gid) != 0)
        die("setresgid %u: %s", id->gid, strerror(errno));
    if (setresuid(id->uid, id->uid, id->uid) != 0)
        die("setresuid %u: %s", id->uid, strerror(errno));
    /* A credential change clears the parent-death signal: set it again. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static void reset_signals(void)
{
    sigset_t none;
    int s;

    for (s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            signal(s, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static const char *env_get(char **env, const char *name)
{
    size_t n = strlen(name);

    for (; env && *env; env++)
        if (!strncmp(*env, name, n) && (*env)[n] == '=')
            return *env + n + 1;
    return NULL;
}

/*
 * Execute argv with env, looking the program up along env's PATH.  Only
 * returns on failure, with msg filled in and the exit code to use.
 */
static int exec_command(char **argv, char **env, char *msg, size_t msglen)
{
    const char *name = argv[0];
    const char *path = env_get(env, "PATH");
    char candidate[PATH_MAX];
    int denied = 0;

    if (strchr(name, '/') != NULL) {
        execve(name, argv, env);
        if (errno == ENOENT) {
            snprintf(msg, msglen, "exec: \"%s\": stat %s: no such file or directory",
                     name, name);
            return 127;
        }
        snprintf(msg, msglen, "exec: \"%s\": %s", name, strerror(errno));
        return 126;
    }
    if (path == NULL)
        path = DEFAULT_PATH;
    while (1) {
        const char *colon = strchr(path, ':');
        size_t dlen = colon ? (size_t)(colon - path) : strlen(path);
        struct stat st;

        if (dlen == 0)
            snprintf(candidate, sizeof(candidate), "./%s", name);
        else
            snprintf(candidate, sizeof(candidate), "%.*s/%s", (int)dlen, path, name);
        if (stat(candidate, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(candidate, X_OK) == 0) {
                execve(candidate, argv, env);
                snprintf(msg, msglen, "exec: \"%s\": %s", name, strerror(errno));
                return 126;
            }
            denied = 1;
        }
        if (colon == NULL)
            break;
        path = colon + 1;
    }
    if (denied) {
        snprintf(msg, msglen, "exec: \"%s\": permission denied", name);
        return 126;
    }
    snprintf(msg, msglen, "exec: \"%s\": executable file not found in $PATH", name);
    return 127;
}

static void noop(int sig)
{
    (void)sig;
}

static int status_code(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return 128 + WTERMSIG(wstatus);
    return 255;
}

static void run_setup(const struct config *c)
{
    pid_t pid;
    int wstatus;

    pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        reset_signals();
        execl("/bin/sh", "sh", "-e", c->setup, (char *)NULL);
        _exit(127);
    }
    while (waitpid(pid, &wstatus, 0) < 0)
        if (errno != EINTR)
            die("waitpid: %s", strerror(errno));
    if (status_code(wstatus) != 0) {
        report("setup-error %d", status_code(wstatus));
        exit(1);
    }
}

static void enter_rootfs(const char *rootfs)
{
    /* pivot_root(".", ".") stacks the old root on top of the new one. */
    if (chdir(rootfs) != 0)
        die("chdir %s: %s", rootfs, strerror(errno));
    if (syscall(SYS_pivot_root, ".", ".") != 0)
        die("pivot_root: %s", strerror(errno));
    if (umount2(".", MNT_DETACH) != 0)
        die("umount old root: %s", strerror(errno));
    if (chdir("/") != 0)
        die("chdir /: %s", strerror(errno));
}

static pid_t start_command(const struct config *c)
{
    char msg[MSG_MAX];
    pid_t pid;
    int code;

    pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid > 0)
        return pid;
    setsid();
    reset_signals();
    if (chdir(c->cwd) != 0) {
        report("exec-error chdir to cwd (\"%s\") set in config.json failed: %s", c->cwd,
               strerror(errno));
        _exit(128);
    }
    code = exec_command(c->args, c->env, msg, sizeof(msg));
    report("exec-error %s", msg);
    _exit(code);
}

/* Show PID 1 as "localkube-init" in ps rather than the runtime's paths. */
static void set_title(int argc, char **argv, const char *title)
{
    char *start = argv[0];
    char *end = argv[argc - 1] + strlen(argv[argc - 1]);
    size_t area = (size_t)(end - start);

    memset(start, 0, area);
    memcpy(start, title, strlen(title) < area ? strlen(title) : area);
}

static int run_init(const char *config_path, int argc, char **argv)
{
    struct config c;
    struct sigaction sa;
    sigset_t all;
    char self[32];
    ssize_t n;
    pid_t main_pid, pid;
    int s, wstatus, stopping = 0, main_done = 0, main_code = 0;

    read_config(config_path, &c);
    set_title(argc, argv, "localkube-init");
    status_fd = c.status_fd;
    if (status_fd >= 0)
        fcntl(status_fd, F_SETFD, FD_CLOEXEC);

    /* Still the host's /proc here: /proc/self is our pid in the host. */
    n = readlink("/proc/self", self, sizeof(self) - 1);
    self[n > 0 ? n : 0] = '\0';

    /* PID 1 only receives signals it has handlers for: install no-ops and
     * collect the signals synchronously with sigwaitinfo. */
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = noop;
    for (s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            sigaction(s, &sa, NULL);

    if (c.hostname && sethostname(c.hostname, strlen(c.hostname)) != 0)
        die("sethostname: %s", strerror(errno));
    if (c.setup)
        run_setup(&c);
    if (c.rootfs)
        enter_rootfs(c.rootfs);
    become(&c.id);
    prctl(PR_SET_NAME, "localkube-init");
    report("ready %s", self);

    main_pid = start_command(&c);
    for (;;) {
        siginfo_t si;

        s = sigwaitinfo(&all, &si);
        if (s < 0)
            continue;
        if (s == SIGCHLD) {
            while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
                if (pid == main_pid) {
                    main_done = 1;
                    main_code = status_code(wstatus);
                    report("exit %d", main_code);
                }
            }
            if (main_done && (!stopping || (pid < 0 && errno == ECHILD)))
                return main_code;
        } else if (s == SIGTERM) {
            stopping = 1;
            kill(-1, SIGTERM);
        } else if (s != SIGPIPE && s != SIGURG && s != SIGTTIN && s != SIGTTOU) {
            kill(main_pid, s);
        }
    }
}

static int run_exec(int argc, char **argv)
{
    struct identity id;
    char **env = NULL, msg[MSG_MAX];
    size_t nenv = 0;
    const char *cwd = NULL;
    int opt, tty = 0, code;

    memset(&id, 0, sizeof(id));
    while ((opt = getopt(argc, argv, "+u:g:G:c:te:")) != -1) {
        switch (opt) {
        case 'u':
            id.uid = (uid_t)parse_num(optarg, "uid");
            break;
        case 'g':
            id.gid = (gid_t)parse_num(optarg, "gid");
            break;
        case 'G':
            add_group_list(&id, optarg);
            break;
        case 'c':
            cwd = optarg;
            break;
        case 't':
            tty = 1;
            break;
        case 'e':
            env = push(env, &nenv, optarg);
            break;
        default:
            die("usage: lkinit exec -u UID -g GID [-G groups] [-c cwd] [-t] [-e K=V] -- argv");
        }
    }
    if (optind >= argc)
        die("exec: no command");
    if (env == NULL)
        env = push(NULL, &nenv, "PATH=" DEFAULT_PATH);
    reset_signals();
    setsid();
    if (tty && ioctl(0, TIOCSCTTY, 0) != 0)
        die("TIOCSCTTY: %s", strerror(errno));
    become(&id);
    if (cwd && chdir(cwd) != 0) {
        fprintf(stderr, "chdir to cwd (\"%s\") set in config.json failed: %s\n", cwd,
                strerror(errno));
        return 126;
    }
    code = exec_command(argv + optind, env, msg, sizeof(msg));
    fprintf(stderr, "%s\n", msg);
    return code;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "init"))
        return run_init(argv[2], argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "exec"))
        return run_exec(argc - 1, argv + 1);
    fprintf(stderr, "usage: lkinit init CONFIG | lkinit exec [options] -- argv\n");
    return 2;
}
