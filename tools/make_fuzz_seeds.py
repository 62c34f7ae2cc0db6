#!/usr/bin/env python3
"""Writes the hand-made seed inputs of the fuzz targets for the TorchServe body readers, the gRPC
request conversion, the archive readers and the image preprocessing (fuzz/src/test/resources/...).

Run it on the project's Python environment (tools/python-env.sh: Pillow) from anywhere:

    $(tools/python-env.sh) tools/make_fuzz_seeds.py

The output is the same from run to run. It writes only the files named here: regression inputs
that fuzzing found live beside them and are kept.
"""

import hashlib
import io
import struct
import zipfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "testdata" / "images"
INPUTS = ROOT / "fuzz" / "src" / "test" / "resources" / "dev" / "torchlight" / "fuzz"


def write(target, method, name, data):
    path = INPUTS / (target + "Inputs") / method / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


# --- images --------------------------------------------------------------------------------------

def encode(image, fmt, **options):
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def image_seeds():
    coffee = Image.open(IMAGES / "coffee.jpg").convert("RGB").resize((12, 8), Image.BILINEAR)
    rocket = Image.open(IMAGES / "rocket.jpg")
    alpha = Image.open(IMAGES / "coffee_alpha.png").resize((9, 6), Image.BILINEAR)
    camera = Image.open(IMAGES / "camera_gray.png").resize((8, 8), Image.BILINEAR)
    seeds = {
        "rgb.jpg": encode(coffee, "JPEG", quality=75),
        "rgb-444.jpg": encode(coffee, "JPEG", quality=90, subsampling=0),
        "progressive.jpg": encode(coffee, "JPEG", quality=75, progressive=True),
        "gray.jpg": encode(camera, "JPEG", quality=75),
        "cmyk.jpg": encode(coffee.convert("CMYK"), "JPEG", quality=75),
        # The JDK reads an embedded ICC profile; PIL (and so the decoder) ignores it.
        "icc.jpg": encode(rocket.resize((8, 6), Image.BILINEAR), "JPEG", quality=75,
                          icc_profile=rocket.info["icc_profile"]),
        "truncated.jpg": (IMAGES / "truncated.jpg").read_bytes(),
        "rgb.png": encode(coffee, "PNG"),
        "rgba.png": encode(alpha, "PNG"),
        "gray.png": encode(camera, "PNG"),
        "gray-alpha.png": encode(alpha.convert("LA"), "PNG"),
        "palette.png": encode(coffee.quantize(8), "PNG"),
        "bilevel.png": encode(camera.convert("1"), "PNG"),
        "gray16.png": encode(camera.convert("I;16"), "PNG"),
        # One pixel wide: the resize scales the long side by 16 and crops a window of it.
        "tall.png": encode(coffee.resize((1, 200), Image.BILINEAR), "PNG"),
    }
    for name, data in seeds.items():
        write("ImageFuzzTest", "decodesOrRefusesWithAClearError", name, data)


# --- TorchServe bodies: the Content-Type on the first line, then the body -------------------------

def torchserve_seeds():
    import base64
    jpeg = encode(Image.open(IMAGES / "coffee.jpg").convert("RGB").resize((4, 4), Image.BILINEAR), "JPEG",
                  quality=50)
    b64 = base64.b64encode(jpeg)
    crlf = b"\r\n"

    def multipart(boundary, parts):
        body = b""
        for headers, content in parts:
            body += b"--" + boundary + crlf + crlf.join(headers) + crlf + crlf + content + crlf
        return body + b"--" + boundary + b"--" + crlf

    seeds = {
        "raw-jpeg": b"image/jpeg\n" + jpeg,
        "raw-no-content-type": b"\n" + jpeg,
        "json-data": b"application/json\n{\"data\": \"" + b64 + b"\"}",
        "json-instances": b"application/json; charset=utf-8\n{\"instances\": [{\"b64\": \"" + b64
                          + b"\"}, {\"image\": \"data:image/jpeg;base64," + b64 + b"\"}]}",
        "json-array-urlsafe": b"application/json\n[\"" + base64.urlsafe_b64encode(jpeg).rstrip(b"=") + b"\"]",
        "multipart-file": b"multipart/form-data; boundary=------------------------d74496d66958873e\n" + multipart(
            b"------------------------d74496d66958873e",
            [([b'Content-Disposition: form-data; name="data"; filename="kitten.jpg"',
               b"Content-Type: image/jpeg"], jpeg)]),
        "multipart-fields": b"multipart/form-data; boundary=XyZ; charset=UTF-8\n" + multipart(
            b"XyZ",
            [([b'Content-Disposition: form-data; name="note"'], b"first"),
             ([b'Content-Disposition: form-data; name="data"; filename="a.jpg"', b"Content-Type: image/jpeg",
               b"Content-Transfer-Encoding: binary"], jpeg),
             ([b'Content-Disposition: form-data; name="b64"', b"Content-Type: text/plain; charset=ISO-8859-1"],
              b64)]),
        "form-urlencoded": b"application/x-www-form-urlencoded\ndata=" + b64.replace(b"+", b"%2B").replace(
            b"/", b"%2F").replace(b"=", b"%3D") + b"&name=kitten+1",
        # curl --data-binary @kitten.jpg declares a form; the bytes are a JPEG.
        "form-declared-jpeg": b"application/x-www-form-urlencoded\n" + jpeg,
    }
    for name, data in seeds.items():
        write("TorchServeBodyFuzzTest", "splitsOrRefusesWithAClearError", name, data)


