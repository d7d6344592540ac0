/* Reading a password from the terminal with echo off. */
#ifndef SMBCOPY_CLI_PROMPT_H
#define SMBCOPY_CLI_PROMPT_H

#include <stddef.h>

/** Longest password read (longer input is an error). */
#define CLI_PASSWORD_MAX 512

enum cli_prompt_result {
    CLI_PROMPT_OK = 0,
    CLI_PROMPT_NO_TTY = -1,      /**< /dev/tty cannot be opened or set up */
    CLI_PROMPT_INTERRUPTED = -2, /**< a signal stopped the read */
    CLI_PROMPT_FAILED = -3,      /**< end of input, a read error or too long */
};

/**
 * Write prompt on /dev/tty, read one line with echo off (restored before
 * returning, also when a signal interrupts the read), into a new string
 * *out (wipe and free it). Returns a cli_prompt_result.
 */
int cli_prompt_password(const char *prompt, char **out);

#endif
