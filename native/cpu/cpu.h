// CPU feature detection and the choice of kernel variant (ISA) used by every dispatcher.
#pragma once
#include <string>
#include <vector>

namespace cnn {

enum class Isa { Scalar = 0, Neon = 1, Avx2 = 2, Avx512 = 3 };

const char* isa_name(Isa isa);
// Parses "scalar" | "neon" | "avx2" | "avx512"; false when the name is unknown.
bool parse_isa(const std::string& name, Isa* out);
bool isa_supported(Isa isa);
// The fastest variant this CPU runs.
Isa best_isa();
// The variant dispatchers use now: best_isa() unless set_active_isa chose another.
Isa active_isa();
// Returns false (and changes nothing) when the CPU lacks the variant.
bool set_active_isa(Isa isa);
std::vector<Isa> supported_isas();

std::string cpu_model();
std::vector<std::string> cpu_features();

}  // namespace cnn
