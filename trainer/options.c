#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "mn_net.h"
#include "options.h"

#define DEFAULT_OUT "/mnt/model-storage/mnist_model.safetensors"
#define MN_STR_(x) #x
#define MN_STR(x) MN_STR_(x)
/* README, "Augmentation": MNIST kept, other hands gain */
#define AUGMENT_DEFAULT "stroke=0.5,flag=0.5,aspect=0.6,rotate=0.6"
#define SCAN_COPIES_DEFAULT 10       /* README, "Augmentation": 8x8 scans read, MNIST kept */
#define SHAPES_DEFAULT 3             /* README, "Augmentation": stars and crosses not read */
#define DROPOUT_DEFAULT "0.3"        /* README, "Augmentation": the distortions regularise too */

static void usage(FILE *out)
{
    fprintf(out,
        "Usage: mnist-train [OPTION]...\n"
        "Train MNISTNet on the MNIST IDX files and publish the weights atomically.\n"
        "\n"
        "  -d, --data DIR         directory of the IDX files, raw or .gz\n"
        "                         (env DATA_DIR; default $XDG_CACHE_HOME/mnist-service/mnist,\n"
        "                         where trainer/fetch-mnist.sh puts them)\n"
        "  -o, --out FILE         model file to publish (env MODEL_PATH;\n"
        "                         default " DEFAULT_OUT ")\n"
        "  -e, --epochs N         epochs (default 5, at most " MN_STR(MAX_EPOCHS) ")\n"
        "  -b, --batch-size N     images per step (default 128)\n"
        "  -l, --lr RATE          Adam learning rate, the peak of the schedule (default 0.002)\n"
        "      --schedule NAME    learning-rate schedule: cosine (default: decays the rate\n"
        "                         to zero over the run) or constant (the original's)\n"
        "  -s, --seed N           random seed (default 42); the same seed and thread count\n"
        "                         give the same model\n"
        "  -t, --threads N        threads (default: online CPUs)\n"
        "      --limit-train N    train on the first N images only\n"
        "      --limit-test N     evaluate on the first N test images only\n"
        "      --resume           resume from FILE.ckpt when its settings match (default)\n"
        "      --no-resume        ignore any checkpoint and start afresh\n"
        "      --keep-versions K  earlier models kept beside the current one for rollback\n"
        "                         (default 5; 0 keeps only the current one)\n"
        "      --augment LIST     training-time distortions: none (the original recipe), or\n"
        "                         a comma-separated list of NAME[=STRENGTH] (strength 0..2,\n"
        "                         default 1) from affine, elastic, stroke, blur, lowres,\n"
        "                         contrast, flag, aspect, rotate\n"
        "                         (default " AUGMENT_DEFAULT ")\n"
        "      --as-served, --no-as-served  pass distorted images through the service's\n"
        "                         preprocessing (crop, scale to 20x20, centre), as uploads\n"
        "                         are (default: off; no effect with --augment none)\n"
        "      --scan-copies PCT  each epoch also trains on scanner's copies of PCT %% of\n"
        "                         the images, in the classic 8x8 format, read as the\n"
        "                         service reads it\n"
        "                         (0..100, default " MN_STR(SCAN_COPIES_DEFAULT) "; no effect with --augment none)\n"
        "      --shapes PCT       each epoch also trains on as many pictures without a\n"
        "                         digit (stars, polygons, crosses, scribbles) as PCT %% of\n"
        "                         the images, towards an evenly unsure answer\n"
        "                         (0..100, default " MN_STR(SHAPES_DEFAULT) "; no effect with --augment none)\n"
        "      --dropout RATE     dropout after the first fully connected layer, 0..0.9\n"
        "                         (default " DROPOUT_DEFAULT "; with --augment none 0.5, MNISTNet's)\n"
        "      --no-calibrate     do not fit a softmax temperature after training\n"
        "      --deskew, --no-deskew  take each digit's slant out before the network\n"
        "                         reads it, in training and, by the model's metadata,\n"
        "                         in the service (default: on; off with --augment none)\n"
        "  -h, --help             show this help\n"
        "  -V, --version          show the version\n"
        "\n"
        "A checkpoint (FILE.ckpt) is written after each epoch and on SIGTERM/SIGINT. The\n"
        "model goes to DIR/versions/NAME.VERSION.safetensors (VERSION: the first 12 hex\n"
        "digits of its SHA-256), its report beside it as NAME.VERSION.report.json, and FILE\n"
        "(DIR/NAME.safetensors) and DIR/NAME.report.json become links to them; a FILE that\n"
        "is a regular file is kept as a version first. mnist-model lists and rolls back.\n"
        "\n"
        "Exit status: 0 success, 64 usage error, 65 data error (missing or malformed\n"
        "data set), 74 write error (model, report or checkpoint), 70 internal error,\n"
        "130/143 interrupted by SIGINT/SIGTERM after saving a checkpoint.\n");
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool set_long(long *dst, const char *arg, long lo, long hi)
{
    return parse_long(arg, lo, hi, dst);
}

static bool set_int(int *dst, const char *arg, int lo, int hi)
{
    long v;
    if (!parse_long(arg, lo, hi, &v))
        return false;
    *dst = (int)v;
    return true;
}

/* a learning rate in (0, 10) */
static bool set_lr(float *dst, const char *arg)
{
    char *end;
    errno = 0;
    float lr = strtof(arg, &end);
    if (errno || end == arg || *end || !(lr > 0.0f && lr < 10.0f))
        return false;
    *dst = lr;
    return true;
}

/* a dropout rate: 0 (none) to 0.9 */
static bool set_rate(float *dst, const char *arg)
{
    char *end;
    errno = 0;
    float rate = strtof(arg, &end);
    if (errno || end == arg || *end || !(rate >= 0.0f && rate <= 0.9f))
        return false;
    *dst = rate;
    return true;
}

/* any unsigned 64-bit number; strtoull would wrap a negative one */
static bool set_seed(uint64_t *dst, const char *arg)
{
    char *end;
    errno = 0;
    unsigned long long s = strtoull(arg, &end, 10);
    if (errno || end == arg || *end || arg[0] == '-')
        return false;
    *dst = s;
    return true;
}

static bool set_schedule(bool *cosine, const char *arg)
{
    if (strcmp(arg, "cosine") && strcmp(arg, "constant"))
        return false;
    *cosine = strcmp(arg, "cosine") == 0;
    return true;
}

static void set_string(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src);
}

