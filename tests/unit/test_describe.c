/* Untrusted names and shapes in error messages (mn_describe.h): control characters
 * cannot forge log lines, long names are cut on a UTF-8 boundary and marked, shapes
 * print as PyTorch writes them and are cut to the buffer. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mn_describe.h"

static void test_quote_keeps_a_plain_name(void **state)
{
    (void)state;
    char q[MN_QUOTE_SIZE];
    assert_string_equal(mn_quote("conv1.weight", q), "conv1.weight");
    assert_string_equal(mn_quote("", q), "");
    assert_string_equal(mn_quote("poids \xc3\xa9t\xc3\xa9", q), "poids \xc3\xa9t\xc3\xa9");
}

static void test_quote_masks_control_characters(void **state)
{
    (void)state;
    char q[MN_QUOTE_SIZE];
    assert_string_equal(mn_quote("a\nERROR forged\r\x1b[31m\x7f", q), "a?ERROR forged??[31m?");
}

static void test_quote_cuts_long_names_on_a_character(void **state)
{
    (void)state;
    char name[200], q[MN_QUOTE_SIZE];
    memset(name, 'x', MN_QUOTE_MAX);
    strcpy(name + MN_QUOTE_MAX, "tail");
    mn_quote(name, q);
    assert_int_equal(strlen(q), MN_QUOTE_MAX + 3);
    assert_memory_equal(q + MN_QUOTE_MAX, "...", 4);

    /* exactly MN_QUOTE_MAX bytes: whole, unmarked */
    name[MN_QUOTE_MAX] = '\0';
    assert_string_equal(mn_quote(name, q), name);

    /* a two-byte character straddling the cut goes whole */
    memset(name, 'x', MN_QUOTE_MAX - 1);
    strcpy(name + MN_QUOTE_MAX - 1, "\xc3\xa9zz");
    mn_quote(name, q);
    assert_int_equal(strlen(q), MN_QUOTE_MAX - 1 + 3);
    assert_memory_equal(q + MN_QUOTE_MAX - 1, "...", 4);
}

static void test_format_shape(void **state)
{
    (void)state;
    char buf[64];
    const size_t shape[4] = {32, 1, 3, 3};
    mn_format_shape(shape, 4, buf, sizeof buf);
    assert_string_equal(buf, "[32, 1, 3, 3]");
    mn_format_shape(shape, 1, buf, sizeof buf);
    assert_string_equal(buf, "[32]");
    mn_format_shape(shape, 0, buf, sizeof buf);
    assert_string_equal(buf, "[]");
    /* cut to the buffer, always terminated */
    const size_t big[2] = {123456789, 987654321};
    char small[8];
    memset(small, 'Z', sizeof small);
    mn_format_shape(big, 2, small, sizeof small);
    assert_string_equal(small, "[123456");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote_keeps_a_plain_name),
        cmocka_unit_test(test_quote_masks_control_characters),
        cmocka_unit_test(test_quote_cuts_long_names_on_a_character),
        cmocka_unit_test(test_format_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
