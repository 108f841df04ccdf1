/* Times mn_st_parse on one file (best of many runs, thread CPU time): built twice by
 * tests/bench/json-parse.sh, against the current src/ and another commit's, to
 * compare safetensors header parsing.
 *
 *   st-parse FILE [RUNS] */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mn_safetensors.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 64;
    FILE *fp = fopen(argv[1], "rb");
    if (!fp || fseek(fp, 0, SEEK_END) != 0)
        return 66;
    long n = ftell(fp);
    rewind(fp);
    unsigned char *buf = malloc((size_t)n);
    if (!buf || fread(buf, 1, (size_t)n, fp) != (size_t)n)
        return 66;
    fclose(fp);
    int runs = argc > 2 ? atoi(argv[2]) : 200;
    double best = 1e9;
    for (int i = 0; i < runs; i++) {
        mn_st_file *f = NULL;
        mn_error err;
        double t0 = now();
        if (mn_st_parse(buf, (size_t)n, &f, &err) != MN_OK) {
            fprintf(stderr, "%s: %s\n", argv[1], err.msg);
            return 65;
        }
        double t = now() - t0;
        best = t < best ? t : best;
        mn_st_free(f);
    }
    printf("%.2f\n", best * 1e6);
    free(buf);
    return 0;
}
