// PsiWatcher: one std::thread per watcher, blocked in epoll_wait on PSI trigger fds plus an
// eventfd used to stop it. Events reach JS through a bounded TypedThreadSafeFunction.
//
// Design notes (research 02 §1.2, §6.2; research 04 §2.2-2.3):
//  - The trigger text is written with its trailing NUL: the kernel overwrites the LAST byte
//    written with NUL, so writing strlen bytes would chop "…2000000" into "…200000".
//  - EPOLLPRI only. POLLERR means the trigger is dead (cgroup removed, psi disabled) and is
//    level-triggered forever: the fd is dropped and one "gone" event is sent, never a spin.
//  - NonBlockingCall with a small queue and one pending flag per trigger: if JS is stalled
//    (the system is thrashing) the watcher thread must never block behind it.
//  - The TSFN is Unref'd so an idle watcher never keeps the process alive.
//  - Teardown: close() from JS, an env cleanup hook (process exit, Worker exit), or GC.
//    The hook is registered with the raw N-API call and removed only if it has not fired:
//    node-addon-api's CleanupHook::Remove deletes data the fired hook already freed
//    (the double free of research 04 §2.3 finding 5).
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

namespace edgegov {
namespace {

constexpr uint64_t kStopKey = ~uint64_t(0);
constexpr int kFired = 0;
constexpr int kGone = 1;

struct Shared {
  std::mutex mu;
  std::unordered_map<uint32_t, bool> pending;  // id → an event is queued and not yet delivered
  std::atomic<bool> closed{false};
};

struct Event {
  uint32_t id;
  int kind;
  double monoMs;
  std::shared_ptr<Shared> shared;
};

void CallJs(Napi::Env env, Napi::Function cb, std::nullptr_t*, Event* ev) {
  std::unique_ptr<Event> owned(ev);
  if (env == nullptr || cb.IsEmpty() || owned->shared->closed.load()) return;  // tearing down
  {
    std::lock_guard<std::mutex> lk(owned->shared->mu);
    auto it = owned->shared->pending.find(owned->id);
    if (it != owned->shared->pending.end()) it->second = false;
  }
  try {
    cb.Call({Napi::Number::New(env, owned->id), Napi::Number::New(env, owned->kind),
             Napi::Number::New(env, owned->monoMs)});
  } catch (const Napi::Error& e) {
    // A throwing listener must not leave an exception pending on a native frame.
    napi_fatal_exception(env, e.Value());
  }
}

// Only procfs and cgroup2 pressure files take triggers. Refusing anything else before the write
// matters: on a regular file (a fixture tree, a copied trace) the "trigger" write would
// silently overwrite the file's contents.
constexpr long kProcMagic = 0x9fa0;
constexpr long kCgroup2Magic = 0x63677270;

int OpenPressureFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -errno;
  struct statfs sfs;
  if (fstatfs(fd, &sfs) != 0 || (long(sfs.f_type) != kProcMagic && long(sfs.f_type) != kCgroup2Magic)) {
    close(fd);
    return -EOPNOTSUPP;
  }
  return fd;
}

using Tsfn = Napi::TypedThreadSafeFunction<std::nullptr_t, Event, CallJs>;

class PsiWatcher : public Napi::ObjectWrap<PsiWatcher> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PsiWatcher",
                       {InstanceMethod<&PsiWatcher::Add>("add"), InstanceMethod<&PsiWatcher::Remove>("remove"),
                        InstanceMethod<&PsiWatcher::Close>("close"),
                        InstanceAccessor<&PsiWatcher::Count>("count")});
  }

  // new PsiWatcher(callback(id, kind, monoMs))
  explicit PsiWatcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PsiWatcher>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsFunction()) throw Napi::TypeError::New(env, "PsiWatcher(callback)");
    env_ = env;
    shared_ = std::make_shared<Shared>();
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    stop_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (ep_ < 0 || stop_ < 0) {
      int e = errno;
      if (ep_ >= 0) close(ep_);
      if (stop_ >= 0) close(stop_);
      ep_ = stop_ = -1;
      throw Napi::Error::New(env, std::string("psi watcher: ") + strerror(e));
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kStopKey;
    epoll_ctl(ep_, EPOLL_CTL_ADD, stop_, &ev);
    tsfn_ = Tsfn::New(env, info[0].As<Napi::Function>(), "edgegov psi", 64, 1);
    tsfn_.Unref(env);
    napi_add_env_cleanup_hook(env, &PsiWatcher::OnEnvTeardown, this);
    thread_ = std::thread([this] { Loop(); });
  }

  ~PsiWatcher() override {
    Stop();
    if (!hookFired_) napi_remove_env_cleanup_hook(env_, &PsiWatcher::OnEnvTeardown, this);
  }

 private:
  static void OnEnvTeardown(void* arg) {
    auto* self = static_cast<PsiWatcher*>(arg);
    self->hookFired_ = true;
    self->Stop();
  }

  // add(path, triggerText) → id (> 0) or -errno. Opens its own fd: one trigger per fd,
  // a second write on the same fd is EBUSY.
  Napi::Value Add(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString())
      throw Napi::TypeError::New(env, "add(path: string, trigger: string)");
    if (stopped_) return Napi::Number::New(env, -EBADF);
    std::string path = info[0].As<Napi::String>().Utf8Value();
    std::string text = info[1].As<Napi::String>().Utf8Value();
    int fd = OpenPressureFile(path);
    if (fd < 0) return Napi::Number::New(env, fd);
    // +1: the NUL is part of the write, so the kernel's last-byte overwrite hits only the NUL.
    ssize_t w = write(fd, text.c_str(), text.size() + 1);
    if (w < 0) {
      int e = errno;
      close(fd);
      return Napi::Number::New(env, -e);
    }
    uint32_t id = ++nextId_;
    {
      std::lock_guard<std::mutex> lk(shared_->mu);
      fds_[id] = fd;
      shared_->pending[id] = false;
    }
    epoll_event ev{};
    ev.events = EPOLLPRI;
    ev.data.u64 = id;
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      int e = errno;
      Drop(id);
      return Napi::Number::New(env, -e);
    }
    return Napi::Number::New(env, id);
  }

  Napi::Value Remove(const Napi::CallbackInfo& info) {
    uint32_t id = info[0].As<Napi::Number>().Uint32Value();
    return Napi::Boolean::New(info.Env(), Drop(id));
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Stop();
    return info.Env().Undefined();
  }

  Napi::Value Count(const Napi::CallbackInfo& info) {
    std::lock_guard<std::mutex> lk(shared_->mu);
    return Napi::Number::New(info.Env(), double(fds_.size()));
  }

  bool Drop(uint32_t id) {
    std::lock_guard<std::mutex> lk(shared_->mu);
    auto it = fds_.find(id);
    if (it == fds_.end()) return false;
    epoll_ctl(ep_, EPOLL_CTL_DEL, it->second, nullptr);
    close(it->second);
    fds_.erase(it);
    shared_->pending.erase(id);
    return true;
  }

  void Post(uint32_t id, int kind) {
    auto* ev = new Event{id, kind, MonotonicMs(), shared_};
    napi_status st = tsfn_.NonBlockingCall(ev);
    if (st != napi_ok) {
      delete ev;  // queue full (dropped: coalesced by the next one) or closing
      std::lock_guard<std::mutex> lk(shared_->mu);
      auto it = shared_->pending.find(id);
      if (it != shared_->pending.end()) it->second = false;
    }
  }

  void Loop() {
    epoll_event evs[16];
    for (;;) {
      int n = epoll_wait(ep_, evs, 16, -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        return;
      }
      for (int i = 0; i < n; i++) {
        if (evs[i].data.u64 == kStopKey) return;
        uint32_t id = uint32_t(evs[i].data.u64);
        if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
          if (Drop(id)) Post(id, kGone);
          continue;
        }
        if (evs[i].events & EPOLLPRI) {
          bool send = false;
          {
            std::lock_guard<std::mutex> lk(shared_->mu);
            auto it = shared_->pending.find(id);
            if (it != shared_->pending.end() && !it->second) send = it->second = true;
          }
          if (send) Post(id, kFired);
        }
      }
    }
  }

  // Idempotent; safe from JS, from the cleanup hook and from the destructor.
  void Stop() {
    if (stopped_) return;
    stopped_ = true;
    shared_->closed.store(true);
    uint64_t one = 1;
    if (write(stop_, &one, sizeof one) < 0) { /* the eventfd cannot be full here */ }
    if (thread_.joinable()) thread_.join();
    {
      std::lock_guard<std::mutex> lk(shared_->mu);
      for (auto& kv : fds_) close(kv.second);
      fds_.clear();
      shared_->pending.clear();
    }
    close(ep_);
    close(stop_);
    ep_ = stop_ = -1;
    tsfn_.Release();
  }

  napi_env env_ = nullptr;
  std::shared_ptr<Shared> shared_;
  std::unordered_map<uint32_t, int> fds_;  // guarded by shared_->mu
  uint32_t nextId_ = 0;
  int ep_ = -1;
  int stop_ = -1;
  bool stopped_ = false;
  bool hookFired_ = false;
  Tsfn tsfn_;
  std::thread thread_;
};

// Test hook for the kernel's last-byte rule (fault case 3): writes `text` to a fresh fd with or
// without its trailing NUL and reports 0 or -errno, then closes (destroying the trigger).
Napi::Value ProbeTrigger(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::string text = info[1].As<Napi::String>().Utf8Value();
  bool withNul = info[2].ToBoolean().Value();
  int fd = OpenPressureFile(path);
  if (fd < 0) return Napi::Number::New(env, fd);
  ssize_t w = write(fd, text.c_str(), text.size() + (withNul ? 1 : 0));
  int rc = w < 0 ? -errno : 0;
  close(fd);
  return Napi::Number::New(env, rc);
}

}  // namespace

void InitPsiWatcher(Napi::Env env, Napi::Object exports) {
  exports.Set("PsiWatcher", PsiWatcher::Define(env));
  exports.Set("probeTrigger", Napi::Function::New(env, ProbeTrigger, "probeTrigger"));
}

}  // namespace edgegov