# --- gRPC ModelInferRequest messages, encoded by hand (grpc_predict_v2.proto) ----------------------

def varint(n):
    n &= (1 << 64) - 1
    out = b""
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out += bytes([byte | 0x80])
        else:
            return out + bytes([byte])


def field(number, value):
    """A length-delimited field (string, bytes, message, packed repeated)."""
    if isinstance(value, str):
        value = value.encode()
    return varint(number << 3 | 2) + varint(len(value)) + value


def vfield(number, n):
    return varint(number << 3) + varint(n)


def packed(number, values, fmt=None):
    body = b"".join(struct.pack("<" + fmt, v) for v in values) if fmt else b"".join(varint(v) for v in values)
    return field(number, body)


def parameter(key, kind, value):
    # InferParameter: bool 1, int64 2, string 3, double 4, uint64 5; a map entry is key 1, value 2.
    if kind == "int64":
        p = vfield(2, value)
    elif kind == "string":
        p = field(3, value)
    elif kind == "bool":
        p = vfield(1, int(value))
    else:
        p = varint(4 << 3 | 1) + struct.pack("<d", value)
    return field(1, key) + field(2, p)


def tensor(name, datatype, shape, contents=None):
    # InferInputTensor: name 1, datatype 2, shape 3, parameters 4, contents 5.
    t = field(1, name) + field(2, datatype) + packed(3, shape)
    return t + (field(5, contents) if contents is not None else b"")


def grpc_seeds():
    floats = struct.pack("<4f", 1.0, 2.0, 3.0, 4.0)
    seeds = {
        "raw-fp32": field(1, "addone") + field(5, tensor("x", "FP32", [1, 4])) + field(7, floats),
        "raw-two-inputs": field(1, "pair") + field(2, "1") + field(3, "req-7")
                          + field(5, tensor("a", "FP16", [2])) + field(5, tensor("b", "INT64", [1, 1]))
                          + field(6, field(1, "y")) + field(7, b"\x00\x3c\x00\x40") + field(7, struct.pack("<q", -3)),
        "typed-int64": field(1, "split") + field(4, parameter("timeout", "int64", 25000))
                       + field(4, parameter("priority", "int64", 1))
                       + field(5, tensor("x", "INT64", [2], packed(3, [10, 20]))),
        "typed-fp32": field(1, "addone") + field(5, tensor("x", "FP32", [2, 2], packed(6, [1.5, -2, 0, 8], "f")))
                      + field(6, field(1, "y")),
        "typed-small-ints": field(1, "m") + field(5, tensor("b", "BOOL", [3], packed(1, [1, 0, 1])))
                            + field(5, tensor("i8", "INT8", [2], packed(2, [-128, 127])))
                            + field(5, tensor("u8", "UINT8", [2], packed(4, [0, 255])))
                            + field(5, tensor("d", "FP64", [1], packed(7, [0.25], "d"))),
        "parameters-wrong-types": field(1, "m") + field(4, parameter("timeout", "string", "1s"))
                                  + field(4, parameter("priority", "double", 1.0))
                                  + field(5, tensor("x", "INT32", [1], packed(2, [7]))),
    }
    for name, data in seeds.items():
        write("GrpcRequestFuzzTest", "convertsOrRefusesWithAClearError", name, data)


