/* fd_budget: lighttpd's connection and descriptor limits derived from the open-files
 * limit, 3 descriptors a connection plus a reserve. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fd_budget.h"

/* 4,096 connections wanted under HARD_LIMIT and an accept queue of BACKLOG must give
 * CONNECTIONS, each with its three descriptors, plus the reserve. */
static void expect_budget(long hard_limit, long backlog, long connections)
{
    fd_budget b;
    assert_true(fd_budget_for(4096, hard_limit, backlog, &b));
    assert_int_equal(b.max_connections, connections);
    assert_int_equal(b.max_fds, connections * 3 + FDS_RESERVED);
    assert_int_equal(b.hard_limit, hard_limit);
}

static void ample_limit_gives_what_is_wanted(void **state)
{
    (void)state;
    expect_budget(1048576, 4096, 4096);
}

/* 1,024 connections in 2,048 descriptors (lighttpd's defaults) ran out at 1,000
 * clients: every connection must have its three descriptors within the limit */
static void tight_limit_caps_connections(void **state)
{
    (void)state;
    fd_budget b;
    assert_true(fd_budget_for(4096, 2048, 4096, &b));
    assert_int_equal(b.max_connections, (2048 - FDS_RESERVED) / 3);
    assert_true(b.max_fds <= 2048);
    assert_true(b.max_connections * FDS_PER_CONNECTION + FDS_RESERVED <= b.max_fds);
    assert_true(fd_budget_for(4096, 20000, 4096, &b));
    assert_int_equal(b.max_connections, 4096);
    assert_true(b.max_fds <= 20000);
}

/* every connection may wait in mnist-fcgi's accept queue at once: a kernel that caps
 * it at 128 (before Linux 5.4) caps the connections there */
static void accept_queue_caps_connections(void **state)
{
    (void)state;
    expect_budget(1048576, 128, 128);
    fd_budget b;
    assert_false(fd_budget_for(4096, 1048576, MIN_CONNECTIONS - 1, &b));
}

static void limit_too_small_is_refused(void **state)
{
    (void)state;
    fd_budget b;
    assert_false(fd_budget_for(4096, FDS_RESERVED + 3 * MIN_CONNECTIONS - 1, 4096, &b));
    assert_true(fd_budget_for(4096, FDS_RESERVED + 3 * MIN_CONNECTIONS, 4096, &b));
    assert_int_equal(b.max_connections, MIN_CONNECTIONS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ample_limit_gives_what_is_wanted),
        cmocka_unit_test(tight_limit_caps_connections),
        cmocka_unit_test(accept_queue_caps_connections),
        cmocka_unit_test(limit_too_small_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
