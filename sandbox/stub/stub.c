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

enum { F_MARK, F_REAL, F_PROGRAM, F_SESSION, F_SECRET, F_PORT, F_LONG_WAIT, F_VARIABLES };

static volatile sig_atomic_t cancelled;
static char *config[FIRST_FIELDS];
static char **exports;
static int export_count;

static void on_interrupt(int sig) { (void)sig; cancelled = 1; }
static void on_signal_ignored(int sig) { (void)sig; }

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
    return strncmp(config[F_MARK], "# wingman-run stub", 18) == 0 ? 0 : -1;
}

/* The program's environment: the daemon the session recorded, never the caller's. */
static void program_environment(void) {
    char names[1024];
    snprintf(names, sizeof names, "%s", config[F_VARIABLES]);
    for (char *name = strtok(names, " "); name; name = strtok(NULL, " ")) unsetenv(name);
    for (int i = 0; i < export_count; i++) putenv(exports[i]);
}

/* The daemon variables set here, as NAME=VALUE lines, for the broker to judge. */
static char *daemon_variables(void) {
    static char text[16384];
    char names[1024];
    size_t used = 0;
    snprintf(names, sizeof names, "%s", config[F_VARIABLES]);
    for (char *name = strtok(names, " "); name; name = strtok(NULL, " ")) {
        const char *value = getenv(name);
        if (!value || !*value) continue;
        int wrote = snprintf(text + used, sizeof text - used, "%s=%s\n", name, value);
        if (wrote < 0 || (size_t)wrote >= sizeof text - used) return NULL;  /* too long to send whole */
        used += (size_t)wrote;
    }
    text[used] = '\0';
    return text;
}

/* The working directory as the shell names it ($PWD when it is this directory). */
static const char *working_directory(void) {
    static char here[PATH_MAX];
    const char *pwd = getenv("PWD");
    struct stat a, b;
    if (pwd && pwd[0] == '/' && stat(pwd, &a) == 0 && stat(".", &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
        return pwd;
    return getcwd(here, sizeof here) ? here : "";
}

static int write_all(int fd, const char *data, size_t size) {
    while (size > 0) {
        ssize_t put = write(fd, data, size);
        if (put < 0 && errno == EINTR && !cancelled) continue;
        if (put <= 0) return -1;
        data += put;
        size -= (size_t)put;
    }
    return 0;
}

static int send_fields(int fd, char **fields, int count) {
    size_t size = 0;
    for (int i = 0; i < count; i++) size += strlen(fields[i]) + 1;
    char *buffer = malloc(size ? size : 1), *at = buffer;
    if (!buffer) return -1;
    for (int i = 0; i < count; i++) {
        size_t length = strlen(fields[i]) + 1;
        memcpy(at, fields[i], length);
        at += length;
    }
    int status = write_all(fd, buffer, size);
    free(buffer);
    return status;
}

/* One NUL-terminated field of the answer, waiting at most wait_ms for each byte
 * that is not there yet. 0 on success; -1 when the broker is gone, mute or cancelled. */
static char answer[1 << 16];
static size_t answer_start, answer_end;

static int read_field(int fd, int wait_ms, char **field) {
    for (;;) {
        char *nul = memchr(answer + answer_start, '\0', answer_end - answer_start);
        if (nul) {
            *field = answer + answer_start;
            answer_start = (size_t)(nul - answer) + 1;
            return 0;
        }
        if (answer_start > 0) {  /* keep the partial field at the front */
            memmove(answer, answer + answer_start, answer_end - answer_start);
            answer_end -= answer_start;
            answer_start = 0;
        }
        if (answer_end == sizeof answer) return -1;
        struct pollfd ready = {.fd = fd, .events = POLLIN};
        int polled = poll(&ready, 1, wait_ms);
        if (cancelled) return -1;
        if (polled < 0 && errno == EINTR) continue;
        if (polled <= 0) return -1;
        ssize_t got = read(fd, answer + answer_end, sizeof answer - answer_end);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return -1;
        answer_end += (size_t)got;
    }
}

static int connect_broker(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);  /* no CLOEXEC: a program that takes our place keeps it */
    if (fd < 0) return -1;
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    while (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        if (errno == EINTR && !cancelled) continue;
        close(fd);
        return -1;
    }
    return fd;
}

static int parse_status(const char *text) {
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno || end == text || *end || value < 0 || value > 255) return -1;
    return (int)value;
}

static void run_program(const char *real, char **argv) {
    argv[0] = (char *)real;
    program_environment();
    execv(real, argv);
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
static int run_approved(int fd, char **argv) {
    catch_unless_ignored(SIGINT, on_signal_ignored);
    catch_unless_ignored(SIGQUIT, on_signal_ignored);
    pid_t child = fork();
    if (child < 0) return 126;
    if (child == 0) {
        close(fd);
        run_program(config[F_REAL], argv);
    }
    int raw;
    while (waitpid(child, &raw, 0) < 0)
        if (errno != EINTR) return 126;
    int status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
    signal(SIGPIPE, SIG_IGN);  /* a broker gone meanwhile must not change the status the caller sees */
    char text[16];
    int length = snprintf(text, sizeof text, "%d", status);
    write_all(fd, text, (size_t)length + 1);
    close(fd);
    if (status == 130 || status == 131) {
        int sig = status == 130 ? SIGINT : SIGQUIT;
        default_unless_ignored(sig);
        kill(getpid(), sig);
    }
    return status;
}

int main(int argc, char **argv) {
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
    if (!environment) {
        fputs("wingman-run: refused: ", stderr);
        print_call(stderr, program, argc, argv);
        fputs("\n  its DOCKER_* variables are too long to send for a verdict; nothing ran.\n", stderr);
        return 1;
    }
    int fd = connect_broker(atoi(config[F_PORT]));
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
        struct sigaction quiet = {.sa_handler = SIG_IGN}, before;
        sigemptyset(&quiet.sa_mask);
        sigaction(SIGPIPE, &quiet, &before);  /* a broker gone mid-request is "gone", not a crash */
        if (send_fields(fd, request, fields) != 0) gone = 1;
        sigaction(SIGPIPE, &before, NULL);
        free(request);
        int wait_ms = FIRST_WAIT_MS;
        char *kind, *value;
        while (!gone && !cancelled && read_field(fd, wait_ms, &kind) == 0 && read_field(fd, wait_ms, &value) == 0) {
            if (strcmp(kind, "err") == 0) {
                fputs(value, stderr);
            } else if (strcmp(kind, "hold") == 0) {
                wait_ms = atoi(config[F_LONG_WAIT]) * 1000;
            } else if (strcmp(kind, "exec") == 0) {
                takes_place = 1;
            } else if (strcmp(kind, "exit") == 0) {
                status = parse_status(value);
                if (status < 0) status = 1;
                break;
            }
        }
    }
    default_unless_ignored(SIGINT);

    if (!cancelled && !gone && status == 0) {
        if (takes_place) run_program(config[F_REAL], argv);
        return run_approved(fd, argv);
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
