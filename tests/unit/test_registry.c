/* test_registry.c: registering names, duplicates, bad names, snapshots and their digest. */
#include "harness.h"
#include "ppool_impl.h"

static int f1(ppool_task *t, const void *a, size_t n)
{
    return 0;
}
static int f2(ppool_task *t, const void *a, size_t n)
{
    return 1;
}

int main(void)
{
    ASSERT_EQ(ppool_register(NULL, f1), PPOOL_EINVAL);
    ASSERT_EQ(ppool_register("x", NULL), PPOOL_EINVAL);
    ASSERT_EQ(ppool_register("", f1), PPOOL_EINVAL);
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    ASSERT_EQ(ppool_register(longname, f1), PPOOL_EINVAL);
    ASSERT_EQ(ppool_register("zeta", f1), 0);
    ASSERT_EQ(ppool_register("alpha", f2), 0);
    ASSERT_EQ(ppool_register("zeta", f2), PPOOL_EINVAL);
    ASSERT_CONTAINS(ppool_errmsg(NULL), "'zeta' is already registered");
    ppool__registry a, b;
    ASSERT_EQ(ppool__registry_snapshot(&a), 0);
    ASSERT_EQ(a.n, 2);
    ASSERT_STREQ(a.names[0], "alpha"); /* sorted */
    ASSERT_TRUE(ppool__registry_find(&a, "zeta") == f1);
    ASSERT_TRUE(ppool__registry_find(&a, "alpha") == f2);
    ASSERT_NULL(ppool__registry_find(&a, "beta"));
    ASSERT_EQ(ppool_register("beta", f1), 0);
    ASSERT_EQ(ppool__registry_snapshot(&b), 0);
    ASSERT_EQ(b.n, 3);
    ASSERT_NULL(ppool__registry_find(&a, "beta")); /* a snapshot is frozen */
    ASSERT_NE(a.digest, b.digest);
    ppool__registry_release(&a);
    ppool__registry_release(&b);
    return 0;
}