/* The defaults, then the environment (DATA_DIR, XDG_CACHE_HOME, HOME, MODEL_PATH). */
static void set_defaults(train_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->epochs = 5;
    opts->batch_size = 128;
    opts->lr = 2e-3f;
    opts->cosine = true;
    opts->seed = 42;
    opts->resume = true;
    opts->keep_versions = 5;
    opts->calibrate = true;
    opts->as_served = false;
    opts->scan_copies = SCAN_COPIES_DEFAULT;
    opts->shapes = SHAPES_DEFAULT;
    opts->dropout = -1.0f; /* until the options are read: see options_parse */
    opts->deskew = -1;     /* likewise */
    mn_augment_parse(AUGMENT_DEFAULT, &opts->augment, NULL);

    const char *env = getenv("DATA_DIR");
    const char *cache = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (env && *env)
        set_string(opts->data_dir, sizeof opts->data_dir, env);
    else if (cache && *cache)
        snprintf(opts->data_dir, sizeof opts->data_dir, "%s/mnist-service/mnist", cache);
    else
        snprintf(opts->data_dir, sizeof opts->data_dir, "%s/.cache/mnist-service/mnist",
                 home && *home ? home : ".");
    env = getenv("MODEL_PATH");
    set_string(opts->out_path, sizeof opts->out_path, env && *env ? env : DEFAULT_OUT);
}

enum { OPT_LIMIT_TRAIN = 256, OPT_LIMIT_TEST, OPT_RESUME, OPT_NO_RESUME, OPT_SCHEDULE,
       OPT_KEEP_VERSIONS, OPT_AUGMENT, OPT_NO_CALIBRATE, OPT_AS_SERVED, OPT_NO_AS_SERVED,
       OPT_SCAN_COPIES, OPT_SHAPES, OPT_DROPOUT, OPT_DESKEW, OPT_NO_DESKEW };
