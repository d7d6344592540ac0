/*
 * The engine against a hostile source: a fake endpoint whose listings hold
 * "../evil", "a/b", "a\\b", "C:x", "..", "" and an undecodable name. Nothing
 * may be written outside the destination; each refused entry is reported;
 * the good entries are still copied. Also the pure name rules (the filter
 * rules are tested in test_filter.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/endpoints/endpoint.h"
#include "engine/job_internal.h"
#include "engine/plan.h"
#include "engine/time_probe.h"

/* ---------------------------------------------------------------- the fake source */

typedef struct fake_entry {
    const char *dir;  /* listing it appears in */
    const char *name; /* NULL: an undecodable name */
    ep_type type;
    const char *content;
} fake_entry;

static const fake_entry fake_tree[] = {
    {"", "../evil", EP_FILE, "escaped!"},
    {"", "..", EP_DIR, NULL},
    {"", "", EP_FILE, "empty name"},
    {"", "a/b", EP_FILE, "slash"},
    {"", "a\\b", EP_FILE, "backslash"},
    {"", "C:x", EP_FILE, "drive"},
    {"", NULL, EP_FILE, NULL},
    {"", "good.txt", EP_FILE, "good content"},
    {"", "sub", EP_DIR, NULL},
    {"sub", "../../evil2", EP_FILE, "escaped twice!"},
    {"sub", "fine.txt", EP_FILE, "fine content"},
};
#define NFAKE (sizeof fake_tree / sizeof fake_tree[0])

typedef struct fake_ep {
    ep base;
} fake_ep;

typedef struct fake_file {
    const char *content;
} fake_file;

typedef struct fake_io {
    size_t n;
} fake_io;

static const fake_entry *find(const char *rel)
{
    for (size_t i = 0; i < NFAKE; i++) {
        const fake_entry *e = &fake_tree[i];
        if (!e->name)
            continue;
        char path[256];
        snprintf(path, sizeof path, "%s%s%s", e->dir, e->dir[0] ? "/" : "", e->name);
        if (!strcmp(path, rel))
            return e;
    }
    return NULL;
}

static int f_stat(ep *e, const char *rel, ep_stat *st, smb_error *err)
{
    (void)e;
    memset(st, 0, sizeof *st);
    st->mtime = 132000000000000000ull;
    if (!rel[0]) {
        st->type = EP_DIR;
        return 0;
    }
    const fake_entry *f = find(rel);
    if (!f) {
        err->code = SMB_ERR_NOT_FOUND;
        return SMB_ERR_NOT_FOUND;
    }
    st->type = f->type;
    st->size = f->content ? strlen(f->content) : 0;
    return 0;
}

static int f_list(ep *e, const char *rel, ep_list_cb cb, void *arg, smb_error *err)
{
    for (size_t i = 0; i < NFAKE; i++) {
        if (strcmp(fake_tree[i].dir, rel))
            continue;
        ep_stat st;
        if (fake_tree[i].name) {
            char path[256];
            snprintf(path, sizeof path, "%s%s%s", rel, rel[0] ? "/" : "", fake_tree[i].name);
            memset(&st, 0, sizeof st);
            st.type = fake_tree[i].type;
            st.size = fake_tree[i].content ? strlen(fake_tree[i].content) : 0;
            st.mtime = 132000000000000000ull;
            (void)f_stat;
            (void)e;
            (void)err;
            if (cb(arg, fake_tree[i].name, &st))
                break;
        } else if (cb(arg, NULL, NULL)) {
            break;
        }
    }
    return 0;
}

static int f_open_read(ep *e, const char *rel, ep_file **out, smb_error *err)
{
    (void)e;
    const fake_entry *f = find(rel);
    if (!f || f->type != EP_FILE) {
        err->code = SMB_ERR_NOT_FOUND;
        return SMB_ERR_NOT_FOUND;
    }
    fake_file *ff = malloc(sizeof *ff);
    ff->content = f->content;
    *out = (ep_file *)ff;
    return 0;
}

