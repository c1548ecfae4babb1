/* CSV cells a spreadsheet would run as formulas, however they are dressed up,
 * and the phone numbers and amounts that must stay as they are. */
#include "review-server/http_int.h"

#include <criterion/criterion.h>

Test(export, formulas_are_caught)
{
    const char *bad[] = {
        "=1+2",
        "@SUM(A1)",
        "+SUM(1)",
        "-1+cmd|' /C calc'!A0",
        " =1+2",
        "   @x",
        "\t=1",
        "\r=1",
        "\n=HYPERLINK()",
        "\xC2\xA0=1",
        "\xE3\x80\x80=1",
        "\xEF\xBC\x9D"
        "1+1",
        "\xEF\xBC\x8B"
        "1",
        "\xEF\xBC\x8D"
        "1",
        "\xEF\xBC\xA0"
        "x",
        " +cmd",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert(export_formula_like(bad[i]), "not caught: [%s]", bad[i]);
}

Test(export, data_stays_data)
{
    const char *good[] = {
        "+4930123456", "-12.50",           "+49 30 123 456", "101", "Müller", "a=b", "",
        " 42",         "email@example.com"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        cr_assert_not(export_formula_like(good[i]), "caught: [%s]", good[i]);
}
