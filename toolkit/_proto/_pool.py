"""The private descriptor pool of the generated modules (scripts/gen_proto.py)."""

from google.protobuf import descriptor_pool as _descriptor_pool
from google.protobuf import struct_pb2
from google.protobuf import timestamp_pb2
from google.protobuf import wrappers_pb2

POOL = _descriptor_pool.DescriptorPool()
for _dep in (struct_pb2, timestamp_pb2, wrappers_pb2):
    POOL.AddSerializedFile(_dep.DESCRIPTOR.serialized_pb)
