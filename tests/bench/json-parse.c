/* Micro-benchmark of the v2 infer body parser: the same body parsed N times by the
 * current fcgi/v2_request.c and by an older one (compiled in with its symbol renamed
 * to old_v2_parse_infer by tests/bench/json-parse.sh), alternating in rounds so that
 * both see the same machine load, in thread CPU time (the machine may be shared).
 *
 *   json-parse BODY...    prints one line per body: old and new, best and mean */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mn_net.h"
#include "v2_request.h"

bool old_v2_parse_infer(const char *body, size_t len, long long header_len, int max_batch,
                        float *data, v2_request *req, char *msg, size_t msg_size);

typedef bool (*parse_fn)(const char *, size_t, long long, int, float *, v2_request *, char *,
                         size_t);

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* not the time others run */
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0)
        return NULL;
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
        return NULL;
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Seconds per parse over reps parses; exits if the parser refuses the body. */
static double time_parse(parse_fn parse, const char *body, size_t len, float *data, int reps)
{
    v2_request req;
    char msg[256];
    double t0 = now();
    for (int i = 0; i < reps; i++)
        if (!parse(body, len, -1, 256, data, &req, msg, sizeof msg)) {
            fprintf(stderr, "refused: %s\n", msg);
            exit(1);
        }
    return (now() - t0) / reps;
}

static void bench_body(const char *path, float *data, int rounds)
{
    size_t len;
    char *body = slurp(path, &len);
    if (!body) {
        perror(path);
        exit(1);
    }
    int reps = (int)(200000000 / (len + 1000)) + 1; /* about 0.1-0.3 s a run */
    double best_old = 1e9, best_new = 1e9, sum_old = 0, sum_new = 0;
    /* ONLY=old or ONLY=new runs one side alone (for perf stat's instruction counts) */
    const char *only = getenv("ONLY");
    const bool run_old = !only || strcmp(only, "new") != 0, run_new = !only || strcmp(only, "old") != 0;
    for (int r = 0; r < rounds; r++) { /* which goes first alternates too */
        double o = 0, n = 0;
        if (r % 2 && run_new)
            n = time_parse(v2_parse_infer, body, len, data, reps);
        if (run_old)
            o = time_parse(old_v2_parse_infer, body, len, data, reps);
        if (!(r % 2) && run_new)
            n = time_parse(v2_parse_infer, body, len, data, reps);
        best_old = o < best_old ? o : best_old;
        best_new = n < best_new ? n : best_new;
        sum_old += o;
        sum_new += n;
    }
    printf("%-28s %8zu bytes: old best %9.1f us mean %9.1f us | new best %9.1f us mean %9.1f us"
           " | new/old (best) %.3f\n", strrchr(path, '/') ? strrchr(path, '/') + 1 : path, len,
           best_old * 1e6, sum_old / rounds * 1e6, best_new * 1e6, sum_new / rounds * 1e6,
           best_new / best_old);
    free(body);
}

int main(int argc, char **argv)
{
    static float data[256 * MN_IMAGE_PIXELS];
    const int rounds = getenv("ROUNDS") ? atoi(getenv("ROUNDS")) : 7;
    int i = 1;
    for (; i < argc; i++)
        bench_body(argv[i], data, rounds);
    return 0;
}
