/**
 * Encodes an ONNX ModelProto (onnx/onnx.proto, proto2) from a small in-memory description, plus a graph
 * builder that names intermediate values. Only the parts of the format our models use are covered: float and
 * int64 tensors as raw_data initializers, int/float/ints attributes, tensor inputs/outputs with symbolic dims.
 *
 * Field numbers (onnx.proto): ModelProto ir_version=1 producer_name=2 producer_version=3 domain=4
 * model_version=5 doc_string=6 graph=7 opset_import=8 metadata_props=14; GraphProto node=1 name=2
 * initializer=5 doc_string=10 input=11 output=12; NodeProto input=1 output=2 name=3 op_type=4 attribute=5;
 * AttributeProto name=1 f=2 i=3 ints=8 type=20; TensorProto dims=1 data_type=2 name=8 raw_data=9;
 * ValueInfoProto name=1 type=2; TypeProto tensor_type=1; TypeProto.Tensor elem_type=1 shape=2;
 * TensorShapeProto dim=1; Dimension dim_value=1 dim_param=2; OperatorSetIdProto domain=1 version=2.
 */
import { ProtoWriter } from './protobuf.js'

export const ElemType = { FLOAT: 1, INT64: 7 } as const
export type ElemTypeValue = (typeof ElemType)[keyof typeof ElemType]

const AttrType = { FLOAT: 1, INT: 2, INTS: 7 } as const

export type AttrValue = number | number[] | { float: number }

export interface NodeSpec {
  op: string
  inputs: string[]
  outputs: string[]
  name: string
  attrs?: Record<string, AttrValue>
}

export interface InitializerSpec {
  name: string
  dims: number[]
  data: Float32Array | BigInt64Array
}

export interface ValueSpec {
  name: string
  elemType: ElemTypeValue
  /** A number is a fixed dimension, a string a symbolic one (e.g. 'batch'). */
  shape: Array<number | string>
}

export interface ModelSpec {
  graphName: string
  nodes: NodeSpec[]
  initializers: InitializerSpec[]
  inputs: ValueSpec[]
  outputs: ValueSpec[]
  opset: number
  /** IR version 8 goes with opset 17 (onnx/docs/Versioning.md). */
  irVersion: number
  producerName: string
  producerVersion: string
  docString?: string
  metadata?: Record<string, string>
}

export function encodeModel(spec: ModelSpec): Uint8Array {
  const w = new ProtoWriter()
  w.varint(1, spec.irVersion)
  w.string(2, spec.producerName)
  w.string(3, spec.producerVersion)
  w.string(4, 'dev.aiops')
  w.varint(5, 1)
  if (spec.docString) w.string(6, spec.docString)
  w.message(7, (g) => encodeGraph(g, spec))
  w.message(8, (o) => o.string(1, '').varint(2, spec.opset))
  for (const [key, value] of Object.entries(spec.metadata ?? {})) w.message(14, (m) => m.string(1, key).string(2, value))
  return w.finish()
}

function encodeGraph(g: ProtoWriter, spec: ModelSpec): void {
  for (const n of spec.nodes) g.message(1, (w) => encodeNode(w, n))
  g.string(2, spec.graphName)
  for (const t of spec.initializers) g.message(5, (w) => encodeTensor(w, t))
  for (const v of spec.inputs) g.message(11, (w) => encodeValueInfo(w, v))
  for (const v of spec.outputs) g.message(12, (w) => encodeValueInfo(w, v))
}

function encodeNode(w: ProtoWriter, n: NodeSpec): void {
  for (const i of n.inputs) w.string(1, i)
  for (const o of n.outputs) w.string(2, o)
  w.string(3, n.name)
  w.string(4, n.op)
  for (const [name, value] of Object.entries(n.attrs ?? {})) {
    w.message(5, (a) => {
      a.string(1, name)
      if (Array.isArray(value)) {
        for (const v of value) a.int64(8, v)
        a.varint(20, AttrType.INTS)
      } else if (typeof value === 'object') {
        a.float(2, value.float)
        a.varint(20, AttrType.FLOAT)
      } else {
        a.int64(3, value)
        a.varint(20, AttrType.INT)
      }
    })
  }
}

function encodeTensor(w: ProtoWriter, t: InitializerSpec): void {
  for (const d of t.dims) w.int64(1, d)
  w.varint(2, t.data instanceof Float32Array ? ElemType.FLOAT : ElemType.INT64)
  w.string(8, t.name)
  // raw_data is little-endian; typed arrays are in host order, which is little-endian on every platform ORT ships for.
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))
}

function encodeValueInfo(w: ProtoWriter, v: ValueSpec): void {
  w.string(1, v.name)
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.varint(1, v.elemType)
      tensor.message(2, (shape) => {
        for (const d of v.shape) shape.message(1, (dim) => (typeof d === 'number' ? dim.int64(1, d) : dim.string(2, d)))
      })
    }),
  )
}

/** Builds the node list of a graph with generated value names, so graph code reads like the math it does. */
export class GraphBuilder {
  readonly nodes: NodeSpec[] = []
  readonly initializers: InitializerSpec[] = []
  private counter = 0

  /** A float constant (initializer) with these dims; returns its name. */
  constant(name: string, dims: number[], data: Float32Array | number[]): string {
    const values = data instanceof Float32Array ? data : Float32Array.from(data)
    const expected = dims.reduce((a, b) => a * b, 1)
    if (values.length !== expected) throw new RangeError(`constant ${name}: ${values.length} values for dims [${dims.join(', ')}]`)
    this.initializers.push({ name, dims, data: values })
    return name
  }

  int64Constant(name: string, values: number[]): string {
    this.initializers.push({ name, dims: [values.length], data: BigInt64Array.from(values.map((v) => BigInt(v))) })
    return name
  }

  /** Adds one node with a single output; returns the output's name (`hint` makes the graph readable in Netron). */
  op(op: string, inputs: string[], hint: string, attrs?: Record<string, AttrValue>, outputName?: string): string {
    const out = outputName ?? `${hint}_${this.counter++}`
    this.nodes.push({ op, inputs, outputs: [out], name: `${op}_${out}`, ...(attrs ? { attrs } : {}) })
    return out
  }
}
