// pagetouch.c — what a page of a mapped capture file costs the first time it is read, and what
// reading the same file with read(2) costs (bench/run.sh prints both for each file it times).
//
// tlsdiag maps a capture file and reads it in place (capture/capfile.c). Under some hypervisors
// the first access to each page of a new mapping is expensive even when the page table was filled
// (MADV_POPULATE_READ): the host builds its own (shadow) entry then. Where the page cache holds
// the file in 2 MiB folios, the kernel maps it 2 MiB at a time and that cost all but goes; a file
// written in small pieces (a capture just made, a copy made with small writes) is held in 4 KiB
// pages. So the same binary on the same file can take 1.5× as long from one run of the bench to
// the next (bench/NOTES.md, round 11): this program measures that state, it does not change it.
//
//   pagetouch FILE   prints: ns a 4 KiB page (mapped, populated, first touch), MiB of the mapping
//                    the kernel mapped in 2 MiB pages, the file's MiB, and read(2)'s MB/s into one
//                    reused 1 MiB buffer; tab-separated. Exit 1 when the file cannot be read.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

static volatile unsigned long sink;  // the bytes read go somewhere: the loops stay

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

// pmd_mapped_kb: FilePmdMapped of this process (kB), or -1.
static long pmd_mapped_kb(void) {
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    if (!f) {
        return -1;
    }
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "FilePmdMapped: %ld kB", &kb) == 1) {
            break;
        }
    }
    fclose(f);
    return kb;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: pagetouch FILE\n");
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < 4096) {
        perror(argv[1]);
        return 1;
    }
    size_t n = (size_t)st.st_size;
    unsigned long sum = 0;
    // Mapped, the page table filled as tlsdiag fills it, then one byte of every page.
    unsigned char *m = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    (void)madvise(m, n, MADV_POPULATE_READ);
    double t0 = now_s();
    for (size_t i = 0; i < n; i += 4096) {
        sum += m[i];
    }
    double t1 = now_s();
    long pmd = pmd_mapped_kb();
    munmap(m, n);
    // read(2) into one buffer, a byte of every line read (as a parser would).
    enum { BUF = 1 << 20 };
    unsigned char *b = malloc(BUF);
    if (!b) {
        return 1;
    }
    memset(b, 0, BUF);
    double t2 = now_s();
    ssize_t r;
    size_t total = 0;
    while ((r = pread(fd, b, BUF, (off_t)total)) > 0) {
        for (ssize_t i = 0; i < r; i += 64) {
            sum += b[i];
        }
        total += (size_t)r;
    }
    double t3 = now_s();
    sink = sum;
    printf("%.0f\t%ld\t%zu\t%.0f\n", (t1 - t0) * 1e9 / (double)((n + 4095) / 4096),
           pmd < 0 ? -1 : pmd / 1024, n >> 20, (double)total / 1e6 / (t3 - t2));
    free(b);
    close(fd);
    return 0;
}
