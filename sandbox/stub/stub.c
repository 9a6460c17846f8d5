/* wingman-run stub, compiled: the same exchange as stub.bash, without a bash
 * start on every call (about 2 ms each on a small machine, most of a stub's cost).
 *
 * The session copies one binary to bin/NAME for each guarded program, and writes
 * bin/.NAME.stub beside it: NUL-terminated fields
 *   MARK REAL PROGRAM SESSION SECRET PORT LONG_WAIT DAEMON_VARIABLES EXPORTS...
 * (DAEMON_VARIABLES space-separated; each export NAME=VALUE). The stub finds
 * them through /proc/self/exe, so it works whatever name or path it is run by.
 *
 * - Every call goes to the broker first: SECRET stub N PID CWD ENV PROGRAM ARGS.
 * - exec in the answer: allowed outright; the program takes the stub's place and
 *   keeps the connection, so the broker sees the call end when it ends.
 * - exit 0 alone: approved; the program runs as a child without the connection,
 *   and its status goes back on it; the stub then ends as the program did.
 * - Anything else refuses: the broker's status, or 1 with a reason when the
 *   broker is gone or mute (2 s), or the user pressed Ctrl-C while it waited.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONFIG (64 * 1024)
#define FIRST_FIELDS 8
#define FIRST_WAIT_MS 2000
#define STUB_MARK "# wingman-run stub"  /* sandbox/session/layout.py: how a nested session knows a stub */
#define MAX_VARIABLES 16

enum { F_MARK, F_REAL, F_PROGRAM, F_SESSION, F_SECRET, F_PORT, F_LONG_WAIT, F_VARIABLES };

static volatile sig_atomic_t cancelled;
static char *config[FIRST_FIELDS];
static char **exports;
static int export_count;
static char *variables[MAX_VARIABLES];  /* the daemon variables' names, split once */
static int variable_count;

static void on_interrupt(int sig) { (void)sig; cancelled = 1; }
static void outlive_signal(int sig) { (void)sig; }  /* the child gets it; the stub reports its end */

/* "PROGRAM ARGS" as the refusals show it. */
static void print_call(FILE *out, const char *program, int argc, char **argv) {
    fputs(program, out);
    for (int i = 1; i < argc; i++) fprintf(out, " %s", argv[i]);
}

static void refuse_unreadable(const char *program, int argc, char **argv, const char *path) {
    fputs("wingman-run: refused: ", stderr);
    print_call(stderr, program, argc, argv);
    fprintf(stderr, "\n  this stub cannot read its settings (%s); nothing runs unchecked.\n"
                    "  Start a new session with wingman-run.\n", path);
    exit(1);
}

static int read_config(const char *path) {
    static char data[MAX_CONFIG + 1];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t size = 0;
    for (;;) {
        ssize_t got = read(fd, data + size, MAX_CONFIG - size);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) { close(fd); return -1; }
        if (got == 0) break;
        size += (size_t)got;
        if (size == MAX_CONFIG) { close(fd); return -1; }
    }
    close(fd);
    if (size == 0 || data[size - 1] != '\0') return -1;
    int fields = 0;
    for (size_t i = 0; i < size; i++) if (data[i] == '\0') fields++;
    if (fields < FIRST_FIELDS) return -1;
    exports = calloc((size_t)(fields - FIRST_FIELDS + 1), sizeof *exports);
    if (!exports) return -1;
    char *field = data;
    for (int n = 0; n < fields; n++) {
        if (n < FIRST_FIELDS) config[n] = field;
        else exports[export_count++] = field;
        field += strlen(field) + 1;
    }
    for (char *name = strtok(config[F_VARIABLES], " "); name; name = strtok(NULL, " ")) {
        if (variable_count == MAX_VARIABLES) return -1;  /* one the stub could not judge: refuse */
        variables[variable_count++] = name;
    }
    return strncmp(config[F_MARK], STUB_MARK, strlen(STUB_MARK)) == 0 ? 0 : -1;
}

