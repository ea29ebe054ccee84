/**
 * Verity's canonical tensor-list encoding, in TypeScript.
 *
 * A model's input (the `input` argument of `inference.request`) and its output (what the
 * executor posts, what `verity_result` returns) are one byte string: the SCALE encoding of
 * `Vec<Tensor>` of `verity-engine` (`precompiles/engine/src/tensor.rs`, `encode_tensors` and
 * `decode_tensors`). The chain commits to it with blake2-256 (`inputHash`, `outputHash`), so a
 * client must produce exactly these bytes; there is one encoding for each list of tensors.
 *
 * ```text
 * list   = compact(n) tensor{n}                      n <= MAX_TENSORS (16)
 * tensor = dtype:u8  compact(rank) dim:u32le{rank}  compact(len) data:u8{len}
 *          rank <= MAX_RANK (8); product(dims) <= MAX_ELEMENTS (2^24);
 *          len == product(dims) * size(dtype); rank 0 is a scalar (one element)
 * dtype  = 0 F32 | 1 F16 | 2 I8 | 3 U8 | 4 I32 | 5 I64 | 6 Bool      (indices fixed forever)
 * data   = elements in row-major order, little-endian; a Bool element is 0 or 1
 * compact(v) = SCALE compact u32: v < 2^6: 1 byte  v<<2
 *                                 v < 2^14: 2 bytes (v<<2)|1, LE
 *                                 v < 2^30: 4 bytes (v<<2)|2, LE
 *                                 else    : byte 3, then v as u32 LE
 * ```
 *
 * The decoder rejects what the engine rejects (unknown dtype, rank above 8, too many elements,
 * a length that does not match the shape, a Bool byte above 1, a non-canonical compact,
 * trailing bytes), so a list it accepts is one the chain accepts as well-formed. Whether the
 * list matches a model's input specs is for the chain to say (`InputSpecMismatch`).
 *
 * `test-vectors.json` holds lists with their encodings; `tensors.test.ts` checks this module
 * against them and `node/tests/dapp_example.rs` checks them against the engine itself.
 */

/** Element types, in the order of their codec index. */
export const DTYPES = ['F32', 'F16', 'I8', 'U8', 'I32', 'I64', 'Bool'] as const;
export type DType = (typeof DTYPES)[number];

/** Bytes per element. */
export const DTYPE_SIZE: Record<DType, number> = {
	F32: 4,
	F16: 2,
	I8: 1,
	U8: 1,
	I32: 4,
	I64: 8,
	Bool: 1,
};

export const MAX_RANK = 8;
export const MAX_ELEMENTS = 1 << 24;
export const MAX_TENSORS = 16;

/** A dense tensor: `data` is the little-endian element bytes, row-major. */
export interface Tensor {
	dtype: DType;
	shape: number[];
	data: Uint8Array;
}

/** Element values: numbers for floats and 8/32-bit integers, bigints for I64. */
export type Values = number[] | bigint[] | boolean[];

/** A list or tensor that the engine would not accept. */
export class TensorError extends Error {
	override name = 'TensorError';
}

/** Parses a dtype name, case-insensitively (`f32`, `F32`, `bool`). */
export function parseDType(s: string): DType {
	const d = DTYPES.find((x) => x.toLowerCase() === s.toLowerCase());
	if (!d) throw new TensorError(`unknown dtype ${s}; one of ${DTYPES.join(', ')}`);
	return d;
}

/** Number of elements of `shape` (1 for a scalar); throws past MAX_RANK or MAX_ELEMENTS. */
export function elementCount(shape: readonly number[]): number {
	if (shape.length > MAX_RANK) throw new TensorError(`rank ${shape.length} exceeds ${MAX_RANK}`);
	let n = 1;
	for (const d of shape) {
		if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) {
			throw new TensorError(`dimension ${d} is not a u32`);
		}
		n *= d;
		if (n > MAX_ELEMENTS) throw new TensorError(`more than ${MAX_ELEMENTS} elements`);
	}
	return n;
}

/** A tensor from raw little-endian bytes, checked as the engine's `Tensor::new`. */
export function tensorFromBytes(dtype: DType, shape: number[], data: Uint8Array): Tensor {
	const expected = elementCount(shape) * DTYPE_SIZE[dtype];
	if (data.length !== expected) {
		throw new TensorError(`${dtype}[${shape.join(',')}] needs ${expected} bytes of data, got ${data.length}`);
	}
	if (dtype === 'Bool' && data.some((b) => b > 1)) {
		throw new TensorError('a Bool element is neither 0 nor 1');
	}
	return { dtype, shape: [...shape], data: Uint8Array.from(data) };
}