# --- zip archives -------------------------------------------------------------------------------

def zipped(entries):
    """entries: (name, bytes or None for a directory, options dict)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data, options in entries:
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = options.get("method", zipfile.ZIP_DEFLATED)
            if "mode" in options:
                info.external_attr = options["mode"] << 16
            z.writestr(info, b"" if data is None else data)
    return out.getvalue()


CONFIG = b"""name: m
platform: torchscript
max_batch_size: 0
inputs:
  - {name: x, datatype: FP32, shape: [2]}
outputs:
  - {name: y, datatype: FP32, shape: [2]}
"""


def manifest(files, name="m", version=1):
    lines = [b"format: 1", b"model_name: '" + name.encode() + b"'", b"version: " + str(version).encode(),
             b"files:"]
    for path, data in files.items():
        lines.append(b"  " + path.encode() + b": " + hashlib.sha256(data).hexdigest().encode())
    return b"\n".join(lines) + b"\n"


def archive_seeds():
    mar_manifest = (b'{"createdOn": "01/01/2026 00:00:00", "runtime": "python", "model": {"modelName": "m",'
                    b' "serializedFile": "model.pt", "handler": "image_classifier", "modelVersion": "1.0"},'
                    b' "archiverVersion": "0.12.0"}')
    plain = {}
    d = {}
    stored = {"method": zipfile.ZIP_STORED}
    extract = {
        "mar": zipped([("MAR-INF/", None, d), ("MAR-INF/MANIFEST.json", mar_manifest, d),
                       ("model.pt", b"PK weights " * 20, stored), ("index_to_name.json", b'{"0": ["n0", "cat"]}', d)]),
        "model-folder": zipped([("m/", None, d), ("m/config.yaml", CONFIG, d), ("m/1/", None, d),
                                ("m/1/model.pt", b"weights", stored)]),
        "empty": zipped([]),
        "parent-segment": zipped([("a/../../evil.txt", b"x", plain)]),
        "absolute": zipped([("/tmp/evil.txt", b"x", plain)]),
        "symlink": zipped([("link", b"../../etc/passwd", {"mode": 0o120777}), ("link/x", b"x", plain)]),
        "duplicate": zipped([("a", b"1", plain), ("./a", b"2", plain)]),
        "file-then-dir": zipped([("a", b"1", plain), ("a/b", b"2", plain)]),
        # 64 KiB of zeros deflate to a few hundred bytes, over the fuzz target's 32 KiB per entry.
        "bomb": zipped([("bomb.bin", bytes(64 * 1024), plain)]),
        "many": zipped([(str(i), b"", plain) for i in range(17)]),
    }
    for name, data in extract.items():
        write("ArchiveFuzzTest", "extractsInsideTheTargetOrRefuses", name, data)

    model = b"weights"
    files = {"config.yaml": CONFIG, "1/model.pt": model}
    aoti = {"config.yaml": CONFIG, "1/model.pt2": b"package"}
    unpack = {
        "tlar": zipped([("MANIFEST.yaml", manifest(files), plain)] + [(p, b, plain) for p, b in files.items()]),
        "tlar-aoti": zipped([("MANIFEST.yaml", manifest(aoti), plain)] + [(p, b, plain) for p, b in aoti.items()]),
        "tlar-checksum-mismatch": zipped([("MANIFEST.yaml", manifest(files), plain), ("config.yaml", CONFIG, plain),
                                          ("1/model.pt", b"other", plain)]),
        "tlar-extra-file": zipped([("MANIFEST.yaml", manifest(files), plain)]
                                  + [(p, b, plain) for p, b in files.items()] + [("1/extra", b"x", plain)]),
        "tlar-bad-name": zipped([("MANIFEST.yaml", manifest(files, name="../m"), plain)]
                                + [(p, b, plain) for p, b in files.items()]),
        "no-manifest": zipped([(p, b, plain) for p, b in files.items()]),
    }
    for name, data in unpack.items():
        write("ArchiveFuzzTest", "unpacksAModelArchiveOrRefuses", name, data)


if __name__ == "__main__":
    image_seeds()
    torchserve_seeds()
    grpc_seeds()
    archive_seeds()
