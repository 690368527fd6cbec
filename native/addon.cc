// Module entry. The addon is deliberately thin: kept-open batched reads and PSI trigger waits.
// Every decision about what the numbers mean lives in TypeScript (src/sensors/).
#include "common.h"

namespace edgegov {

Napi::Value MonotonicNow(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), MonotonicMs());
}

}  // namespace edgegov

static Napi::Object InitEdgegov(Napi::Env env, Napi::Object exports) {
  edgegov::InitReader(env, exports);
  edgegov::InitPsiWatcher(env, exports);
  edgegov::InitPeerCred(env, exports);
  exports.Set("monotonicMs", Napi::Function::New(env, edgegov::MonotonicNow, "monotonicMs"));
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  return exports;
}

NODE_API_MODULE(edgegov_native, InitEdgegov)
