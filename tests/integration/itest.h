/*
 * Helpers for the integration tests (header only; every itest_*.c is its own
 * executable).
 *
 * The Samba fixture (tests/fixtures/samba-fixture.sh) writes a file of
 * KEY=VALUE lines; CTest passes its path in SMBCOPY_TEST_ENV. A test calls
 * itest_require_env() first: without the file the test is skipped, or fails
 * when CI=true (a CI run must not silently skip its server tests).
 *
 *     static void test_copy(void **state)
 *     {
 *         const itest_env *env = itest_require_env();
 *         int port = itest_port(env, "3_1_1");
 *         ...
 *     }
 *
 * Port and share-directory names: "" or "main" (all dialects), "signreq"
 * (signing mandatory), "2_0_2", "2_1", "3_0", "3_0_2", "3_1_1" (one dialect
 * each), "smb1" (SMB1 only; absent when the server cannot run it). They map
 * to SMBCOPY_TEST_PORT[_NAME] and SMBCOPY_TEST_SHARE_DIR[_NAME].
 *
 * Content helpers produce deterministic pseudo-random bytes that depend only
 * on (seed, offset), so any range of a file can be checked without keeping
 * the whole file in memory.
 */
#ifndef SMBCOPY_ITEST_H
#define SMBCOPY_ITEST_H

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define ITEST_MAX_VARS 64
#define ITEST_KEY_MAX 64
#define ITEST_VALUE_MAX 512

typedef struct itest_env {
    /* Every KEY=VALUE line of the file, in order. */
    size_t nvars;
    char keys[ITEST_MAX_VARS][ITEST_KEY_MAX];
    char values[ITEST_MAX_VARS][ITEST_VALUE_MAX];
    /* Convenience pointers into values[] ("" when the key is missing). */
    const char *host;
    const char *user;
    const char *password;
    const char *domain;
    const char *share;       /* main writable share, "data" */
    const char *share_dir;   /* that share's directory on disk (main instance) */
    const char *guest_share; /* share open to guests, "guest" */
    const char *readonly_share;
    int port; /* main instance */
} itest_env;

/* Value of KEY, or NULL. */
static inline const char *itest_env_value(const itest_env *env, const char *key)
{
    for (size_t i = 0; i < env->nvars; i++)
        if (strcmp(env->keys[i], key) == 0)
            return env->values[i];
    return NULL;
}

static inline const char *itest__value_or_empty(const itest_env *env, const char *key)
{
    const char *v = itest_env_value(env, key);
    return v ? v : "";
}

/* Builds PREFIX or PREFIX_NAME (NAME upper-cased) into buf. */
static inline void itest__key(char *buf, size_t len, const char *prefix, const char *name)
{
    if (name == NULL || name[0] == '\0' || strcmp(name, "main") == 0) {
        snprintf(buf, len, "%s", prefix);
        return;
    }
    int n = snprintf(buf, len, "%s_", prefix);
    for (size_t i = 0; name[i] != '\0' && (size_t)n + 1 < len; i++, n++)
        buf[n] = (char)toupper((unsigned char)name[i]);
    buf[n] = '\0';
}

/* Port of the named server instance (see the top of this file), or -1. */
static inline int itest_port(const itest_env *env, const char *name)
{
    char key[ITEST_KEY_MAX];
    itest__key(key, sizeof(key), "SMBCOPY_TEST_PORT", name);
    const char *v = itest_env_value(env, key);
    if (v == NULL || v[0] == '\0')
        return -1;
    char *end;
    long port = strtol(v, &end, 10);
    if (*end != '\0' || port <= 0 || port > 65535)
        return -1;
    return (int)port;
}

/* Directory on disk of the named instance's "data" share, or NULL. */
static inline const char *itest_share_dir(const itest_env *env, const char *name)
{
    char key[ITEST_KEY_MAX];
    itest__key(key, sizeof(key), "SMBCOPY_TEST_SHARE_DIR", name);
    return itest_env_value(env, key);
}