/* The program's environment: the daemon the session recorded, never the caller's. */
static void program_environment(void) {
    for (int i = 0; i < variable_count; i++) unsetenv(variables[i]);
    for (int i = 0; i < export_count; i++) putenv(exports[i]);
}

/* The daemon variables set here, as NAME=VALUE lines, for the broker to judge (whatever their length). */
static char *daemon_variables(void) {
    size_t size = 1;
    for (int i = 0; i < variable_count; i++) {
        const char *value = getenv(variables[i]);
        if (value && *value) size += strlen(variables[i]) + strlen(value) + 2;
    }
    char *text = malloc(size), *at = text;
    if (!text) return NULL;
    for (int i = 0; i < variable_count; i++) {
        const char *value = getenv(variables[i]);
        if (value && *value) at += sprintf(at, "%s=%s\n", variables[i], value);
    }
    *at = '\0';
    return text;
}

/* The working directory as the shell names it ($PWD when it is this directory). */
static const char *working_directory(void) {
    static char here[PATH_MAX];
    const char *pwd = getenv("PWD");
    struct stat a, b;
    if (pwd && pwd[0] == '/' && stat(pwd, &a) == 0 && stat(".", &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
        return pwd;
    if (getcwd(here, sizeof here)) return here;
    return pwd ? pwd : "";  /* a directory removed meanwhile: the name the shell still has */
}

static long long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Wait until FD is ready for EVENTS, at most until DEADLINE (ms). 0 ready; -1 timed out, failed or cancelled. */
static int wait_ready(int fd, short events, long long deadline) {
    for (;;) {
        long long left = deadline - now_ms();
        if (cancelled || left <= 0) return -1;
        struct pollfd ready = {.fd = fd, .events = events};
        int polled = poll(&ready, 1, left > 60000 ? 60000 : (int)left);
        if (polled > 0) return 0;
        if (polled < 0 && errno != EINTR) return -1;
    }
}

/* The whole request within the first answer's time: a broker that does not read it is gone. */
static int send_fields(int fd, char **fields, int count, long long deadline) {
    size_t size = 0;
    for (int i = 0; i < count; i++) size += strlen(fields[i]) + 1;
    char *buffer = malloc(size ? size : 1), *at = buffer;
    if (!buffer) return -1;
    for (int i = 0; i < count; i++) {
        size_t length = strlen(fields[i]) + 1;
        memcpy(at, fields[i], length);
        at += length;
    }
    int status = 0;
    for (at = buffer; status == 0 && at < buffer + size;) {
        ssize_t put = send(fd, at, (size_t)(buffer + size - at), MSG_NOSIGNAL);
        if (put > 0) at += put;
        else if (put < 0 && (errno == EAGAIN || errno == EINTR)) status = wait_ready(fd, POLLOUT, deadline);
        else status = -1;
    }
    free(buffer);
    return status;
}

/* The answer as it arrives; each field is handed out as its own copy. */
static char *answer;
static size_t answer_size, answer_start, answer_end;
#define MAX_ANSWER (16u << 20)

/* One NUL-terminated field of the answer, a copy the caller frees, within WAIT_MS for the whole field
 * (as bash's read -t). 0 on success; -1 when the broker is gone, mute, too long or cancelled. */
static int read_field(int fd, int wait_ms, char **field) {
    long long deadline = now_ms() + wait_ms;
    for (;;) {
        char *nul = answer ? memchr(answer + answer_start, '\0', answer_end - answer_start) : NULL;
        if (nul) {
            *field = strdup(answer + answer_start);
            answer_start = (size_t)(nul - answer) + 1;
            return *field ? 0 : -1;
        }
        if (answer_start > 0) {  /* keep the partial field at the front */
            memmove(answer, answer + answer_start, answer_end - answer_start);
            answer_end -= answer_start;
            answer_start = 0;
        }
        if (answer_end == answer_size) {
            size_t grown = answer_size ? answer_size * 2 : 4096;
            char *bigger = grown <= MAX_ANSWER ? realloc(answer, grown) : NULL;
            if (!bigger) return -1;
            answer = bigger;
            answer_size = grown;
        }
        ssize_t got = recv(fd, answer + answer_end, answer_size - answer_end, 0);
        if (got > 0) answer_end += (size_t)got;
        else if (got == 0) return -1;
        else if ((errno != EAGAIN && errno != EINTR) || wait_ready(fd, POLLIN, deadline) != 0) return -1;
    }
}

/* Non-blocking while it talks to the broker (a full listen queue or a broker that stops reading must
 * not hold the caller past the first answer's time), and never on fds 0-2, which the program may
 * have been given closed. */
static int connect_broker(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);  /* no CLOEXEC: a program that takes our place keeps it */
    if (fd >= 0 && fd < 3) {
        int high = fcntl(fd, F_DUPFD, 3);
        close(fd);
        fd = high;
    }
    if (fd < 0) return -1;
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        int failed = 0;
        socklen_t length = sizeof failed;
        if ((errno != EINPROGRESS && errno != EINTR) || wait_ready(fd, POLLOUT, now_ms() + FIRST_WAIT_MS) != 0 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &failed, &length) != 0 || failed != 0) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

static void set_blocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
}

