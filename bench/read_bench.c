/*
 * Read one file from a share with N requests in flight on one connection,
 * into a ring of N buffers (as a copy would), and print MB/s.
 *
 *   read_bench HOST PORT SHARE PATH WINDOW [CHUNK]
 *
 * Credentials from SMB_USERNAME / SMB_PASSWORD / SMB_DOMAIN.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <smbcopy/smb.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: %s HOST PORT SHARE PATH WINDOW [CHUNK]\n", argv[0]);
        return 2;
    }
    unsigned window = (unsigned)atoi(argv[5]);
    if (window < 1 || window > 256)
        return 2;
    smb_error err = {0};
    smb_conn *c = smb_conn_connect(argv[1], (uint16_t)atoi(argv[2]), NULL, &err);
    smb_creds cr = {.username = getenv("SMB_USERNAME"), .password = getenv("SMB_PASSWORD"),
                    .domain = getenv("SMB_DOMAIN")};
    smb_session *s = c ? smb_session_setup(c, &cr, &err) : NULL;
    smb_tree *t = s ? smb_tree_connect(s, argv[3], &err) : NULL;
    smb_file_info info;
    smb_open *f = t ? smb_open_file(t, argv[4], SMB_O_RDONLY, &info, &err) : NULL;
    if (!f) {
        fprintf(stderr, "read_bench: %s\n", err.message);
        return 1;
    }
    size_t chunk = argc > 6 ? (size_t)atol(argv[6]) : smb_open_max_read(f);
    if (chunk > smb_open_max_read(f))
        chunk = smb_open_max_read(f);
    uint8_t **bufs = calloc(window, sizeof *bufs);
    smb_io **ios = calloc(window, sizeof *ios);
    for (unsigned i = 0; i < window; i++)
        bufs[i] = malloc(chunk);
    uint64_t size = info.end_of_file, next = 0, total = 0;
    unsigned head = 0, count = 0;
    double t0 = now();
    while (next < size || count) {
        while (next < size && count < window) {
            unsigned slot = (head + count) % window;
            size_t n = size - next < chunk ? (size_t)(size - next) : chunk;
            ios[slot] = smb_read_submit(f, bufs[slot], n, next, &err);
            if (!ios[slot]) {
                fprintf(stderr, "read_bench: %s\n", err.message);
                return 1;
            }
            next += n;
            count++;
        }
        size_t got = 0;
        if (smb_io_wait(ios[head], &got, &err) != 0) {
            fprintf(stderr, "read_bench: %s\n", err.message);
            return 1;
        }
        total += got;
        head = (head + 1) % window;
        count--;
    }
    double secs = now() - t0;
    if (total != size) {
        fprintf(stderr, "read_bench: read %" PRIu64 " of %" PRIu64 " bytes\n", total, size);
        return 1;
    }
    printf("%.1f\n", (double)total / secs / 1e6);
    smb_conn_close(c);
    return 0;
}
