// peerCredentials(fd): SO_PEERCRED of a connected Unix-domain socket. Node exposes no API for
// it; the daemon uses it to tell its own uid / admin group from other local users. Thin on
// purpose: the policy about who may do what lives in TypeScript (src/ipc/peer-auth.ts).
#include "common.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/types.h>

namespace edgegov {

// Returns {pid, uid, gid}, or a negative errno (EBADF, ENOTSOCK, ENOPROTOOPT...) as a number.
Napi::Value PeerCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    throw Napi::TypeError::New(env, "peerCredentials(fd): fd must be a number");
  }
  const int fd = info[0].As<Napi::Number>().Int32Value();
  struct ucred cred {};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return Napi::Number::New(env, -errno);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, cred.pid));
  out.Set("uid", Napi::Number::New(env, cred.uid));
  out.Set("gid", Napi::Number::New(env, cred.gid));
  return out;
}

void InitPeerCred(Napi::Env env, Napi::Object exports) {
  exports.Set("peerCredentials", Napi::Function::New(env, PeerCredentials, "peerCredentials"));
}

}  // namespace edgegov
