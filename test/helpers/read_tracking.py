"""Reads back what a tracker wrote, with the tracker's own reader, and prints it as JSON (for tests).

    python read_tracking.py wandb <dir>        W&B's offline run file (run-*.wandb), records decoded by wandb's protobuf
    python read_tracking.py tensorboard <dir>  TensorBoard event files, via TensorBoard's EventAccumulator

Prints {"scalars": {tag: [[step, value], ...]}, "config": {...}}.
"""

import glob
import json
import os
import sys


def wandb_records(path: str):
    """The protobuf records of a W&B run file: a 7-byte header (":W&B", magic, version), then
    LevelDB-log framing in 32 KiB blocks (crc32c 4, length 2, type 1: full/first/middle/last)."""
    data = open(path, "rb").read()
    assert data[:4] == b":W&B", "not a W&B run file"
    pos, block, pending = 7, 32768, b""
    while pos + 7 <= len(data):
        left = block - pos % block
        if left < 7:  # the rest of a block too short for a header is padding
            pos += left
            continue
        length = int.from_bytes(data[pos + 4 : pos + 6], "little")
        kind = data[pos + 6]
        chunk = data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind == 0 and length == 0:
            break
        pending = chunk if kind in (1, 2) else pending + chunk
        if kind in (1, 4):
            yield pending
            pending = b""


def read_wandb(root: str) -> dict:
    from wandb.proto import wandb_internal_pb2

    [path] = glob.glob(os.path.join(root, "**", "offline-run-*", "run-*.wandb"), recursive=True)
    scalars: dict = {}
    config: dict = {}
    for data in wandb_records(path):
        record = wandb_internal_pb2.Record()
        record.ParseFromString(data)
        kind = record.WhichOneof("record_type")
        if kind == "history":
            items = {item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in record.history.item}
            step = items.pop("_step", None)
            for key, value in items.items():
                if not key.startswith("_"):
                    scalars.setdefault(key, []).append([step, value])
        elif kind == "config":
            for item in record.config.update:
                config[item.key] = json.loads(item.value_json)
    return {"scalars": scalars, "config": config}


def read_tensorboard(root: str) -> dict:
    from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer

    mux = EventMultiplexer()
    mux.AddRunsFromDirectory(root)
    mux.Reload()
    scalars: dict = {}
    texts: dict = {}
    for run, tags in mux.Runs().items():
        for tag in tags.get("scalars", []):
            scalars[tag] = [[e.step, e.value] for e in mux.Scalars(run, tag)]
        for tag in tags.get("tensors", []):
            texts[tag] = [e.tensor_proto.string_val[0].decode() for e in mux.Tensors(run, tag) if e.tensor_proto.string_val]
    return {"scalars": scalars, "texts": texts}


if __name__ == "__main__":
    backend, root = sys.argv[1], sys.argv[2]
    print(json.dumps({"wandb": read_wandb, "tensorboard": read_tensorboard}[backend](root)))