/*
 * Reads the KEY=VALUE file at path into env. Blank lines and lines starting
 * with '#' are ignored. Returns 0, or -1 with a reason in err.
 */
/**
 * Read the KEY=VALUE lines of path into env (no key required): the
 * fixtures' environment files. Returns 0, or -1 with err filled.
 */
static inline int itest_env_read(itest_env *env, const char *path, char *err, size_t errlen)
{
    memset(env, 0, sizeof(*env));
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    char line[ITEST_KEY_MAX + ITEST_VALUE_MAX + 8];
    int lineno = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] != '\n' && !feof(f)) {
            snprintf(err, errlen, "%s:%d: line too long", path, lineno);
            fclose(f);
            return -1;
        }
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        char *eq = strchr(line, '=');
        if (eq == NULL || eq == line || (size_t)(eq - line) >= ITEST_KEY_MAX ||
            strlen(eq + 1) >= ITEST_VALUE_MAX) {
            snprintf(err, errlen, "%s:%d: not a KEY=VALUE line", path, lineno);
            fclose(f);
            return -1;
        }
        if (env->nvars == ITEST_MAX_VARS) {
            snprintf(err, errlen, "%s: more than %d entries", path, ITEST_MAX_VARS);
            fclose(f);
            return -1;
        }
        size_t klen = (size_t)(eq - line), vlen = strlen(eq + 1); /* both checked above */
        memcpy(env->keys[env->nvars], line, klen);
        env->keys[env->nvars][klen] = '\0';
        memcpy(env->values[env->nvars], eq + 1, vlen + 1);
        env->nvars++;
    }
    fclose(f);
    return 0;
}

static inline int itest_env_load(itest_env *env, const char *path, char *err, size_t errlen)
{
    if (itest_env_read(env, path, err, errlen) != 0)
        return -1;
    env->host = itest__value_or_empty(env, "SMBCOPY_TEST_HOST");
    env->user = itest__value_or_empty(env, "SMBCOPY_TEST_USER");
    env->password = itest__value_or_empty(env, "SMBCOPY_TEST_PASSWORD");
    env->domain = itest__value_or_empty(env, "SMBCOPY_TEST_DOMAIN");
    env->share = itest__value_or_empty(env, "SMBCOPY_TEST_SHARE");
    env->share_dir = itest__value_or_empty(env, "SMBCOPY_TEST_SHARE_DIR");
    env->guest_share = itest__value_or_empty(env, "SMBCOPY_TEST_GUEST_SHARE");
    env->readonly_share = itest__value_or_empty(env, "SMBCOPY_TEST_READONLY_SHARE");
    env->port = itest_port(env, "main");

    const char *required[] = {"SMBCOPY_TEST_HOST", "SMBCOPY_TEST_USER", "SMBCOPY_TEST_PASSWORD",
                              "SMBCOPY_TEST_SHARE", "SMBCOPY_TEST_SHARE_DIR"};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        const char *v = itest_env_value(env, required[i]);
        if (v == NULL || v[0] == '\0') {
            snprintf(err, errlen, "%s: %s is missing", path, required[i]);
            return -1;
        }
    }
    if (env->port < 0) {
        snprintf(err, errlen, "%s: SMBCOPY_TEST_PORT is missing or invalid", path);
        return -1;
    }
    return 0;
}

/*
 * The fixture's environment, loaded once per process. Call it at the start
 * of a test (or of a cmocka setup function): when the file named by
 * SMBCOPY_TEST_ENV is missing or unreadable, the test fails if CI is "true"
 * and is skipped otherwise.
 */
