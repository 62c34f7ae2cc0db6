// What this machine charges for waiting, the two ways a server's request path can wait:
// - a hand-off: one thread signals another (a condition variable) every millisecond; how late the
//   other runs after the signal;
// - a timer: a thread sleeps 1 ms; how much longer than that it slept.
// 20,000 of each; p50, p99, p99.9 and the maximum in microseconds (docs/PERFORMANCE.md, issue 19).
//
//   cc -O2 -pthread -o wakeups bench/floor/wakeups.c && ./wakeups
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define N 20000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t signalled = PTHREAD_COND_INITIALIZER;
static long long sent_at;
static int sent, seen;
static long long handoff[N], timer[N];

static long long now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void *receiver(void *unused) {
    (void)unused;
    for (int i = 0; i < N; i++) {
        pthread_mutex_lock(&lock);
        while (sent == seen) {
            pthread_cond_wait(&signalled, &lock);
        }
        seen = sent;
        long long at = sent_at;
        pthread_mutex_unlock(&lock);
        handoff[i] = now() - at;
    }
    return NULL;
}

static int by_value(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *what, long long *v) {
    qsort(v, N, sizeof v[0], by_value);
    printf("%-8s p50 %7.1f  p99 %7.1f  p99.9 %7.1f  max %8.1f us\n", what, v[N / 2] / 1e3, v[N * 99 / 100] / 1e3,
           v[N * 999 / 1000] / 1e3, v[N - 1] / 1e3);
}

int main(void) {
    pthread_t t;
    pthread_create(&t, NULL, receiver, NULL);
    for (int i = 0; i < N; i++) {
        usleep(1000);
        pthread_mutex_lock(&lock);
        sent_at = now();
        sent++;
        pthread_cond_signal(&signalled);
        pthread_mutex_unlock(&lock);
    }
    pthread_join(t, NULL);
    for (int i = 0; i < N; i++) {
        long long start = now();
        usleep(1000);
        timer[i] = now() - start - 1000000;
    }
    report("hand-off", handoff);
    report("timer", timer);
    return 0;
}