/* The broker's status: 0 to 255 in plain digits, as it writes them; anything else is no answer. */
static int parse_status(const char *text) {
    size_t length = strlen(text);
    if (length == 0 || length > 3 || strspn(text, "0123456789") != length || (length > 1 && text[0] == '0')) return -1;
    int value = atoi(text);
    return value <= 255 ? value : -1;
}

static void run_program(const char *real, int argc, char **argv) {
    char **args = calloc((size_t)argc + 1, sizeof *args);
    if (!args) _exit(126);
    args[0] = (char *)real;
    for (int i = 1; i < argc; i++) args[i] = argv[i];
    program_environment();
    execv(real, args);
    int failed = errno;
    fprintf(stderr, "wingman-run: %s: %s\n", real, strerror(failed));
    _exit(failed == ENOENT ? 127 : 126);
}

/* SIGNAL caught by a handler that does nothing, unless the caller ignored it (then it stays so). */
static void catch_unless_ignored(int sig, void (*handler)(int)) {
    struct sigaction now;
    if (sigaction(sig, NULL, &now) == 0 && now.sa_handler == SIG_IGN) return;
    struct sigaction action = {.sa_handler = handler};
    sigemptyset(&action.sa_mask);
    sigaction(sig, &action, NULL);  /* no SA_RESTART: a wait for the broker ends at Ctrl-C */
}

static void default_unless_ignored(int sig) {
    struct sigaction now;
    if (sigaction(sig, NULL, &now) == 0 && now.sa_handler == SIG_IGN) return;
    signal(sig, SIG_DFL);
}

/* An approved call: the program as a child, its status back to the broker, then
 * the stub ends as the program did, so the calling shell sees an interrupted command. */
static int run_approved(int fd, int argc, char **argv) {
    catch_unless_ignored(SIGINT, outlive_signal);
    catch_unless_ignored(SIGQUIT, outlive_signal);
    /* A caller that ignores SIGCHLD would leave nothing to wait for: the program gets the caller's. */
    struct sigaction theirs, ours = {.sa_handler = SIG_DFL};
    sigemptyset(&ours.sa_mask);
    sigaction(SIGCHLD, &ours, &theirs);
    pid_t child = fork();
    if (child < 0) return 126;
    if (child == 0) {
        close(fd);
        sigaction(SIGCHLD, &theirs, NULL);
        run_program(config[F_REAL], argc, argv);
    }
    int raw;
    while (waitpid(child, &raw, 0) < 0)
        if (errno != EINTR) return 126;
    int status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
    /* The status back on the connection; a broker gone meanwhile does not change the caller's. */
    char text[16];
    int length = snprintf(text, sizeof text, "%d", status);
    set_blocking(fd);
    send(fd, text, (size_t)length + 1, MSG_NOSIGNAL);
    close(fd);
    if (status == 130 || status == 131) {
        int sig = status == 130 ? SIGINT : SIGQUIT;
        default_unless_ignored(sig);
        kill(getpid(), sig);
    }
    return status;
}

