// The binding table: each family keeps its bindings in native/bindings/<family>.cc and lists
// them once, as {name, fn} rows of a Registration at the end of that file:
//
//   const Registration rows({{"reluForward", ReluForward}, {"reluBackward", ReluBackward}});
//
// The name is written once: the module exports the function under it, and the Args handed to
// the function name it in every error.
#pragma once
#include <napi.h>

#include <initializer_list>

#include "bindings/args.h"

namespace cnn_binding {

using BindingFn = Napi::Value (*)(const Args&);

struct Binding {
  const char* name;
  BindingFn fn;
};

// Adds a family's rows to the table during static initialization, before the module's init.
struct Registration {
  Registration(std::initializer_list<Binding> rows);
};

// Exports every registered row; a name registered twice is an error.
void export_bindings(Napi::Env env, Napi::Object exports);

}  // namespace cnn_binding
