// Planted defects for scripts/sanitize-native.sh: proof that each tool, run the way the script
// runs it (Node with the addon loaded the same way), does report a leak, a heap overflow and
// undefined behaviour. Loaded with process.dlopen (which then fails "did not self-register":
// harmless); the constructor does the damage named by EDGEGOV_CANARY (comma-separated).
#include <limits.h>
#include <stdlib.h>
#include <string.h>

volatile int canary_sink;

__attribute__((constructor)) static void canary(void) {
  const char* what = getenv("EDGEGOV_CANARY");
  if (!what) return;
  if (strstr(what, "leak")) {
    char* lost = malloc(4242);
    memset(lost, 1, 4242);
    canary_sink = lost[7];
    lost = NULL;  // the only pointer is gone: a definite leak
  }
  if (strstr(what, "overflow")) {
    char* p = malloc(16);
    memset(p, 0, 16);
    canary_sink = p[16 + (canary_sink & 0)];  // one past the end
    free(p);
  }
  if (strstr(what, "ub")) {
    int big = INT_MAX - (canary_sink & 0);
    canary_sink = big + 1;  // signed overflow
  }
}