int main(int argc, char **argv) {
    if (argc < 1) argc = 1;  /* run with no argv at all: no arguments, and argv[1...] is never read */
    char exe[PATH_MAX], path[PATH_MAX + 16];
    const char *program = argv[0] && strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : (argv[0] ? argv[0] : "docker");
    ssize_t length = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (length <= 0) refuse_unreadable(program, argc, argv, "/proc/self/exe");
    exe[length] = '\0';
    char *slash = strrchr(exe, '/');
    *slash = '\0';
    snprintf(path, sizeof path, "%s/.%s.stub", exe, slash + 1);
    if (read_config(path) != 0) refuse_unreadable(program, argc, argv, path);
    program = config[F_PROGRAM];

    /* Ctrl-C while a human decides: hang up (the broker records the refusal) and say so. */
    catch_unless_ignored(SIGINT, on_interrupt);
    int gone = 0, status = -1, takes_place = 0;
    char *environment = daemon_variables();
    int fd = environment ? connect_broker(atoi(config[F_PORT])) : -1;
    if (fd < 0) {
        gone = 1;
    } else {
        char count[16], pid[16];
        snprintf(count, sizeof count, "%d", argc - 1 + 4);
        snprintf(pid, sizeof pid, "%d", (int)getpid());
        int fields = argc - 1 + 7;
        char **request = calloc((size_t)fields, sizeof *request);
        if (!request) return 1;
        request[0] = config[F_SECRET];
        request[1] = "stub";
        request[2] = count;
        request[3] = pid;
        request[4] = (char *)working_directory();
        request[5] = environment;
        request[6] = (char *)program;
        for (int i = 1; i < argc; i++) request[6 + i] = argv[i];
        if (send_fields(fd, request, fields, now_ms() + FIRST_WAIT_MS) != 0) gone = 1;
        free(request);
        int wait_ms = FIRST_WAIT_MS, ended = 0;
        char *kind = NULL, *value = NULL;
        while (!gone && !ended && !cancelled && read_field(fd, wait_ms, &kind) == 0) {
            if (read_field(fd, wait_ms, &value) != 0) break;
            if (strcmp(kind, "err") == 0) {
                fputs(value, stderr);
            } else if (strcmp(kind, "hold") == 0) {
                wait_ms = atoi(config[F_LONG_WAIT]) * 1000;
            } else if (strcmp(kind, "exec") == 0) {
                takes_place = 1;
            } else if (strcmp(kind, "exit") == 0) {
                status = parse_status(value);  /* -1, read as no answer, when it is not a status */
                ended = 1;
            }
            free(kind);
            free(value);
        }
        set_blocking(fd);  /* the program that takes our place holds it as any other descriptor */
    }
    default_unless_ignored(SIGINT);

    if (!cancelled && !gone && status == 0) {
        if (takes_place) run_program(config[F_REAL], argc, argv);
        return run_approved(fd, argc, argv);
    }

    /* Refused, or no answer. */
    if (fd >= 0) close(fd);
    if (cancelled) {
        fputs("wingman-run: refused: ", stderr);
        print_call(stderr, program, argc, argv);
        fputs("\n  cancelled (Ctrl-C) while waiting for a decision; nothing ran.\n", stderr);
        return 1;
    }
    if (gone || status < 0) {
        fputs("wingman-run: refused: ", stderr);
        print_call(stderr, program, argc, argv);
        fprintf(stderr, "\n  the session %s has no broker any more (its wingman-run has ended);\n"
                        "  nothing runs unchecked. Start a new session with wingman-run.\n", config[F_SESSION]);
        return 1;
    }
    return status;
}
