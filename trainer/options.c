#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

#define DEFAULT_OUT "/mnt/model-storage/mnist_model.safetensors"
#define AUGMENT_DEFAULT "stroke" /* the only one that paid off: README, "Augmentation" */

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
        "  -e, --epochs N         epochs (default 5)\n"
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
        "                         contrast (default " AUGMENT_DEFAULT ")\n"
        "      --as-served, --no-as-served  pass distorted images through the service's\n"
        "                         preprocessing (crop, scale to 20x20, centre), as uploads\n"
        "                         are (default: off; no effect with --augment none)\n"
        "      --no-calibrate     do not fit a softmax temperature after training\n"
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

static void set_string(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src);
}

options_result options_parse(train_options *opts, int argc, char **argv, FILE *out, FILE *err)
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
    mn_augment_parse(AUGMENT_DEFAULT, &opts->augment, NULL);

    const char *env = getenv("DATA_DIR");
    if (env && *env) {
        set_string(opts->data_dir, sizeof opts->data_dir, env);
    } else {
        const char *cache = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
        if (cache && *cache)
            snprintf(opts->data_dir, sizeof opts->data_dir, "%s/mnist-service/mnist", cache);
        else
            snprintf(opts->data_dir, sizeof opts->data_dir, "%s/.cache/mnist-service/mnist",
                     home && *home ? home : ".");
    }
    env = getenv("MODEL_PATH");
    set_string(opts->out_path, sizeof opts->out_path, env && *env ? env : DEFAULT_OUT);

    enum { OPT_LIMIT_TRAIN = 256, OPT_LIMIT_TEST, OPT_RESUME, OPT_NO_RESUME, OPT_SCHEDULE,
           OPT_KEEP_VERSIONS, OPT_AUGMENT, OPT_NO_CALIBRATE, OPT_AS_SERVED, OPT_NO_AS_SERVED };
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
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    long v;
    while ((c = getopt_long(argc, argv, ":d:o:e:b:l:s:t:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': set_string(opts->data_dir, sizeof opts->data_dir, optarg); break;
        case 'o': set_string(opts->out_path, sizeof opts->out_path, optarg); break;
        case 'e':
            if (!parse_long(optarg, 1, 1000, &v)) goto bad_value;
            opts->epochs = (int)v;
            break;
        case 'b':
            if (!parse_long(optarg, 1, 4096, &v)) goto bad_value;
            opts->batch_size = (int)v;
            break;
        case 'l': {
            char *end;
            errno = 0;
            float lr = strtof(optarg, &end);
            if (errno || end == optarg || *end || !(lr > 0.0f && lr < 10.0f)) goto bad_value;
            opts->lr = lr;
            break;
        }
        case 's': {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-') goto bad_value;
            opts->seed = s;
            break;
        }
        case 't':
            if (!parse_long(optarg, 1, 1024, &v)) goto bad_value;
            opts->threads = (int)v;
            break;
        case OPT_LIMIT_TRAIN:
            if (!parse_long(optarg, 1, LONG_MAX, &v)) goto bad_value;
            opts->limit_train = v;
            break;
        case OPT_LIMIT_TEST:
            if (!parse_long(optarg, 1, LONG_MAX, &v)) goto bad_value;
            opts->limit_test = v;
            break;
        case OPT_SCHEDULE:
            if (strcmp(optarg, "cosine") && strcmp(optarg, "constant")) goto bad_value;
            opts->cosine = strcmp(optarg, "cosine") == 0;
            break;
        case OPT_KEEP_VERSIONS:
            if (!parse_long(optarg, 0, 10000, &v)) goto bad_value;
            opts->keep_versions = (int)v;
            break;
        case OPT_AUGMENT: {
            mn_error aug_err;
            if (mn_augment_parse(optarg, &opts->augment, &aug_err)) {
                fprintf(err, "mnist-train: --augment: %s (see --help)\n", aug_err.msg);
                return OPTIONS_USAGE_ERROR;
            }
            break;
        }
        case OPT_NO_CALIBRATE: opts->calibrate = false; break;
        case OPT_AS_SERVED: opts->as_served = true; break;
        case OPT_NO_AS_SERVED: opts->as_served = false; break;
        case OPT_RESUME: opts->resume = true; break;
        case OPT_NO_RESUME: opts->resume = false; break;
        case 'h': usage(out); return OPTIONS_EXIT_OK;
        case 'V': fprintf(out, "mnist-train (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION); return OPTIONS_EXIT_OK;
        case ':':
            fprintf(err, "mnist-train: option %s needs a value (see --help)\n", argv[optind - 1]);
            return OPTIONS_USAGE_ERROR;
        default:
            if (optopt)
                fprintf(err, "mnist-train: unknown option -%c (see --help)\n", optopt);
            else
                fprintf(err, "mnist-train: unknown option %s (see --help)\n", argv[optind - 1]);
            return OPTIONS_USAGE_ERROR;
        }
        continue;
    bad_value:
        for (const struct option *o = longopts; o->name; o++)
            if (o->val == c)
                fprintf(err, "mnist-train: invalid value '%s' for --%s (see --help)\n", optarg, o->name);
        return OPTIONS_USAGE_ERROR;
    }
    if (optind < argc) {
        fprintf(err, "mnist-train: unexpected argument '%s' (see --help)\n", argv[optind]);
        return OPTIONS_USAGE_ERROR;
    }
    return OPTIONS_RUN;
}