/** A tensor from element values (row-major). Floats are rounded to the dtype (F32, F16). */
export function tensor(dtype: DType, shape: number[], values: Values): Tensor {
	const n = elementCount(shape);
	if (values.length !== n) {
		throw new TensorError(`${dtype}[${shape.join(',')}] has ${n} elements, got ${values.length} values`);
	}
	const size = DTYPE_SIZE[dtype];
	const data = new Uint8Array(n * size);
	const view = new DataView(data.buffer);
	for (let i = 0; i < n; i++) {
		const v = values[i] as number | bigint | boolean;
		const at = i * size;
		switch (dtype) {
			case 'F32':
				view.setFloat32(at, Number(v), true);
				break;
			case 'F16':
				view.setUint16(at, f16Bits(Number(v)), true);
				break;
			case 'I8':
				view.setInt8(at, checkedInt(v, -128, 127));
				break;
			case 'U8':
				view.setUint8(at, checkedInt(v, 0, 255));
				break;
			case 'I32':
				view.setInt32(at, checkedInt(v, -0x80000000, 0x7fffffff), true);
				break;
			case 'I64': {
				const b =
					typeof v === 'bigint'
						? v
						: BigInt(checkedInt(v, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
				if (b < -(1n << 63n) || b >= 1n << 63n) throw new TensorError(`${b} is not an i64`);
				view.setBigInt64(at, b, true);
				break;
			}
			case 'Bool':
				if (typeof v !== 'boolean' && v !== 0 && v !== 1) {
					throw new TensorError(`${v} is not a Bool (true, false, 0 or 1)`);
				}
				view.setUint8(at, v === true || v === 1 ? 1 : 0);
				break;
		}
	}
	return { dtype, shape: [...shape], data };
}

function checkedInt(v: number | bigint | boolean, min: number, max: number): number {
	const n = Number(v);
	if (!Number.isInteger(n) || n < min || n > max) {
		throw new TensorError(`${v} is not an integer in [${min}, ${max}]`);
	}
	return n;
}

/** The elements of `t`: numbers, except bigints for I64 and booleans for Bool. */
export function values(t: Tensor): Values {
	const size = DTYPE_SIZE[t.dtype];
	const n = t.data.length / size;
	const view = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
	const at = (i: number) => i * size;
	switch (t.dtype) {
		case 'F32':
			return Array.from({ length: n }, (_, i) => view.getFloat32(at(i), true));
		case 'F16':
			return Array.from({ length: n }, (_, i) => f16Value(view.getUint16(at(i), true)));
		case 'I8':
			return Array.from({ length: n }, (_, i) => view.getInt8(at(i)));
		case 'U8':
			return Array.from({ length: n }, (_, i) => view.getUint8(at(i)));
		case 'I32':
			return Array.from({ length: n }, (_, i) => view.getInt32(at(i), true));
		case 'I64':
			return Array.from({ length: n }, (_, i) => view.getBigInt64(at(i), true));
		case 'Bool':
			return Array.from({ length: n }, (_, i) => view.getUint8(at(i)) === 1);
	}
}

/** IEEE binary16 bits of `x`, rounded to nearest, ties to even (as `half::f16::from_f32`). */
export function f16Bits(x: number): number {
	// Round to f32 first, as an f32 tensor converted to f16 would be.
	const f32 = new DataView(new ArrayBuffer(4));
	f32.setFloat32(0, x);
	const bits = f32.getUint32(0);
	const sign = (bits >>> 16) & 0x8000;
	const exp = (bits >>> 23) & 0xff;
	const man = bits & 0x7fffff;
	if (exp === 0xff) return sign | 0x7c00 | (man ? 0x200 | (man >>> 13) : 0); // NaN keeps a payload bit
	const e = exp - 127 + 15;
	if (e >= 0x1f) return sign | 0x7c00; // overflow to infinity
	if (e <= 0) {
		// Subnormal or zero: shift the implicit-one mantissa right, round half to even.
		if (e < -10) return sign;
		const m = man | 0x800000;
		const shift = 14 - e;
		const half = 1 << (shift - 1);
		const rest = m & ((1 << shift) - 1);
		let r = m >>> shift;
		if (rest > half || (rest === half && (r & 1) === 1)) r += 1;
		return sign | r;
	}
	let r = (e << 10) | (man >>> 13);
	const rest = man & 0x1fff;
	if (rest > 0x1000 || (rest === 0x1000 && (r & 1) === 1)) r += 1; // may carry into infinity: correct
	return sign | r;
}

/** The value of IEEE binary16 `bits`. */
export function f16Value(bits: number): number {
	const sign = bits & 0x8000 ? -1 : 1;
	const exp = (bits >>> 10) & 0x1f;
	const man = bits & 0x3ff;
	if (exp === 0) return sign * man * 2 ** -24;
	if (exp === 0x1f) return man ? NaN : sign * Infinity;
	return sign * (1 + man / 1024) * 2 ** (exp - 15);
}

// ---- SCALE pieces ----

class Writer {
	private parts: number[] = [];
	byte(b: number) {
		this.parts.push(b & 0xff);
	}
	u32(v: number) {
		for (let i = 0; i < 4; i++) this.byte(v >>> (8 * i));
	}
	compact(v: number) {
		if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new TensorError(`${v} is not a u32`);
		if (v < 1 << 6) this.byte(v << 2);
		else if (v < 1 << 14) {
			const x = (v << 2) | 1;
			this.byte(x);
			this.byte(x >>> 8);
		} else if (v < 1 << 30) this.u32(((v << 2) | 2) >>> 0);
		else {
			this.byte(3);
			this.u32(v);
		}
	}
	bytes(b: Uint8Array) {
		for (const x of b) this.parts.push(x);
	}
	finish(): Uint8Array {
		return Uint8Array.from(this.parts);
	}
}

class Reader {
	private at = 0;
	constructor(private readonly buf: Uint8Array) {}
	get remaining() {
		return this.buf.length - this.at;
	}
	take(n: number): Uint8Array {
		if (n > this.remaining) throw new TensorError('malformed: input ends early');
		const out = this.buf.subarray(this.at, this.at + n);
		this.at += n;
		return out;
	}
	byte(): number {
		return this.take(1)[0]!;
	}
	u32(): number {
		const b = this.take(4);
		return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
	}
	/** SCALE `Compact<u32>`, rejecting non-canonical (over-long) forms as parity-scale-codec does. */
	compact(): number {
		const first = this.byte();
		switch (first & 3) {
			case 0:
				return first >>> 2;
			case 1: {
				const v = (first | (this.byte() << 8)) >>> 2;
				if (v < 1 << 6) throw new TensorError('malformed: non-canonical compact');
				return v;
			}
			case 2: {
				const b = this.take(3);
				const v = ((first | (b[0]! << 8) | (b[1]! << 16) | (b[2]! << 24)) >>> 0) >>> 2;
				if (v < 1 << 14) throw new TensorError('malformed: non-canonical compact');
				return v;
			}
			default: {
				if (first >>> 2 !== 0) throw new TensorError('malformed: compact out of u32 range');
				const v = this.u32();
				if (v < 1 << 30) throw new TensorError('malformed: non-canonical compact');
				return v;
			}
		}
	}
}

/** The canonical encoding of `tensors` (`verity_engine::encode_tensors`). */
export function encodeTensors(tensors: readonly Tensor[]): Uint8Array {
	if (tensors.length > MAX_TENSORS) throw new TensorError(`more than ${MAX_TENSORS} tensors`);
	const w = new Writer();
	w.compact(tensors.length);
	for (const t of tensors) {
		// Re-check the invariant: a hand-built object may not satisfy it.
		const checked = tensorFromBytes(t.dtype, t.shape, t.data);
		w.byte(DTYPES.indexOf(checked.dtype));
		w.compact(checked.shape.length);
		for (const d of checked.shape) w.u32(d);
		w.compact(checked.data.length);
		w.bytes(checked.data);
	}
	return w.finish();
}

/** Decodes a canonical tensor list (`verity_engine::decode_tensors`); throws `TensorError`. */
export function decodeTensors(bytes: Uint8Array): Tensor[] {
	const r = new Reader(bytes);
	const n = r.compact();
	if (n > MAX_TENSORS) throw new TensorError(`malformed: ${n} tensors, at most ${MAX_TENSORS}`);
	const out: Tensor[] = [];
	for (let i = 0; i < n; i++) {
		const index = r.byte();
		const dtype = DTYPES[index];
		if (dtype === undefined) throw new TensorError(`malformed: unknown dtype index ${index}`);
		const rank = r.compact();
		if (rank > MAX_RANK) throw new TensorError(`rank ${rank} exceeds ${MAX_RANK}`);
		const shape: number[] = [];
		for (let k = 0; k < rank; k++) shape.push(r.u32());
		const expected = elementCount(shape) * DTYPE_SIZE[dtype];
		const len = r.compact();
		if (len !== expected) {
			throw new TensorError(
				`${dtype}[${shape.join(',')}] needs ${expected} bytes of data, the encoding says ${len}`,
			);
		}
		out.push(tensorFromBytes(dtype, shape, r.take(len)));
	}
	if (r.remaining !== 0) throw new TensorError('trailing bytes after the tensor list');
	return out;
}

/** `F32[1,10]`-style description. */
export function describe(t: Tensor): string {
	return `${t.dtype}[${t.shape.join(',')}]`;
}
