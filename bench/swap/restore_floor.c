/* The floor of a restore: the same operations as swap_bench restore on a plain file of the same
 * size, with nothing of ours in the way (no snapshot format, no Wasmtime). Each figure of
 * docs/benchmarks/restore.md is stated as a ratio to the floor of the same operation here.
 *
 *   restore_floor FILE SAMPLES hot|cold
 *
 * Per sample (cold: dirty pages written out and the page cache dropped before each operation):
 *   map        open + mmap(MAP_PRIVATE) of the file, nothing read
 *   map_read   map, then read one byte of every 4 KiB page
 *   map_write  map, then write one byte of every 4 KiB page (copy on write)
 *   copy_all   malloc + read() of the whole file: what the research prototype's restore does
 *              (read_exact into memory), without its deserialising and instantiating
 * Prints one JSON object: each operation's samples in ms. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { kPage = 4096, kMaxSamples = 1000 };

static double nowMs(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void fail(const char* what) {
  perror(what);
  exit(1);
}

static void dropPageCache(void) {
  sync();
  int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
  if (fd < 0 || write(fd, "1\n", 2) != 2) fail("/proc/sys/vm/drop_caches (root is needed)");
  close(fd);
}

/* 0 map, 1 map_read, 2 map_write, 3 copy_all. Returns ms; the checksum keeps reads alive. */
static double once(const char* path, size_t size, int op, unsigned long* checksum) {
  const double start = nowMs();
  int fd = open(path, O_RDONLY);
  if (fd < 0) fail(path);
  if (op == 3) {
    unsigned char* copy = malloc(size);
    if (!copy) fail("malloc");
    size_t done = 0;
    while (done < size) {
      ssize_t got = read(fd, copy + done, size - done);
      if (got <= 0) fail("read");
      done += (size_t)got;
    }
    const double ms = nowMs() - start;
    *checksum += copy[size / 2];
    free(copy);
    close(fd);
    return ms;
  }
  unsigned char* map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) fail("mmap");
  close(fd);
  for (size_t offset = 0; op == 1 && offset < size; offset += kPage) *checksum += map[offset];
  for (size_t offset = 0; op == 2 && offset < size; offset += kPage) map[offset] ^= 1;
  const double ms = nowMs() - start;
  munmap(map, size);
  return ms;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: restore_floor FILE SAMPLES hot|cold\n");
    return 2;
  }
  const char* path = argv[1];
  const int samples = atoi(argv[2]);
  const int cold = strcmp(argv[3], "cold") == 0;
  if (samples < 1 || samples > kMaxSamples) {
    fprintf(stderr, "restore_floor: SAMPLES must be 1 to %d\n", kMaxSamples);
    return 2;
  }
  struct stat info;
  if (stat(path, &info) != 0) fail(path);
  const size_t size = (size_t)info.st_size;
  static const char* names[] = {"map_ms", "map_read_ms", "map_write_ms", "copy_all_ms"};
  static double ms[4][kMaxSamples];
  unsigned long checksum = 0;
  for (int s = 0; s < samples; ++s) {
    for (int op = 0; op < 4; ++op) {
      if (cold) dropPageCache();
      ms[op][s] = once(path, size, op, &checksum);
    }
  }
  printf("{\"bytes\": %zu, \"cache\": \"%s\", \"checksum\": %lu", size, cold ? "cold" : "hot",
         checksum);
  for (int op = 0; op < 4; ++op) {
    printf(", \"%s\": [", names[op]);
    for (int s = 0; s < samples; ++s) printf("%s%.6f", s ? ", " : "", ms[op][s]);
    printf("]");
  }
  printf("}\n");
  return 0;
}
