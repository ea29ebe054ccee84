"""Write the ONNX backend *node* test cases of the installed `onnx` package as files.

Recent `onnx` wheels ship the node cases as Python (`onnx/backend/test/case/node`) rather than
as the `data/node/*` files; this runs the package's own generator for them, in the same layout
(`<out>/node/<test>/model.onnx`, `test_data_set_N/{input,output}_K.pb`) that
`onnx.backend.test.cmd_tools generate-data` uses for model cases.

Usage: python generate_node_data.py OUT_DIR
"""

import os
import sys

import onnx
from onnx import numpy_helper
from onnx.backend.test.case import node as node_cases


def main() -> None:
    out = os.path.join(sys.argv[1], "node")
    os.makedirs(out, exist_ok=True)
    written = 0
    for case in node_cases.collect_testcases():
        if case.model is None or not case.data_sets:
            continue
        d = os.path.join(out, case.name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "model.onnx"), "wb") as f:
            f.write(case.model.SerializeToString())
        for i, (inputs, outputs) in enumerate(case.data_sets):
            ds = os.path.join(d, f"test_data_set_{i}")
            os.makedirs(ds, exist_ok=True)
            try:
                for kind, values, infos in (
                    ("input", inputs, case.model.graph.input),
                    ("output", outputs, case.model.graph.output),
                ):
                    for j, v in enumerate(values):
                        if not infos[j].type.HasField("tensor_type"):
                            raise TypeError("not a tensor")
                        t = v if isinstance(v, onnx.TensorProto) else numpy_helper.from_array(v, infos[j].name)
                        with open(os.path.join(ds, f"{kind}_{j}.pb"), "wb") as f:
                            f.write(t.SerializeToString())
            except Exception as e:  # sequences, maps, optionals, strings: not Verity tensors
                with open(os.path.join(d, "SKIPPED"), "w") as f:
                    f.write(f"{type(e).__name__}: {e}\n")
        written += 1
    with open(os.path.join(sys.argv[1], "VERSION"), "w") as f:
        f.write(onnx.__version__ + "\n")
    print(f"wrote {written} node test cases (onnx {onnx.__version__}) to {out}")


if __name__ == "__main__":
    main()
