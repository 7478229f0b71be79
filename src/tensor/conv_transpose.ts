// torch.nn.functional.conv_transpose2d without kernels of its own: a transposed convolution is
// the input-gradient of the convolution that maps its output back to its input, so forward,
// input gradient and weight gradient are the conv kernels with their roles exchanged.
import { native, getThreads, type ConvParams, type PadParams } from './native.js';
import { convTransposeOutputSize, intPair } from './shape.js';
import { record } from './ops.js';
import { zeroFloat32 } from './storage.js';
import { Tensor, formatShape } from './tensor.js';

export interface ConvTranspose2dOptions {
  stride?: [number, number];
  /** Removed from each side of the full output: dilation·(k-1) - padding zero-padding in the equivalent conv. */
  padding?: [number, number];
  /** Extra rows/columns on the bottom/right; smaller than stride or dilation. */
  outputPadding?: [number, number];
  dilation?: [number, number];
  groups?: number;
}

/**
 * torch.nn.functional.conv_transpose2d: x (N, Cin, H, W), w (Cin, Cout/groups, kh, kw), b (Cout)
 * or null, output (N, Cout, Hout, Wout).
 */
export function convTranspose2d(x: Tensor, w: Tensor, b: Tensor | null, o: ConvTranspose2dOptions = {}): Tensor {
  const op = 'convTranspose2d';
  if (x.ndim !== 4) throw new RangeError(`${op}: expected a 4-D input (N, C, H, W) but got shape ${formatShape(x.shape)}`);
  if (w.ndim !== 4) throw new RangeError(`${op}: expected a 4-D weight (Cin, Cout/groups, kh, kw) but got shape ${formatShape(w.shape)}`);
  const [n, cIn, h, wd] = x.shape;
  const [wIn, coutPerGroup, kh, kw] = w.shape;
  const groups = o.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new RangeError(`${op}: groups must be a positive integer but got ${groups}`);
  const stride = intPair(o.stride ?? 1, 'stride', 1, op);
  const padding = intPair(o.padding ?? 0, 'padding', 0, op);
  const outputPadding = intPair(o.outputPadding ?? 0, 'outputPadding', 0, op);
  const dilation = intPair(o.dilation ?? 1, 'dilation', 1, op);
  if (n < 1 || cIn < 1 || h < 1 || wd < 1) throw new RangeError(`${op}: expected a non-empty input but got shape ${formatShape(x.shape)}`);
  if (kh < 1 || kw < 1 || coutPerGroup < 1) throw new RangeError(`${op}: expected a non-empty weight but got shape ${formatShape(w.shape)}`);
  if (wIn !== cIn) {
    throw new RangeError(`${op}: Given transposed=1, weight of size ${formatShape(w.shape)}, expected input ${formatShape(x.shape)} to have ${wIn} channels, but got ${cIn} channels instead`);
  }
  if (cIn % groups !== 0) throw new RangeError(`${op}: groups (${groups}) must divide the input channels (${cIn})`);
  for (let i = 0; i < 2; i++) {
    if (outputPadding[i] >= stride[i] && outputPadding[i] >= dilation[i]) {
      throw new RangeError(`${op}: output padding must be smaller than either stride or dilation, but got outputPadding [${outputPadding.join(', ')}], stride [${stride.join(', ')}], dilation [${dilation.join(', ')}]`);
    }
  }
  const cOut = coutPerGroup * groups;
  if (b && (b.ndim !== 1 || b.shape[0] !== cOut)) throw new RangeError(`${op}: bias ${formatShape(b.shape)} does not match ${cOut} output channels`);
  const outH = convTransposeOutputSize(h, kh, stride[0], padding[0], outputPadding[0], dilation[0]);
  const outW = convTransposeOutputSize(wd, kw, stride[1], padding[1], outputPadding[1], dilation[1]);
  if (outH < 1 || outW < 1) {
    throw new RangeError(`${op}: Given input size per channel: (${h} x ${wd}). Calculated output size per channel: (${outH} x ${outW}). Output size is too small`);
  }

  // The equivalent conv reads the transposed output with top/left padding p. When outputPadding
  // exceeds p, the last (outputPadding - p) rows/columns are beyond every window's reach (they are
  // zeros of the output and their gradient goes nowhere), so the conv runs on the output without
  // them; otherwise bottom/right padding p - outputPadding makes its output exactly H×W.
  const cropH = Math.max(0, outputPadding[0] - padding[0]), cropW = Math.max(0, outputPadding[1] - padding[1]);
  const innerH = outH - cropH, innerW = outW - cropW;
  const p: ConvParams = {
    n, cIn: cOut, h: innerH, w: innerW, cOut: cIn, kh, kw, strideH: stride[0], strideW: stride[1],
    padT: padding[0], padB: Math.max(0, padding[0] - outputPadding[0]),
    padL: padding[1], padR: Math.max(0, padding[1] - outputPadding[1]),
    dilH: dilation[0], dilW: dilation[1], groups,
  };
  // With a large padding every window can miss the uncropped region: that output is all bias.
  const reachable = innerH >= 1 && innerW >= 1;
  const planes = n * cOut;
  const threads = getThreads();
  // The output is the inner result cropped by padding − outputPadding: zero padding on the far sides.
  const crop: PadParams = { mode: 'zeros', planes, h: innerH, w: innerW, left: 0, right: cropW, top: 0, bottom: cropH };

  const inner = zeroFloat32(reachable ? planes * innerH * innerW : 0);
  if (reachable) native.conv2dBackwardInput(p, x.data, w.data, inner, threads);
  let y: Float32Array;
  if (cropH === 0 && cropW === 0) {
    y = inner;
  } else {
    y = zeroFloat32(planes * outH * outW);
    if (reachable) native.pad2dForward(crop, 0, inner, y, threads);
  }
  if (b) {
    const hw = outH * outW;
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < cOut; c++) {
        const base = (i * cOut + c) * hw, bias = b.data[c];
        for (let j = 0; j < hw; j++) y[base + j] += bias;
      }
    }
  }

  const outShape = [n, cOut, outH, outW];
  const inputs = b ? [x, w, b] : [x, w];
  return record(new Tensor(y, outShape), op, inputs, (g) => {
    let gInner = g.data;
    if (reachable && (cropH > 0 || cropW > 0)) {
      gInner = zeroFloat32(planes * innerH * innerW);
      native.pad2dBackward(crop, g.data, gInner, threads);
    }
    let dx: Tensor | null = null, dw: Tensor | null = null, db: Tensor | null = null;
    if (x.requiresGrad) {
      dx = new Tensor(zeroFloat32(x.size), x.shape);
      if (reachable) native.conv2dForward(p, gInner, w.data, null, dx.data, threads);
    }
    if (w.requiresGrad) {
      dw = new Tensor(zeroFloat32(w.size), w.shape);
      // The conv's input is the transposed output (its gradient here), its output gradient is x.
      if (reachable) native.conv2dBackwardWeight(p, gInner, x.data, dw.data, null, threads);
    }
    if (b && b.requiresGrad) {
      db = new Tensor(zeroFloat32(cOut), [cOut]);
      native.sumToShape(g.data, outShape, db.data, [1, cOut, 1, 1]);
    }
    return [dx, dw, db];
  });
}