static inline const itest_env *itest_require_env(void)
{
    static itest_env env;
    static int state; /* 0 not tried, 1 loaded, -1 failed */
    static char err[PATH_MAX + 128];

    if (state == 0) {
        const char *path = getenv("SMBCOPY_TEST_ENV");
        if (path == NULL || path[0] == '\0') {
            snprintf(err, sizeof(err),
                     "SMBCOPY_TEST_ENV is not set (run through ctest, which starts the Samba "
                     "fixture, or run tests/fixtures/samba-fixture.sh start DIR and set "
                     "SMBCOPY_TEST_ENV=DIR/env)");
            state = -1;
        } else if (itest_env_load(&env, path, err, sizeof(err)) != 0) {
            state = -1;
        } else {
            state = 1;
        }
    }
    if (state != 1) {
        const char *ci = getenv("CI");
        if (ci != NULL && strcmp(ci, "true") == 0)
            fail_msg("Samba test environment unavailable: %s", err);
        print_message("SKIPPED: Samba test environment unavailable: %s\n", err);
        skip();
    }
    return &env;
}

/* --- deterministic content ------------------------------------------------ */

static inline uint64_t itest__mix(uint64_t x)
{
    /* splitmix64 finaliser */
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Byte at offset off of the stream identified by seed. */
static inline uint8_t itest_pattern_byte(uint64_t seed, uint64_t off)
{
    uint64_t word = itest__mix(seed * 0x2545f4914f6cdd1dULL ^ itest__mix(off >> 3));
    return (uint8_t)(word >> ((off & 7) * 8));
}

/* Fills buf with bytes [off, off + len) of the stream identified by seed. */
static inline void itest_pattern_fill(void *buf, size_t len, uint64_t seed, uint64_t off)
{
    uint8_t *p = (uint8_t *)buf;
    size_t i = 0;
    while (i < len && ((off + i) & 7) != 0) {
        p[i] = itest_pattern_byte(seed, off + i);
        i++;
    }
    for (; i + 8 <= len; i += 8) {
        uint64_t word = itest__mix(seed * 0x2545f4914f6cdd1dULL ^ itest__mix((off + i) >> 3));
        for (int b = 0; b < 8; b++)
            p[i + (size_t)b] = (uint8_t)(word >> (b * 8));
    }
    for (; i < len; i++)
        p[i] = itest_pattern_byte(seed, off + i);
}

/* Creates the parent directories of path (like mkdir -p of its dirname). */
static inline int itest_mkdir_parents(const char *path)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
        return -1;
    for (char *p = tmp + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

/*
 * Writes a file of size bytes of the stream identified by seed at path
 * (parent directories are created). Returns 0 or -1 (errno set).
 */
static inline int itest_write_file(const char *path, uint64_t size, uint64_t seed)
{
    if (itest_mkdir_parents(path) != 0)
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    const size_t chunk_len = 1 << 16;
    uint8_t *chunk = (uint8_t *)malloc(chunk_len);
    if (chunk == NULL) {
        close(fd);
        errno = ENOMEM;
        return -1;
    }
    uint64_t off = 0;
    while (off < size) {
        size_t n = size - off < chunk_len ? (size_t)(size - off) : chunk_len;
        itest_pattern_fill(chunk, n, seed, off);
        size_t done = 0;
        while (done < n) {
            ssize_t w = write(fd, chunk + done, n - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                int saved = errno;
                free(chunk);
                close(fd);
                errno = saved ? saved : EIO;
                return -1;
            }
            done += (size_t)w;
        }
        off += n;
    }
    free(chunk);
    return close(fd);
}

/* Builds share_dir/rel into buf (for the named instance). Returns buf or NULL. */
static inline char *itest_share_path(const itest_env *env, const char *instance, const char *rel,
                                     char *buf, size_t len)
{
    const char *dir = itest_share_dir(env, instance);
    if (dir == NULL || snprintf(buf, len, "%s/%s", dir, rel) >= (int)len)
        return NULL;
    return buf;
}

/* Writes rel (a path below the main "data" share) on disk; see itest_write_file. */
static inline int itest_write_share_file(const itest_env *env, const char *rel, uint64_t size,
                                         uint64_t seed)
{
    char path[PATH_MAX];
    if (itest_share_path(env, "main", rel, path, sizeof(path)) == NULL) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return itest_write_file(path, size, seed);
}

/*
 * Compares the file at path with expected[0..len). Returns 0 when the file
 * has exactly that content; otherwise -1, after printing where it differs.
 */
static inline int itest_compare_file(const char *path, const void *expected, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        print_error("itest: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != (uint64_t)len) {
        print_error("itest: %s has %lld bytes, expected %zu\n", path, (long long)st.st_size, len);
        close(fd);
        return -1;
    }
    const size_t chunk_len = 1 << 16;
    uint8_t *chunk = (uint8_t *)malloc(chunk_len);
    if (chunk == NULL) {
        close(fd);
        return -1;
    }
    const uint8_t *exp = (const uint8_t *)expected;
    int rc = 0;
    size_t off = 0;
    while (off < len) {
        size_t want = len - off < chunk_len ? len - off : chunk_len;
        ssize_t r = read(fd, chunk, want);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            print_error("itest: short read of %s at %zu\n", path, off);
            rc = -1;
            break;
        }
        if (memcmp(chunk, exp + off, (size_t)r) != 0) {
            size_t i = 0;
            while (chunk[i] == exp[off + i])
                i++;
            print_error("itest: %s differs at offset %zu: 0x%02x, expected 0x%02x\n", path,
                        off + i, chunk[i], exp[off + i]);
            rc = -1;
            break;
        }
        off += (size_t)r;
    }
    free(chunk);
    close(fd);
    return rc;
}

/*
 * Checks that the file at path holds exactly size bytes of the stream
 * identified by seed. Returns 0, or -1 after printing where it differs.
 */
static inline int itest_check_file_pattern(const char *path, uint64_t size, uint64_t seed)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        print_error("itest: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != size) {
        print_error("itest: %s has %lld bytes, expected %llu\n", path, (long long)st.st_size,
                    (unsigned long long)size);
        close(fd);
        return -1;
    }
    const size_t chunk_len = 1 << 16;
    uint8_t *got = (uint8_t *)malloc(chunk_len), *want = (uint8_t *)malloc(chunk_len);
    if (got == NULL || want == NULL) {
        free(got);
        free(want);
        close(fd);
        return -1;
    }
    int rc = 0;
    uint64_t off = 0;
    while (off < size) {
        size_t n = size - off < chunk_len ? (size_t)(size - off) : chunk_len;
        ssize_t r = read(fd, got, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            print_error("itest: short read of %s at %llu\n", path, (unsigned long long)off);
            rc = -1;
            break;
        }
        itest_pattern_fill(want, (size_t)r, seed, off);
        if (memcmp(got, want, (size_t)r) != 0) {
            size_t i = 0;
            while (got[i] == want[i])
                i++;
            print_error("itest: %s differs at offset %llu: 0x%02x, expected 0x%02x\n", path,
                        (unsigned long long)(off + i), got[i], want[i]);
            rc = -1;
            break;
        }
        off += (uint64_t)r;
    }
    free(got);
    free(want);
    close(fd);
    return rc;
}

