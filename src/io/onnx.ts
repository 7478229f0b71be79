// An ONNX graph under construction and its encoding as onnx.proto's ModelProto
// (ModelProto → GraphProto → NodeProto / TensorProto / ValueInfoProto). Names are made unique
// here; every node input must name a graph input, an initializer or an earlier node's output,
// which encode() checks so a broken graph is never written.
import { ProtoWriter } from './protobuf.js';

/** TensorProto.DataType values we write. */
const FLOAT = 1;
const INT64 = 7;

/** AttributeProto.AttributeType values we write. */
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_INTS = 7;

export type OnnxAttribute = { int: number } | { float: number } | { ints: readonly number[] } | { string: string };

export interface OnnxNode {
  opType: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, OnnxAttribute>;
}

export interface OnnxInitializer {
  name: string;
  dims: readonly number[];
  data: Float32Array | BigInt64Array;
}

/** A dimension is a size or a symbolic name ('batch'). */
export type OnnxDim = number | string;

export interface OnnxValueInfo {
  name: string;
  shape: readonly OnnxDim[];
}

export interface OnnxModelInfo {
  opset: number;
  producerVersion: string;
  docString?: string;
  metadata: Record<string, string>;
}

export class OnnxGraph {
  readonly nodes: OnnxNode[] = [];
  readonly initializers = new Map<string, OnnxInitializer>();
  readonly inputs: OnnxValueInfo[] = [];
  readonly outputs: OnnxValueInfo[] = [];
  private readonly taken = new Set<string>();

  constructor(readonly name: string) {}

  /** `base`, or `base_1`, `base_2`, ... if taken. */
  uniqueName(base: string): string {
    let name = base || 'value';
    for (let i = 1; this.taken.has(name); i++) name = `${base}_${i}`;
    this.taken.add(name);
    return name;
  }

  addInput(base: string, shape: readonly OnnxDim[]): string {
    const name = this.uniqueName(base);
    this.inputs.push({ name, shape });
    return name;
  }

  addOutput(name: string, shape: readonly OnnxDim[]): void {
    this.outputs.push({ name, shape });
  }

  addFloats(base: string, dims: readonly number[], data: Float32Array): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== data.length) throw new RangeError(`initializer ${base}: ${data.length} values for dims [${dims.join(', ')}]`);
    const name = this.uniqueName(base);
    this.initializers.set(name, { name, dims: [...dims], data });
    return name;
  }

  addInt64s(base: string, values: readonly number[]): string {
    const name = this.uniqueName(base);
    this.initializers.set(name, { name, dims: [values.length], data: BigInt64Array.from(values.map((v) => BigInt(v))) });
    return name;
  }

  /** Adds a node with one output named after `name`; returns that output's name. */
  addNode(opType: string, name: string, inputs: string[], attributes: Record<string, OnnxAttribute> = {}): string {
    const output = this.uniqueName(name);
    this.nodes.push({ opType, name: output, inputs, outputs: [output], attributes });
    return output;
  }

  /** The node whose output is `value`, if any. */
  producerOf(value: string): OnnxNode | undefined {
    return this.nodes.find((n) => n.outputs.includes(value));
  }

  /** How many node inputs and graph outputs read `value`. */
  usesOf(value: string): number {
    let n = this.outputs.filter((o) => o.name === value).length;
    for (const node of this.nodes) n += node.inputs.filter((i) => i === value).length;
    return n;
  }

  removeNode(node: OnnxNode): void {
    this.nodes.splice(this.nodes.indexOf(node), 1);
  }

  /** Drops initializers nothing reads any more (a folded layer's). */
  dropUnusedInitializers(): void {
    for (const name of [...this.initializers.keys()]) if (this.usesOf(name) === 0) this.initializers.delete(name);
  }

  /** Throws unless every value read is defined before it is read (nodes are in topological order). */
  checkWellFormed(): void {
    const defined = new Set<string>([...this.inputs.map((i) => i.name), ...this.initializers.keys()]);
    for (const node of this.nodes) {
      for (const input of node.inputs) {
        if (input !== '' && !defined.has(input)) throw new Error(`ONNX graph: node ${node.name} (${node.opType}) reads '${input}' before it is defined`);
      }
      for (const output of node.outputs) defined.add(output);
    }
    for (const o of this.outputs) if (!defined.has(o.name)) throw new Error(`ONNX graph: output '${o.name}' is never computed`);
  }
}

/** The IR version that goes with an opset (onnx/docs/Versioning.md). */
export function irVersionFor(opset: number): number {
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

function attributeProto(name: string, a: OnnxAttribute): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if ('int' in a) w.int(3, a.int).int(20, ATTR_INT);
  else if ('float' in a) w.float(2, a.float).int(20, ATTR_FLOAT);
  else if ('ints' in a) w.packedInts(8, a.ints).int(20, ATTR_INTS);
  else w.string(4, a.string).int(20, ATTR_STRING);
  return w;
}

function nodeProto(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  for (const [k, a] of Object.entries(n.attributes)) w.message(5, attributeProto(k, a));
  return w;
}

function tensorProto(t: OnnxInitializer): ProtoWriter {
  const w = new ProtoWriter().packedInts(1, t.dims).int(2, t.data instanceof Float32Array ? FLOAT : INT64).string(8, t.name);
  // raw_data is little-endian, as typed arrays are on every platform Node runs on here.
  return w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

function valueInfoProto(v: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) shape.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
  const tensorType = new ProtoWriter().int(1, FLOAT).message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}

/** The ModelProto bytes, as chunks that share the initializers' memory. */
export function encodeOnnxModel(graph: OnnxGraph, info: OnnxModelInfo): Uint8Array[] {
  graph.checkWellFormed();
  const g = new ProtoWriter();
  for (const n of graph.nodes) g.message(1, nodeProto(n));
  g.string(2, graph.name);
  for (const t of graph.initializers.values()) g.message(5, tensorProto(t));
  for (const i of graph.inputs) g.message(11, valueInfoProto(i));
  for (const o of graph.outputs) g.message(12, valueInfoProto(o));
  const m = new ProtoWriter()
    .int(1, irVersionFor(info.opset))
    .string(2, 'cnn')
    .string(3, info.producerVersion);
  if (info.docString) m.string(6, info.docString);
  m.message(7, g);
  m.message(8, new ProtoWriter().string(1, '').int(2, info.opset));
  for (const [key, value] of Object.entries(info.metadata)) m.message(14, new ProtoWriter().string(1, key).string(2, value));
  return m.finish();
}
