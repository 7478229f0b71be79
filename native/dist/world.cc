// Open MPI's plugins resolve symbols of libmpi when they are loaded; inside a Node addon libmpi
// came in with RTLD_LOCAL, so init() re-opens it RTLD_GLOBAL first (as mpi4py does). Debian's
// Open MPI 4.1 links its plugins to libmpi and works either way; builds that do not need this.
#include "dist/world.h"

#include <dlfcn.h>
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace cnn::dist {
namespace {

WorldInfo g_info{0, 1, 0, 1, MPI_THREAD_SINGLE};
std::vector<MPI_Request> g_requests;  // a handle indexes this; MPI_REQUEST_NULL marks a free slot

void promote_libmpi_to_global() {
  Dl_info where;
  if (dladdr(reinterpret_cast<void*>(&MPI_Init_thread), &where) && where.dli_fname)
    dlopen(where.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
}

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw std::runtime_error(std::string(what) + ": " + std::string(text, len));
}

// MPI counts are int: long buffers go in pieces.
template <typename T, typename Op>
void in_pieces(T* buf, int64_t n, Op op) {
  for (int64_t done = 0; done < n;) {
    const int count = (int)std::min<int64_t>(n - done, INT_MAX);
    op(buf + done, count);
    done += count;
  }
}

template <typename T>
MPI_Datatype type_of();
template <>
MPI_Datatype type_of<float>() { return MPI_FLOAT; }
template <>
MPI_Datatype type_of<double>() { return MPI_DOUBLE; }

template <typename T>
void allreduce_sum_impl(T* buf, int64_t n) {
  in_pieces(buf, n, [](T* p, int count) {
    check(MPI_Allreduce(MPI_IN_PLACE, p, count, type_of<T>(), MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
  });
}

template <typename T>
void broadcast_impl(T* buf, int64_t n, int root) {
  in_pieces(buf, n, [root](T* p, int count) { check(MPI_Bcast(p, count, type_of<T>(), root, MPI_COMM_WORLD), "MPI_Bcast"); });
}

MPI_Request& request(int handle) {
  if (handle < 0 || handle >= (int)g_requests.size() || g_requests[handle] == MPI_REQUEST_NULL)
    throw std::invalid_argument("no all-reduce in flight with handle " + std::to_string(handle));
  return g_requests[handle];
}

}  // namespace

std::string library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(text, &len);
  std::string s(text, len);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0' || s.back() == ' ')) s.pop_back();
  return s;
}

const char* thread_level_name(int level) {
  switch (level) {
    case MPI_THREAD_SINGLE: return "single";
    case MPI_THREAD_FUNNELED: return "funneled";
    case MPI_THREAD_SERIALIZED: return "serialized";
    default: return "multiple";
  }
}

bool is_initialized() {
  int flag = 0;
  MPI_Initialized(&flag);
  return flag != 0;
}

WorldInfo init() {
  if (is_initialized()) return g_info;
  promote_libmpi_to_global();
  int provided = MPI_THREAD_SINGLE;
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  if (provided < MPI_THREAD_FUNNELED)
    throw std::runtime_error(std::string("MPI provides only thread level '") + thread_level_name(provided) + "', cnn needs 'funneled'");
  WorldInfo w{};
  w.thread_level = provided;
  MPI_Comm_rank(MPI_COMM_WORLD, &w.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &w.size);
  MPI_Comm node;
  check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, w.rank, MPI_INFO_NULL, &node), "MPI_Comm_split_type");
  MPI_Comm_rank(node, &w.local_rank);
  MPI_Comm_size(node, &w.local_size);
  MPI_Comm_free(&node);
  g_info = w;
  return w;
}

WorldInfo info() { return g_info; }

void allreduce_sum(float* buf, int64_t n) { allreduce_sum_impl(buf, n); }
void allreduce_sum(double* buf, int64_t n) { allreduce_sum_impl(buf, n); }
void broadcast(float* buf, int64_t n, int root) { broadcast_impl(buf, n, root); }
void broadcast(double* buf, int64_t n, int root) { broadcast_impl(buf, n, root); }

int iallreduce_sum(float* buf, int64_t n) {
  if (n > INT_MAX) throw std::invalid_argument("a non-blocking all-reduce takes at most INT_MAX floats");
  MPI_Request r;
  check(MPI_Iallreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &r), "MPI_Iallreduce");
  for (size_t i = 0; i < g_requests.size(); ++i) {
    if (g_requests[i] == MPI_REQUEST_NULL) {
      g_requests[i] = r;
      return (int)i;
    }
  }
  g_requests.push_back(r);
  return (int)g_requests.size() - 1;
}

bool test(int handle) {
  int done = 0;
  check(MPI_Test(&request(handle), &done, MPI_STATUS_IGNORE), "MPI_Test");
  return done != 0;  // MPI_Test set the slot to MPI_REQUEST_NULL: free
}

void wait(int handle) { check(MPI_Wait(&request(handle), MPI_STATUS_IGNORE), "MPI_Wait"); }

void barrier() { check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }

void abort_job(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

void finalize() {
  int done = 0;
  MPI_Finalized(&done);
  if (is_initialized() && !done) MPI_Finalize();
}

}  // namespace cnn::dist
