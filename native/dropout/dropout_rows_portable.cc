// The dropout mask loop on the baseline ISA; picks the variant for the others.
#define CNN_DROPOUT_NAME dropout_mask_rows_portable
#include "dropout/dropout_rows.inc"

namespace cnn {

DropoutMaskRows dropout_mask_rows_for(Isa isa) {
  switch (isa) {
#if defined(CNN_X86)
    case Isa::Avx2: return dropout_mask_rows_avx2;
    case Isa::Avx512: return dropout_mask_rows_avx512;
#endif
    default: return dropout_mask_rows_portable;
  }
}

}  // namespace cnn
