// The tile transforms of Winograd's F(4×4, 3×3) (winograd.h), one set per ISA. They run over a
// run of tiles with the tiles in the vector lanes: a padded input row is split into 6 phase rows
// (phase c holds column 4·s + c of tile s), so every term of a tile's transform is a unit-stride
// run and the transforms never see padding or strides; the output transform's 4 phase rows are
// joined back into an image row the same way.
#pragma once
#include "cpu/cpu.h"

namespace cnn {

// Output pixels per tile side, input pixels per tile side, and transformed values per tile.
constexpr int kWinoOut = 4, kWinoIn = 6, kWinoPoints = 36;

struct WinogradTiles {
  int lanes;  // floats per vector: runs are processed in whole vectors
  // ph[c·ldp + s] = row[4·s + c] for c < 6 and s < n rounded up to whole vectors (row readable and
  // ph writable that far: 4·(n + 2·lanes) floats of row, ldp >= n + 2·lanes).
  void (*split_row)(long n, const float* row, float* ph, long ldp);
  // v[ξ·ldv + t] = (Bᵀ d_t B)[ξ] for tiles t < n rounded up to whole vectors, d_t the 6×6 input
  // patch of tile t: d_t[r][c] = phase[(r·6 + c)·ldp + t] (6 input rows split by split_row).
  void (*input)(long n, const float* phase, long ldp, float* v, long ldv);
  // out[(i·4 + j)·ldo + t] = (Aᵀ m_t A)[i][j] for tiles t < n rounded up to whole vectors, where
  // m_t[ξ] = m[ξ·ldm + t] (readable that far).
  void (*output)(long n, const float* m, long ldm, float* out, long ldo);
  // row[4·s + j] = src[j·lds + s] for j < 4 and s < n rounded up to whole vectors.
  void (*join_row)(long n, const float* src, long lds, float* row);
  // As output, then max-pooled 2 × 2: out[(a·2 + b)·ldo + t] = the largest of (Aᵀ m_t A)[i][j]
  // for i in {2a, 2a + 1}, j in {2b, 2b + 1}.
  void (*output_pooled)(long n, const float* m, long ldm, float* out, long ldo);
  // row[2·s + b] = src[b·lds + s] for b < 2 and s < n rounded up to whole vectors.
  void (*join_pooled_row)(long n, const float* src, long lds, float* row);
};

extern const WinogradTiles winograd_tiles_portable;
#if defined(CNN_X86)
extern const WinogradTiles winograd_tiles_avx2;
extern const WinogradTiles winograd_tiles_avx512;
#endif

const WinogradTiles& winograd_tiles_for(Isa isa);

}  // namespace cnn