static const struct option longopts[] = {
    {"data", required_argument, NULL, 'd'},
    {"out", required_argument, NULL, 'o'},
    {"epochs", required_argument, NULL, 'e'},
    {"batch-size", required_argument, NULL, 'b'},
    {"lr", required_argument, NULL, 'l'},
    {"schedule", required_argument, NULL, OPT_SCHEDULE},
    {"seed", required_argument, NULL, 's'},
    {"threads", required_argument, NULL, 't'},
    {"limit-train", required_argument, NULL, OPT_LIMIT_TRAIN},
    {"limit-test", required_argument, NULL, OPT_LIMIT_TEST},
    {"resume", no_argument, NULL, OPT_RESUME},
    {"no-resume", no_argument, NULL, OPT_NO_RESUME},
    {"keep-versions", required_argument, NULL, OPT_KEEP_VERSIONS},
    {"augment", required_argument, NULL, OPT_AUGMENT},
    {"no-calibrate", no_argument, NULL, OPT_NO_CALIBRATE},
    {"as-served", no_argument, NULL, OPT_AS_SERVED},
    {"no-as-served", no_argument, NULL, OPT_NO_AS_SERVED},
    {"scan-copies", required_argument, NULL, OPT_SCAN_COPIES},
    {"shapes", required_argument, NULL, OPT_SHAPES},
    {"dropout", required_argument, NULL, OPT_DROPOUT},
    {"deskew", no_argument, NULL, OPT_DESKEW},
    {"no-deskew", no_argument, NULL, OPT_NO_DESKEW},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* One option into opts, with its range: false when the value is refused. */
static bool apply_option(train_options *opts, int key, const char *arg)
{
    switch (key) {
    case 'd': set_string(opts->data_dir, sizeof opts->data_dir, arg); return true;
    case 'o': set_string(opts->out_path, sizeof opts->out_path, arg); return true;
    case 'e': return set_int(&opts->epochs, arg, 1, MAX_EPOCHS);
    case 'b': return set_int(&opts->batch_size, arg, 1, 4096);
    case 'l': return set_lr(&opts->lr, arg);
    case OPT_SCHEDULE: return set_schedule(&opts->cosine, arg);
    case 's': return set_seed(&opts->seed, arg);
    case 't': return set_int(&opts->threads, arg, 1, 1024);
    case OPT_LIMIT_TRAIN: return set_long(&opts->limit_train, arg, 1, LONG_MAX);
    case OPT_LIMIT_TEST: return set_long(&opts->limit_test, arg, 1, LONG_MAX);
    case OPT_KEEP_VERSIONS: return set_int(&opts->keep_versions, arg, 0, 10000);
    case OPT_AUGMENT: return mn_augment_parse(arg, &opts->augment, NULL) == MN_OK;
    case OPT_RESUME: opts->resume = true; return true;
    case OPT_NO_RESUME: opts->resume = false; return true;
    case OPT_NO_CALIBRATE: opts->calibrate = false; return true;
    case OPT_AS_SERVED: opts->as_served = true; return true;
    case OPT_NO_AS_SERVED: opts->as_served = false; return true;
    case OPT_DESKEW: opts->deskew = 1; return true;
    case OPT_NO_DESKEW: opts->deskew = 0; return true;
    case OPT_SCAN_COPIES: return set_int(&opts->scan_copies, arg, 0, 100);
    case OPT_SHAPES: return set_int(&opts->shapes, arg, 0, 100);
    case OPT_DROPOUT: return set_rate(&opts->dropout, arg);
    default: return false;
    }
}

static const char *long_name(int key)
{
    for (const struct option *o = longopts; o->name; o++)
        if (o->val == key)
            return o->name;
    return "?";
}

/* why a value was refused: --augment says what in the list is wrong */
static void report_bad_value(int key, const char *arg, FILE *err)
{
    mn_error why;
    if (key == OPT_AUGMENT && mn_augment_parse(arg, &(mn_augment){0}, &why))
        fprintf(err, "mnist-train: --augment: %s (see --help)\n", why.msg);
    else
        fprintf(err, "mnist-train: invalid value '%s' for --%s (see --help)\n", arg,
                long_name(key));
}

/* getopt_long's complaints (':' missing value, '?' unknown option) as one line each */
static void report_getopt_error(int c, char **argv, FILE *err)
{
    if (c == ':')
        fprintf(err, "mnist-train: option %s needs a value (see --help)\n", argv[optind - 1]);
    else if (optopt)
        fprintf(err, "mnist-train: unknown option -%c (see --help)\n", optopt);
    else
        fprintf(err, "mnist-train: unknown option %s (see --help)\n", argv[optind - 1]);
}

options_result options_parse(train_options *opts, int argc, char **argv, FILE *out, FILE *err)
{
    set_defaults(opts);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":d:o:e:b:l:s:t:hV", longopts, NULL)) != -1) {
        if (c == 'h') {
            usage(out);
            return OPTIONS_EXIT_OK;
        }
        if (c == 'V') {
            fprintf(out, "mnist-train (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
            return OPTIONS_EXIT_OK;
        }
        if (c == ':' || c == '?') {
            report_getopt_error(c, argv, err);
            return OPTIONS_USAGE_ERROR;
        }
        if (!apply_option(opts, c, optarg)) {
            report_bad_value(c, optarg, err);
            return OPTIONS_USAGE_ERROR;
        }
    }
    if (optind < argc) {
        fprintf(err, "mnist-train: unexpected argument '%s' (see --help)\n", argv[optind]);
        return OPTIONS_USAGE_ERROR;
    }
    /* --augment none is the original recipe: MNISTNet's dropout, digits as they are */
    if (opts->dropout < 0.0f)
        opts->dropout = mn_augment_enabled(&opts->augment) ? strtof(DROPOUT_DEFAULT, NULL)
                                                           : MN_FC_DROPOUT;
    if (opts->deskew < 0)
        opts->deskew = mn_augment_enabled(&opts->augment);
    return OPTIONS_RUN;
}
