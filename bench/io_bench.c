/*
 * Read (or write) one file on a share with N requests in flight on one
 * connection, through a ring of N buffers (as a copy would); print MB/s and
 * the client's CPU seconds per GiB.
 *
 *   io_bench HOST PORT SHARE PATH WINDOW [read|write [SIZE_MIB]]
 *
 * Credentials from SMB_USERNAME / SMB_PASSWORD / SMB_DOMAIN. Protection from
 * SMBCOPY_BENCH_PROTECT=plain|sign|encrypt (default: as negotiated) and
 * SMBCOPY_BENCH_CIPHER=1..4 (smb_cipher).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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
        fprintf(stderr, "usage: %s HOST PORT SHARE PATH WINDOW [read|write [SIZE_MIB]]\n", argv[0]);
        return 2;
    }
    unsigned window = (unsigned)atoi(argv[5]);
    if (window < 1 || window > 256)
        return 2;
    bool writing = argc > 6 && strcmp(argv[6], "write") == 0;
    smb_conn_opts o;
    smb_conn_opts_init(&o);
    const char *prot = getenv("SMBCOPY_BENCH_PROTECT");
    if (prot && !strcmp(prot, "sign"))
        o.signing = SMB_POLICY_REQUIRED;
    if (prot && !strcmp(prot, "encrypt"))
        o.encryption = SMB_POLICY_REQUIRED;
    if (prot && !strcmp(prot, "plain"))
        o.max_dialect = SMB_DIALECT_3_0_2; /* 3.1.1 always signs; 3.0.2 unsigned unless asked */
    if (getenv("SMBCOPY_BENCH_CIPHER"))
        o.cipher = (uint16_t)atoi(getenv("SMBCOPY_BENCH_CIPHER"));
    smb_error err = {0};
    smb_conn *c = smb_conn_connect(argv[1], (uint16_t)atoi(argv[2]), &o, &err);
    smb_creds cr = {.username = getenv("SMB_USERNAME"), .password = getenv("SMB_PASSWORD"),
                    .domain = getenv("SMB_DOMAIN")};
    smb_session *s = c ? smb_session_setup(c, &cr, &err) : NULL;
    smb_tree *t = s ? smb_tree_connect(s, argv[3], &err) : NULL;
    smb_file_info info;
    smb_open *f = t ? smb_open_file(t, argv[4], writing ? SMB_O_WRONLY | SMB_O_CREAT | SMB_O_TRUNC : SMB_O_RDONLY, &info,
                                    &err)
                    : NULL;
    if (!f) {
        fprintf(stderr, "read_bench: %s\n", err.message);
        return 1;
    }
    size_t chunk = writing ? smb_open_max_write(f) : smb_open_max_read(f);
    uint8_t **bufs = calloc(window, sizeof *bufs);
    smb_io **ios = calloc(window, sizeof *ios);
    for (unsigned i = 0; i < window; i++) {
        bufs[i] = malloc(chunk);
        for (size_t k = 0; k < chunk; k++)
            bufs[i][k] = (uint8_t)(k * 31 + i);
    }
    uint64_t size = writing ? (uint64_t)(argc > 7 ? atoi(argv[7]) : 512) << 20 : info.end_of_file;
    uint64_t next = 0, total = 0;
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    unsigned head = 0, count = 0;
    double t0 = now();
    while (next < size || count) {
        while (next < size && count < window) {
            unsigned slot = (head + count) % window;
            size_t n = size - next < chunk ? (size_t)(size - next) : chunk;
            ios[slot] = writing ? smb_write_submit(f, bufs[slot], n, next, &err)
                                : smb_read_submit(f, bufs[slot], n, next, &err);
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
    getrusage(RUSAGE_SELF, &ru1);
    double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                 (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
    if (total != size) {
        fprintf(stderr, "read_bench: read %" PRIu64 " of %" PRIu64 " bytes\n", total, size);
        return 1;
    }
    printf("%.1f %.2f\n", (double)total / secs / 1e6, cpu / ((double)total / (1u << 30)));
    smb_conn_close(c);
    return 0;
}
