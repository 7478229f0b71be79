// Bindings for native/dist (MPI), present when CMake found MPI (CNN_MPI); otherwise only
// mpiInfo, which says the build has none. Buffers handed to a non-blocking all-reduce are owned
// by JS, which keeps them alive and untouched until mpiTest/mpiWait reports them done.
#include <napi.h>

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

Buffer buffer(const Napi::CallbackInfo& info, const Args& a, size_t i) {
  Napi::Value v = info[i];
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
auto mpi_call(const Napi::CallbackInfo& info, const Args& a, Fn fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::invalid_argument& e) {
    a.range_error(e.what());
  } catch (const std::runtime_error& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

Napi::Value MpiInfo(const Napi::CallbackInfo& info) { return world_object(info.Env()); }

Napi::Value MpiInit(const Napi::CallbackInfo& info) {
  Args a(info, "mpiInit");
  a.expect_count(0);
  mpi_call(info, a, [] { return cnn::dist::init(); });
  return world_object(info.Env());
}

// (buffer): in place, the sum over all ranks
Napi::Value MpiAllreduceSum(const Napi::CallbackInfo& info) {
  Args a(info, "mpiAllreduceSum");
  a.expect_count(1);
  require_world(a);
  Buffer b = buffer(info, a, 0);
  mpi_call(info, a, [&] {
    if (b.is_double) cnn::dist::allreduce_sum((double*)b.data, b.length);
    else cnn::dist::allreduce_sum((float*)b.data, b.length);
  });
  return info.Env().Undefined();
}

// (buffer: Float32Array) → handle
Napi::Value MpiIallreduceSum(const Napi::CallbackInfo& info) {
  Args a(info, "mpiIallreduceSum");
  a.expect_count(1);
  require_world(a);
  a.floats(0, "buffer", 0, false);
  auto f = info[0].As<Napi::Float32Array>();
  const int handle = mpi_call(info, a, [&] { return cnn::dist::iallreduce_sum(f.Data(), (int64_t)f.ElementLength()); });
  return Napi::Number::New(info.Env(), handle);
}

Napi::Value MpiTest(const Napi::CallbackInfo& info) {
  Args a(info, "mpiTest");
  a.expect_count(1);
  require_world(a);
  const int handle = (int)a.integer(0, "handle", 0, kMaxIndex);
  return Napi::Boolean::New(info.Env(), mpi_call(info, a, [&] { return cnn::dist::test(handle); }));
}

Napi::Value MpiWait(const Napi::CallbackInfo& info) {
  Args a(info, "mpiWait");
  a.expect_count(1);
  require_world(a);
  const int handle = (int)a.integer(0, "handle", 0, kMaxIndex);
  mpi_call(info, a, [&] { cnn::dist::wait(handle); });
  return info.Env().Undefined();
}

// (buffer, root): every rank's buffer becomes root's
Napi::Value MpiBroadcast(const Napi::CallbackInfo& info) {
  Args a(info, "mpiBroadcast");
  a.expect_count(2);
  require_world(a);
  Buffer b = buffer(info, a, 0);
  const int root = (int)a.integer(1, "root", 0, cnn::dist::info().size - 1);
  mpi_call(info, a, [&] {
    if (b.is_double) cnn::dist::broadcast((double*)b.data, b.length, root);
    else cnn::dist::broadcast((float*)b.data, b.length, root);
  });
  return info.Env().Undefined();
}

Napi::Value MpiBarrier(const Napi::CallbackInfo& info) {
  Args a(info, "mpiBarrier");
  a.expect_count(0);
  require_world(a);
  mpi_call(info, a, [] { cnn::dist::barrier(); });
  return info.Env().Undefined();
}

// (code): ends every rank of the job; never returns
Napi::Value MpiAbort(const Napi::CallbackInfo& info) {
  Args a(info, "mpiAbort");
  a.expect_count(1);
  const int code = (int)a.integer(0, "code", 0, 255);
  if (!cnn::dist::is_initialized()) std::_Exit(code);
  cnn::dist::abort_job(code);
}

Napi::Value MpiFinalize(const Napi::CallbackInfo& info) {
  cnn::dist::finalize();
  return info.Env().Undefined();
}

#else

Napi::Value MpiInfo(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("available", false);
  o.Set("initialized", false);
  return o;
}

#endif

}  // namespace

void register_dist_bindings(Napi::Env env, Napi::Object exports) {
  exports.Set("mpiInfo", Napi::Function::New(env, MpiInfo));
#ifdef CNN_MPI
  exports.Set("mpiInit", Napi::Function::New(env, MpiInit));
  exports.Set("mpiAllreduceSum", Napi::Function::New(env, MpiAllreduceSum));
  exports.Set("mpiIallreduceSum", Napi::Function::New(env, MpiIallreduceSum));
  exports.Set("mpiTest", Napi::Function::New(env, MpiTest));
  exports.Set("mpiWait", Napi::Function::New(env, MpiWait));
  exports.Set("mpiBroadcast", Napi::Function::New(env, MpiBroadcast));
  exports.Set("mpiBarrier", Napi::Function::New(env, MpiBarrier));
  exports.Set("mpiAbort", Napi::Function::New(env, MpiAbort));
  exports.Set("mpiFinalize", Napi::Function::New(env, MpiFinalize));
#endif
}
