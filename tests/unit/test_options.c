/* Tests for mnist-train's command line (trainer/options.c): the defaults and the
 * environment, every option's effect, every refusal with its one-line message, and
 * --help/--version. The output streams are memory files, read back after each parse. */
#include "config.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mn_net.h"
#include "options.h"

typedef struct parse_result {
    options_result result;
    train_options opts;
    char out[8192];
    char err[1024];
} parse_result;

/* Reads a memory stream back into buf (NUL-terminated) and closes it. */
static void drain(FILE *f, char *buf, size_t size)
{
    rewind(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Parses "mnist-train" followed by the given arguments (NULL-terminated). */
static void parse(parse_result *r, ...)
{
    char *argv[32] = {"mnist-train"};
    int argc = 1;
    va_list ap;
    va_start(ap, r);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL;)
        argv[argc++] = (char *)a;
    va_end(ap);
    FILE *out = tmpfile(), *err = tmpfile();
    assert_non_null(out);
    assert_non_null(err);
    r->result = options_parse(&r->opts, argc, argv, out, err);
    drain(out, r->out, sizeof r->out);
    drain(err, r->err, sizeof r->err);
}

static int clear_environment(void **state)
{
    (void)state;
    unsetenv("DATA_DIR");
    unsetenv("MODEL_PATH");
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", "/home/tester", 1);
    return 0;
}

/* The settings a parse must run with (augmentation and calibration are
 * test_augment_flags' part). */
typedef struct expected_run {
    const char *data_dir, *out_path;
    int epochs, batch_size;
    float lr;
    bool cosine;
    uint64_t seed;
    int threads;
    long limit_train, limit_test;
    bool resume;
    int keep_versions;
} expected_run;

/* The parse R runs with exactly the settings WANT, and printed nothing. */
static void assert_runs_with(const parse_result *r, const expected_run *want)
{
    assert_int_equal(r->result, OPTIONS_RUN);
    assert_string_equal(r->opts.data_dir, want->data_dir);
    assert_string_equal(r->opts.out_path, want->out_path);
    assert_int_equal(r->opts.epochs, want->epochs);
    assert_int_equal(r->opts.batch_size, want->batch_size);
    assert_true(r->opts.lr == want->lr);
    assert_true(r->opts.cosine == want->cosine);
    assert_true(r->opts.seed == want->seed);
    assert_int_equal(r->opts.threads, want->threads);
    assert_int_equal(r->opts.limit_train, want->limit_train);
    assert_int_equal(r->opts.limit_test, want->limit_test);
    assert_true(r->opts.resume == want->resume);
    assert_int_equal(r->opts.keep_versions, want->keep_versions);
    assert_string_equal(r->out, "");
    assert_string_equal(r->err, "");
}

static void test_defaults(void **state)
{
    (void)state;
    parse_result r;
    parse(&r, NULL);
    assert_runs_with(&r, &(expected_run){
        .data_dir = "/home/tester/.cache/mnist-service/mnist",
        .out_path = "/mnt/model-storage/mnist_model.safetensors",
        .epochs = 5, .batch_size = 128, .lr = 2e-3f, .cosine = true, .seed = 42,
        .threads = 0, .limit_train = 0, .limit_test = 0, .resume = true, .keep_versions = 5});
}

static void test_environment(void **state)
{
    (void)state;
    parse_result r;
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    parse(&r, NULL);
    assert_string_equal(r.opts.data_dir, "/xdg/mnist-service/mnist");
    setenv("DATA_DIR", "/data", 1);
    setenv("MODEL_PATH", "/models/m.safetensors", 1);
    parse(&r, NULL);
    assert_string_equal(r.opts.data_dir, "/data");
    assert_string_equal(r.opts.out_path, "/models/m.safetensors");
    /* the command line wins over the environment */
    parse(&r, "--data", "/cli", "-o", "/cli.safetensors", NULL);
    assert_string_equal(r.opts.data_dir, "/cli");
    assert_string_equal(r.opts.out_path, "/cli.safetensors");
    clear_environment(NULL);
}

static void test_every_option(void **state)
{
    (void)state;
    parse_result r;
    parse(&r, "-d", "/d", "--out", "/o", "--epochs", "7", "-b", "64", "--lr", "0.01",
          "--schedule", "constant", "-s", "18446744073709551615", "-t", "3",
          "--limit-train", "1000", "--limit-test", "500", "--no-resume", "--keep-versions",
          "0", NULL);
    assert_runs_with(&r, &(expected_run){
        .data_dir = "/d", .out_path = "/o", .epochs = 7, .batch_size = 64, .lr = 0.01f,
        .cosine = false, .seed = UINT64_MAX, .threads = 3, .limit_train = 1000,
        .limit_test = 500, .resume = false, .keep_versions = 0});

    /* short forms, the upper limits, and the last of two contrary flags wins */
    parse(&r, "-e", "1000", "-b", "4096", "-l", "9.5", "-t", "1024", "--keep-versions",
          "10000", "--no-resume", "--resume", "--schedule", "cosine", NULL);
    assert_int_equal(r.result, OPTIONS_RUN);
    assert_int_equal(r.opts.epochs, MAX_EPOCHS);
    assert_int_equal(r.opts.batch_size, 4096);
    assert_true(r.opts.lr == 9.5f);
    assert_int_equal(r.opts.threads, 1024);
    assert_int_equal(r.opts.keep_versions, 10000);
    assert_true(r.opts.resume);
    assert_true(r.opts.cosine);
}

/* Each refused value, and the exact message naming the option by its long name. */
static void test_refused_values(void **state)
{
    (void)state;
    static const struct { const char *option, *value, *name; } cases[] = {
        {"--epochs", "0", "epochs"}, {"-e", "1001", "epochs"}, {"-e", "5x", "epochs"},
        {"-e", "", "epochs"}, {"--batch-size", "0", "batch-size"},
        {"-b", "4097", "batch-size"}, {"--lr", "0", "lr"}, {"-l", "10", "lr"},
        {"-l", "-0.1", "lr"}, {"-l", "nan", "lr"}, {"-l", "1e-3x", "lr"},
        {"--schedule", "linear", "schedule"}, {"--seed", "-1", "seed"},
        {"-s", "18446744073709551616", "seed"}, {"-s", "abc", "seed"},
        {"--threads", "0", "threads"}, {"-t", "1025", "threads"},
        {"--limit-train", "0", "limit-train"}, {"--limit-test", "-5", "limit-test"},
        {"--limit-train", "99999999999999999999", "limit-train"},
        {"--keep-versions", "-1", "keep-versions"}, {"--keep-versions", "10001", "keep-versions"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        parse_result r;
        parse(&r, cases[i].option, cases[i].value, NULL);
        char expected[256];
        snprintf(expected, sizeof expected,
                 "mnist-train: invalid value '%s' for --%s (see --help)\n", cases[i].value,
                 cases[i].name);
        assert_int_equal(r.result, OPTIONS_USAGE_ERROR);
        assert_string_equal(r.err, expected);
        assert_string_equal(r.out, "");
    }
}

/* --augment's list, the calibration and preprocessing flags, --scan-copies, --shapes, and a bad
 * list's message naming what is wrong in it; the default is the documented recipe
 * (stroke at half strength, scanner's copies of 10 % of the images). */
static void test_augment_flags(void **state)
{
    (void)state;
    parse_result r;
    parse(&r, NULL);
    assert_true(r.opts.augment.strength[MN_AUG_STROKE] == 0.5f);
    assert_true(r.opts.augment.strength[MN_AUG_AFFINE] == 0.0f);
    assert_true(r.opts.calibrate);
    assert_false(r.opts.as_served);
    assert_int_equal(r.opts.scan_copies, 10);

    parse(&r, "--augment", "affine=0.5,lowres", "--no-calibrate", "--as-served", NULL);
    assert_int_equal(r.result, OPTIONS_RUN);
    assert_true(r.opts.augment.strength[MN_AUG_AFFINE] == 0.5f);
    assert_true(r.opts.augment.strength[MN_AUG_LOWRES] == 1.0f);
    assert_true(r.opts.augment.strength[MN_AUG_STROKE] == 0.0f);
    assert_false(r.opts.calibrate);
    assert_true(r.opts.as_served);

    parse(&r, "--augment", "none", "--as-served", "--no-as-served", NULL);
    assert_false(mn_augment_enabled(&r.opts.augment));
    assert_false(r.opts.as_served);

    /* a percentage of the images, whole */
    parse(&r, "--scan-copies", "0", NULL);
    assert_int_equal(r.result, OPTIONS_RUN);
    assert_int_equal(r.opts.scan_copies, 0);
    parse(&r, "--scan-copies", "100", NULL);
    assert_int_equal(r.opts.scan_copies, 100);
    const char *bad_copies[] = {"101", "-1", "33.3", "", "x"};
    for (size_t i = 0; i < sizeof bad_copies / sizeof *bad_copies; i++) {
        parse(&r, "--scan-copies", bad_copies[i], NULL);
        assert_int_equal(r.result, OPTIONS_USAGE_ERROR);
        assert_non_null(strstr(r.err, "for --scan-copies"));
    }
    /* pictures without a digit: 3 % by default, a whole percentage */
    parse(&r, NULL);
    assert_int_equal(r.opts.shapes, 3);
    parse(&r, "--shapes", "0", NULL);
    assert_int_equal(r.result, OPTIONS_RUN);
    assert_int_equal(r.opts.shapes, 0);
    parse(&r, "--shapes", "100", NULL);
    assert_int_equal(r.opts.shapes, 100);
    for (size_t i = 0; i < sizeof bad_copies / sizeof *bad_copies; i++) {
        parse(&r, "--shapes", bad_copies[i], NULL);
        assert_int_equal(r.result, OPTIONS_USAGE_ERROR);
        assert_non_null(strstr(r.err, "for --shapes"));
    }

    /* dropout after fc1: 0.3 when augmenting, MNISTNet's 0.5 in the original recipe,
     * unless asked; 0 to 0.9 */
    parse(&r, NULL);
    assert_true(r.opts.dropout == 0.3f);
    parse(&r, "--augment", "none", NULL);
    assert_true(r.opts.dropout == MN_FC_DROPOUT);
    parse(&r, "--dropout", "0.2", "--augment", "none", NULL);
    assert_true(r.opts.dropout == 0.2f);
    parse(&r, "--dropout", "0", NULL);
    assert_int_equal(r.result, OPTIONS_RUN);
    assert_true(r.opts.dropout == 0.0f);
    const char *bad_rates[] = {"0.95", "-0.1", "1", "", "x", "nan"};
    for (size_t i = 0; i < sizeof bad_rates / sizeof *bad_rates; i++) {
        parse(&r, "--dropout", bad_rates[i], NULL);
        assert_int_equal(r.result, OPTIONS_USAGE_ERROR);
        assert_non_null(strstr(r.err, "for --dropout"));
    }

    /* deskewing: on when augmenting, off in the original recipe, unless asked */
    parse(&r, NULL);
    assert_int_equal(r.opts.deskew, 1);
    parse(&r, "--augment", "none", NULL);
    assert_int_equal(r.opts.deskew, 0);
    parse(&r, "--augment", "none", "--deskew", NULL);
    assert_int_equal(r.opts.deskew, 1);
    parse(&r, "--no-deskew", NULL);
    assert_int_equal(r.result, OPTIONS_RUN);
    assert_int_equal(r.opts.deskew, 0);

    parse(&r, "--augment", "swirl", NULL);
    assert_int_equal(r.result, OPTIONS_USAGE_ERROR);
    assert_string_equal(r.err, "mnist-train: --augment: unknown transform 'swirl' (affine, "
                               "elastic, stroke, blur, lowres, contrast, flag, aspect, "
                               "rotate, or none) (see --help)\n");
    parse(&r, "--augment", "blur=3", NULL);
    assert_int_equal(r.result, OPTIONS_USAGE_ERROR);
    assert_non_null(strstr(r.err, "strength of blur must be a number from 0 to 2, not '3'"));
}

static void test_refused_usage(void **state)
{
    (void)state;
    parse_result r;
    parse(&r, "--epochs", NULL);
    assert_int_equal(r.result, OPTIONS_USAGE_ERROR);
    assert_string_equal(r.err, "mnist-train: option --epochs needs a value (see --help)\n");
    parse(&r, "-b", NULL);
    assert_string_equal(r.err, "mnist-train: option -b needs a value (see --help)\n");
    parse(&r, "-x", NULL);
    assert_int_equal(r.result, OPTIONS_USAGE_ERROR);
    assert_string_equal(r.err, "mnist-train: unknown option -x (see --help)\n");
    parse(&r, "--bogus", NULL);
    assert_int_equal(r.result, OPTIONS_USAGE_ERROR);
    assert_string_equal(r.err, "mnist-train: unknown option --bogus (see --help)\n");
    parse(&r, "--resume=yes", NULL);
    assert_int_equal(r.result, OPTIONS_USAGE_ERROR);
    parse(&r, "-e", "3", "extra", NULL);
    assert_int_equal(r.result, OPTIONS_USAGE_ERROR);
    assert_string_equal(r.err, "mnist-train: unexpected argument 'extra' (see --help)\n");
}

static void test_help_and_version(void **state)
{
    (void)state;
    parse_result r;
    parse(&r, "--epochs", "3", "--help", "--bogus", NULL);
    assert_int_equal(r.result, OPTIONS_EXIT_OK);
    assert_string_equal(r.err, "");
    assert_true(strncmp(r.out, "Usage: mnist-train [OPTION]...\n", 31) == 0);
    /* every long option is documented, and the epoch limit is the one enforced */
    static const char *const documented[] = {
        "--data DIR", "--out FILE", "--epochs N", "--batch-size N", "--lr RATE",
        "--schedule NAME", "--seed N", "--threads N", "--limit-train N", "--limit-test N",
        "--resume", "--no-resume", "--keep-versions K", "--help", "--version", "Exit status",
    };
    for (size_t i = 0; i < sizeof documented / sizeof documented[0]; i++)
        assert_non_null(strstr(r.out, documented[i]));
    char limit[64];
    snprintf(limit, sizeof limit, "at most %d)", MAX_EPOCHS);
    assert_non_null(strstr(r.out, limit));
    parse(&r, "-h", NULL);
    assert_int_equal(r.result, OPTIONS_EXIT_OK);
    parse(&r, "-V", NULL);
    assert_int_equal(r.result, OPTIONS_EXIT_OK);
    assert_string_equal(r.out, "mnist-train (" PACKAGE_NAME ") " PACKAGE_VERSION "\n");
}

/* options_parse resets getopt, so a second parse in one process sees all its arguments */
static void test_parses_twice(void **state)
{
    (void)state;
    parse_result r;
    parse(&r, "-e", "2", NULL);
    parse(&r, "-e", "3", NULL);
    assert_int_equal(r.result, OPTIONS_RUN);
    assert_int_equal(r.opts.epochs, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, clear_environment),
        cmocka_unit_test_setup(test_environment, clear_environment),
        cmocka_unit_test_setup(test_every_option, clear_environment),
        cmocka_unit_test_setup(test_refused_values, clear_environment),
        cmocka_unit_test_setup(test_augment_flags, clear_environment),
        cmocka_unit_test_setup(test_refused_usage, clear_environment),
        cmocka_unit_test_setup(test_help_and_version, clear_environment),
        cmocka_unit_test_setup(test_parses_twice, clear_environment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
