/*
** pairtime.c: whole-process wall times of several commands, interleaved.
**
**   pairtime [-n ROUNDS] [-w WARMUP] [-i STDIN_FILE] -- NAME CMD ARGS... -- NAME CMD ...
**
** Each round runs every command once, in an order rotated by one each
** round (so no command always runs first, right after another, or last).
** A run is timed from just before posix_spawn to the return of wait4, with
** CLOCK_MONOTONIC; standard input is STDIN_FILE (opened afresh per run) or
** /dev/null, standard output and error go to /dev/null. Warm-up rounds are
** run and not reported. One line per timed run on standard output:
**
**   ROUND NAME WALL_NS MAXRSS_KB STATUS
**
** MAXRSS_KB is wait4's ru_maxrss: the largest of the process and of the
** descendants it waited for. STATUS is the exit status, or 128 + signal.
** bench/stats.lua turns these lines into a table.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAXCMD 16

struct cmd {
  const char *name;
  char **argv;
};

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int run(const struct cmd *c, const char *input, long long *ns, long *rss) {
  posix_spawn_file_actions_t fa;
  struct rusage ru;
  pid_t pid;
  int st = 0, rc;
  long long t0;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, input ? input : "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  t0 = now_ns();
  rc = posix_spawnp(&pid, c->argv[0], &fa, NULL, c->argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    fprintf(stderr, "pairtime: cannot run %s: %s\n", c->argv[0], strerror(rc));
    exit(2);
  }
  while (wait4(pid, &st, 0, &ru) < 0) {
    if (errno != EINTR) {
      perror("pairtime: wait4");
      exit(2);
    }
  }
  *ns = now_ns() - t0;
  *rss = ru.ru_maxrss;
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  return 128 + WTERMSIG(st);
}

int main(int argc, char **argv) {
  struct cmd cmds[MAXCMD];
  int ncmd = 0, rounds = 20, warmup = 2, i, r;
  const char *input = NULL;
  for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
    if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) rounds = atoi(argv[++i]);
    else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc) warmup = atoi(argv[++i]);
    else if (strcmp(argv[i], "-i") == 0 && i + 1 < argc) input = argv[++i];
    else {
      fprintf(stderr, "usage: pairtime [-n ROUNDS] [-w WARMUP] [-i FILE] -- NAME CMD... [-- NAME CMD...]\n");
      return 2;
    }
  }
  /* The rest, split at "--": NAME PROGRAM ARGS... each. */
  while (i < argc && strcmp(argv[i], "--") == 0) {
    int start = ++i, n, k;
    char **a;
    while (i < argc && strcmp(argv[i], "--") != 0) i++;
    n = i - start - 1;
    if (n < 1 || ncmd == MAXCMD) {
      fprintf(stderr, "pairtime: each command needs a name and a program\n");
      return 2;
    }
    a = malloc(sizeof *a * (size_t)(n + 1));
    if (a == NULL) return 2;
    for (k = 0; k < n; k++) a[k] = argv[start + 1 + k];
    a[n] = NULL;
    cmds[ncmd].name = argv[start];
    cmds[ncmd].argv = a;
    ncmd++;
  }
  if (ncmd == 0) {
    fprintf(stderr, "pairtime: no command\n");
    return 2;
  }
  for (r = -warmup; r < rounds; r++) {
    int k;
    for (k = 0; k < ncmd; k++) {
      int j = (k + (r < 0 ? 0 : r)) % ncmd;
      long long ns;
      long rss;
      int st = run(&cmds[j], input, &ns, &rss);
      if (r >= 0) printf("%d %s %lld %ld %d\n", r, cmds[j].name, ns, rss, st);
    }
    fflush(stdout);
  }
  return 0;
}
