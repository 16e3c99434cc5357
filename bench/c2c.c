// c2c.c — how far apart two CPUs are: the round trip of one cache line between two threads, each
// pinned to one of the first two CPUs this process may run on (bench/run.sh measures it around
// each `--threads 2` run: a shared host moves its vCPUs, and with them what a line handed from
// one worker to the other costs; bench/NOTES.md, round 10).
//
//   c2c [BATCHES]   prints the median over BATCHES (default 41) batches of 1,000 round trips, in
//                   ns a round trip, after 2,000 to warm up (the other vCPU may have to be woken
//                   first: a mean over a few ms read 75-340 ns where the median read 76-109);
//                   exit 2 with fewer than two CPUs
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static _Atomic int ball __attribute__((aligned(64)));
enum { WARMUP = 2000, BATCH = 1000, MAX_BATCHES = 1001 };
static long batches = 41;
static int cpus[2];

static void pin(int cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    (void)pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

// The other side: waits for the ball (1) and sends it back (0).
static void *other(void *arg) {
    (void)arg;
    pin(cpus[1]);
    for (long i = 0; i < WARMUP + batches * BATCH; i++) {
        while (atomic_load_explicit(&ball, memory_order_acquire) != 1) {
        }
        atomic_store_explicit(&ball, 0, memory_order_release);
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc > 1) {
        batches = strtol(argv[1], NULL, 10);
        if (batches <= 0 || batches > MAX_BATCHES) {
            fprintf(stderr, "c2c: BATCHES must be 1 to %d\n", MAX_BATCHES);
            return 1;
        }
    }
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
        perror("c2c: sched_getaffinity");
        return 1;
    }
    int n = 0;
    for (int c = 0; c < CPU_SETSIZE && n < 2; c++) {
        if (CPU_ISSET(c, &allowed)) {
            cpus[n++] = c;
        }
    }
    if (n < 2) {
        fprintf(stderr, "c2c: fewer than two CPUs to run on\n");
        return 2;
    }
    pin(cpus[0]);
    pthread_t t;
    if (pthread_create(&t, NULL, other, NULL) != 0) {
        fprintf(stderr, "c2c: cannot start a thread\n");
        return 1;
    }
    static double ns[MAX_BATCHES];
    for (long i = -WARMUP / BATCH; i < batches; i++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (long j = 0; j < BATCH; j++) {
            atomic_store_explicit(&ball, 1, memory_order_release);
            while (atomic_load_explicit(&ball, memory_order_acquire) != 0) {
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (i >= 0) {
            ns[i] = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / BATCH;
        }
    }
    pthread_join(t, NULL);
    qsort(ns, (size_t)batches, sizeof ns[0], cmp_double);
    printf("%.0f\n", ns[batches / 2]);
    return 0;
}
