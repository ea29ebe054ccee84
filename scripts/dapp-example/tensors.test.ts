// The TypeScript codec against test-vectors.json, whose encodings node/tests/dapp_example.rs
// checks against verity-engine: so both produce the same bytes. Run: `npm test`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { hexToU8a, u8aToHex } from '@polkadot/util';
import {
	decodeTensors,
	encodeTensors,
	f16Bits,
	f16Value,
	parseDType,
	tensor,
	tensorFromBytes,
	TensorError,
	values,
	type Tensor,
} from './tensors.ts';

interface VectorTensor {
	dtype: string;
	shape: number[];
	data: string;
	values?: (number | string | boolean)[];
}
interface Vectors {
	valid: { name: string; tensors: VectorTensor[]; encoded: string }[];
	invalid: { name: string; encoded: string }[];
}

const vectors = JSON.parse(readFileSync(new URL('./test-vectors.json', import.meta.url), 'utf8')) as Vectors;

function fromVector(t: VectorTensor): Tensor {
	return tensorFromBytes(parseDType(t.dtype), t.shape, hexToU8a(t.data));
}

for (const v of vectors.valid) {
	test(`encodes and decodes: ${v.name}`, () => {
		const tensors = v.tensors.map(fromVector);
		assert.equal(u8aToHex(encodeTensors(tensors)), v.encoded);
		const decoded = decodeTensors(hexToU8a(v.encoded));
		assert.deepEqual(
			decoded.map((t) => [t.dtype, t.shape, u8aToHex(t.data)]),
			v.tensors.map((t) => [parseDType(t.dtype), t.shape, t.data]),
		);
	});
	for (const t of v.tensors.filter((t) => t.values !== undefined)) {
		test(`values to bytes: ${v.name}, ${t.dtype}[${t.shape}]`, () => {
			const dtype = parseDType(t.dtype);
			const vals = dtype === 'I64' ? t.values!.map((x) => BigInt(x)) : t.values!;
			const built = tensor(dtype, t.shape, vals as number[] | bigint[] | boolean[]);
			assert.equal(u8aToHex(built.data), t.data);
		});
	}
}

for (const v of vectors.invalid) {
	test(`rejects: ${v.name}`, () => {
		assert.throws(() => decodeTensors(hexToU8a(v.encoded)), TensorError);
	});
}

test('values round-trip for every dtype', () => {
	assert.deepEqual(values(tensor('F32', [3], [1.5, -0, 1e30])), [1.5, -0, 1.0000000150474662e30]);
	assert.deepEqual(values(tensor('I64', [1], [-(2n ** 63n)])), [-(2n ** 63n)]);
	assert.deepEqual(values(tensor('Bool', [2], [true, false])), [true, false]);
	assert.deepEqual(values(tensor('I8', [2], [-1, 5])), [-1, 5]);
	assert.deepEqual(values(tensor('F16', [2], [0.5, 65504])), [0.5, 65504]);
});

test('f16 conversion agrees with itself on every finite half', () => {
	for (let bits = 0; bits < 0x10000; bits++) {
		const exp = (bits >>> 10) & 0x1f;
		if (exp === 0x1f) continue; // infinities and NaNs
		assert.equal(f16Bits(f16Value(bits)), bits, `bits 0x${bits.toString(16)}`);
	}
});

test('builders refuse values the dtype cannot hold', () => {
	assert.throws(() => tensor('U8', [1], [256]), TensorError);
	assert.throws(() => tensor('I32', [1], [1.5]), TensorError);
	assert.throws(() => tensor('Bool', [1], [2]), TensorError);
	assert.throws(() => tensor('F32', [2], [1]), TensorError);
	assert.throws(() => tensor('F32', [1, 1, 1, 1, 1, 1, 1, 1, 1], [1]), TensorError);
	assert.throws(() => encodeTensors(Array.from({ length: 17 }, () => tensor('U8', [], [0]))), TensorError);
});
