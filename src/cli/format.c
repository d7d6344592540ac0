/* Formatting sizes, rates and times, and writing names safely to a terminal. */
#include "format.h"

#include <math.h>

const char *cli_format_bytes(uint64_t n, char *buf, size_t len)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (n == 0) {
        snprintf(buf, len, "0");
        return buf;
    }
    if (n < 1024) {
        snprintf(buf, len, "%u B", (unsigned)n);
        return buf;
    }
    double v = (double)n / 1024.0;
    size_t u = 0;
    while (v >= 1023.95 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024.0;
        u++;
    }
    snprintf(buf, len, "%.1f %s", v, units[u]);
    return buf;
}

const char *cli_format_rate(double bytes_per_s, char *buf, size_t len)
{
    static const char *const units[] = {"B/s", "kB/s", "MB/s", "GB/s", "TB/s"};
    double v = bytes_per_s > 0 && isfinite(bytes_per_s) ? bytes_per_s : 0;
    size_t u = 0;
    while (v >= 999.95 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1000.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%.0f %s", v, units[0]);
    else
        snprintf(buf, len, "%.1f %s", v, units[u]);
    return buf;
}

const char *cli_format_duration(double seconds, char *buf, size_t len)
{
    if (!(seconds > 0) || !isfinite(seconds))
        seconds = 0;
    if (seconds < 59.95) {
        snprintf(buf, len, "%.1f s", seconds);
        return buf;
    }
    unsigned long s = (unsigned long)(seconds + 0.5);
    if (s < 3600)
        snprintf(buf, len, "%lu min %02lu s", s / 60, s % 60);
    else
        snprintf(buf, len, "%lu h %02lu min", s / 3600, s / 60 % 60);
    return buf;
}

const char *cli_format_clock(double seconds, char *buf, size_t len)
{
    if (!(seconds > 0) || !isfinite(seconds))
        seconds = 0;
    if (seconds > 359999)
        seconds = 359999; /* 99:59:59 */
    unsigned long s = (unsigned long)(seconds + 0.5);
    if (s < 3600)
        snprintf(buf, len, "%lu:%02lu", s / 60, s % 60);
    else
        snprintf(buf, len, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
    return buf;
}

void cli_fput_safe(FILE *f, const char *s)
{
    if (!s)
        return;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (*p < 0x20 || *p == 0x7f) {
            fprintf(f, "\\x%02X", *p);
            p++;
        } else if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) { /* U+0080..U+009F */
            fprintf(f, "\\x%02X\\x%02X", p[0], p[1]);
            p += 2;
        } else {
            fputc(*p, f);
            p++;
        }
    }
}