/* --- smbclient -------------------------------------------------------------- */

/*
 * Runs smbclient //host/share -p port -c cmd with the fixture's credentials
 * (from an authentication file of mode 0600 in a private temporary
 * directory, never on the command line). extra_args is NULL or a
 * NULL-terminated list of further arguments (e.g. "-m", "SMB3_00").
 * smbclient's output goes to the test's stderr. Returns its exit status,
 * 128 + signal number if it was killed, or -1 if it could not be run.
 */
static inline int itest_smbclient_args(const itest_env *env, int port, const char *share,
                                       const char *cmd, const char *const *extra_args)
{
    const char *tmp = getenv("TMPDIR");
    char dir[PATH_MAX], auth[PATH_MAX + 16], service[512], portstr[16];
    if (tmp == NULL || tmp[0] == '\0')
        tmp = "/tmp";
    if (snprintf(dir, sizeof(dir), "%s/itest-smbclient-XXXXXX", tmp) >= (int)sizeof(dir) ||
        mkdtemp(dir) == NULL) {
        print_error("itest: cannot make a temporary directory in %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    snprintf(auth, sizeof(auth), "%s/auth", dir);
    int fd = open(auth, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        print_error("itest: cannot create %s: %s\n", auth, strerror(errno));
        rmdir(dir);
        return -1;
    }
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        unlink(auth);
        rmdir(dir);
        return -1;
    }
    fprintf(f, "username = %s\npassword = %s\n", env->user, env->password);
    if (env->domain[0] != '\0')
        fprintf(f, "domain = %s\n", env->domain);
    if (fclose(f) != 0) {
        unlink(auth);
        rmdir(dir);
        return -1;
    }

    snprintf(service, sizeof(service), "//%s/%s", env->host, share);
    snprintf(portstr, sizeof(portstr), "%d", port);
    const char *argv[64];
    size_t argc = 0;
    argv[argc++] = "smbclient";
    argv[argc++] = service;
    argv[argc++] = "-p";
    argv[argc++] = portstr;
    argv[argc++] = "-A";
    argv[argc++] = auth;
    for (size_t i = 0; extra_args != NULL && extra_args[i] != NULL && argc < 58; i++)
        argv[argc++] = extra_args[i];
    argv[argc++] = "-c";
    argv[argc++] = cmd;
    argv[argc] = NULL;

    fflush(stdout);
    fflush(stderr);
    int status = -1;
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) {
            dup2(devnull, STDIN_FILENO);
            close(devnull);
        }
        dup2(STDERR_FILENO, STDOUT_FILENO);
        execvp(argv[0], (char *const *)argv);
        fprintf(stderr, "itest: cannot run smbclient: %s\n", strerror(errno));
        _exit(127);
    }
    if (pid > 0) {
        int ws = 0;
        pid_t w;
        while ((w = waitpid(pid, &ws, 0)) < 0 && errno == EINTR)
            ;
        if (w == pid && WIFEXITED(ws))
            status = WEXITSTATUS(ws);
        else if (w == pid && WIFSIGNALED(ws))
            status = 128 + WTERMSIG(ws);
    } else {
        print_error("itest: fork: %s\n", strerror(errno));
    }
    unlink(auth);
    rmdir(dir);
    return status;
}

