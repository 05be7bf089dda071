/* The pod sandbox's process for the test node (localhost/pause:dev): it holds the pod's
 * namespaces open and does nothing else. As PID 1 of a pod that shares its PID namespace it
 * reaps orphaned children; SIGINT and SIGTERM end it. Built static (gcc -static), so its image
 * holds this one file. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void onStop(int sig) {
  (void)sig;
  _exit(0);
}

static void onChild(int sig) {
  (void)sig;
  const int saved = errno; /* the interrupted code may be about to read errno */
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  errno = saved;
}

static int handle(int sig, void (*handler)(int)) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = handler;
  action.sa_flags = sig == SIGCHLD ? SA_NOCLDSTOP | SA_RESTART : SA_RESTART;
  sigemptyset(&action.sa_mask);
  return sigaction(sig, &action, NULL);
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "-v") == 0) {
    puts("pause (wasm-operator test node)");
    return 0;
  }
  if (getpid() != 1) fputs("pause: warning: not PID 1, orphans are not reaped here\n", stderr);
  if (handle(SIGINT, onStop) != 0 || handle(SIGTERM, onStop) != 0 ||
      handle(SIGCHLD, onChild) != 0) {
    perror("pause: sigaction");
    return 1;
  }
  for (;;) pause();
}
