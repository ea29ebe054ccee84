#!/usr/bin/env python3
"""Reproducible demo models for the Verity engine.

Writes into precompiles/engine/models/ (or --out DIR):
  <name>.onnx          the model (ONNX protobuf, opset 17, IR 8)
  <name>.input.bin     the reference input: raw little-endian data, C order
  <name>.output.bin    the expected output of that input (onnxruntime, one thread)
  manifest.json        for each model: file, blake2-256 of the .onnx bytes, size, opset,
                       input/output name, dtype, declared shape (a string for a symbolic
                       dimension) and reference shape, the files above, the suggested acceptance
                       rule, and how far the output of a plain numpy evaluation of the ONNX
                       semantics lies from onnxruntime's (a sanity check of the reference).

Models (all far below 1 MiB):
  mlp    MLP classifier 1x64 -> 128 -> 10, f32: Gemm, Relu, Gemm, Softmax
  cnn    MNIST-sized CNN 1x1x28x28, f32: Conv, Relu, MaxPool, Conv, Relu, MaxPool, Flatten, Gemm
  int8   quantized MLP, u8 in, u8 out: QLinearMatMul (u8 x i8 weights) twice; integer output,
         so `Exact` applies
  batch  f32 model with a symbolic batch dimension N: x[N,16] -> MatMul, Add, Relu, MatMul, Add
         -> y[N,4]; the reference input has N = 3

Everything comes from a fixed seed and fixed metadata, so a rerun writes identical bytes
(`sha256sum precompiles/engine/models/*` before and after). Run it with the pinned packages of
scripts/requirements.txt: `source scripts/env.sh && "$VERITY_PYTHON" scripts/make_models.py`.
"""

import argparse
import hashlib
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8
SEED = 20260525
PRODUCER = "verity scripts/make_models.py"

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "precompiles", "engine", "models")

DTYPES = {
    np.dtype(np.float32): "f32",
    np.dtype(np.uint8): "u8",
    np.dtype(np.int8): "i8",
    np.dtype(np.int32): "i32",
    np.dtype(np.int64): "i64",
}
ONNX_ELEM = {
    "f32": TensorProto.FLOAT,
    "u8": TensorProto.UINT8,
    "i8": TensorProto.INT8,
    "i32": TensorProto.INT32,
    "i64": TensorProto.INT64,
}


def init(name, array):
    return numpy_helper.from_array(np.ascontiguousarray(array), name)


def he(rng, fan_in, shape):
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def finish(name, doc, nodes, inputs, outputs, initializers):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializers)
    model = helper.make_model(
        graph,
        producer_name=PRODUCER,
        producer_version="1",
        doc_string=doc,
        opset_imports=[helper.make_opsetid("", OPSET)],
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


# Plain numpy evaluation of the same ONNX semantics, to cross-check onnxruntime.
def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def conv2d_same3(x, w, b):
    n, c, h, wd = x.shape
    k = w.shape[0]
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((n, k, h, wd), dtype=np.float64)
    for i in range(3):
        for j in range(3):
            patch = xp[:, :, i : i + h, j : j + wd].astype(np.float64)
            out += np.einsum("nchw,kc->nkhw", patch, w[:, :, i, j].astype(np.float64))
    return out + b.reshape(1, k, 1, 1)


def maxpool2(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def requant(acc, scale, zp, dtype):
    info = np.iinfo(dtype)
    y = np.rint(acc.astype(np.float64) * scale) + zp
    return np.clip(y, info.min, info.max).astype(dtype)


def make_mlp(rng):
    w1, b1 = he(rng, 64, (128, 64)), (rng.standard_normal(128) * 0.01).astype(np.float32)
    w2, b2 = he(rng, 128, (10, 128)), (rng.standard_normal(10) * 0.01).astype(np.float32)
    x = rng.standard_normal((1, 64)).astype(np.float32)
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h1"], name="fc1", transB=1),
        helper.make_node("Relu", ["h1"], ["a1"], name="relu1"),
        helper.make_node("Gemm", ["a1", "w2", "b2"], ["logits"], name="fc2", transB=1),
        helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=-1),
    ]
    model = finish(
        "mlp",
        "MLP classifier: 64 features -> 128 hidden (ReLU) -> 10 class probabilities.",
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, 10])],
        [init("w1", w1), init("b1", b1), init("w2", w2), init("b2", b2)],
    )
    h = np.maximum(x.astype(np.float64) @ w1.T.astype(np.float64) + b1, 0)
    ref = softmax(h @ w2.T.astype(np.float64) + b2)
    return model, x, ref, "ArgMax"


