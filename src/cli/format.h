/* Text for humans: sizes, rates, durations, and control characters made visible. */
#ifndef SMBCOPY_CLI_FORMAT_H
#define SMBCOPY_CLI_FORMAT_H

#include <stdint.h>
#include <stdio.h>

/** "0", "512 B", "4.0 KiB", "1.2 GiB" (binary units). Returns buf. */
const char *cli_format_bytes(uint64_t n, char *buf, size_t len);
/** "95.3 MB/s" (decimal units, as network rates are quoted). Returns buf. */
const char *cli_format_rate(double bytes_per_s, char *buf, size_t len);
/** "12.3 s", "4 min 05 s", "2 h 05 min". Returns buf. */
const char *cli_format_duration(double seconds, char *buf, size_t len);
/** "4:05" or "2:05:09", for an ETA. Returns buf. */
const char *cli_format_clock(double seconds, char *buf, size_t len);

/**
 * Write s to f with control characters (C0, DEL, and C1 encoded in UTF-8)
 * shown as \xNN, so a file name cannot move the cursor or change the
 * terminal. NULL writes nothing.
 */
void cli_fput_safe(FILE *f, const char *s);

#endif
