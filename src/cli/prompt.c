/* Password prompt on /dev/tty: echo off through termios, restored on every path. */
#include "prompt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static void write_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* Read up to a newline into buf (without it). Returns a cli_prompt_result. */
static int read_line(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    for (;;) {
        char c;
        ssize_t n = read(fd, &c, 1);
        if (n < 0)
            return errno == EINTR ? CLI_PROMPT_INTERRUPTED : CLI_PROMPT_FAILED;
        if (n == 0)
            return len ? (buf[len] = '\0', CLI_PROMPT_OK) : CLI_PROMPT_FAILED;
        if (c == '\n' || c == '\r') {
            buf[len] = '\0';
            return CLI_PROMPT_OK;
        }
        if (len + 1 >= cap)
            return CLI_PROMPT_FAILED;
        buf[len++] = c;
    }
}

int cli_prompt_password(const char *prompt, char **out)
{
    *out = NULL;
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return CLI_PROMPT_NO_TTY;
    struct termios saved, quiet;
    if (tcgetattr(fd, &saved) != 0) {
        close(fd);
        return CLI_PROMPT_NO_TTY;
    }
    quiet = saved;
    quiet.c_lflag &= (tcflag_t) ~(ECHO | ECHOE | ECHOK | ECHONL);
    quiet.c_lflag |= ICANON;
    write_all(fd, prompt, strlen(prompt));
    if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
        close(fd);
        return CLI_PROMPT_NO_TTY;
    }
    char buf[CLI_PASSWORD_MAX + 1];
    int rc = read_line(fd, buf, sizeof buf);
    tcsetattr(fd, TCSAFLUSH, &saved);
    write_all(fd, "\n", 1);
    close(fd);
    if (rc == CLI_PROMPT_OK && !(*out = strdup(buf)))
        rc = CLI_PROMPT_FAILED;
    explicit_bzero(buf, sizeof buf);
    return rc;
}
