// Bindings for the process itself: replacing its image with a new program (execve), which Node 20
// cannot do. `cnn` uses it once, at start, to run again under an environment that only takes
// effect when a program starts (glibc's huge-page tunable); the pid, open files and the terminal
// stay the same, so signals, mpirun and a parent's kill still reach the same process.
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "bindings/registry.h"

#if !defined(_WIN32)
#include <fcntl.h>
#include <unistd.h>
#endif

namespace {

using namespace cnn_binding;

std::vector<std::string> strings_of(const Args& a, size_t i, const char* name) {
  const Napi::Value v = a.info()[i];
  if (!v.IsArray()) a.type_error(std::string("expected an array of strings for ") + name);
  const Napi::Array items = v.As<Napi::Array>();
  std::vector<std::string> out;
  for (uint32_t k = 0; k < items.Length(); ++k) {
    const std::string s = a.string_of(items.Get(k), std::string(name) + "[" + std::to_string(k) + "]");
    if (s.find('\0') != std::string::npos) a.range_error(std::string(name) + "[" + std::to_string(k) + "] holds a NUL character");
    out.push_back(s);
  }
  return out;
}

std::vector<char*> pointers(std::vector<std::string>& items) {
  std::vector<char*> out;
  for (std::string& s : items) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// (path, argv, env): returns only if the exec failed, as an Error naming the reason.
Napi::Value ExecProcess(const Args& a) {
  a.expect_count(3);
  const std::string path = a.string(0, "path");
  std::vector<std::string> argv = strings_of(a, 1, "argv"), env = strings_of(a, 2, "env");
  if (argv.empty()) a.range_error("argv must name the program (argv[0])");
  for (const std::string& e : env)
    if (e.find('=') == std::string::npos) a.range_error("env entry '" + e + "' is not NAME=value");
#if defined(_WIN32)
  a.range_error("replacing the process is not supported on Windows");
#else
  std::vector<char*> argp = pointers(argv), envp = pointers(env);
  // Node marks the standard streams close-on-exec; the new program must inherit them.
  int fd_flags[3];
  for (int fd = 0; fd <= 2; ++fd) {
    fd_flags[fd] = fcntl(fd, F_GETFD);
    if (fd_flags[fd] >= 0) fcntl(fd, F_SETFD, fd_flags[fd] & ~FD_CLOEXEC);
  }
  execve(path.c_str(), argp.data(), envp.data());
  const int err = errno;
  for (int fd = 0; fd <= 2; ++fd)
    if (fd_flags[fd] >= 0) fcntl(fd, F_SETFD, fd_flags[fd]);
  throw Napi::Error::New(a.env(), std::string(a.function()) + ": cannot run " + path + ": " + std::strerror(err));
#endif
}

const Registration rows({
    {"execProcess", ExecProcess},
});

}  // namespace
