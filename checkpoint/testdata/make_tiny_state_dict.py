"""Write tiny_state_dict.bin: a two-tensor state dict in torch.save's zip
format, built without torch so that the fuzz seed stays a few hundred bytes.

The pickle uses the same globals and persistent ids as torch.save (torch 1.6
and later): torch._utils._rebuild_tensor_v2 over ("storage", torch.FloatStorage,
key, "cpu", numel), and one tensor is a strided view into a shared storage.
Run: python3 make_tiny_state_dict.py
"""
import collections
import pickle
import struct
import sys
import types
import zipfile

torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
sys.modules["torch"] = torch
sys.modules["torch._utils"] = torch_utils


def _rebuild_tensor_v2(*args):
    raise NotImplementedError


_rebuild_tensor_v2.__module__ = "torch._utils"
torch_utils._rebuild_tensor_v2 = _rebuild_tensor_v2


class FloatStorage:
    pass


class LongStorage:
    pass


FloatStorage.__module__ = LongStorage.__module__ = "torch"
torch.FloatStorage, torch.LongStorage = FloatStorage, LongStorage


class Storage:
    def __init__(self, cls, key, numel):
        self.cls, self.key, self.numel = cls, key, numel


class Tensor:
    def __init__(self, storage, offset, shape, stride):
        self.args = (storage, offset, shape, stride, False, collections.OrderedDict())

    def __reduce__(self):
        return (_rebuild_tensor_v2, self.args)


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", obj.cls, obj.key, "cpu", obj.numel)
        return None


floats = Storage(FloatStorage, "0", 6)
longs = Storage(LongStorage, "1", 2)
state = collections.OrderedDict()
state["w"] = Tensor(floats, 0, (2, 3), (3, 1))
state["w_t"] = Tensor(floats, 0, (3, 2), (1, 3))  # transposed view, strided
state["index"] = Tensor(longs, 0, (2,), (1,))

with zipfile.ZipFile("tiny_state_dict.bin", "w", zipfile.ZIP_STORED) as z:
    import io

    buf = io.BytesIO()
    TorchPickler(buf, protocol=2).dump(state)
    z.writestr("archive/data.pkl", buf.getvalue())
    z.writestr("archive/data/0", struct.pack("<6f", 1, 2, 3, 4, 5, 6))
    z.writestr("archive/data/1", struct.pack("<2q", -7, 9))
    z.writestr("archive/version", "3\n")
