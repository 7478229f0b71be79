// Bindings for native/dist (MPI), present when CMake found MPI (CNN_MPI); otherwise only
// mpiInfo, which says the build has none. A buffer handed to a non-blocking all-reduce stays
// referenced until mpiTest/mpiWait reports it done; JS must not touch it meanwhile, and one
// detached meanwhile is an error when the operation completes.
#include <napi.h>

#include <map>
#include <stdexcept>
#include <string>

#include "bindings/args.h"
#include "bindings/registry.h"
#ifdef CNN_MPI
#include "dist/world.h"
#endif

namespace {

using namespace cnn_binding;

#ifdef CNN_MPI

Napi::Object world_object(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("available", true);
  o.Set("version", cnn::dist::library_version());
  const bool up = cnn::dist::is_initialized();
  o.Set("initialized", up);
  if (up) {
    const cnn::dist::WorldInfo w = cnn::dist::info();
    o.Set("rank", w.rank);
    o.Set("size", w.size);
    o.Set("localRank", w.local_rank);
    o.Set("localSize", w.local_size);
    o.Set("threadLevel", cnn::dist::thread_level_name(w.thread_level));
  }
  return o;
}

void require_world(const Args& a) {
  if (!cnn::dist::is_initialized()) a.type_error("MPI is not initialised (call mpiInit first)");
}

// A Float32Array or Float64Array argument.
struct Buffer {
  void* data;
  int64_t length;
  bool is_double;
};

Buffer buffer(const Args& a, size_t i) {
  Napi::Value v = a.info()[i];
  if (v.IsTypedArray()) {
    auto t = v.As<Napi::TypedArray>();
    if (t.TypedArrayType() == napi_float32_array) {
      auto f = v.As<Napi::Float32Array>();
      return {f.Data(), (int64_t)f.ElementLength(), false};
    }
    if (t.TypedArrayType() == napi_float64_array) {
      auto d = v.As<Napi::Float64Array>();
      return {d.Data(), (int64_t)d.ElementLength(), true};
    }
  }
  a.type_error("expected a Float32Array or Float64Array for buffer");
}

template <typename Fn>
auto mpi_call(const Args& a, Fn fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::invalid_argument& e) {
    a.range_error(e.what());
  } catch (const std::runtime_error& e) {
    throw Napi::Error::New(a.env(), e.what());
  }
}

Napi::Value MpiInfo(const Args& a) {
  a.expect_count(0);
  return world_object(a.env());
}

Napi::Value MpiInit(const Args& a) {
  a.expect_count(0);
  mpi_call(a, [] { return cnn::dist::init(); });
  return world_object(a.env());
}

// (buffer): in place, the sum over all ranks
Napi::Value MpiAllreduceSum(const Args& a) {
  a.expect_count(1);
  require_world(a);
  Buffer b = buffer(a, 0);
  mpi_call(a, [&] {
    if (b.is_double) cnn::dist::allreduce_sum((double*)b.data, b.length);
    else cnn::dist::allreduce_sum((float*)b.data, b.length);
  });
  return a.undefined();
}

// A buffer MPI is reducing in the background: referenced, so the garbage collector cannot
// free it while MPI writes into it, and its length remembered, so a buffer detached meanwhile
// (transferred to a worker) is reported when the operation completes.
struct Pinned {
  Napi::ObjectReference buffer;
  size_t length;
};

// Never destroyed: the references must not be released after the JS environment is gone.
std::map<int, Pinned>& pinned() {
  static auto* handles = new std::map<int, Pinned>();
  return *handles;
}

void unpin(const Args& a, int handle) {
  auto it = pinned().find(handle);
  if (it == pinned().end()) return;
  const bool intact = it->second.buffer.Value().As<Napi::Float32Array>().ElementLength() == it->second.length;
  pinned().erase(it);
  if (!intact) a.range_error("the buffer was detached or resized while its all-reduce was pending");
}

// (buffer: Float32Array) → handle
Napi::Value MpiIallreduceSum(const Args& a) {
  a.expect_count(1);
  require_world(a);
  const int64_t n = a.length(0, "buffer");
  float* data = a.floats(0, "buffer", n);
  const int handle = mpi_call(a, [&] { return cnn::dist::iallreduce_sum(data, n); });
  pinned()[handle] = Pinned{Napi::Persistent(a.info()[0].As<Napi::Object>()), (size_t)n};
  return Napi::Number::New(a.env(), handle);
}

Napi::Value MpiTest(const Args& a) {
  a.expect_count(1);
  require_world(a);
  const int handle = (int)a.integer(0, "handle", 0, kMaxIndex);
  const bool done = mpi_call(a, [&] { return cnn::dist::test(handle); });
  if (done) unpin(a, handle);
  return Napi::Boolean::New(a.env(), done);
}

Napi::Value MpiWait(const Args& a) {
  a.expect_count(1);
  require_world(a);
  const int handle = (int)a.integer(0, "handle", 0, kMaxIndex);
  mpi_call(a, [&] { cnn::dist::wait(handle); });
  unpin(a, handle);
  return a.undefined();
}

// (buffer, root): every rank's buffer becomes root's
Napi::Value MpiBroadcast(const Args& a) {
  a.expect_count(2);
  require_world(a);
  Buffer b = buffer(a, 0);
  const int root = (int)a.integer(1, "root", 0, cnn::dist::info().size - 1);
  mpi_call(a, [&] {
    if (b.is_double) cnn::dist::broadcast((double*)b.data, b.length, root);
    else cnn::dist::broadcast((float*)b.data, b.length, root);
  });
  return a.undefined();
}

Napi::Value MpiBarrier(const Args& a) {
  a.expect_count(0);
  require_world(a);
  mpi_call(a, [] { cnn::dist::barrier(); });
  return a.undefined();
}

// (code): ends every rank of the job; never returns
Napi::Value MpiAbort(const Args& a) {
  a.expect_count(1);
  const int code = (int)a.integer(0, "code", 0, 255);
  if (!cnn::dist::is_initialized()) std::_Exit(code);
  cnn::dist::abort_job(code);
}

Napi::Value MpiFinalize(const Args& a) {
  a.expect_count(0);
  cnn::dist::finalize();
  return a.undefined();
}

#else

Napi::Value MpiInfo(const Args& a) {
  a.expect_count(0);
  Napi::Object o = Napi::Object::New(a.env());
  o.Set("available", false);
  o.Set("initialized", false);
  return o;
}

#endif

const Registration rows({
    {"mpiInfo", MpiInfo},
#ifdef CNN_MPI
    {"mpiInit", MpiInit},
    {"mpiAllreduceSum", MpiAllreduceSum},
    {"mpiIallreduceSum", MpiIallreduceSum},
    {"mpiTest", MpiTest},
    {"mpiWait", MpiWait},
    {"mpiBroadcast", MpiBroadcast},
    {"mpiBarrier", MpiBarrier},
    {"mpiAbort", MpiAbort},
    {"mpiFinalize", MpiFinalize},
#endif
});

}  // namespace
