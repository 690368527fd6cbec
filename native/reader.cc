// Reader: opens a fixed set of sysfs/procfs files once and reads them all in one call.
//
// Why kept-open fds + pread(…, 0): sysfs (kernfs) and procfs (seq_file) regenerate the text on
// every read at offset 0, and re-opening costs 3-6x more and may itself stall under memory
// pressure (lmkd's reread_file() comment; research 02 §6.1). Read errors are data, not
// exceptions: each file reports its own errno so one bad zone never hides the others.
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace edgegov {
namespace {

enum Kind : uint8_t { kInt = 0, kText = 1 };

struct File {
  std::string path;
  Kind kind = kInt;
  int fd = -1;
  int openErrno = 0;
  // Test hook: a FIFO or tty stands in for a wedged driver. Never set by discovery.
  bool allowNonRegular = false;
  // Test hook: skip the poll() before read(), so the thread sits in read() exactly as it would
  // on a wedged regular file (the stop eventfd cannot wake it): exercises detach on close.
  bool noPoll = false;
  bool regular = true;
  std::vector<char> buf;
};

// Opens without blocking even on a FIFO (a stand-in for a wedged I2C device), then refuses
// anything that is not a regular file: a read on it could block the caller indefinitely.
void OpenFile(File& f) {
  int fd;
  do {
    fd = open(f.path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    f.openErrno = errno;
    return;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || (!S_ISREG(st.st_mode) && !f.allowNonRegular)) {
    close(fd);
    f.openErrno = ESPIPE;
    return;
  }
  f.regular = S_ISREG(st.st_mode);
  // Blocking semantics for the real read: with O_NONBLOCK some generic code paths poll for
  // EAGAIN from drivers that return it regardless (the Go hang in research 02 §4.2).
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  f.fd = fd;
  f.buf.resize(f.kind == kText ? 4096 : 128);
}

// Reads the whole file from offset 0. A short read means EOF for sysfs/procfs; a full buffer
// means there may be more, so the buffer doubles and the read restarts (as lmkd does).
// Returns bytes read, or -errno.
ssize_t ReadWhole(File& f) {
  for (;;) {
    // A pipe or tty (test stand-ins only) cannot pread; one read() of what is there.
    ssize_t n = f.regular ? pread(f.fd, f.buf.data(), f.buf.size(), 0) : read(f.fd, f.buf.data(), f.buf.size());
    if (!f.regular && n >= 0) return n;
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (size_t(n) < f.buf.size() || f.buf.size() >= (1u << 22)) return n;
    f.buf.resize(f.buf.size() * 2);
  }
}

// Integer parse with an end-pointer check: "  -612000\n" ok, "12abc" or "" is not a number.
bool ParseInt(const char* s, size_t n, double* out) {
  char tmp[64];
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
                   s[n - 1] == '\0'))
    n--;
  while (n > 0 && (*s == ' ' || *s == '\t')) s++, n--;
  if (n == 0 || n >= sizeof tmp) return false;
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  errno = 0;
  char* end = nullptr;
  long long v = strtoll(tmp, &end, 10);
  if (end != tmp + n || errno == ERANGE) return false;
  *out = double(v);
  return true;
}


// One completed (or never completed) off-thread read, as the JS side sees it.
struct Result {
  double value = NAN;
  int err = ENODATA;  // "no sample yet" until the first read completes
  std::string text;
  bool hasText = false;
  double doneMs = NAN;  // CLOCK_MONOTONIC when the read returned
  double durUs = 0;
};

// State shared between a Reader and one reader thread. Reference-counted: a thread stuck in
// read() on a wedged driver cannot be interrupted (a blocked read on a regular sysfs file
// ignores close() of its fd and signals), so close() never waits for it; the thread owns
// its files and frees them, and this state, whenever the read finally returns.
struct Group {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<File> files;      // owned by the thread once it runs
  std::vector<Result> results;  // guarded by mu
  uint64_t requested = 0;       // cycles asked for
  uint64_t completed = 0;       // cycles finished
  bool busy = false;
  int current = -1;             // index being read while busy
  double cycleStartMs = 0;
  double fileStartMs = 0;
  double lastCycleMs = 0;       // how long the last completed cycle took
  bool stop = false;
  bool exited = false;
  int stopFd = -1;              // eventfd: wakes poll() on non-regular stand-ins
  ~Group() {
    if (stopFd >= 0) close(stopFd);
  }
};

// Waits until `fd` is readable or the group is stopped. Regular files are always "readable"
// to poll(), so this only matters for the FIFO/tty stand-ins used by tests; it is what lets
// those threads be joined.
bool WaitReadable(const File& f, int stopFd) {
  if (f.regular || f.noPoll) return true;
  struct pollfd p[2] = {{f.fd, POLLIN, 0}, {stopFd, POLLIN, 0}};
  for (;;) {
    int r = poll(p, 2, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return true;  // let the read report the error
    if (p[1].revents) return false;
    return true;
  }
}

void ReadOne(File& f, Result& out) {
  out.value = NAN;
  out.hasText = false;
  out.text.clear();
  if (f.fd < 0) {
    out.err = f.openErrno;
    return;
  }
  ssize_t got = ReadWhole(f);
  if (got < 0) {
    out.err = int(-got);
  } else if (got == 0) {
    out.err = ENODATA;
  } else if (f.kind == kText) {
    out.text.assign(f.buf.data(), size_t(got));
    out.hasText = true;
    out.err = 0;
  } else {
    double v;
    out.err = ParseInt(f.buf.data(), size_t(got), &v) ? 0 : EBADMSG;
    if (out.err == 0) out.value = v;
  }
}

void GroupThread(std::shared_ptr<Group> g) {
  std::unique_lock<std::mutex> lk(g->mu);
  for (;;) {
    g->cv.wait(lk, [&] { return g->stop || g->requested > g->completed; });
    if (g->stop) break;
    const uint64_t target = g->requested;
    g->busy = true;
    g->cycleStartMs = MonotonicMs();
    bool stopped = false;
    for (size_t i = 0; i < g->files.size() && !stopped; i++) {
      g->current = int(i);
      g->fileStartMs = MonotonicMs();
      File& f = g->files[i];
      Result r;
      lk.unlock();
      // Outside the lock: this is the call that may block for seconds, or forever.
      if (f.fd >= 0 && !WaitReadable(f, g->stopFd)) {
        stopped = true;
        lk.lock();
        break;
      }
      double t0 = MonotonicMs();
      ReadOne(f, r);
      r.doneMs = MonotonicMs();
      r.durUs = (r.doneMs - t0) * 1000.0;
      lk.lock();
      g->results[i] = std::move(r);
      if (g->stop) stopped = true;
    }
    g->current = -1;
    g->busy = false;
    g->lastCycleMs = MonotonicMs() - g->cycleStartMs;
    g->completed = target;
    g->cv.notify_all();
    if (stopped) break;
  }
  for (File& f : g->files) {
    if (f.fd >= 0) close(f.fd);
    f.fd = -1;
  }
  g->exited = true;
  g->cv.notify_all();
}

struct GroupHandle {
  std::shared_ptr<Group> g;
  std::thread th;
  std::vector<size_t> index;  // file index in the Reader → position in the group
};

class Reader : public Napi::ObjectWrap<Reader> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Reader",
                       {InstanceMethod<&Reader::Read>("read"), InstanceMethod<&Reader::Close>("close"),
                        InstanceMethod<&Reader::Settled>("settled"),
                        InstanceAccessor<&Reader::OpenCount>("openCount")});
  }

  // new Reader(paths: string[], kinds: number[], groups?: number[], waitMs?: number)
  //   kind bit 0: text (else integer); bit 1: test hook, accept a FIFO/tty as if regular;
  //   bit 2: test hook, read it without the stop-aware poll (a read close() cannot interrupt).
  //   groups[i] < 0: read on the caller's thread; >= 0: read on that group's own thread
  //   (files that may stall: battery attributes, anything ever slow). One thread per group,
  //   so a hung fuel gauge never delays a charger or a zone in another group.
  //   waitMs: how long read() may wait for a group's fresh cycle (default 5 ms).
  explicit Reader(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Reader>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsArray())
      throw Napi::TypeError::New(env, "Reader(paths: string[], kinds: number[], groups?: number[], waitMs?: number)");
    Napi::Array paths = info[0].As<Napi::Array>();
    Napi::Array kinds = info[1].As<Napi::Array>();
    if (paths.Length() != kinds.Length()) throw Napi::RangeError::New(env, "paths and kinds differ in length");
    bool hasGroups = info.Length() >= 3 && info[2].IsArray();
    if (hasGroups && info[2].As<Napi::Array>().Length() != paths.Length())
      throw Napi::RangeError::New(env, "paths and groups differ in length");
    if (info.Length() >= 4 && info[3].IsNumber()) waitMs_ = info[3].As<Napi::Number>().DoubleValue();
    files_.resize(paths.Length());
    groupOf_.assign(paths.Length(), -1);
    posOf_.assign(paths.Length(), 0);
    std::map<int32_t, size_t> byId;
    for (uint32_t i = 0; i < paths.Length(); i++) {
      Napi::Value p = paths.Get(i);
      if (!p.IsString()) throw Napi::TypeError::New(env, "paths must be strings");
      files_[i].path = p.As<Napi::String>().Utf8Value();
      int32_t k = kinds.Get(i).As<Napi::Number>().Int32Value();
      files_[i].kind = (k & 1) ? kText : kInt;
      files_[i].allowNonRegular = (k & 2) != 0;
      files_[i].noPoll = (k & 4) != 0;
      if (hasGroups) {
        int32_t gid = info[2].As<Napi::Array>().Get(i).As<Napi::Number>().Int32Value();
        if (gid >= 0) {
          auto it = byId.find(gid);
          if (it == byId.end()) {
            it = byId.emplace(gid, groups_.size()).first;
            groups_.emplace_back();
            groups_.back().g = std::make_shared<Group>();
          }
          groupOf_[i] = int32_t(it->second);
        }
      }
    }
    for (size_t i = 0; i < files_.size(); i++) {
      // Opening is O_NONBLOCK and never waits on a driver; it stays on this thread.
      OpenFile(files_[i]);
      if (groupOf_[i] < 0) continue;
      GroupHandle& gh = groups_[size_t(groupOf_[i])];
      posOf_[i] = gh.g->files.size();
      gh.index.push_back(i);
      gh.g->files.push_back(std::move(files_[i]));
      files_[i] = File();
      files_[i].fd = -1;
    }
    for (GroupHandle& gh : groups_) {
      gh.g->results.resize(gh.g->files.size());
      gh.g->stopFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
      gh.g->requested = 1;  // the first cycle starts now, so the first read() finds it done
      gh.th = std::thread(GroupThread, gh.g);
    }
  }

  ~Reader() override { CloseAll(); }

 private:
  // Returns { values: Float64Array, errnos: Int32Array, texts: (string|undefined)[], durationsUs,
  //           ageMs, pendingMs }.
  // values[i] is NaN unless file i is an integer file that parsed; errnos[i] is 0 on success,
  // the errno of the open or read, ENODATA for an empty read (or an off-thread file never read
  // yet), EBADMSG for a non-number. Off-thread files report their last completed read, its age,
  // and how long the read now in flight has been waiting (0 when none is): the TS layer calls a
  // file hung past its deadline. read() itself never blocks on them beyond waitMs.
  Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) throw Napi::Error::New(env, "reader is closed");
    const size_t n = files_.size();
    const double readStart = MonotonicMs();
    // Kick every idle group first so its thread reads while this one does the zones.
    for (GroupHandle& gh : groups_) {
      std::lock_guard<std::mutex> lk(gh.g->mu);
      if (!gh.g->busy && gh.g->requested == gh.g->completed) {
        gh.g->requested++;
        gh.g->cv.notify_all();
      }
    }
    Napi::Float64Array values = Napi::Float64Array::New(env, n);
    Napi::Int32Array errnos = Napi::Int32Array::New(env, n);
    Napi::Array texts = Napi::Array::New(env, n);
    // Per-file read time (µs): the TS watchdog moves a file whose driver stalls off this thread.
    Napi::Float64Array durations = Napi::Float64Array::New(env, n);
    Napi::Float64Array ages = Napi::Float64Array::New(env, n);
    Napi::Float64Array pending = Napi::Float64Array::New(env, n);
    for (size_t i = 0; i < n; i++) {
      File& f = files_[i];
      values[i] = NAN;
      durations[i] = 0;
      ages[i] = 0;
      pending[i] = 0;
      if (groupOf_[i] >= 0) continue;
      if (f.fd < 0) {
        errnos[i] = f.openErrno;
        continue;
      }
      double t0 = MonotonicMs();
      ssize_t got = ReadWhole(f);
      durations[i] = (MonotonicMs() - t0) * 1000.0;
      if (got < 0) {
        errnos[i] = int32_t(-got);
        continue;
      }
      if (got == 0) {
        errnos[i] = ENODATA;
        continue;
      }
      if (f.kind == kText) {
        texts.Set(uint32_t(i), Napi::String::New(env, f.buf.data(), size_t(got)));
        errnos[i] = 0;
      } else {
        double v;
        if (ParseInt(f.buf.data(), size_t(got), &v)) {
          values[i] = v;
          errnos[i] = 0;
        } else {
          errnos[i] = EBADMSG;
        }
      }
    }
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::microseconds(int64_t(std::max(0.0, waitMs_ - (MonotonicMs() - readStart)) * 1000));
    // The very first read of a reader opened synchronously waits for the first cycle longer
    // (once, bounded): a thread just created may not have been scheduled yet on a busy machine.
    // An async open has already waited in settled() polling, which clears this.
    const bool firstWait = !firstWaitDone_;
    firstWaitDone_ = true;
    const auto firstDeadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kFirstWaitMs);
    for (GroupHandle& gh : groups_) {
      Group& g = *gh.g;
      std::unique_lock<std::mutex> lk(g.mu);
      if (firstWait && g.completed == 0) {
        g.cv.wait_until(lk, firstDeadline, [&] { return g.completed > 0; });
      }
      // Wait only for a young cycle of a group that is normally fast: a slow or hung group
      // costs this thread nothing; its last completed values are used instead.
      bool young = !g.busy || readStart - g.cycleStartMs < waitMs_;
      if (g.requested > g.completed && young && g.lastCycleMs <= waitMs_) {
        g.cv.wait_until(lk, deadline, [&] { return g.completed >= g.requested; });
      }
      const double now = MonotonicMs();
      for (size_t k = 0; k < gh.index.size(); k++) {
        const size_t i = gh.index[k];
        const Result& r = g.results[k];
        values[i] = r.value;
        errnos[i] = r.err;
        durations[i] = r.durUs;
        ages[i] = std::isnan(r.doneMs) ? NAN : now - r.doneMs;
        if (r.hasText) texts.Set(uint32_t(i), Napi::String::New(env, r.text));
        if (g.busy && g.current >= 0 && int(k) >= g.current)
          pending[i] = now - (int(k) == g.current ? g.fileStartMs : g.cycleStartMs);
      }
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("values", values);
    out.Set("errnos", errnos);
    out.Set("texts", texts);
    out.Set("durationsUs", durations);
    out.Set("ageMs", ages);
    out.Set("pendingMs", pending);
    return out;
  }

  // True once every off-thread group has completed at least one cycle. Called by an async
  // open that polls it, so the first read() no longer needs its longer first wait.
  Napi::Value Settled(const Napi::CallbackInfo& info) {
    firstWaitDone_ = true;
    bool all = true;
    for (GroupHandle& gh : groups_) {
      if (!gh.g) return Napi::Boolean::New(info.Env(), false);  // closed
      std::lock_guard<std::mutex> lk(gh.g->mu);
      if (gh.g->completed == 0) all = false;
    }
    return Napi::Boolean::New(info.Env(), all);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseAll();
    return info.Env().Undefined();
  }

  Napi::Value OpenCount(const Napi::CallbackInfo& info) {
    uint32_t c = 0;
    for (const File& f : files_) c += f.fd >= 0;
    for (GroupHandle& gh : groups_) {
      if (!gh.g) continue;  // closed (a detached thread's fds are its own now)
      std::lock_guard<std::mutex> lk(gh.g->mu);
      for (const File& f : gh.g->files) c += f.fd >= 0;
    }
    return Napi::Number::New(info.Env(), c);
  }

  void CloseAll() {
    if (closed_) return;
    closed_ = true;
    for (File& f : files_) {
      if (f.fd >= 0) close(f.fd);
      f.fd = -1;
      std::vector<char>().swap(f.buf);
    }
    for (GroupHandle& gh : groups_) {
      {
        std::lock_guard<std::mutex> lk(gh.g->mu);
        gh.g->stop = true;
        gh.g->cv.notify_all();
      }
      uint64_t one = 1;
      if (gh.g->stopFd >= 0 && write(gh.g->stopFd, &one, sizeof one) < 0) { /* cannot be full */ }
    }
    // One shared deadline: however many groups are stuck, close() waits kJoinWaitMs at most.
    const auto joinBy = std::chrono::steady_clock::now() + std::chrono::milliseconds(kJoinWaitMs);
    for (GroupHandle& gh : groups_) {
      bool exited;
      {
        std::unique_lock<std::mutex> lk(gh.g->mu);
        exited = gh.g->cv.wait_until(lk, joinBy, [&] { return gh.g->exited; });
      }
      if (!gh.th.joinable()) continue;
      // A thread still inside read() on a wedged driver cannot be interrupted: let it go. It
      // holds the only other reference to its Group and closes its fds when the read returns;
      // process exit does not wait for it.
      if (exited) gh.th.join();
      else gh.th.detach();
      // Drop this side's reference now (not at GC): a joined group's eventfd closes here; a
      // detached one is freed by its thread when the read returns.
      gh.g.reset();
    }
  }

  static constexpr int kJoinWaitMs = 50;
  static constexpr int kFirstWaitMs = 250;
  bool firstWaitDone_ = false;
  std::vector<File> files_;
  std::vector<int32_t> groupOf_;
  std::vector<size_t> posOf_;
  std::vector<GroupHandle> groups_;
  double waitMs_ = 5;
  bool closed_ = false;
};

}  // namespace

void InitReader(Napi::Env env, Napi::Object exports) { exports.Set("Reader", Reader::Define(env)); }

}  // namespace edgegov
