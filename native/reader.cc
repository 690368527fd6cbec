// Reader: opens a fixed set of sysfs/procfs files once and reads them all in one call.
//
// Why kept-open fds + pread(…, 0): sysfs (kernfs) and procfs (seq_file) regenerate the text on
// every read at offset 0, and re-opening costs 3-6x more and may itself stall under memory
// pressure (lmkd's reread_file() comment; research 02 §6.1). Read errors are data, not
// exceptions: each file reports its own errno so one bad zone never hides the others.
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace edgegov {
namespace {

enum Kind : uint8_t { kInt = 0, kText = 1 };

struct File {
  std::string path;
  Kind kind = kInt;
  int fd = -1;
  int openErrno = 0;
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
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    f.openErrno = ESPIPE;
    return;
  }
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
    ssize_t n = pread(f.fd, f.buf.data(), f.buf.size(), 0);
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

class Reader : public Napi::ObjectWrap<Reader> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Reader",
                       {InstanceMethod<&Reader::Read>("read"), InstanceMethod<&Reader::Close>("close"),
                        InstanceAccessor<&Reader::OpenCount>("openCount")});
  }

  // new Reader(paths: string[], kinds: number[])  — kind 0 = integer, 1 = text
  explicit Reader(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Reader>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsArray())
      throw Napi::TypeError::New(env, "Reader(paths: string[], kinds: number[])");
    Napi::Array paths = info[0].As<Napi::Array>();
    Napi::Array kinds = info[1].As<Napi::Array>();
    if (paths.Length() != kinds.Length()) throw Napi::RangeError::New(env, "paths and kinds differ in length");
    files_.resize(paths.Length());
    for (uint32_t i = 0; i < paths.Length(); i++) {
      Napi::Value p = paths.Get(i);
      if (!p.IsString()) throw Napi::TypeError::New(env, "paths must be strings");
      files_[i].path = p.As<Napi::String>().Utf8Value();
      files_[i].kind = kinds.Get(i).As<Napi::Number>().Int32Value() == 1 ? kText : kInt;
    }
    for (File& f : files_) OpenFile(f);
  }

  ~Reader() override { CloseAll(); }

 private:
  // Returns { values: Float64Array, errnos: Int32Array, texts: (string|undefined)[], durationsUs }.
  // values[i] is NaN unless file i is an integer file that parsed; errnos[i] is 0 on success,
  // the errno of the open or read, ENODATA for an empty read, EBADMSG for a non-number.
  Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) throw Napi::Error::New(env, "reader is closed");
    const size_t n = files_.size();
    Napi::Float64Array values = Napi::Float64Array::New(env, n);
    Napi::Int32Array errnos = Napi::Int32Array::New(env, n);
    Napi::Array texts = Napi::Array::New(env, n);
    // Per-file read time (µs): the TS watchdog backs off a file whose driver stalls (I2C).
    Napi::Float64Array durations = Napi::Float64Array::New(env, n);
    for (size_t i = 0; i < n; i++) {
      File& f = files_[i];
      values[i] = NAN;
      durations[i] = 0;
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
    Napi::Object out = Napi::Object::New(env);
    out.Set("values", values);
    out.Set("errnos", errnos);
    out.Set("texts", texts);
    out.Set("durationsUs", durations);
    return out;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseAll();
    return info.Env().Undefined();
  }

  Napi::Value OpenCount(const Napi::CallbackInfo& info) {
    uint32_t c = 0;
    for (const File& f : files_) c += f.fd >= 0;
    return Napi::Number::New(info.Env(), c);
  }

  void CloseAll() {
    closed_ = true;
    for (File& f : files_) {
      if (f.fd >= 0) close(f.fd);
      f.fd = -1;
      std::vector<char>().swap(f.buf);
    }
  }

  std::vector<File> files_;
  bool closed_ = false;
};

}  // namespace

void InitReader(Napi::Env env, Napi::Object exports) { exports.Set("Reader", Reader::Define(env)); }

}  // namespace edgegov
