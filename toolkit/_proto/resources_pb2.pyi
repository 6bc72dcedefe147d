import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import wrappers_pb2 as _wrappers_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DatasetVersionExportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DATASET_VERSION_EXPORT_FORMAT_NOT_SET: _ClassVar[DatasetVersionExportFormat]
    CLARIFAI_DATA_PROTOBUF: _ClassVar[DatasetVersionExportFormat]
    COCO: _ClassVar[DatasetVersionExportFormat]
    CLARIFAI_DATA_JSON: _ClassVar[DatasetVersionExportFormat]
DATASET_VERSION_EXPORT_FORMAT_NOT_SET: DatasetVersionExportFormat
CLARIFAI_DATA_PROTOBUF: DatasetVersionExportFormat
COCO: DatasetVersionExportFormat
CLARIFAI_DATA_JSON: DatasetVersionExportFormat

class InputBatch(_message.Message):
    __slots__ = ("inputs",)
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    inputs: _containers.RepeatedCompositeFieldContainer[Input]
    def __init__(self, inputs: _Optional[_Iterable[_Union[Input, _Mapping]]] = ...) -> None: ...

class Input(_message.Message):
    __slots__ = ("id", "data", "created_at", "modified_at", "dataset_ids")
    ID_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    MODIFIED_AT_FIELD_NUMBER: _ClassVar[int]
    DATASET_IDS_FIELD_NUMBER: _ClassVar[int]
    id: str
    data: Data
    created_at: _timestamp_pb2.Timestamp
    modified_at: _timestamp_pb2.Timestamp
    dataset_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., data: _Optional[_Union[Data, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., modified_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., dataset_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class Data(_message.Message):
    __slots__ = ("image", "video", "concepts", "metadata", "embeddings", "regions", "frames", "text", "audio")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    VIDEO_FIELD_NUMBER: _ClassVar[int]
    CONCEPTS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    image: Image
    video: Video
    concepts: _containers.RepeatedCompositeFieldContainer[Concept]
    metadata: _struct_pb2.Struct
    embeddings: _containers.RepeatedCompositeFieldContainer[Embedding]
    regions: _containers.RepeatedCompositeFieldContainer[Region]
    frames: _containers.RepeatedCompositeFieldContainer[Frame]
    text: Text
    audio: Audio
    def __init__(self, image: _Optional[_Union[Image, _Mapping]] = ..., video: _Optional[_Union[Video, _Mapping]] = ..., concepts: _Optional[_Iterable[_Union[Concept, _Mapping]]] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., embeddings: _Optional[_Iterable[_Union[Embedding, _Mapping]]] = ..., regions: _Optional[_Iterable[_Union[Region, _Mapping]]] = ..., frames: _Optional[_Iterable[_Union[Frame, _Mapping]]] = ..., text: _Optional[_Union[Text, _Mapping]] = ..., audio: _Optional[_Union[Audio, _Mapping]] = ...) -> None: ...

class HostedURL(_message.Message):
    __slots__ = ("prefix", "suffix", "sizes", "crossorigin")
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    SUFFIX_FIELD_NUMBER: _ClassVar[int]
    SIZES_FIELD_NUMBER: _ClassVar[int]
    CROSSORIGIN_FIELD_NUMBER: _ClassVar[int]
    prefix: str
    suffix: str
    sizes: _containers.RepeatedScalarFieldContainer[str]
    crossorigin: str
    def __init__(self, prefix: _Optional[str] = ..., suffix: _Optional[str] = ..., sizes: _Optional[_Iterable[str]] = ..., crossorigin: _Optional[str] = ...) -> None: ...

class Image(_message.Message):
    __slots__ = ("url", "base64", "hosted", "image_info")
    URL_FIELD_NUMBER: _ClassVar[int]
    BASE64_FIELD_NUMBER: _ClassVar[int]
    HOSTED_FIELD_NUMBER: _ClassVar[int]
    IMAGE_INFO_FIELD_NUMBER: _ClassVar[int]
    url: str
    base64: bytes
    hosted: HostedURL
    image_info: ImageInfo
    def __init__(self, url: _Optional[str] = ..., base64: _Optional[bytes] = ..., hosted: _Optional[_Union[HostedURL, _Mapping]] = ..., image_info: _Optional[_Union[ImageInfo, _Mapping]] = ...) -> None: ...

class ImageInfo(_message.Message):
    __slots__ = ("width", "height", "format", "color_mode")
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    COLOR_MODE_FIELD_NUMBER: _ClassVar[int]
    width: int
    height: int
    format: str
    color_mode: str
    def __init__(self, width: _Optional[int] = ..., height: _Optional[int] = ..., format: _Optional[str] = ..., color_mode: _Optional[str] = ...) -> None: ...

class Video(_message.Message):
    __slots__ = ("url", "base64", "hosted", "video_info")
    URL_FIELD_NUMBER: _ClassVar[int]
    BASE64_FIELD_NUMBER: _ClassVar[int]
    HOSTED_FIELD_NUMBER: _ClassVar[int]
    VIDEO_INFO_FIELD_NUMBER: _ClassVar[int]
    url: str
    base64: bytes
    hosted: HostedURL
    video_info: VideoInfo
    def __init__(self, url: _Optional[str] = ..., base64: _Optional[bytes] = ..., hosted: _Optional[_Union[HostedURL, _Mapping]] = ..., video_info: _Optional[_Union[VideoInfo, _Mapping]] = ...) -> None: ...

class VideoInfo(_message.Message):
    __slots__ = ("width", "height", "fps", "video_format", "bit_rate", "frame_count", "duration_seconds")
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    FPS_FIELD_NUMBER: _ClassVar[int]
    VIDEO_FORMAT_FIELD_NUMBER: _ClassVar[int]
    BIT_RATE_FIELD_NUMBER: _ClassVar[int]
    FRAME_COUNT_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    width: int
    height: int
    fps: float
    video_format: str
    bit_rate: int
    frame_count: int
    duration_seconds: float
    def __init__(self, width: _Optional[int] = ..., height: _Optional[int] = ..., fps: _Optional[float] = ..., video_format: _Optional[str] = ..., bit_rate: _Optional[int] = ..., frame_count: _Optional[int] = ..., duration_seconds: _Optional[float] = ...) -> None: ...

class Text(_message.Message):
    __slots__ = ("raw", "url", "hosted", "text_info")
    RAW_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    HOSTED_FIELD_NUMBER: _ClassVar[int]
    TEXT_INFO_FIELD_NUMBER: _ClassVar[int]
    raw: str
    url: str
    hosted: HostedURL
    text_info: TextInfo
    def __init__(self, raw: _Optional[str] = ..., url: _Optional[str] = ..., hosted: _Optional[_Union[HostedURL, _Mapping]] = ..., text_info: _Optional[_Union[TextInfo, _Mapping]] = ...) -> None: ...

class TextInfo(_message.Message):
    __slots__ = ("char_count", "encoding")
    CHAR_COUNT_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    char_count: int
    encoding: str
    def __init__(self, char_count: _Optional[int] = ..., encoding: _Optional[str] = ...) -> None: ...

class Audio(_message.Message):
    __slots__ = ("url", "base64", "hosted", "audio_info")
    URL_FIELD_NUMBER: _ClassVar[int]
    BASE64_FIELD_NUMBER: _ClassVar[int]
    HOSTED_FIELD_NUMBER: _ClassVar[int]
    AUDIO_INFO_FIELD_NUMBER: _ClassVar[int]
    url: str
    base64: bytes
    hosted: HostedURL
    audio_info: AudioInfo
    def __init__(self, url: _Optional[str] = ..., base64: _Optional[bytes] = ..., hosted: _Optional[_Union[HostedURL, _Mapping]] = ..., audio_info: _Optional[_Union[AudioInfo, _Mapping]] = ...) -> None: ...

class AudioInfo(_message.Message):
    __slots__ = ("audio_format", "sample_rate", "duration_seconds", "bit_rate")
    AUDIO_FORMAT_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    BIT_RATE_FIELD_NUMBER: _ClassVar[int]
    audio_format: str
    sample_rate: int
    duration_seconds: float
    bit_rate: int
    def __init__(self, audio_format: _Optional[str] = ..., sample_rate: _Optional[int] = ..., duration_seconds: _Optional[float] = ..., bit_rate: _Optional[int] = ...) -> None: ...

class Concept(_message.Message):
    __slots__ = ("id", "name", "value", "app_id", "metadata")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    value: float
    app_id: str
    metadata: _struct_pb2.Struct
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., value: _Optional[float] = ..., app_id: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class Region(_message.Message):
    __slots__ = ("id", "region_info", "data", "value", "track_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    REGION_INFO_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    TRACK_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    region_info: RegionInfo
    data: Data
    value: float
    track_id: str
    def __init__(self, id: _Optional[str] = ..., region_info: _Optional[_Union[RegionInfo, _Mapping]] = ..., data: _Optional[_Union[Data, _Mapping]] = ..., value: _Optional[float] = ..., track_id: _Optional[str] = ...) -> None: ...

class RegionInfo(_message.Message):
    __slots__ = ("bounding_box", "mask", "polygon", "point", "keypoint_locations")
    BOUNDING_BOX_FIELD_NUMBER: _ClassVar[int]
    MASK_FIELD_NUMBER: _ClassVar[int]
    POLYGON_FIELD_NUMBER: _ClassVar[int]
    POINT_FIELD_NUMBER: _ClassVar[int]
    KEYPOINT_LOCATIONS_FIELD_NUMBER: _ClassVar[int]
    bounding_box: BoundingBox
    mask: Mask
    polygon: Polygon
    point: Point
    keypoint_locations: _containers.RepeatedCompositeFieldContainer[Point]
    def __init__(self, bounding_box: _Optional[_Union[BoundingBox, _Mapping]] = ..., mask: _Optional[_Union[Mask, _Mapping]] = ..., polygon: _Optional[_Union[Polygon, _Mapping]] = ..., point: _Optional[_Union[Point, _Mapping]] = ..., keypoint_locations: _Optional[_Iterable[_Union[Point, _Mapping]]] = ...) -> None: ...

class BoundingBox(_message.Message):
    __slots__ = ("top_row", "left_col", "bottom_row", "right_col")
    TOP_ROW_FIELD_NUMBER: _ClassVar[int]
    LEFT_COL_FIELD_NUMBER: _ClassVar[int]
    BOTTOM_ROW_FIELD_NUMBER: _ClassVar[int]
    RIGHT_COL_FIELD_NUMBER: _ClassVar[int]
    top_row: float
    left_col: float
    bottom_row: float
    right_col: float
    def __init__(self, top_row: _Optional[float] = ..., left_col: _Optional[float] = ..., bottom_row: _Optional[float] = ..., right_col: _Optional[float] = ...) -> None: ...

class Polygon(_message.Message):
    __slots__ = ("points",)
    POINTS_FIELD_NUMBER: _ClassVar[int]
    points: _containers.RepeatedCompositeFieldContainer[Point]
    def __init__(self, points: _Optional[_Iterable[_Union[Point, _Mapping]]] = ...) -> None: ...

class Point(_message.Message):
    __slots__ = ("row", "col", "z", "visibility")
    class Visibility(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        NOT_SET: _ClassVar[Point.Visibility]
        VISIBLE: _ClassVar[Point.Visibility]
        NOT_VISIBLE: _ClassVar[Point.Visibility]
        NOT_PRESENT: _ClassVar[Point.Visibility]
    NOT_SET: Point.Visibility
    VISIBLE: Point.Visibility
    NOT_VISIBLE: Point.Visibility
    NOT_PRESENT: Point.Visibility
    ROW_FIELD_NUMBER: _ClassVar[int]
    COL_FIELD_NUMBER: _ClassVar[int]
    Z_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    row: float
    col: float
    z: float
    visibility: Point.Visibility
    def __init__(self, row: _Optional[float] = ..., col: _Optional[float] = ..., z: _Optional[float] = ..., visibility: _Optional[_Union[Point.Visibility, str]] = ...) -> None: ...

class Mask(_message.Message):
    __slots__ = ("image",)
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    image: Image
    def __init__(self, image: _Optional[_Union[Image, _Mapping]] = ...) -> None: ...

class Embedding(_message.Message):
    __slots__ = ("vector", "num_dimensions")
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    NUM_DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    vector: _containers.RepeatedScalarFieldContainer[float]
    num_dimensions: int
    def __init__(self, vector: _Optional[_Iterable[float]] = ..., num_dimensions: _Optional[int] = ...) -> None: ...

class Frame(_message.Message):
    __slots__ = ("frame_info", "data", "id")
    FRAME_INFO_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    frame_info: FrameInfo
    data: Data
    id: str
    def __init__(self, frame_info: _Optional[_Union[FrameInfo, _Mapping]] = ..., data: _Optional[_Union[Data, _Mapping]] = ..., id: _Optional[str] = ...) -> None: ...

class FrameInfo(_message.Message):
    __slots__ = ("index", "time", "number")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    index: int
    time: int
    number: int
    def __init__(self, index: _Optional[int] = ..., time: _Optional[int] = ..., number: _Optional[int] = ...) -> None: ...

class AnnotationFilter(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class Dataset(_message.Message):
    __slots__ = ("id", "created_at", "modified_at", "app_id", "user_id", "description", "metadata", "notes", "default_annotation_filter", "image")
    ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    MODIFIED_AT_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_ANNOTATION_FILTER_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    id: str
    created_at: _timestamp_pb2.Timestamp
    modified_at: _timestamp_pb2.Timestamp
    app_id: str
    user_id: str
    description: str
    metadata: _struct_pb2.Struct
    notes: str
    default_annotation_filter: AnnotationFilter
    image: Image
    def __init__(self, id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., modified_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., app_id: _Optional[str] = ..., user_id: _Optional[str] = ..., description: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., notes: _Optional[str] = ..., default_annotation_filter: _Optional[_Union[AnnotationFilter, _Mapping]] = ..., image: _Optional[_Union[Image, _Mapping]] = ...) -> None: ...

class DatasetVersion(_message.Message):
    __slots__ = ("id", "created_at", "modified_at", "app_id", "user_id", "dataset_id", "description", "metadata", "metrics")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: DatasetVersionMetrics
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[DatasetVersionMetrics, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    MODIFIED_AT_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    id: str
    created_at: _timestamp_pb2.Timestamp
    modified_at: _timestamp_pb2.Timestamp
    app_id: str
    user_id: str
    dataset_id: str
    description: str
    metadata: _struct_pb2.Struct
    metrics: _containers.MessageMap[str, DatasetVersionMetrics]
    def __init__(self, id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., modified_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., app_id: _Optional[str] = ..., user_id: _Optional[str] = ..., dataset_id: _Optional[str] = ..., description: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., metrics: _Optional[_Mapping[str, DatasetVersionMetrics]] = ...) -> None: ...

class DatasetVersionMetrics(_message.Message):
    __slots__ = ("inputs_count", "unlabeled_inputs_count", "inputs_with_metadata_count", "regions_count", "bounding_boxes_count", "polygons_count", "points_count", "masks_count", "frames_count", "embeddings_count", "positive_input_tags_count", "positive_region_tags_count")
    INPUTS_COUNT_FIELD_NUMBER: _ClassVar[int]
    UNLABELED_INPUTS_COUNT_FIELD_NUMBER: _ClassVar[int]
    INPUTS_WITH_METADATA_COUNT_FIELD_NUMBER: _ClassVar[int]
    REGIONS_COUNT_FIELD_NUMBER: _ClassVar[int]
    BOUNDING_BOXES_COUNT_FIELD_NUMBER: _ClassVar[int]
    POLYGONS_COUNT_FIELD_NUMBER: _ClassVar[int]
    POINTS_COUNT_FIELD_NUMBER: _ClassVar[int]
    MASKS_COUNT_FIELD_NUMBER: _ClassVar[int]
    FRAMES_COUNT_FIELD_NUMBER: _ClassVar[int]
    EMBEDDINGS_COUNT_FIELD_NUMBER: _ClassVar[int]
    POSITIVE_INPUT_TAGS_COUNT_FIELD_NUMBER: _ClassVar[int]
    POSITIVE_REGION_TAGS_COUNT_FIELD_NUMBER: _ClassVar[int]
    inputs_count: _wrappers_pb2.UInt64Value
    unlabeled_inputs_count: _wrappers_pb2.UInt64Value
    inputs_with_metadata_count: _wrappers_pb2.UInt64Value
    regions_count: _wrappers_pb2.UInt64Value
    bounding_boxes_count: _wrappers_pb2.UInt64Value
    polygons_count: _wrappers_pb2.UInt64Value
    points_count: _wrappers_pb2.UInt64Value
    masks_count: _wrappers_pb2.UInt64Value
    frames_count: _wrappers_pb2.UInt64Value
    embeddings_count: _wrappers_pb2.UInt64Value
    positive_input_tags_count: _wrappers_pb2.UInt64Value
    positive_region_tags_count: _wrappers_pb2.UInt64Value
    def __init__(self, inputs_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., unlabeled_inputs_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., inputs_with_metadata_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., regions_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., bounding_boxes_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., polygons_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., points_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., masks_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., frames_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., embeddings_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., positive_input_tags_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., positive_region_tags_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ...) -> None: ...