static ep_io *f_read_submit(ep_file *f, void *buf, size_t len, uint64_t off, smb_error *err)
{
    (void)err;
    const char *c = ((fake_file *)f)->content;
    size_t size = strlen(c);
    fake_io *io = malloc(sizeof *io);
    io->n = off >= size ? 0 : (size - off < len ? size - off : len);
    memcpy(buf, c + off, io->n);
    return (ep_io *)io;
}

static int f_io_wait(ep_io *io, size_t *n, smb_error *err)
{
    (void)err;
    *n = ((fake_io *)io)->n;
    free(io);
    return 0;
}

static size_t f_io_size(ep_file *f)
{
    (void)f;
    return 65536;
}

static int f_close(ep_file *f, smb_error *err)
{
    (void)err;
    free(f);
    return 0;
}

static void f_free(ep *e) { free(e); }

static const ep_ops fake_ops = {
    .kind = "fake",
    .stat = f_stat,
    .list = f_list,
    .open_read = f_open_read,
    .read_submit = f_read_submit,
    .io_wait = f_io_wait,
    .io_size = f_io_size,
    .close = f_close,
    .free = f_free,
};

/* ---------------------------------------------------------------- tests */

static void test_hostile_names_stay_inside(void **state)
{
    (void)state;
    char base[] = "/tmp/engine-names-XXXXXX";
    assert_non_null(mkdtemp(base));
    char dest[512];
    snprintf(dest, sizeof dest, "%s/dest", base);

    fake_ep *src = calloc(1, sizeof *src);
    src->base.ops = &fake_ops;
    src->base.display = "fake";
    src->base.caps = EP_CAP_WINDOWS_NAMES; /* a hostile SMB server: "C:x" would name a stream */
    smb_error err = {0};
    ep *dst = ep_local_open(dest, NULL, &err);
    assert_non_null(dst);

    sc_job_opts o;
    sc_job_opts_init(&o);
    const char *srcs[] = {"fake"};
    o.sources = srcs;
    o.nsources = 1;
    o.dest = dest;
    o.threads = 4;
    sc_job *job = sc_job_new(&o, &err);
    assert_non_null(job);
    sc_summary sum;
    assert_int_equal(job_run_endpoints(job, &src->base, dst, &sum, &err), 0);

    /* The good entries arrived. */
    char path[600], buf[64];
    snprintf(path, sizeof path, "%s/good.txt", dest);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "good content");
    snprintf(path, sizeof path, "%s/sub/fine.txt", dest);
    assert_int_equal(access(path, F_OK), 0);
    /* Nothing escaped: not beside the destination, not above it. */
    struct stat st;
    snprintf(path, sizeof path, "%s/evil", base);
    assert_int_equal(stat(path, &st), -1);
    snprintf(path, sizeof path, "%s/evil2", base);
    assert_int_equal(stat(path, &st), -1);
    snprintf(path, sizeof path, "%s/dest/a", base);
    assert_int_equal(stat(path, &st), -1);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "test $(find %s | wc -l) -eq 5", base); /* base, dest, good, sub, fine */
    assert_int_equal(system(cmd), 0);
    /* Each refused entry was reported. */
    assert_int_equal(sum.files_copied, 2);
    assert_int_equal(sum.nfailures, 8);
    size_t refused = 0;
    for (size_t i = 0; i < sum.nfailures; i++)
        if (strstr(sum.failures[i].message, "refused entry") || strstr(sum.failures[i].message, "undecodable"))
            refused++;
    assert_int_equal(refused, 8);
    sc_summary_free(&sum);
    sc_job_free(job);
    snprintf(cmd, sizeof cmd, "rm -rf %s", base);
    assert_int_equal(system(cmd), 0);
}