/* itest_smbclient_args without extra arguments. */
static inline int itest_smbclient(const itest_env *env, int port, const char *share,
                                  const char *cmd)
{
    return itest_smbclient_args(env, port, share, cmd, NULL);
}

/*
 * For the programs a fixture script runs inside its own network namespace
 * (itest_krb, itest_multichannel, itest_dfs_client): read the environment
 * file named by the variable var into env. 0, or -1 after saying on stderr
 * that prog runs through script.
 */
static inline int itest_env_from_var(itest_env *env, const char *var, const char *prog, const char *script)
{
    const char *path = getenv(var);
    char why[300];
    if (!path || itest_env_read(env, path, why, sizeof why) != 0) {
        fprintf(stderr, "%s: run it through %s (%s): %s\n", prog, script, var, path ? why : "not set");
        return -1;
    }
    return 0;
}

/* key's value in env, a fixture's (what names it in the failure); fails the test when missing. */
static inline const char *itest_env_need(const itest_env *env, const char *what, const char *key)
{
    const char *s = itest_env_value(env, key);
    if (!s)
        fail_msg("the %s fixture's environment has no %s", what, key);
    return s;
}

/* Receive exactly n bytes from socket fd into p (the tests' proxies): 0, or -1 when it ends or fails first. */
static inline int itest_recv_all(int fd, uint8_t *p, size_t n)
{
    while (n) {
        ssize_t r = recv(fd, p, n, 0);
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Send all n bytes of p on socket fd: 0, or -1 on a failure. */
static inline int itest_send_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

#endif /* SMBCOPY_ITEST_H */
