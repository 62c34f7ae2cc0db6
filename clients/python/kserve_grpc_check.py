#!/usr/bin/env python3
"""An independent KServe v2 gRPC client: checks a running torchlight server.

Generates its Python stubs from the project's grpc_predict_v2.proto with grpc_tools (Debian's
python3-grpc-tools), then over gRPC calls ServerLive, ServerReady, ModelMetadata and ModelConfig
(Triton's model configuration: its max_batch_size and inputs must agree with the metadata), sends
ModelInfer with raw_input_contents, and compares the raw outputs with the answer to the same
input sent as JSON over REST. Exits 0 when everything agrees, 1 with a message otherwise.

    kserve_grpc_check.py --grpc 127.0.0.1:7070 --http http://127.0.0.1:8080 --model mlp
"""
import argparse
import json
import os
import random
import struct
import sys
import tempfile
import urllib.request

PROTO = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                     "..", "..", "grpc-api", "src", "main", "proto", "grpc_predict_v2.proto")
FORMATS = {"FP32": "f", "FP64": "d", "INT32": "i", "INT64": "q", "INT8": "b", "UINT8": "B", "BOOL": "?"}


def generate_stubs(out_dir):
    from grpc_tools import protoc
    proto = os.path.normpath(PROTO)
    # model_config.proto is imported by the service's file and needs its own Python module.
    imported = os.path.join(os.path.dirname(proto), "model_config.proto")
    code = protoc.main(["protoc", "-I" + os.path.dirname(proto), "--python_out=" + out_dir,
                        "--grpc_python_out=" + out_dir, proto, imported])
    if code != 0:
        raise SystemExit("protoc failed on " + proto)
    sys.path.insert(0, out_dir)


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def rest(url, body=None):
    request = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grpc", required=True, help="host:port of the gRPC listener")
    parser.add_argument("--http", required=True, help="base URL of the HTTP listener")
    parser.add_argument("--model", default="mlp")
    parser.add_argument("--rows", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as stubs:
        generate_stubs(stubs)
        import grpc
        import grpc_predict_v2_pb2 as pb
        import grpc_predict_v2_pb2_grpc as pb_grpc

        with grpc.insecure_channel(args.grpc) as channel:
            stub = pb_grpc.GRPCInferenceServiceStub(channel)
            if not stub.ServerLive(pb.ServerLiveRequest(), timeout=30).live:
                fail("ServerLive says not live")
            if not stub.ServerReady(pb.ServerReadyRequest(), timeout=30).ready:
                fail("ServerReady says not ready")
            metadata = stub.ModelMetadata(pb.ModelMetadataRequest(name=args.model), timeout=30)
            config = stub.ModelConfig(pb.ModelConfigRequest(name=args.model), timeout=30).config
            if [i.name for i in config.input] != [i.name for i in metadata.inputs]:
                fail("ModelConfig inputs %s differ from ModelMetadata's %s"
                     % ([i.name for i in config.input], [i.name for i in metadata.inputs]))
            batched = config.max_batch_size > 0
            for spec, declared in zip(metadata.inputs, config.input):
                dims = list(spec.shape[1:] if batched else spec.shape)
                if list(declared.dims) != dims:
                    fail("ModelConfig input %s dims %s differ from ModelMetadata's %s"
                         % (declared.name, list(declared.dims), dims))

            rng = random.Random(42)
            request = pb.ModelInferRequest(model_name=args.model, id="python")
            rest_inputs = []
            for spec in metadata.inputs:
                fmt = FORMATS.get(spec.datatype)
                if fmt is None:
                    fail("this check sends " + ", ".join(FORMATS) + " inputs, not " + spec.datatype)
                shape = [args.rows if d == -1 and i == 0 else (4 if d == -1 else d) for i, d in enumerate(spec.shape)]
                count = 1
                for d in shape:
                    count *= d
                if fmt in "fd":
                    values = [round(rng.uniform(-1, 1), 6) for _ in range(count)]
                elif fmt == "?":
                    values = [rng.random() < 0.5 for _ in range(count)]
                else:
                    values = [rng.randint(0, 9) for _ in range(count)]
                tensor = request.inputs.add()
                tensor.name, tensor.datatype = spec.name, spec.datatype
                tensor.shape.extend(shape)
                request.raw_input_contents.append(struct.pack("<%d%s" % (count, fmt), *values))
                rest_inputs.append({"name": spec.name, "datatype": spec.datatype, "shape": shape, "data": values})

            reply = stub.ModelInfer(request, timeout=60)

    if reply.id != "python" or reply.model_name != args.model:
        fail("reply names model %r and id %r" % (reply.model_name, reply.id))
    if len(reply.raw_output_contents) != len(reply.outputs):
        fail("expected raw_output_contents for raw inputs, got %d for %d outputs"
             % (len(reply.raw_output_contents), len(reply.outputs)))
    expected = {o["name"]: o for o in rest(args.http.rstrip("/") + "/v2/models/%s/infer" % args.model,
                                           {"inputs": rest_inputs})["outputs"]}
    for output, raw in zip(reply.outputs, reply.raw_output_contents):
        want = expected.get(output.name)
        if want is None:
            fail("REST has no output " + output.name)
        if list(output.shape) != want["shape"] or output.datatype != want["datatype"]:
            fail("%s: gRPC %s %s, REST %s %s" % (output.name, output.datatype, list(output.shape),
                                                 want["datatype"], want["shape"]))
        fmt = FORMATS[output.datatype]
        got = struct.unpack("<%d%s" % (len(raw) // struct.calcsize(fmt), fmt), raw)
        if len(got) != len(want["data"]):
            fail("%s: %d elements over gRPC, %d over REST" % (output.name, len(got), len(want["data"])))
        for i, (g, w) in enumerate(zip(got, want["data"])):
            if abs(g - w) > 1e-6 * max(1.0, abs(w)):
                fail("%s[%d]: gRPC %r, REST %r" % (output.name, i, g, w))
        print("ok: %s %s %s equal over gRPC (raw) and REST (JSON)" % (output.name, output.datatype, list(output.shape)))


if __name__ == "__main__":
    main()