static void test_unsafe_names(void **state)
{
    (void)state;
    assert_non_null(plan_unsafe_name("", 0));
    assert_non_null(plan_unsafe_name(".", 1));
    assert_non_null(plan_unsafe_name("..", 2));
    assert_non_null(plan_unsafe_name("../x", 4));
    assert_non_null(plan_unsafe_name("a\\b", 3));
    assert_non_null(plan_unsafe_name("C:x", 3));
    assert_non_null(plan_unsafe_name("a\0b", 3));
    assert_null(plan_unsafe_name("...", 3));
    assert_null(plan_unsafe_name("-rf", 3));
    assert_null(plan_unsafe_name("café ☕", strlen("café ☕")));
    assert_null(plan_unsafe_name("1:2", 3)); /* not a drive letter */
    /* a local name may hold ':' (POSIX), an SMB one may not */
    assert_null(plan_unsafe_source_name("a:b.txt", 7, 0));
    assert_non_null(plan_unsafe_source_name("a:b.txt", 7, EP_CAP_WINDOWS_NAMES));
    assert_null(plan_unsafe_source_name("a:", 2, 0));
    assert_non_null(plan_unsafe_source_name("a:/x", 4, 0));
    assert_non_null(plan_unsafe_source_name("..", 2, 0));
}

static void test_windows_names(void **state)
{
    (void)state;
    assert_non_null(plan_windows_refuses("trailing."));
    assert_non_null(plan_windows_refuses("trailing "));
    assert_non_null(plan_windows_refuses("a<b"));
    assert_non_null(plan_windows_refuses("what?"));
    assert_non_null(plan_windows_refuses("tab\there"));
    assert_non_null(plan_windows_refuses("CON"));
    assert_non_null(plan_windows_refuses("con.txt"));
    assert_non_null(plan_windows_refuses("LPT9.log"));
    assert_non_null(plan_windows_refuses("com1"));
    assert_null(plan_windows_refuses("CONSOLE"));
    assert_null(plan_windows_refuses("COM0"));
    assert_null(plan_windows_refuses("normal name.txt"));
    assert_null(plan_windows_refuses("$HOME; (x) [y] {z} #%!@+=,~'"));
}

static void test_plan_file(void **state)
{
    (void)state;
    ep_stat a = {.type = EP_FILE, .size = 10, .mtime = 1000};
    ep_stat b = a;
    assert_int_equal(plan_file(&a, false, NULL, false, 0), PLAN_COPY);
    assert_int_equal(plan_file(&a, true, &b, false, 0), PLAN_SKIP);
    assert_int_equal(plan_file(&a, true, &b, true, 0), PLAN_COMPARE);
    b.mtime = 1001;
    assert_int_equal(plan_file(&a, true, &b, false, 0), PLAN_UPDATE);
    b.mtime = 1000;
    b.size = 11;
    assert_int_equal(plan_file(&a, true, &b, false, 0), PLAN_UPDATE);
    assert_int_equal(plan_file(&a, true, &b, true, 0), PLAN_UPDATE);
    /* A destination that keeps times to 2 s (time_probe.h): within the window is up to date, at it is not. */
    b.size = 10;
    a.mtime = 132223104001234567ull;
    b.mtime = 132223104000000000ull;
    assert_int_equal(plan_file(&a, true, &b, false, 0), PLAN_UPDATE);
    assert_int_equal(plan_file(&a, true, &b, false, TIME_WINDOW_MAX), PLAN_SKIP);
    b.mtime = a.mtime + TIME_WINDOW_MAX;
    assert_int_equal(plan_file(&a, true, &b, false, TIME_WINDOW_MAX), PLAN_UPDATE);
    b.mtime = a.mtime - TIME_WINDOW_MAX + 1;
    assert_int_equal(plan_file(&a, true, &b, false, TIME_WINDOW_MAX), PLAN_SKIP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unsafe_names),
        cmocka_unit_test(test_windows_names),
        cmocka_unit_test(test_plan_file),
        cmocka_unit_test(test_hostile_names_stay_inside),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
