/* mnist-model: lists the model versions kept beside the published model and rolls the
 * served model back to one of them (see --help and mn_versions.h). */
#include "config.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mn_model.h"
#include "mn_versions.h"

#define DEFAULT_MODEL "/mnt/model-storage/mnist_model.safetensors"

/* sysexits.h values, as mnist-train uses them */
enum { EXIT_USAGE = 64, EXIT_BAD_VERSION = 65, EXIT_WRITE = 74 };

static void usage(FILE *out)
{
    fprintf(out,
        "Usage: mnist-model [--model FILE] list\n"
        "       mnist-model [--model FILE] rollback [VERSION]\n"
        "List the model versions mnist-train keeps beside FILE, or serve an earlier one.\n"
        "\n"
        "  -m, --model FILE   the published model (env MODEL_PATH;\n"
        "                     default " DEFAULT_MODEL ")\n"
        "  -h, --help         show this help\n"
        "  -V, --version      show the version\n"
        "\n"
        "list       each kept version, newest first: version, creation time, test\n"
        "           accuracy, and which one FILE serves now\n"
        "rollback   points FILE at VERSION (12 hex digits, or a unique prefix of at least\n"
        "           4), by default at the newest version older than the current one.\n"
        "           The version is loaded with every check mnist-fcgi makes first; a\n"
        "           running mnist-fcgi serves it within its reload interval.\n"
        "\n"
        "Versions live in DIR/versions/NAME.VERSION.safetensors for FILE = DIR/NAME.safetensors.\n"
        "\n"
        "Exit status: 0 success, 64 usage error, 65 no such version (or none older) or a\n"
        "version file that fails a check, 74 I/O error (FILE and the links unchanged).\n");
}

/* One line: version, created, test accuracy, and a note (current, or why unusable). */
static void print_version(const mn_version_layout *l, const char *version, bool current,
                          mn_params *p)
{
    char path[MN_VERSIONS_PATH_MAX];
    mn_metadata meta;
    mn_error err;
    const char *created = NULL, *accuracy = NULL, *problem = NULL;
    if (mn_versions_file(l, version, MN_VERSION_MODEL, path, sizeof path, &err) ||
        mn_model_load(path, p, &meta, &err)) {
        problem = err.msg;
    } else {
        created = mn_metadata_get(&meta, "created");
        accuracy = mn_metadata_get(&meta, "test_accuracy");
    }
    printf("%-12s  %-20s  %8s%s  %s%s%s\n", version, created ? created : "-",
           accuracy ? accuracy : "-", accuracy ? " %" : "  ", current ? "current" : "",
           current && problem ? ", " : "", problem ? problem : "");
}

static int list(const mn_version_layout *l)
{
    mn_versions v;
    mn_error err;
    mn_params p;
    if (mn_versions_list(l, &v, &err) || mn_params_alloc(&p, &err)) {
        fprintf(stderr, "mnist-model: %s\n", err.msg);
        return EXIT_WRITE;
    }
    printf("%-12s  %-20s  %10s  %s\n", "VERSION", "CREATED", "ACCURACY", "");
    for (size_t i = 0; i < v.count; i++)
        print_version(l, v.items[i].version, i == v.current, &p);
    if (v.current_version[0] && v.current == v.count)
        printf("%-12s  %s is a file of its own, kept as a version at the next publish or "
               "rollback  current\n", v.current_version, l->stable);
    if (!v.count && !v.current_version[0])
        fprintf(stderr, "mnist-model: no model at %s and no versions in %s\n", l->stable,
                l->versions);
    mn_params_free(&p);
    mn_versions_free(&v);
    return 0;
}

/* Checks and switches to the version WANT names (NULL: the previous one); the caller
 * holds the versions lock. */
static int switch_to(const mn_version_layout *l, const char *want)
{
    mn_versions v;
    mn_error err;
    size_t i = 0;
    if (mn_versions_list(l, &v, &err)) {
        fprintf(stderr, "mnist-model: %s\n", err.msg);
        return EXIT_WRITE;
    }
    int status = 0;
    mn_status st = want ? mn_versions_resolve(&v, want, &i, &err)
                        : mn_versions_previous(&v, &i, &err);
    if (st) {
        fprintf(stderr, "mnist-model: %s%s\n", err.msg,
                st == MN_ERR_FORMAT ? " (mnist-model list shows the versions)" : "");
        status = st == MN_ERR_ARG ? EXIT_USAGE : EXIT_BAD_VERSION;
    } else if (i == v.current) {
        printf("%s already serves version %s\n", l->stable, v.items[i].version);
    } else if (mn_versions_check(l, v.items[i].version, &err)) {
        fprintf(stderr, "mnist-model: refusing to roll back to %s: %s\n", v.items[i].version,
                err.msg);
        status = EXIT_BAD_VERSION;
    } else if (mn_versions_switch(l, v.items[i].version, &err)) {
        fprintf(stderr, "mnist-model: rollback to %s failed: %s\n", v.items[i].version, err.msg);
        status = EXIT_WRITE;
    } else {
        printf("%s now serves version %s (was %s)\n", l->stable, v.items[i].version,
               v.current_version[0] ? v.current_version : "none");
    }
    mn_versions_free(&v);
    return status;
}

static int rollback(const mn_version_layout *l, const char *want)
{
    mn_error err;
    int lock = mn_versions_lock(l, &err);
    if (lock < 0) {
        fprintf(stderr, "mnist-model: %s\n", err.msg);
        return EXIT_WRITE;
    }
    int status = switch_to(l, want);
    mn_versions_unlock(lock);
    return status;
}

/* Parses the options; returns -1 to go on, else an exit status. */
static int parse(int argc, char **argv, const char **model)
{
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *env = getenv("MODEL_PATH");
    *model = env && *env ? env : DEFAULT_MODEL;
    opterr = 0;
    for (int c; (c = getopt_long(argc, argv, ":m:hV", longopts, NULL)) != -1;) {
        switch (c) {
        case 'm': *model = optarg; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("mnist-model (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION); return 0;
        case ':':
            fprintf(stderr, "mnist-model: option %s needs a value (see --help)\n", argv[optind - 1]);
            return EXIT_USAGE;
        default:
            fprintf(stderr, "mnist-model: unknown option %s (see --help)\n", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    return -1;
}

int main(int argc, char **argv)
{
    const char *model;
    int status = parse(argc, argv, &model);
    if (status >= 0)
        return status;
    const char *cmd = optind < argc ? argv[optind] : "";
    int args = argc - optind - 1;
    bool is_list = strcmp(cmd, "list") == 0, is_rollback = strcmp(cmd, "rollback") == 0;
    if (!(is_list && args == 0) && !(is_rollback && args <= 1)) {
        fprintf(stderr, "mnist-model: %s (see --help)\n",
                !*cmd ? "a command is needed: list or rollback"
                : is_list || is_rollback ? "too many arguments"
                : "unknown command; the commands are list and rollback");
        return EXIT_USAGE;
    }
    mn_version_layout l;
    mn_error err;
    if (mn_versions_layout(model, &l, &err)) {
        fprintf(stderr, "mnist-model: %s\n", err.msg);
        return EXIT_USAGE;
    }
    return is_list ? list(&l) : rollback(&l, args == 1 ? argv[optind + 1] : NULL);
}