def make_cnn(rng):
    c1w, c1b = he(rng, 9, (8, 1, 3, 3)), np.zeros(8, np.float32)
    c2w, c2b = he(rng, 72, (16, 8, 3, 3)), (rng.standard_normal(16) * 0.01).astype(np.float32)
    fw, fb = he(rng, 784, (10, 784)), (rng.standard_normal(10) * 0.01).astype(np.float32)
    # An MNIST-like input: a bright stroke on a dark background with a little noise.
    img = np.zeros((28, 28), np.float32)
    img[4:24, 13:16] = 1.0
    img[4:7, 10:16] = 1.0
    img[21:24, 9:20] = 1.0
    x = np.clip(img + rng.uniform(0.0, 0.1, (28, 28)), 0, 1).astype(np.float32).reshape(1, 1, 28, 28)
    conv = dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1])
    pool = dict(kernel_shape=[2, 2], strides=[2, 2])
    nodes = [
        helper.make_node("Conv", ["x", "c1w", "c1b"], ["c1"], name="conv1", **conv),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", **pool),
        helper.make_node("Conv", ["p1", "c2w", "c2b"], ["c2"], name="conv2", **conv),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("MaxPool", ["r2"], ["p2"], name="pool2", **pool),
        helper.make_node("Flatten", ["p2"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fw", "fb"], ["logits"], name="fc", transB=1),
    ]
    model = finish(
        "cnn",
        "MNIST-sized CNN: 1x1x28x28 image -> 10 class logits.",
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 28, 28])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])],
        [init("c1w", c1w), init("c1b", c1b), init("c2w", c2w), init("c2b", c2b),
         init("fw", fw), init("fb", fb)],
    )
    r = maxpool2(np.maximum(conv2d_same3(x, c1w, c1b), 0))
    r = maxpool2(np.maximum(conv2d_same3(r, c2w, c2b), 0))
    ref = r.reshape(1, -1) @ fw.T.astype(np.float64) + fb
    return model, x, ref, "ArgMax"


def make_int8(rng):
    # Scales chosen so that, for the reference input, the output lands inside the u8 range
    # (about +-16 around zero point 128) and about half the hidden units are active.
    x_s, x_zp = np.float32(1 / 255), np.uint8(0)
    w1 = rng.integers(-127, 128, (64, 32), dtype=np.int64).astype(np.int8)
    w1_s, w1_zp = np.float32(0.01), np.int8(0)
    h_s, h_zp = np.float32(0.05), np.uint8(0)
    w2 = rng.integers(-127, 128, (32, 10), dtype=np.int64).astype(np.int8)
    w2_s, w2_zp = np.float32(0.01), np.int8(0)
    y_s, y_zp = np.float32(0.15), np.uint8(128)
    x = rng.integers(0, 256, (1, 64), dtype=np.int64).astype(np.uint8)
    inits = [
        init("x_s", x_s), init("x_zp", x_zp),
        init("w1", w1), init("w1_s", w1_s), init("w1_zp", w1_zp),
        init("h_s", h_s), init("h_zp", h_zp),
        init("w2", w2), init("w2_s", w2_s), init("w2_zp", w2_zp),
        init("y_s", y_s), init("y_zp", y_zp),
    ]
    nodes = [
        # Zero point 0 on an unsigned output clamps negatives: the ReLU of a quantized MLP.
        helper.make_node("QLinearMatMul",
                         ["x", "x_s", "x_zp", "w1", "w1_s", "w1_zp", "h_s", "h_zp"], ["h"],
                         name="qfc1"),
        helper.make_node("QLinearMatMul",
                         ["h", "h_s", "h_zp", "w2", "w2_s", "w2_zp", "y_s", "y_zp"], ["y"],
                         name="qfc2"),
    ]
    model = finish(
        "int8",
        "Quantized MLP: u8[1,64] -> QLinearMatMul (i8 weights) -> u8[1,32] -> QLinearMatMul -> "
        "u8[1,10]. Integer output: compare with Exact.",
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.UINT8, [1, 64])],
        [helper.make_tensor_value_info("y", TensorProto.UINT8, [1, 10])],
        inits,
    )
    acc1 = (x.astype(np.int32) - int(x_zp)) @ (w1.astype(np.int32) - int(w1_zp))
    h = requant(acc1, np.float32(x_s * w1_s / h_s), int(h_zp), np.uint8)
    acc2 = (h.astype(np.int32) - int(h_zp)) @ (w2.astype(np.int32) - int(w2_zp))
    ref = requant(acc2, np.float32(h_s * w2_s / y_s), int(y_zp), np.uint8)
    return model, x, ref, "Exact"


