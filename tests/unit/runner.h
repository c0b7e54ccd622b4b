/* runner.h - the tiny unit-test runner: a table of test functions, CHECK()
 * that records a failure and goes on, TAP lines, and the closing line
 * "N passed, N failed" that CI reads. Include once per test binary. */
#ifndef TESTS_UNIT_RUNNER_H
#define TESTS_UNIT_RUNNER_H

#include <stdio.h>
#include <string.h>

static int t_failed_checks;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            printf("#   %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
            t_failed_checks++;                                               \
        }                                                                    \
    } while (0)
static inline int
t_streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}
#define CHECK_STR(a, b) CHECK(t_streq((a), (b)))

struct t_case {
    const char *name;
    void (*fn)(void);
};

/* Runs every case; returns the process exit code. */
static int
t_run(const char *suite, const struct t_case *cases, int n)
{
    int passed = 0, failed = 0;
    printf("1..%d\n", n);
    for (int i = 0; i < n; i++) {
        int before = t_failed_checks;
        cases[i].fn();
        if (t_failed_checks == before) {
            passed++;
            printf("ok %d - %s/%s\n", i + 1, suite, cases[i].name);
        } else {
            failed++;
            printf("not ok %d - %s/%s\n", i + 1, suite, cases[i].name);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#define T(fn) {#fn, fn}
#define T_MAIN(suite, ...)                                                   \
    int main(void)                                                           \
    {                                                                        \
        static const struct t_case cases[] = {__VA_ARGS__};                  \
        return t_run(suite, cases, (int)(sizeof(cases) / sizeof(cases[0]))); \
    }

#endif
