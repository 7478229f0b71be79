// The layer kinds `cnn bench ops` measures; apart from ops.ts so the CLI can check --kind
// without loading the addon.
export const OP_KINDS = ['conv3x3', 'conv1x1', 'depthwise', 'gemm'] as const;
export type OpKind = (typeof OP_KINDS)[number];