def make_batch(rng):
    w1, b1 = he(rng, 16, (16, 32)), (rng.standard_normal(32) * 0.01).astype(np.float32)
    w2, b2 = he(rng, 32, (32, 4)), (rng.standard_normal(4) * 0.01).astype(np.float32)
    x = rng.standard_normal((3, 16)).astype(np.float32)
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["m1"], name="mm1"),
        helper.make_node("Add", ["m1", "b1"], ["h1"], name="add1"),
        helper.make_node("Relu", ["h1"], ["a1"], name="relu1"),
        helper.make_node("MatMul", ["a1", "w2"], ["m2"], name="mm2"),
        helper.make_node("Add", ["m2", "b2"], ["y"], name="add2"),
    ]
    model = finish(
        "batch",
        "Batched regressor: x[N,16] -> 32 hidden (ReLU) -> y[N,4]; N is symbolic.",
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])],
        [init("w1", w1), init("b1", b1), init("w2", w2), init("b2", b2)],
    )
    h = np.maximum(x.astype(np.float64) @ w1.astype(np.float64) + b1, 0)
    ref = h @ w2.astype(np.float64) + b2
    return model, x, ref, "Tolerance"


MAKERS = [("mlp", make_mlp), ("cnn", make_cnn), ("int8", make_int8), ("batch", make_batch)]


def declared_shape(value_info):
    dims = []
    for d in value_info.type.tensor_type.shape.dim:
        dims.append(d.dim_param if d.HasField("dim_param") else d.dim_value)
    return dims


def run_ort(model_bytes, feeds):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def write_if_changed(path, data):
    """Writes only when the bytes differ, so a rerun leaves mtimes alone."""
    if os.path.exists(path):
        with open(path, "rb") as f:
            if f.read() == data:
                return False
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="output directory")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    entries = []
    for name, make in MAKERS:
        # One generator per model, so adding or changing a model leaves the others alone.
        rng = np.random.default_rng([SEED, len(name), sum(name.encode())])
        model, x, numpy_ref, rule = make(rng)
        model_bytes = model.SerializeToString(deterministic=True)
        assert len(model_bytes) < 1 << 20, f"{name} is {len(model_bytes)} bytes"
        inp, out = model.graph.input[0], model.graph.output[0]
        (y,) = run_ort(model_bytes, {inp.name: x})
        y = np.ascontiguousarray(y)
        assert y.dtype in DTYPES, y.dtype
        if np.issubdtype(y.dtype, np.integer):
            ref_diff = int(np.abs(y.astype(np.int64) - numpy_ref.astype(np.int64)).max())
        else:
            ref_diff = float(np.abs(y.astype(np.float64) - numpy_ref).max())
            assert ref_diff < 1e-4, f"{name}: onnxruntime and numpy differ by {ref_diff}"

        files = {
            "model": f"{name}.onnx",
            "input": f"{name}.input.bin",
            "output": f"{name}.output.bin",
        }
        changed = write_if_changed(os.path.join(args.out, files["model"]), model_bytes)
        changed |= write_if_changed(os.path.join(args.out, files["input"]),
                                    x.astype(x.dtype.newbyteorder("<")).tobytes())
        changed |= write_if_changed(os.path.join(args.out, files["output"]),
                                    y.astype(y.dtype.newbyteorder("<")).tobytes())
        entries.append({
            "name": name,
            "file": files["model"],
            "blake2_256": hashlib.blake2b(model_bytes, digest_size=32).hexdigest(),
            "bytes": len(model_bytes),
            "opset": OPSET,
            "doc": model.doc_string,
            "inputs": [{
                "name": inp.name,
                "dtype": DTYPES[x.dtype],
                "shape": declared_shape(inp),
                "reference_shape": list(x.shape),
                "file": files["input"],
            }],
            "outputs": [{
                "name": out.name,
                "dtype": DTYPES[y.dtype],
                "shape": declared_shape(out),
                "reference_shape": list(y.shape),
                "file": files["output"],
            }],
            # The suggested acceptance rule; see docs/determinism.md for why.
            "rule": rule,
            "numpy_vs_onnxruntime_max_abs_diff": ref_diff,
        })
        print(f"{name:6} {len(model_bytes):7} bytes  blake2_256 {entries[-1]['blake2_256'][:16]}…  "
              f"numpy vs onnxruntime max |diff| {ref_diff:.3g}"
              f"{'  (written)' if changed else ''}")

    manifest = {
        "generator": "scripts/make_models.py",
        "versions": {"onnx": onnx.__version__, "numpy": np.__version__},
        "note": "Tensors are raw little-endian, C order. Reference outputs from onnxruntime "
                "(1 thread); symbolic dimensions are strings.",
        "models": entries,
    }
    text = json.dumps(manifest, indent=2, sort_keys=False) + "\n"
    write_if_changed(os.path.join(args.out, "manifest.json"), text.encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
