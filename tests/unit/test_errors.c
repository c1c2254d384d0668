/* test_errors.c: the error table: every code has its own message and name. */
#include "harness.h"
#include "ppool_impl.h"

int main(void)
{
    int codes[] = {
#define XX(name, val, msg) val,
        PPOOL_ERRNO_MAP(XX)
#undef XX
    };
    size_t n = sizeof codes / sizeof codes[0];
    ASSERT_GE(n, 10);
    for (size_t i = 0; i < n; i++) {
        ASSERT_LT(codes[i], 0);
        ASSERT_TRUE(strcmp(ppool_strerror(codes[i]), "unknown error") != 0);
        ASSERT_CONTAINS(ppool_errname(codes[i]), "PPOOL_E");
        for (size_t k = 0; k < i; k++) {
            ASSERT_NE(codes[i], codes[k]);
            ASSERT_TRUE(strcmp(ppool_strerror(codes[i]), ppool_strerror(codes[k])) != 0);
        }
    }
    ASSERT_STREQ(ppool_errname(PPOOL_ETASK), "PPOOL_ETASK");
    ASSERT_STREQ(ppool_strerror(PPOOL_ETIMEDOUT), "timed out");
    ASSERT_STREQ(ppool_strerror(0), "success");
    ASSERT_STREQ(ppool_strerror(-9999), "unknown error");
    ASSERT_STREQ(ppool_version(), PPOOL_VERSION_STRING);
    /* messages are per thread and per pool */
    ASSERT_EQ(ppool__fail(NULL, PPOOL_EINVAL, "thing %d is bad", 7), PPOOL_EINVAL);
    ASSERT_STREQ(ppool_errmsg(NULL), "thing 7 is bad");
    return 0;
}
