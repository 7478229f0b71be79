#include "bindings/registry.h"

#include <deque>
#include <string>

namespace cnn_binding {

namespace {

// A deque: rows never move once added, so each exported function can keep a pointer to its own.
std::deque<Binding>& table() {
  static std::deque<Binding> rows;
  return rows;
}

Napi::Value call(const Napi::CallbackInfo& info) {
  const Binding* row = static_cast<const Binding*>(info.Data());
  return row->fn(Args(info, row->name));
}

}  // namespace

Registration::Registration(std::initializer_list<Binding> rows) {
  for (const Binding& row : rows) table().push_back(row);
}

void export_bindings(Napi::Env env, Napi::Object exports) {
  for (Binding& row : table()) {
    if (exports.Has(row.name)) throw Napi::Error::New(env, std::string("binding ") + row.name + " is registered twice");
    exports.Set(row.name, Napi::Function::New(env, call, row.name, &row));
  }
}

}  // namespace cnn_binding
