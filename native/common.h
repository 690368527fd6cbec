// Shared helpers for the edgegov addon: errno-safe syscalls and a monotonic clock that
// matches process.hrtime() (both CLOCK_MONOTONIC), so JS can measure event latency.
#pragma once
#include <napi.h>
#include <time.h>

namespace edgegov {

inline double MonotonicMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

void InitReader(Napi::Env env, Napi::Object exports);
void InitPsiWatcher(Napi::Env env, Napi::Object exports);
void InitPeerCred(Napi::Env env, Napi::Object exports);

}  // namespace edgegov
