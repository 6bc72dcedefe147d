"""Generated protobuf code (see scripts/gen_proto.py). Never edit by hand."""
