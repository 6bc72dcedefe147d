import datetime

from . import status_pb2 as _status_pb2
from . import matrix_pb2 as _matrix_pb2
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

class DatasetVersionRequestOrigin(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DATASET_VERSION_REQUEST_ORIGIN_NOT_SET: _ClassVar[DatasetVersionRequestOrigin]
    MANUAL: _ClassVar[DatasetVersionRequestOrigin]
    TRAINING: _ClassVar[DatasetVersionRequestOrigin]
    EVAL_GROUND_TRUTH: _ClassVar[DatasetVersionRequestOrigin]
    EVAL_PREDICTIONS: _ClassVar[DatasetVersionRequestOrigin]

class DatasetVersionExportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DATASET_VERSION_EXPORT_FORMAT_NOT_SET: _ClassVar[DatasetVersionExportFormat]
    CLARIFAI_DATA_PROTOBUF: _ClassVar[DatasetVersionExportFormat]
    CLARIFAI_DATA_JSON: _ClassVar[DatasetVersionExportFormat]
    COCO: _ClassVar[DatasetVersionExportFormat]

class LicenseType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UNKNOWN_LICENSE_TYPE: _ClassVar[LicenseType]
    FIRST_PARTY: _ClassVar[LicenseType]
    OPEN_SOURCE: _ClassVar[LicenseType]
    CLOSED_SOURCE: _ClassVar[LicenseType]

class DeployRestriction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    USAGE_RESTRICTION_NOT_SET: _ClassVar[DeployRestriction]
    NO_LIMITS: _ClassVar[DeployRestriction]
    SHARED_COMPUTE_ONLY: _ClassVar[DeployRestriction]
    DEDICATED_COMPUTE_ONLY: _ClassVar[DeployRestriction]
    MODEL_OWNER_DEDICATED_COMPUTE_ONLY: _ClassVar[DeployRestriction]

class RunnerMethodType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UNKNOWN: _ClassVar[RunnerMethodType]
    UNARY_UNARY: _ClassVar[RunnerMethodType]
    UNARY_STREAMING: _ClassVar[RunnerMethodType]
    STREAMING_UNARY: _ClassVar[RunnerMethodType]
    STREAMING_STREAMING: _ClassVar[RunnerMethodType]
DATASET_VERSION_REQUEST_ORIGIN_NOT_SET: DatasetVersionRequestOrigin
MANUAL: DatasetVersionRequestOrigin
TRAINING: DatasetVersionRequestOrigin
EVAL_GROUND_TRUTH: DatasetVersionRequestOrigin
EVAL_PREDICTIONS: DatasetVersionRequestOrigin
DATASET_VERSION_EXPORT_FORMAT_NOT_SET: DatasetVersionExportFormat
CLARIFAI_DATA_PROTOBUF: DatasetVersionExportFormat
CLARIFAI_DATA_JSON: DatasetVersionExportFormat
COCO: DatasetVersionExportFormat
UNKNOWN_LICENSE_TYPE: LicenseType
FIRST_PARTY: LicenseType
OPEN_SOURCE: LicenseType
CLOSED_SOURCE: LicenseType
USAGE_RESTRICTION_NOT_SET: DeployRestriction
NO_LIMITS: DeployRestriction
SHARED_COMPUTE_ONLY: DeployRestriction
DEDICATED_COMPUTE_ONLY: DeployRestriction
MODEL_OWNER_DEDICATED_COMPUTE_ONLY: DeployRestriction
UNKNOWN: RunnerMethodType
UNARY_UNARY: RunnerMethodType
UNARY_STREAMING: RunnerMethodType
STREAMING_UNARY: RunnerMethodType
STREAMING_STREAMING: RunnerMethodType

class Annotation(_message.Message):
    __slots__ = ("id", "input_id", "data", "annotation_info", "user_id", "model_version_id", "embed_model_version_id", "status", "created_at", "modified_at", "trusted", "input_level", "consensus_info", "task_id", "worker")
    ID_FIELD_NUMBER: _ClassVar[int]
    INPUT_ID_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    ANNOTATION_INFO_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    EMBED_MODEL_VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    MODIFIED_AT_FIELD_NUMBER: _ClassVar[int]
    TRUSTED_FIELD_NUMBER: _ClassVar[int]
    INPUT_LEVEL_FIELD_NUMBER: _ClassVar[int]
    CONSENSUS_INFO_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    WORKER_FIELD_NUMBER: _ClassVar[int]
    id: str
    input_id: str
    data: Data
    annotation_info: _struct_pb2.Struct
    user_id: str
    model_version_id: str
    embed_model_version_id: str
    status: _status_pb2.Status
    created_at: _timestamp_pb2.Timestamp
    modified_at: _timestamp_pb2.Timestamp
    trusted: bool
    input_level: bool
    consensus_info: _struct_pb2.Struct
    task_id: str
    worker: Worker
    def __init__(self, id: _Optional[str] = ..., input_id: _Optional[str] = ..., data: _Optional[_Union[Data, _Mapping]] = ..., annotation_info: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., user_id: _Optional[str] = ..., model_version_id: _Optional[str] = ..., embed_model_version_id: _Optional[str] = ..., status: _Optional[_Union[_status_pb2.Status, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., modified_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., trusted: _Optional[bool] = ..., input_level: _Optional[bool] = ..., consensus_info: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., task_id: _Optional[str] = ..., worker: _Optional[_Union[Worker, _Mapping]] = ...) -> None: ...

class Worker(_message.Message):
    __slots__ = ("user", "model", "workflow")
    USER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    user: User
    model: Model
    workflow: Workflow
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ..., model: _Optional[_Union[Model, _Mapping]] = ..., workflow: _Optional[_Union[Workflow, _Mapping]] = ...) -> None: ...

class Audio(_message.Message):
    __slots__ = ("url", "base64", "allow_duplicate_url", "hosted", "audio_info")
    URL_FIELD_NUMBER: _ClassVar[int]
    BASE64_FIELD_NUMBER: _ClassVar[int]
    ALLOW_DUPLICATE_URL_FIELD_NUMBER: _ClassVar[int]
    HOSTED_FIELD_NUMBER: _ClassVar[int]
    AUDIO_INFO_FIELD_NUMBER: _ClassVar[int]
    url: str
    base64: bytes
    allow_duplicate_url: bool
    hosted: HostedURL
    audio_info: AudioInfo
    def __init__(self, url: _Optional[str] = ..., base64: _Optional[bytes] = ..., allow_duplicate_url: _Optional[bool] = ..., hosted: _Optional[_Union[HostedURL, _Mapping]] = ..., audio_info: _Optional[_Union[AudioInfo, _Mapping]] = ...) -> None: ...

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

class Track(_message.Message):
    __slots__ = ("id", "data", "time_info", "quality")
    ID_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    TIME_INFO_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    id: str
    data: Data
    time_info: TimeInfo
    quality: float
    def __init__(self, id: _Optional[str] = ..., data: _Optional[_Union[Data, _Mapping]] = ..., time_info: _Optional[_Union[TimeInfo, _Mapping]] = ..., quality: _Optional[float] = ...) -> None: ...

class Cluster(_message.Message):
    __slots__ = ("id", "count", "score", "hits", "projection")
    ID_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    HITS_FIELD_NUMBER: _ClassVar[int]
    PROJECTION_FIELD_NUMBER: _ClassVar[int]
    id: str
    count: int
    score: float
    hits: _containers.RepeatedCompositeFieldContainer[Hit]
    projection: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, id: _Optional[str] = ..., count: _Optional[int] = ..., score: _Optional[float] = ..., hits: _Optional[_Iterable[_Union[Hit, _Mapping]]] = ..., projection: _Optional[_Iterable[float]] = ...) -> None: ...

class Color(_message.Message):
    __slots__ = ("raw_hex", "w3c", "value")
    RAW_HEX_FIELD_NUMBER: _ClassVar[int]
    W3C_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    raw_hex: str
    w3c: W3C
    value: float
    def __init__(self, raw_hex: _Optional[str] = ..., w3c: _Optional[_Union[W3C, _Mapping]] = ..., value: _Optional[float] = ...) -> None: ...

class W3C(_message.Message):
    __slots__ = ("hex", "name")
    HEX_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    hex: str
    name: str
    def __init__(self, hex: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class Concept(_message.Message):
    __slots__ = ("id", "name", "value", "created_at", "language", "app_id", "definition", "vocab_id", "visibility", "user_id", "keypoint_info", "extra_info", "metadata", "image")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    DEFINITION_FIELD_NUMBER: _ClassVar[int]
    VOCAB_ID_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    KEYPOINT_INFO_FIELD_NUMBER: _ClassVar[int]
    EXTRA_INFO_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    value: float
    created_at: _timestamp_pb2.Timestamp
    language: str
    app_id: str
    definition: str
    vocab_id: str
    visibility: Visibility
    user_id: str
    keypoint_info: KeypointInfo
    extra_info: ConceptExtraInfo
    metadata: _struct_pb2.Struct
    image: Image
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., value: _Optional[float] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., language: _Optional[str] = ..., app_id: _Optional[str] = ..., definition: _Optional[str] = ..., vocab_id: _Optional[str] = ..., visibility: _Optional[_Union[Visibility, _Mapping]] = ..., user_id: _Optional[str] = ..., keypoint_info: _Optional[_Union[KeypointInfo, _Mapping]] = ..., extra_info: _Optional[_Union[ConceptExtraInfo, _Mapping]] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., image: _Optional[_Union[Image, _Mapping]] = ...) -> None: ...

class KeypointInfo(_message.Message):
    __slots__ = ("keypoint_names", "skeleton")
    KEYPOINT_NAMES_FIELD_NUMBER: _ClassVar[int]
    SKELETON_FIELD_NUMBER: _ClassVar[int]
    keypoint_names: _containers.RepeatedScalarFieldContainer[str]
    skeleton: _containers.RepeatedCompositeFieldContainer[KeypointEdge]
    def __init__(self, keypoint_names: _Optional[_Iterable[str]] = ..., skeleton: _Optional[_Iterable[_Union[KeypointEdge, _Mapping]]] = ...) -> None: ...

class KeypointEdge(_message.Message):
    __slots__ = ("k1", "k2")
    K1_FIELD_NUMBER: _ClassVar[int]
    K2_FIELD_NUMBER: _ClassVar[int]
    k1: int
    k2: int
    def __init__(self, k1: _Optional[int] = ..., k2: _Optional[int] = ...) -> None: ...

class ConceptExtraInfo(_message.Message):
    __slots__ = ("is_rankable",)
    IS_RANKABLE_FIELD_NUMBER: _ClassVar[int]
    is_rankable: bool
    def __init__(self, is_rankable: _Optional[bool] = ...) -> None: ...

class Data(_message.Message):
    __slots__ = ("image", "video", "concepts", "metadata", "geo", "colors", "clusters", "embeddings", "regions", "frames", "text", "audio", "tracks", "time_segments", "hits", "heatmaps", "parts", "ndarray", "int_value", "float_value", "bytes_value", "bool_value", "string_value", "struct_value")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    VIDEO_FIELD_NUMBER: _ClassVar[int]
    CONCEPTS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    GEO_FIELD_NUMBER: _ClassVar[int]
    COLORS_FIELD_NUMBER: _ClassVar[int]
    CLUSTERS_FIELD_NUMBER: _ClassVar[int]
    EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    TRACKS_FIELD_NUMBER: _ClassVar[int]
    TIME_SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    HITS_FIELD_NUMBER: _ClassVar[int]
    HEATMAPS_FIELD_NUMBER: _ClassVar[int]
    PARTS_FIELD_NUMBER: _ClassVar[int]
    NDARRAY_FIELD_NUMBER: _ClassVar[int]
    INT_VALUE_FIELD_NUMBER: _ClassVar[int]
    FLOAT_VALUE_FIELD_NUMBER: _ClassVar[int]
    BYTES_VALUE_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    STRUCT_VALUE_FIELD_NUMBER: _ClassVar[int]
    image: Image
    video: Video
    concepts: _containers.RepeatedCompositeFieldContainer[Concept]
    metadata: _struct_pb2.Struct
    geo: Geo
    colors: _containers.RepeatedCompositeFieldContainer[Color]
    clusters: _containers.RepeatedCompositeFieldContainer[Cluster]
    embeddings: _containers.RepeatedCompositeFieldContainer[Embedding]
    regions: _containers.RepeatedCompositeFieldContainer[Region]
    frames: _containers.RepeatedCompositeFieldContainer[Frame]
    text: Text
    audio: Audio
    tracks: _containers.RepeatedCompositeFieldContainer[Track]
    time_segments: _containers.RepeatedCompositeFieldContainer[TimeSegment]
    hits: _containers.RepeatedCompositeFieldContainer[Hit]
    heatmaps: _containers.RepeatedCompositeFieldContainer[Image]
    parts: _containers.RepeatedCompositeFieldContainer[Part]
    ndarray: NDArray
    int_value: int
    float_value: float
    bytes_value: bytes
    bool_value: bool
    string_value: str
    struct_value: _struct_pb2.Struct
    def __init__(self, image: _Optional[_Union[Image, _Mapping]] = ..., video: _Optional[_Union[Video, _Mapping]] = ..., concepts: _Optional[_Iterable[_Union[Concept, _Mapping]]] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., geo: _Optional[_Union[Geo, _Mapping]] = ..., colors: _Optional[_Iterable[_Union[Color, _Mapping]]] = ..., clusters: _Optional[_Iterable[_Union[Cluster, _Mapping]]] = ..., embeddings: _Optional[_Iterable[_Union[Embedding, _Mapping]]] = ..., regions: _Optional[_Iterable[_Union[Region, _Mapping]]] = ..., frames: _Optional[_Iterable[_Union[Frame, _Mapping]]] = ..., text: _Optional[_Union[Text, _Mapping]] = ..., audio: _Optional[_Union[Audio, _Mapping]] = ..., tracks: _Optional[_Iterable[_Union[Track, _Mapping]]] = ..., time_segments: _Optional[_Iterable[_Union[TimeSegment, _Mapping]]] = ..., hits: _Optional[_Iterable[_Union[Hit, _Mapping]]] = ..., heatmaps: _Optional[_Iterable[_Union[Image, _Mapping]]] = ..., parts: _Optional[_Iterable[_Union[Part, _Mapping]]] = ..., ndarray: _Optional[_Union[NDArray, _Mapping]] = ..., int_value: _Optional[int] = ..., float_value: _Optional[float] = ..., bytes_value: _Optional[bytes] = ..., bool_value: _Optional[bool] = ..., string_value: _Optional[str] = ..., struct_value: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class Part(_message.Message):
    __slots__ = ("data", "id")
    DATA_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    data: Data
    id: str
    def __init__(self, data: _Optional[_Union[Data, _Mapping]] = ..., id: _Optional[str] = ...) -> None: ...

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
    __slots__ = ("bounding_box", "mask", "polygon", "point", "span", "token", "keypoint_locations")
    BOUNDING_BOX_FIELD_NUMBER: _ClassVar[int]
    MASK_FIELD_NUMBER: _ClassVar[int]
    POLYGON_FIELD_NUMBER: _ClassVar[int]
    POINT_FIELD_NUMBER: _ClassVar[int]
    SPAN_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    KEYPOINT_LOCATIONS_FIELD_NUMBER: _ClassVar[int]
    bounding_box: BoundingBox
    mask: Mask
    polygon: Polygon
    point: Point
    span: Span
    token: Token
    keypoint_locations: _containers.RepeatedCompositeFieldContainer[Point]
    def __init__(self, bounding_box: _Optional[_Union[BoundingBox, _Mapping]] = ..., mask: _Optional[_Union[Mask, _Mapping]] = ..., polygon: _Optional[_Union[Polygon, _Mapping]] = ..., point: _Optional[_Union[Point, _Mapping]] = ..., span: _Optional[_Union[Span, _Mapping]] = ..., token: _Optional[_Union[Token, _Mapping]] = ..., keypoint_locations: _Optional[_Iterable[_Union[Point, _Mapping]]] = ...) -> None: ...

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

class FrameInfo(_message.Message):
    __slots__ = ("index", "time", "number")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    index: int
    time: int
    number: int
    def __init__(self, index: _Optional[int] = ..., time: _Optional[int] = ..., number: _Optional[int] = ...) -> None: ...

class Frame(_message.Message):
    __slots__ = ("frame_info", "data", "id")
    FRAME_INFO_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    frame_info: FrameInfo
    data: Data
    id: str
    def __init__(self, frame_info: _Optional[_Union[FrameInfo, _Mapping]] = ..., data: _Optional[_Union[Data, _Mapping]] = ..., id: _Optional[str] = ...) -> None: ...

class NDArray(_message.Message):
    __slots__ = ("buffer", "shape", "dtype")
    BUFFER_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    buffer: bytes
    shape: _containers.RepeatedScalarFieldContainer[int]
    dtype: str
    def __init__(self, buffer: _Optional[bytes] = ..., shape: _Optional[_Iterable[int]] = ..., dtype: _Optional[str] = ...) -> None: ...

class Mask(_message.Message):
    __slots__ = ("image",)
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    image: Image
    def __init__(self, image: _Optional[_Union[Image, _Mapping]] = ...) -> None: ...

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

class Span(_message.Message):
    __slots__ = ("char_start", "char_end", "raw_text")
    CHAR_START_FIELD_NUMBER: _ClassVar[int]
    CHAR_END_FIELD_NUMBER: _ClassVar[int]
    RAW_TEXT_FIELD_NUMBER: _ClassVar[int]
    char_start: int
    char_end: int
    raw_text: str
    def __init__(self, char_start: _Optional[int] = ..., char_end: _Optional[int] = ..., raw_text: _Optional[str] = ...) -> None: ...

class Token(_message.Message):
    __slots__ = ("char_start", "char_end", "raw_text")
    CHAR_START_FIELD_NUMBER: _ClassVar[int]
    CHAR_END_FIELD_NUMBER: _ClassVar[int]
    RAW_TEXT_FIELD_NUMBER: _ClassVar[int]
    char_start: int
    char_end: int
    raw_text: str
    def __init__(self, char_start: _Optional[int] = ..., char_end: _Optional[int] = ..., raw_text: _Optional[str] = ...) -> None: ...

class Embedding(_message.Message):
    __slots__ = ("vector", "num_dimensions")
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    NUM_DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    vector: _containers.RepeatedScalarFieldContainer[float]
    num_dimensions: int
    def __init__(self, vector: _Optional[_Iterable[float]] = ..., num_dimensions: _Optional[int] = ...) -> None: ...

class GeoPoint(_message.Message):
    __slots__ = ("longitude", "latitude")
    LONGITUDE_FIELD_NUMBER: _ClassVar[int]
    LATITUDE_FIELD_NUMBER: _ClassVar[int]
    longitude: float
    latitude: float
    def __init__(self, longitude: _Optional[float] = ..., latitude: _Optional[float] = ...) -> None: ...

class GeoLimit(_message.Message):
    __slots__ = ("type", "value")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    type: str
    value: float
    def __init__(self, type: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...

class GeoBoxedPoint(_message.Message):
    __slots__ = ("geo_point",)
    GEO_POINT_FIELD_NUMBER: _ClassVar[int]
    geo_point: GeoPoint
    def __init__(self, geo_point: _Optional[_Union[GeoPoint, _Mapping]] = ...) -> None: ...

class Geo(_message.Message):
    __slots__ = ("geo_point", "geo_limit", "geo_box")
    GEO_POINT_FIELD_NUMBER: _ClassVar[int]
    GEO_LIMIT_FIELD_NUMBER: _ClassVar[int]
    GEO_BOX_FIELD_NUMBER: _ClassVar[int]
    geo_point: GeoPoint
    geo_limit: GeoLimit
    geo_box: _containers.RepeatedCompositeFieldContainer[GeoBoxedPoint]
    def __init__(self, geo_point: _Optional[_Union[GeoPoint, _Mapping]] = ..., geo_limit: _Optional[_Union[GeoLimit, _Mapping]] = ..., geo_box: _Optional[_Iterable[_Union[GeoBoxedPoint, _Mapping]]] = ...) -> None: ...

class Image(_message.Message):
    __slots__ = ("url", "base64", "allow_duplicate_url", "hosted", "image_info", "hosted_image_info", "decoded_bytes")
    class HostedImageInfoEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: ImageInfo
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ImageInfo, _Mapping]] = ...) -> None: ...
    URL_FIELD_NUMBER: _ClassVar[int]
    BASE64_FIELD_NUMBER: _ClassVar[int]
    ALLOW_DUPLICATE_URL_FIELD_NUMBER: _ClassVar[int]
    HOSTED_FIELD_NUMBER: _ClassVar[int]
    IMAGE_INFO_FIELD_NUMBER: _ClassVar[int]
    HOSTED_IMAGE_INFO_FIELD_NUMBER: _ClassVar[int]
    DECODED_BYTES_FIELD_NUMBER: _ClassVar[int]
    url: str
    base64: bytes
    allow_duplicate_url: bool
    hosted: HostedURL
    image_info: ImageInfo
    hosted_image_info: _containers.MessageMap[str, ImageInfo]
    decoded_bytes: bytes
    def __init__(self, url: _Optional[str] = ..., base64: _Optional[bytes] = ..., allow_duplicate_url: _Optional[bool] = ..., hosted: _Optional[_Union[HostedURL, _Mapping]] = ..., image_info: _Optional[_Union[ImageInfo, _Mapping]] = ..., hosted_image_info: _Optional[_Mapping[str, ImageInfo]] = ..., decoded_bytes: _Optional[bytes] = ...) -> None: ...

class ImageInfo(_message.Message):
    __slots__ = ("width", "height", "format", "color_mode", "mode")
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    COLOR_MODE_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    width: int
    height: int
    format: str
    color_mode: str
    mode: str
    def __init__(self, width: _Optional[int] = ..., height: _Optional[int] = ..., format: _Optional[str] = ..., color_mode: _Optional[str] = ..., mode: _Optional[str] = ...) -> None: ...

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

class Input(_message.Message):
    __slots__ = ("id", "data", "created_at", "modified_at", "status", "dataset_ids", "settings")
    ID_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    MODIFIED_AT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DATASET_IDS_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    id: str
    data: Data
    created_at: _timestamp_pb2.Timestamp
    modified_at: _timestamp_pb2.Timestamp
    status: _status_pb2.Status
    dataset_ids: _containers.RepeatedScalarFieldContainer[str]
    settings: InputSettings
    def __init__(self, id: _Optional[str] = ..., data: _Optional[_Union[Data, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., modified_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[_Union[_status_pb2.Status, _Mapping]] = ..., dataset_ids: _Optional[_Iterable[str]] = ..., settings: _Optional[_Union[InputSettings, _Mapping]] = ...) -> None: ...

class InputSettings(_message.Message):
    __slots__ = ("worker", "sample_rate_ms", "sample_rate_frame", "pinned_concepts")
    WORKER_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_MS_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FRAME_FIELD_NUMBER: _ClassVar[int]
    PINNED_CONCEPTS_FIELD_NUMBER: _ClassVar[int]
    worker: Worker
    sample_rate_ms: int
    sample_rate_frame: int
    pinned_concepts: _containers.RepeatedCompositeFieldContainer[Concept]
    def __init__(self, worker: _Optional[_Union[Worker, _Mapping]] = ..., sample_rate_ms: _Optional[int] = ..., sample_rate_frame: _Optional[int] = ..., pinned_concepts: _Optional[_Iterable[_Union[Concept, _Mapping]]] = ...) -> None: ...

class InputBatch(_message.Message):
    __slots__ = ("inputs",)
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    inputs: _containers.RepeatedCompositeFieldContainer[Input]
    def __init__(self, inputs: _Optional[_Iterable[_Union[Input, _Mapping]]] = ...) -> None: ...

class Dataset(_message.Message):
    __slots__ = ("id", "created_at", "modified_at", "app_id", "user_id", "description", "metadata", "visibility", "default_annotation_filter", "default_processing_info", "notes", "version", "is_starred", "star_count", "bookmark_origin", "image")
    ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    MODIFIED_AT_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_ANNOTATION_FILTER_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_PROCESSING_INFO_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    IS_STARRED_FIELD_NUMBER: _ClassVar[int]
    STAR_COUNT_FIELD_NUMBER: _ClassVar[int]
    BOOKMARK_ORIGIN_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    id: str
    created_at: _timestamp_pb2.Timestamp
    modified_at: _timestamp_pb2.Timestamp
    app_id: str
    user_id: str
    description: str
    metadata: _struct_pb2.Struct
    visibility: Visibility
    default_annotation_filter: AnnotationFilter
    default_processing_info: DatasetVersionProcessingInfo
    notes: str
    version: DatasetVersion
    is_starred: bool
    star_count: int
    bookmark_origin: BookmarkOrigin
    image: Image
    def __init__(self, id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., modified_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., app_id: _Optional[str] = ..., user_id: _Optional[str] = ..., description: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., visibility: _Optional[_Union[Visibility, _Mapping]] = ..., default_annotation_filter: _Optional[_Union[AnnotationFilter, _Mapping]] = ..., default_processing_info: _Optional[_Union[DatasetVersionProcessingInfo, _Mapping]] = ..., notes: _Optional[str] = ..., version: _Optional[_Union[DatasetVersion, _Mapping]] = ..., is_starred: _Optional[bool] = ..., star_count: _Optional[int] = ..., bookmark_origin: _Optional[_Union[BookmarkOrigin, _Mapping]] = ..., image: _Optional[_Union[Image, _Mapping]] = ...) -> None: ...

class AnnotationFilter(_message.Message):
    __slots__ = ("id", "created_at", "modified_at", "user_id", "app_id", "search")
    ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    MODIFIED_AT_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    SEARCH_FIELD_NUMBER: _ClassVar[int]
    id: str
    created_at: _timestamp_pb2.Timestamp
    modified_at: _timestamp_pb2.Timestamp
    user_id: str
    app_id: str
    search: Search
    def __init__(self, id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., modified_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., user_id: _Optional[str] = ..., app_id: _Optional[str] = ..., search: _Optional[_Union[Search, _Mapping]] = ...) -> None: ...

class DatasetVersion(_message.Message):
    __slots__ = ("id", "created_at", "modified_at", "app_id", "user_id", "dataset_id", "annotation_filter_config", "model_predict_config", "status", "description", "processing_info", "metrics", "export_info", "metadata", "visibility", "embed_model_version_ids", "request_origin")
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
    ANNOTATION_FILTER_CONFIG_FIELD_NUMBER: _ClassVar[int]
    MODEL_PREDICT_CONFIG_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_INFO_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    EXPORT_INFO_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    EMBED_MODEL_VERSION_IDS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ORIGIN_FIELD_NUMBER: _ClassVar[int]
    id: str
    created_at: _timestamp_pb2.Timestamp
    modified_at: _timestamp_pb2.Timestamp
    app_id: str
    user_id: str
    dataset_id: str
    annotation_filter_config: AnnotationFilterConfig
    model_predict_config: ModelPredictConfig
    status: _status_pb2.Status
    description: str
    processing_info: DatasetVersionProcessingInfo
    metrics: _containers.MessageMap[str, DatasetVersionMetrics]
    export_info: DatasetVersionExportInfo
    metadata: _struct_pb2.Struct
    visibility: Visibility
    embed_model_version_ids: _containers.RepeatedScalarFieldContainer[str]
    request_origin: DatasetVersionRequestOrigin
    def __init__(self, id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., modified_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., app_id: _Optional[str] = ..., user_id: _Optional[str] = ..., dataset_id: _Optional[str] = ..., annotation_filter_config: _Optional[_Union[AnnotationFilterConfig, _Mapping]] = ..., model_predict_config: _Optional[_Union[ModelPredictConfig, _Mapping]] = ..., status: _Optional[_Union[_status_pb2.Status, _Mapping]] = ..., description: _Optional[str] = ..., processing_info: _Optional[_Union[DatasetVersionProcessingInfo, _Mapping]] = ..., metrics: _Optional[_Mapping[str, DatasetVersionMetrics]] = ..., export_info: _Optional[_Union[DatasetVersionExportInfo, _Mapping]] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., visibility: _Optional[_Union[Visibility, _Mapping]] = ..., embed_model_version_ids: _Optional[_Iterable[str]] = ..., request_origin: _Optional[_Union[DatasetVersionRequestOrigin, str]] = ...) -> None: ...

class AnnotationFilterConfig(_message.Message):
    __slots__ = ("annotation_filter", "ignore_empty_inputs")
    ANNOTATION_FILTER_FIELD_NUMBER: _ClassVar[int]
    IGNORE_EMPTY_INPUTS_FIELD_NUMBER: _ClassVar[int]
    annotation_filter: AnnotationFilter
    ignore_empty_inputs: bool
    def __init__(self, annotation_filter: _Optional[_Union[AnnotationFilter, _Mapping]] = ..., ignore_empty_inputs: _Optional[bool] = ...) -> None: ...

class ModelPredictConfig(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: Model
    def __init__(self, model: _Optional[_Union[Model, _Mapping]] = ...) -> None: ...

class DatasetVersionMetrics(_message.Message):
    __slots__ = ("inputs_count", "unlabeled_inputs_count", "inputs_with_metadata_count", "inputs_with_geo_count", "regions_count", "region_location_matrix", "bounding_boxes_count", "polygons_count", "points_count", "masks_count", "region_inputs_count", "region_frames_count", "frames_count", "frame_inputs_count", "embeddings_count", "positive_input_tags_count", "positive_region_tags_count", "positive_frame_tags_count")
    INPUTS_COUNT_FIELD_NUMBER: _ClassVar[int]
    UNLABELED_INPUTS_COUNT_FIELD_NUMBER: _ClassVar[int]
    INPUTS_WITH_METADATA_COUNT_FIELD_NUMBER: _ClassVar[int]
    INPUTS_WITH_GEO_COUNT_FIELD_NUMBER: _ClassVar[int]
    REGIONS_COUNT_FIELD_NUMBER: _ClassVar[int]
    REGION_LOCATION_MATRIX_FIELD_NUMBER: _ClassVar[int]
    BOUNDING_BOXES_COUNT_FIELD_NUMBER: _ClassVar[int]
    POLYGONS_COUNT_FIELD_NUMBER: _ClassVar[int]
    POINTS_COUNT_FIELD_NUMBER: _ClassVar[int]
    MASKS_COUNT_FIELD_NUMBER: _ClassVar[int]
    REGION_INPUTS_COUNT_FIELD_NUMBER: _ClassVar[int]
    REGION_FRAMES_COUNT_FIELD_NUMBER: _ClassVar[int]
    FRAMES_COUNT_FIELD_NUMBER: _ClassVar[int]
    FRAME_INPUTS_COUNT_FIELD_NUMBER: _ClassVar[int]
    EMBEDDINGS_COUNT_FIELD_NUMBER: _ClassVar[int]
    POSITIVE_INPUT_TAGS_COUNT_FIELD_NUMBER: _ClassVar[int]
    POSITIVE_REGION_TAGS_COUNT_FIELD_NUMBER: _ClassVar[int]
    POSITIVE_FRAME_TAGS_COUNT_FIELD_NUMBER: _ClassVar[int]
    inputs_count: _wrappers_pb2.UInt64Value
    unlabeled_inputs_count: _wrappers_pb2.UInt64Value
    inputs_with_metadata_count: _wrappers_pb2.UInt64Value
    inputs_with_geo_count: _wrappers_pb2.UInt64Value
    regions_count: _wrappers_pb2.UInt64Value
    region_location_matrix: _matrix_pb2.MatrixUint64
    bounding_boxes_count: _wrappers_pb2.UInt64Value
    polygons_count: _wrappers_pb2.UInt64Value
    points_count: _wrappers_pb2.UInt64Value
    masks_count: _wrappers_pb2.UInt64Value
    region_inputs_count: _wrappers_pb2.UInt64Value
    region_frames_count: _wrappers_pb2.UInt64Value
    frames_count: _wrappers_pb2.UInt64Value
    frame_inputs_count: _wrappers_pb2.UInt64Value
    embeddings_count: _wrappers_pb2.UInt64Value
    positive_input_tags_count: _wrappers_pb2.UInt64Value
    positive_region_tags_count: _wrappers_pb2.UInt64Value
    positive_frame_tags_count: _wrappers_pb2.UInt64Value
    def __init__(self, inputs_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., unlabeled_inputs_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., inputs_with_metadata_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., inputs_with_geo_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., regions_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., region_location_matrix: _Optional[_Union[_matrix_pb2.MatrixUint64, _Mapping]] = ..., bounding_boxes_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., polygons_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., points_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., masks_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., region_inputs_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., region_frames_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., frames_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., frame_inputs_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., embeddings_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., positive_input_tags_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., positive_region_tags_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., positive_frame_tags_count: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ...) -> None: ...

class DatasetVersionExportInfo(_message.Message):
    __slots__ = ("clarifai_data_protobuf", "clarifai_data_json", "coco")
    CLARIFAI_DATA_PROTOBUF_FIELD_NUMBER: _ClassVar[int]
    CLARIFAI_DATA_JSON_FIELD_NUMBER: _ClassVar[int]
    COCO_FIELD_NUMBER: _ClassVar[int]
    clarifai_data_protobuf: DatasetVersionExport
    clarifai_data_json: DatasetVersionExport
    coco: DatasetVersionExport
    def __init__(self, clarifai_data_protobuf: _Optional[_Union[DatasetVersionExport, _Mapping]] = ..., clarifai_data_json: _Optional[_Union[DatasetVersionExport, _Mapping]] = ..., coco: _Optional[_Union[DatasetVersionExport, _Mapping]] = ...) -> None: ...

class DatasetVersionExport(_message.Message):
    __slots__ = ("format", "status", "url", "size", "include_embeddings")
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    format: DatasetVersionExportFormat
    status: _status_pb2.Status
    url: str
    size: int
    include_embeddings: bool
    def __init__(self, format: _Optional[_Union[DatasetVersionExportFormat, str]] = ..., status: _Optional[_Union[_status_pb2.Status, _Mapping]] = ..., url: _Optional[str] = ..., size: _Optional[int] = ..., include_embeddings: _Optional[bool] = ...) -> None: ...

class DatasetVersionProcessingInfo(_message.Message):
    __slots__ = ("frame_interpolation_info",)
    FRAME_INTERPOLATION_INFO_FIELD_NUMBER: _ClassVar[int]
    frame_interpolation_info: FrameInterpolationInfo
    def __init__(self, frame_interpolation_info: _Optional[_Union[FrameInterpolationInfo, _Mapping]] = ...) -> None: ...

class FrameInterpolationInfo(_message.Message):
    __slots__ = ("sample_ms",)
    SAMPLE_MS_FIELD_NUMBER: _ClassVar[int]
    sample_ms: int
    def __init__(self, sample_ms: _Optional[int] = ...) -> None: ...

class Model(_message.Message):
    __slots__ = ("id", "name", "created_at", "modified_at", "app_id", "output_info", "model_version", "display_name", "user_id", "default_eval_info", "model_type_id", "task", "visibility", "description", "metadata", "presets", "notes", "toolkits", "use_cases", "languages", "languages_full", "check_consents", "is_starred", "star_count", "workflow_recommended", "bookmark_origin", "image", "license_type", "source", "creator", "version_count", "billing_type", "featured_order", "deploy_restriction", "replica_count", "open_router_info")
    class Source(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        UNKNOWN_SOURCE: _ClassVar[Model.Source]
        HOSTED: _ClassVar[Model.Source]
        WRAPPED: _ClassVar[Model.Source]
    UNKNOWN_SOURCE: Model.Source
    HOSTED: Model.Source
    WRAPPED: Model.Source
    class BillingType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        Unknown: _ClassVar[Model.BillingType]
        Tokens: _ClassVar[Model.BillingType]
        Ops: _ClassVar[Model.BillingType]
    Unknown: Model.BillingType
    Tokens: Model.BillingType
    Ops: Model.BillingType
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    MODIFIED_AT_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_INFO_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_EVAL_INFO_FIELD_NUMBER: _ClassVar[int]
    MODEL_TYPE_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    PRESETS_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    TOOLKITS_FIELD_NUMBER: _ClassVar[int]
    USE_CASES_FIELD_NUMBER: _ClassVar[int]
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    LANGUAGES_FULL_FIELD_NUMBER: _ClassVar[int]
    CHECK_CONSENTS_FIELD_NUMBER: _ClassVar[int]
    IS_STARRED_FIELD_NUMBER: _ClassVar[int]
    STAR_COUNT_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_RECOMMENDED_FIELD_NUMBER: _ClassVar[int]
    BOOKMARK_ORIGIN_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    LICENSE_TYPE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    CREATOR_FIELD_NUMBER: _ClassVar[int]
    VERSION_COUNT_FIELD_NUMBER: _ClassVar[int]
    BILLING_TYPE_FIELD_NUMBER: _ClassVar[int]
    FEATURED_ORDER_FIELD_NUMBER: _ClassVar[int]
    DEPLOY_RESTRICTION_FIELD_NUMBER: _ClassVar[int]
    REPLICA_COUNT_FIELD_NUMBER: _ClassVar[int]
    OPEN_ROUTER_INFO_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    created_at: _timestamp_pb2.Timestamp
    modified_at: _timestamp_pb2.Timestamp
    app_id: str
    output_info: OutputInfo
    model_version: ModelVersion
    display_name: str
    user_id: str
    default_eval_info: EvalInfo
    model_type_id: str
    task: str
    visibility: Visibility
    description: str
    metadata: _struct_pb2.Struct
    presets: _struct_pb2.Struct
    notes: str
    toolkits: _containers.RepeatedScalarFieldContainer[str]
    use_cases: _containers.RepeatedScalarFieldContainer[str]
    languages: _containers.RepeatedScalarFieldContainer[str]
    languages_full: _containers.RepeatedCompositeFieldContainer[FullTag]
    check_consents: _containers.RepeatedScalarFieldContainer[str]
    is_starred: bool
    star_count: int
    workflow_recommended: _wrappers_pb2.BoolValue
    bookmark_origin: BookmarkOrigin
    image: Image
    license_type: LicenseType
    source: Model.Source
    creator: str
    version_count: int
    billing_type: Model.BillingType
    featured_order: _wrappers_pb2.Int32Value
    deploy_restriction: DeployRestriction
    replica_count: int
    open_router_info: OpenRouterInfo
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., modified_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., app_id: _Optional[str] = ..., output_info: _Optional[_Union[OutputInfo, _Mapping]] = ..., model_version: _Optional[_Union[ModelVersion, _Mapping]] = ..., display_name: _Optional[str] = ..., user_id: _Optional[str] = ..., default_eval_info: _Optional[_Union[EvalInfo, _Mapping]] = ..., model_type_id: _Optional[str] = ..., task: _Optional[str] = ..., visibility: _Optional[_Union[Visibility, _Mapping]] = ..., description: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., presets: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., notes: _Optional[str] = ..., toolkits: _Optional[_Iterable[str]] = ..., use_cases: _Optional[_Iterable[str]] = ..., languages: _Optional[_Iterable[str]] = ..., languages_full: _Optional[_Iterable[_Union[FullTag, _Mapping]]] = ..., check_consents: _Optional[_Iterable[str]] = ..., is_starred: _Optional[bool] = ..., star_count: _Optional[int] = ..., workflow_recommended: _Optional[_Union[_wrappers_pb2.BoolValue, _Mapping]] = ..., bookmark_origin: _Optional[_Union[BookmarkOrigin, _Mapping]] = ..., image: _Optional[_Union[Image, _Mapping]] = ..., license_type: _Optional[_Union[LicenseType, str]] = ..., source: _Optional[_Union[Model.Source, str]] = ..., creator: _Optional[str] = ..., version_count: _Optional[int] = ..., billing_type: _Optional[_Union[Model.BillingType, str]] = ..., featured_order: _Optional[_Union[_wrappers_pb2.Int32Value, _Mapping]] = ..., deploy_restriction: _Optional[_Union[DeployRestriction, str]] = ..., replica_count: _Optional[int] = ..., open_router_info: _Optional[_Union[OpenRouterInfo, _Mapping]] = ...) -> None: ...

class SpecialHandling(_message.Message):
    __slots__ = ("id", "reason", "done")
    class Reason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        REASON_NOT_SET: _ClassVar[SpecialHandling.Reason]
        CONTACT_SALES: _ClassVar[SpecialHandling.Reason]
        INTERNAL_ONLY: _ClassVar[SpecialHandling.Reason]
    REASON_NOT_SET: SpecialHandling.Reason
    CONTACT_SALES: SpecialHandling.Reason
    INTERNAL_ONLY: SpecialHandling.Reason
    ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    id: str
    reason: SpecialHandling.Reason
    done: bool
    def __init__(self, id: _Optional[str] = ..., reason: _Optional[_Union[SpecialHandling.Reason, str]] = ..., done: _Optional[bool] = ...) -> None: ...

class OpenRouterInfo(_message.Message):
    __slots__ = ("params",)
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    params: _struct_pb2.Struct
    def __init__(self, params: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class OutputInfo(_message.Message):
    __slots__ = ("data", "output_config", "message", "fields_map", "params", "params_specs")
    DATA_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_CONFIG_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FIELDS_MAP_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    PARAMS_SPECS_FIELD_NUMBER: _ClassVar[int]
    data: Data
    output_config: OutputConfig
    message: str
    fields_map: _struct_pb2.Struct
    params: _struct_pb2.Struct
    params_specs: _containers.RepeatedCompositeFieldContainer[ModelTypeField]
    def __init__(self, data: _Optional[_Union[Data, _Mapping]] = ..., output_config: _Optional[_Union[OutputConfig, _Mapping]] = ..., message: _Optional[str] = ..., fields_map: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., params: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., params_specs: _Optional[_Iterable[_Union[ModelTypeField, _Mapping]]] = ...) -> None: ...

class InputInfo(_message.Message):
    __slots__ = ("fields_map", "params", "base_embed_model")
    FIELDS_MAP_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    BASE_EMBED_MODEL_FIELD_NUMBER: _ClassVar[int]
    fields_map: _struct_pb2.Struct
    params: _struct_pb2.Struct
    base_embed_model: Model
    def __init__(self, fields_map: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., params: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., base_embed_model: _Optional[_Union[Model, _Mapping]] = ...) -> None: ...

class TrainInfo(_message.Message):
    __slots__ = ("params", "dataset", "resume_from_model")
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    RESUME_FROM_MODEL_FIELD_NUMBER: _ClassVar[int]
    params: _struct_pb2.Struct
    dataset: Dataset
    resume_from_model: Model
    def __init__(self, params: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., dataset: _Optional[_Union[Dataset, _Mapping]] = ..., resume_from_model: _Optional[_Union[Model, _Mapping]] = ...) -> None: ...

class EvalInfo(_message.Message):
    __slots__ = ("params",)
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    params: _struct_pb2.Struct
    def __init__(self, params: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class ImportInfo(_message.Message):
    __slots__ = ("params",)
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    params: _struct_pb2.Struct
    def __init__(self, params: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class OutputConfig(_message.Message):
    __slots__ = ("concepts_mutually_exclusive", "existing_model_id", "language", "hyper_parameters", "max_concepts", "min_value", "select_concepts", "training_timeout", "sample_ms", "hyper_params", "embed_model_version_id", "fail_on_missing_positive_examples", "model_metadata")
    CONCEPTS_MUTUALLY_EXCLUSIVE_FIELD_NUMBER: _ClassVar[int]
    EXISTING_MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    HYPER_PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCEPTS_FIELD_NUMBER: _ClassVar[int]
    MIN_VALUE_FIELD_NUMBER: _ClassVar[int]
    SELECT_CONCEPTS_FIELD_NUMBER: _ClassVar[int]
    TRAINING_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_MS_FIELD_NUMBER: _ClassVar[int]
    HYPER_PARAMS_FIELD_NUMBER: _ClassVar[int]
    EMBED_MODEL_VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    FAIL_ON_MISSING_POSITIVE_EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    MODEL_METADATA_FIELD_NUMBER: _ClassVar[int]
    concepts_mutually_exclusive: bool
    existing_model_id: str
    language: str
    hyper_parameters: str
    max_concepts: int
    min_value: float
    select_concepts: _containers.RepeatedCompositeFieldContainer[Concept]
    training_timeout: int
    sample_ms: int
    hyper_params: _struct_pb2.Struct
    embed_model_version_id: str
    fail_on_missing_positive_examples: bool
    model_metadata: _struct_pb2.Struct
    def __init__(self, concepts_mutually_exclusive: _Optional[bool] = ..., existing_model_id: _Optional[str] = ..., language: _Optional[str] = ..., hyper_parameters: _Optional[str] = ..., max_concepts: _Optional[int] = ..., min_value: _Optional[float] = ..., select_concepts: _Optional[_Iterable[_Union[Concept, _Mapping]]] = ..., training_timeout: _Optional[int] = ..., sample_ms: _Optional[int] = ..., hyper_params: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., embed_model_version_id: _Optional[str] = ..., fail_on_missing_positive_examples: _Optional[bool] = ..., model_metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class ModelTypeField(_message.Message):
    __slots__ = ("path", "field_type", "default_value", "description", "placeholder", "model_type_enum_options", "internal_only", "required", "model_type_range_info", "name", "type", "type_args", "iterator", "default", "is_param")
    class ModelTypeFieldType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        INVALID_MODEL_TYPE_FIELD_TYPE: _ClassVar[ModelTypeField.ModelTypeFieldType]
        BOOLEAN: _ClassVar[ModelTypeField.ModelTypeFieldType]
        STRING: _ClassVar[ModelTypeField.ModelTypeFieldType]
        NUMBER: _ClassVar[ModelTypeField.ModelTypeFieldType]
        ARRAY_OF_CONCEPTS: _ClassVar[ModelTypeField.ModelTypeFieldType]
        ARRAY_OF_CONCEPTS_WITH_THRESHOLD: _ClassVar[ModelTypeField.ModelTypeFieldType]
        RANGE: _ClassVar[ModelTypeField.ModelTypeFieldType]
        ENUM: _ClassVar[ModelTypeField.ModelTypeFieldType]
        COLLABORATORS: _ClassVar[ModelTypeField.ModelTypeFieldType]
        JSON: _ClassVar[ModelTypeField.ModelTypeFieldType]
        ARRAY_OF_NUMBERS: _ClassVar[ModelTypeField.ModelTypeFieldType]
        WORKFLOW_EMBED_MODELS: _ClassVar[ModelTypeField.ModelTypeFieldType]
        ARRAY_OF_STRINGS: _ClassVar[ModelTypeField.ModelTypeFieldType]
        RECURSIVE_ENUM: _ClassVar[ModelTypeField.ModelTypeFieldType]
        PYTHON_CODE: _ClassVar[ModelTypeField.ModelTypeFieldType]
        DATASET_ID: _ClassVar[ModelTypeField.ModelTypeFieldType]
        DATASET_VERSION_ID: _ClassVar[ModelTypeField.ModelTypeFieldType]
        ARRAY_OF_MODEL_CONCEPTS: _ClassVar[ModelTypeField.ModelTypeFieldType]
        DATASET: _ClassVar[ModelTypeField.ModelTypeFieldType]
        DATASET_VERSION: _ClassVar[ModelTypeField.ModelTypeFieldType]
        ENCRYPTED_STRING: _ClassVar[ModelTypeField.ModelTypeFieldType]
        CHECKPOINT_MODEL: _ClassVar[ModelTypeField.ModelTypeFieldType]
        ARRAY_OF_SECRETS: _ClassVar[ModelTypeField.ModelTypeFieldType]
    INVALID_MODEL_TYPE_FIELD_TYPE: ModelTypeField.ModelTypeFieldType
    BOOLEAN: ModelTypeField.ModelTypeFieldType
    STRING: ModelTypeField.ModelTypeFieldType
    NUMBER: ModelTypeField.ModelTypeFieldType
    ARRAY_OF_CONCEPTS: ModelTypeField.ModelTypeFieldType
    ARRAY_OF_CONCEPTS_WITH_THRESHOLD: ModelTypeField.ModelTypeFieldType
    RANGE: ModelTypeField.ModelTypeFieldType
    ENUM: ModelTypeField.ModelTypeFieldType
    COLLABORATORS: ModelTypeField.ModelTypeFieldType
    JSON: ModelTypeField.ModelTypeFieldType
    ARRAY_OF_NUMBERS: ModelTypeField.ModelTypeFieldType
    WORKFLOW_EMBED_MODELS: ModelTypeField.ModelTypeFieldType
    ARRAY_OF_STRINGS: ModelTypeField.ModelTypeFieldType
    RECURSIVE_ENUM: ModelTypeField.ModelTypeFieldType
    PYTHON_CODE: ModelTypeField.ModelTypeFieldType
    DATASET_ID: ModelTypeField.ModelTypeFieldType
    DATASET_VERSION_ID: ModelTypeField.ModelTypeFieldType
    ARRAY_OF_MODEL_CONCEPTS: ModelTypeField.ModelTypeFieldType
    DATASET: ModelTypeField.ModelTypeFieldType
    DATASET_VERSION: ModelTypeField.ModelTypeFieldType
    ENCRYPTED_STRING: ModelTypeField.ModelTypeFieldType
    CHECKPOINT_MODEL: ModelTypeField.ModelTypeFieldType
    ARRAY_OF_SECRETS: ModelTypeField.ModelTypeFieldType
    class DataType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        NOT_SET: _ClassVar[ModelTypeField.DataType]
        STR: _ClassVar[ModelTypeField.DataType]
        BYTES: _ClassVar[ModelTypeField.DataType]
        INT: _ClassVar[ModelTypeField.DataType]
        FLOAT: _ClassVar[ModelTypeField.DataType]
        BOOL: _ClassVar[ModelTypeField.DataType]
        NDARRAY: _ClassVar[ModelTypeField.DataType]
        JSON_DATA: _ClassVar[ModelTypeField.DataType]
        TEXT: _ClassVar[ModelTypeField.DataType]
        IMAGE: _ClassVar[ModelTypeField.DataType]
        CONCEPT: _ClassVar[ModelTypeField.DataType]
        REGION: _ClassVar[ModelTypeField.DataType]
        FRAME: _ClassVar[ModelTypeField.DataType]
        AUDIO: _ClassVar[ModelTypeField.DataType]
        VIDEO: _ClassVar[ModelTypeField.DataType]
        NAMED_FIELDS: _ClassVar[ModelTypeField.DataType]
        TUPLE: _ClassVar[ModelTypeField.DataType]
        LIST: _ClassVar[ModelTypeField.DataType]
    NOT_SET: ModelTypeField.DataType
    STR: ModelTypeField.DataType
    BYTES: ModelTypeField.DataType
    INT: ModelTypeField.DataType
    FLOAT: ModelTypeField.DataType
    BOOL: ModelTypeField.DataType
    NDARRAY: ModelTypeField.DataType
    JSON_DATA: ModelTypeField.DataType
    TEXT: ModelTypeField.DataType
    IMAGE: ModelTypeField.DataType
    CONCEPT: ModelTypeField.DataType
    REGION: ModelTypeField.DataType
    FRAME: ModelTypeField.DataType
    AUDIO: ModelTypeField.DataType
    VIDEO: ModelTypeField.DataType
    NAMED_FIELDS: ModelTypeField.DataType
    TUPLE: ModelTypeField.DataType
    LIST: ModelTypeField.DataType
    PATH_FIELD_NUMBER: _ClassVar[int]
    FIELD_TYPE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VALUE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PLACEHOLDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_TYPE_ENUM_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    INTERNAL_ONLY_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    MODEL_TYPE_RANGE_INFO_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    TYPE_ARGS_FIELD_NUMBER: _ClassVar[int]
    ITERATOR_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_FIELD_NUMBER: _ClassVar[int]
    IS_PARAM_FIELD_NUMBER: _ClassVar[int]
    path: str
    field_type: ModelTypeField.ModelTypeFieldType
    default_value: _struct_pb2.Value
    description: str
    placeholder: str
    model_type_enum_options: _containers.RepeatedCompositeFieldContainer[ModelTypeEnumOption]
    internal_only: bool
    required: bool
    model_type_range_info: ModelTypeRangeInfo
    name: str
    type: ModelTypeField.DataType
    type_args: _containers.RepeatedCompositeFieldContainer[ModelTypeField]
    iterator: bool
    default: str
    is_param: bool
    def __init__(self, path: _Optional[str] = ..., field_type: _Optional[_Union[ModelTypeField.ModelTypeFieldType, str]] = ..., default_value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., description: _Optional[str] = ..., placeholder: _Optional[str] = ..., model_type_enum_options: _Optional[_Iterable[_Union[ModelTypeEnumOption, _Mapping]]] = ..., internal_only: _Optional[bool] = ..., required: _Optional[bool] = ..., model_type_range_info: _Optional[_Union[ModelTypeRangeInfo, _Mapping]] = ..., name: _Optional[str] = ..., type: _Optional[_Union[ModelTypeField.DataType, str]] = ..., type_args: _Optional[_Iterable[_Union[ModelTypeField, _Mapping]]] = ..., iterator: _Optional[bool] = ..., default: _Optional[str] = ..., is_param: _Optional[bool] = ...) -> None: ...

class ModelTypeRangeInfo(_message.Message):
    __slots__ = ("min", "max", "step")
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    min: float
    max: float
    step: float
    def __init__(self, min: _Optional[float] = ..., max: _Optional[float] = ..., step: _Optional[float] = ...) -> None: ...

class ModelTypeEnumOption(_message.Message):
    __slots__ = ("id", "aliases", "description", "model_type_fields", "internal_only", "recommended")
    ID_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    MODEL_TYPE_FIELDS_FIELD_NUMBER: _ClassVar[int]
    INTERNAL_ONLY_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDED_FIELD_NUMBER: _ClassVar[int]
    id: str
    aliases: _containers.RepeatedCompositeFieldContainer[ModelTypeEnumOptionAlias]
    description: str
    model_type_fields: _containers.RepeatedCompositeFieldContainer[ModelTypeField]
    internal_only: bool
    recommended: bool
    def __init__(self, id: _Optional[str] = ..., aliases: _Optional[_Iterable[_Union[ModelTypeEnumOptionAlias, _Mapping]]] = ..., description: _Optional[str] = ..., model_type_fields: _Optional[_Iterable[_Union[ModelTypeField, _Mapping]]] = ..., internal_only: _Optional[bool] = ..., recommended: _Optional[bool] = ...) -> None: ...

class ModelTypeEnumOptionAlias(_message.Message):
    __slots__ = ("id_int", "wildcard_string")
    ID_INT_FIELD_NUMBER: _ClassVar[int]
    WILDCARD_STRING_FIELD_NUMBER: _ClassVar[int]
    id_int: int
    wildcard_string: str
    def __init__(self, id_int: _Optional[int] = ..., wildcard_string: _Optional[str] = ...) -> None: ...

class ModelVersion(_message.Message):
    __slots__ = ("id", "created_at", "status", "active_concept_count", "metrics", "total_input_count", "pretrained_model_config", "completed_at", "description", "visibility", "app_id", "user_id", "modified_at", "metadata", "license", "output_info", "input_info", "train_info", "import_info", "train_log", "inference_compute_info", "build_info", "method_signatures", "special_handling", "num_threads")
    ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_CONCEPT_COUNT_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_INPUT_COUNT_FIELD_NUMBER: _ClassVar[int]
    PRETRAINED_MODEL_CONFIG_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    MODIFIED_AT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    LICENSE_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_INFO_FIELD_NUMBER: _ClassVar[int]
    INPUT_INFO_FIELD_NUMBER: _ClassVar[int]
    TRAIN_INFO_FIELD_NUMBER: _ClassVar[int]
    IMPORT_INFO_FIELD_NUMBER: _ClassVar[int]
    TRAIN_LOG_FIELD_NUMBER: _ClassVar[int]
    INFERENCE_COMPUTE_INFO_FIELD_NUMBER: _ClassVar[int]
    BUILD_INFO_FIELD_NUMBER: _ClassVar[int]
    METHOD_SIGNATURES_FIELD_NUMBER: _ClassVar[int]
    SPECIAL_HANDLING_FIELD_NUMBER: _ClassVar[int]
    NUM_THREADS_FIELD_NUMBER: _ClassVar[int]
    id: str
    created_at: _timestamp_pb2.Timestamp
    status: _status_pb2.Status
    active_concept_count: int
    metrics: EvalMetrics
    total_input_count: int
    pretrained_model_config: PretrainedModelConfig
    completed_at: _timestamp_pb2.Timestamp
    description: str
    visibility: Visibility
    app_id: str
    user_id: str
    modified_at: _timestamp_pb2.Timestamp
    metadata: _struct_pb2.Struct
    license: str
    output_info: OutputInfo
    input_info: InputInfo
    train_info: TrainInfo
    import_info: ImportInfo
    train_log: str
    inference_compute_info: ComputeInfo
    build_info: BuildInfo
    method_signatures: _containers.RepeatedCompositeFieldContainer[MethodSignature]
    special_handling: _containers.RepeatedCompositeFieldContainer[SpecialHandling]
    num_threads: int
    def __init__(self, id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[_Union[_status_pb2.Status, _Mapping]] = ..., active_concept_count: _Optional[int] = ..., metrics: _Optional[_Union[EvalMetrics, _Mapping]] = ..., total_input_count: _Optional[int] = ..., pretrained_model_config: _Optional[_Union[PretrainedModelConfig, _Mapping]] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., description: _Optional[str] = ..., visibility: _Optional[_Union[Visibility, _Mapping]] = ..., app_id: _Optional[str] = ..., user_id: _Optional[str] = ..., modified_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., license: _Optional[str] = ..., output_info: _Optional[_Union[OutputInfo, _Mapping]] = ..., input_info: _Optional[_Union[InputInfo, _Mapping]] = ..., train_info: _Optional[_Union[TrainInfo, _Mapping]] = ..., import_info: _Optional[_Union[ImportInfo, _Mapping]] = ..., train_log: _Optional[str] = ..., inference_compute_info: _Optional[_Union[ComputeInfo, _Mapping]] = ..., build_info: _Optional[_Union[BuildInfo, _Mapping]] = ..., method_signatures: _Optional[_Iterable[_Union[MethodSignature, _Mapping]]] = ..., special_handling: _Optional[_Iterable[_Union[SpecialHandling, _Mapping]]] = ..., num_threads: _Optional[int] = ...) -> None: ...

class MethodSignature(_message.Message):
    __slots__ = ("name", "method_type", "description", "input_fields", "output_fields")
    NAME_FIELD_NUMBER: _ClassVar[int]
    METHOD_TYPE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELDS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELDS_FIELD_NUMBER: _ClassVar[int]
    name: str
    method_type: RunnerMethodType
    description: str
    input_fields: _containers.RepeatedCompositeFieldContainer[ModelTypeField]
    output_fields: _containers.RepeatedCompositeFieldContainer[ModelTypeField]
    def __init__(self, name: _Optional[str] = ..., method_type: _Optional[_Union[RunnerMethodType, str]] = ..., description: _Optional[str] = ..., input_fields: _Optional[_Iterable[_Union[ModelTypeField, _Mapping]]] = ..., output_fields: _Optional[_Iterable[_Union[ModelTypeField, _Mapping]]] = ...) -> None: ...

class BuildInfo(_message.Message):
    __slots__ = ("docker_image_name", "docker_image_tag", "docker_image_digest", "platform")
    DOCKER_IMAGE_NAME_FIELD_NUMBER: _ClassVar[int]
    DOCKER_IMAGE_TAG_FIELD_NUMBER: _ClassVar[int]
    DOCKER_IMAGE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    docker_image_name: str
    docker_image_tag: str
    docker_image_digest: str
    platform: str
    def __init__(self, docker_image_name: _Optional[str] = ..., docker_image_tag: _Optional[str] = ..., docker_image_digest: _Optional[str] = ..., platform: _Optional[str] = ...) -> None: ...

class PretrainedModelConfig(_message.Message):
    __slots__ = ("input_fields_map", "output_fields_map", "model_zip_url", "local_dev")
    INPUT_FIELDS_MAP_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELDS_MAP_FIELD_NUMBER: _ClassVar[int]
    MODEL_ZIP_URL_FIELD_NUMBER: _ClassVar[int]
    LOCAL_DEV_FIELD_NUMBER: _ClassVar[int]
    input_fields_map: _struct_pb2.Struct
    output_fields_map: _struct_pb2.Struct
    model_zip_url: str
    local_dev: bool
    def __init__(self, input_fields_map: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., output_fields_map: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., model_zip_url: _Optional[str] = ..., local_dev: _Optional[bool] = ...) -> None: ...

class LabelCount(_message.Message):
    __slots__ = ("concept_name", "count", "concept")
    CONCEPT_NAME_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    CONCEPT_FIELD_NUMBER: _ClassVar[int]
    concept_name: str
    count: int
    concept: Concept
    def __init__(self, concept_name: _Optional[str] = ..., count: _Optional[int] = ..., concept: _Optional[_Union[Concept, _Mapping]] = ...) -> None: ...

class LabelDistribution(_message.Message):
    __slots__ = ("positive_label_counts",)
    POSITIVE_LABEL_COUNTS_FIELD_NUMBER: _ClassVar[int]
    positive_label_counts: _containers.RepeatedCompositeFieldContainer[LabelCount]
    def __init__(self, positive_label_counts: _Optional[_Iterable[_Union[LabelCount, _Mapping]]] = ...) -> None: ...

class CooccurrenceMatrixEntry(_message.Message):
    __slots__ = ("row", "col", "count")
    ROW_FIELD_NUMBER: _ClassVar[int]
    COL_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    row: str
    col: str
    count: int
    def __init__(self, row: _Optional[str] = ..., col: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class CooccurrenceMatrix(_message.Message):
    __slots__ = ("matrix", "concept_ids")
    MATRIX_FIELD_NUMBER: _ClassVar[int]
    CONCEPT_IDS_FIELD_NUMBER: _ClassVar[int]
    matrix: _containers.RepeatedCompositeFieldContainer[CooccurrenceMatrixEntry]
    concept_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, matrix: _Optional[_Iterable[_Union[CooccurrenceMatrixEntry, _Mapping]]] = ..., concept_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ConfusionMatrixEntry(_message.Message):
    __slots__ = ("predicted", "actual", "value", "predicted_concept", "actual_concept")
    PREDICTED_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_CONCEPT_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_CONCEPT_FIELD_NUMBER: _ClassVar[int]
    predicted: str
    actual: str
    value: float
    predicted_concept: Concept
    actual_concept: Concept
    def __init__(self, predicted: _Optional[str] = ..., actual: _Optional[str] = ..., value: _Optional[float] = ..., predicted_concept: _Optional[_Union[Concept, _Mapping]] = ..., actual_concept: _Optional[_Union[Concept, _Mapping]] = ...) -> None: ...

class ConfusionMatrix(_message.Message):
    __slots__ = ("matrix", "concept_ids")
    MATRIX_FIELD_NUMBER: _ClassVar[int]
    CONCEPT_IDS_FIELD_NUMBER: _ClassVar[int]
    matrix: _containers.RepeatedCompositeFieldContainer[ConfusionMatrixEntry]
    concept_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, matrix: _Optional[_Iterable[_Union[ConfusionMatrixEntry, _Mapping]]] = ..., concept_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ROC(_message.Message):
    __slots__ = ("fpr", "tpr", "thresholds", "fpr_per_image", "fpr_per_object")
    FPR_FIELD_NUMBER: _ClassVar[int]
    TPR_FIELD_NUMBER: _ClassVar[int]
    THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    FPR_PER_IMAGE_FIELD_NUMBER: _ClassVar[int]
    FPR_PER_OBJECT_FIELD_NUMBER: _ClassVar[int]
    fpr: _containers.RepeatedScalarFieldContainer[float]
    tpr: _containers.RepeatedScalarFieldContainer[float]
    thresholds: _containers.RepeatedScalarFieldContainer[float]
    fpr_per_image: _containers.RepeatedScalarFieldContainer[float]
    fpr_per_object: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, fpr: _Optional[_Iterable[float]] = ..., tpr: _Optional[_Iterable[float]] = ..., thresholds: _Optional[_Iterable[float]] = ..., fpr_per_image: _Optional[_Iterable[float]] = ..., fpr_per_object: _Optional[_Iterable[float]] = ...) -> None: ...

class PrecisionRecallCurve(_message.Message):
    __slots__ = ("recall", "precision", "thresholds")
    RECALL_FIELD_NUMBER: _ClassVar[int]
    PRECISION_FIELD_NUMBER: _ClassVar[int]
    THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    recall: _containers.RepeatedScalarFieldContainer[float]
    precision: _containers.RepeatedScalarFieldContainer[float]
    thresholds: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, recall: _Optional[_Iterable[float]] = ..., precision: _Optional[_Iterable[float]] = ..., thresholds: _Optional[_Iterable[float]] = ...) -> None: ...

class BinaryMetrics(_message.Message):
    __slots__ = ("num_pos", "num_neg", "num_tot", "roc_auc", "f1", "concept", "roc_curve", "precision_recall_curve", "avg_precision", "area_name", "area_min", "area_max", "iou")
    NUM_POS_FIELD_NUMBER: _ClassVar[int]
    NUM_NEG_FIELD_NUMBER: _ClassVar[int]
    NUM_TOT_FIELD_NUMBER: _ClassVar[int]
    ROC_AUC_FIELD_NUMBER: _ClassVar[int]
    F1_FIELD_NUMBER: _ClassVar[int]
    CONCEPT_FIELD_NUMBER: _ClassVar[int]
    ROC_CURVE_FIELD_NUMBER: _ClassVar[int]
    PRECISION_RECALL_CURVE_FIELD_NUMBER: _ClassVar[int]
    AVG_PRECISION_FIELD_NUMBER: _ClassVar[int]
    AREA_NAME_FIELD_NUMBER: _ClassVar[int]
    AREA_MIN_FIELD_NUMBER: _ClassVar[int]
    AREA_MAX_FIELD_NUMBER: _ClassVar[int]
    IOU_FIELD_NUMBER: _ClassVar[int]
    num_pos: int
    num_neg: int
    num_tot: int
    roc_auc: float
    f1: float
    concept: Concept
    roc_curve: ROC
    precision_recall_curve: PrecisionRecallCurve
    avg_precision: float
    area_name: str
    area_min: float
    area_max: float
    iou: float
    def __init__(self, num_pos: _Optional[int] = ..., num_neg: _Optional[int] = ..., num_tot: _Optional[int] = ..., roc_auc: _Optional[float] = ..., f1: _Optional[float] = ..., concept: _Optional[_Union[Concept, _Mapping]] = ..., roc_curve: _Optional[_Union[ROC, _Mapping]] = ..., precision_recall_curve: _Optional[_Union[PrecisionRecallCurve, _Mapping]] = ..., avg_precision: _Optional[float] = ..., area_name: _Optional[str] = ..., area_min: _Optional[float] = ..., area_max: _Optional[float] = ..., iou: _Optional[float] = ...) -> None: ...

class TrackerMetrics(_message.Message):
    __slots__ = ("mot_mota", "mot_num_switches", "morse_frag", "avg_precision", "aiid", "unique_switch_rate")
    MOT_MOTA_FIELD_NUMBER: _ClassVar[int]
    MOT_NUM_SWITCHES_FIELD_NUMBER: _ClassVar[int]
    MORSE_FRAG_FIELD_NUMBER: _ClassVar[int]
    AVG_PRECISION_FIELD_NUMBER: _ClassVar[int]
    AIID_FIELD_NUMBER: _ClassVar[int]
    UNIQUE_SWITCH_RATE_FIELD_NUMBER: _ClassVar[int]
    mot_mota: float
    mot_num_switches: int
    morse_frag: float
    avg_precision: float
    aiid: str
    unique_switch_rate: float
    def __init__(self, mot_mota: _Optional[float] = ..., mot_num_switches: _Optional[int] = ..., morse_frag: _Optional[float] = ..., avg_precision: _Optional[float] = ..., aiid: _Optional[str] = ..., unique_switch_rate: _Optional[float] = ...) -> None: ...

class EvalTestSetEntry(_message.Message):
    __slots__ = ("input", "predicted_concepts", "ground_truth_concepts", "annotation", "predicted_annotation", "ground_truth_annotation")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_CONCEPTS_FIELD_NUMBER: _ClassVar[int]
    GROUND_TRUTH_CONCEPTS_FIELD_NUMBER: _ClassVar[int]
    ANNOTATION_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_ANNOTATION_FIELD_NUMBER: _ClassVar[int]
    GROUND_TRUTH_ANNOTATION_FIELD_NUMBER: _ClassVar[int]
    input: Input
    predicted_concepts: _containers.RepeatedCompositeFieldContainer[Concept]
    ground_truth_concepts: _containers.RepeatedCompositeFieldContainer[Concept]
    annotation: Annotation
    predicted_annotation: Annotation
    ground_truth_annotation: Annotation
    def __init__(self, input: _Optional[_Union[Input, _Mapping]] = ..., predicted_concepts: _Optional[_Iterable[_Union[Concept, _Mapping]]] = ..., ground_truth_concepts: _Optional[_Iterable[_Union[Concept, _Mapping]]] = ..., annotation: _Optional[_Union[Annotation, _Mapping]] = ..., predicted_annotation: _Optional[_Union[Annotation, _Mapping]] = ..., ground_truth_annotation: _Optional[_Union[Annotation, _Mapping]] = ...) -> None: ...

class MetricsSummary(_message.Message):
    __slots__ = ("top1_accuracy", "top5_accuracy", "macro_avg_roc_auc", "macro_std_roc_auc", "macro_avg_f1_score", "macro_std_f1_score", "macro_avg_precision", "macro_avg_recall", "mean_avg_precision_iou_50", "mean_avg_precision_iou_range")
    TOP1_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    TOP5_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    MACRO_AVG_ROC_AUC_FIELD_NUMBER: _ClassVar[int]
    MACRO_STD_ROC_AUC_FIELD_NUMBER: _ClassVar[int]
    MACRO_AVG_F1_SCORE_FIELD_NUMBER: _ClassVar[int]
    MACRO_STD_F1_SCORE_FIELD_NUMBER: _ClassVar[int]
    MACRO_AVG_PRECISION_FIELD_NUMBER: _ClassVar[int]
    MACRO_AVG_RECALL_FIELD_NUMBER: _ClassVar[int]
    MEAN_AVG_PRECISION_IOU_50_FIELD_NUMBER: _ClassVar[int]
    MEAN_AVG_PRECISION_IOU_RANGE_FIELD_NUMBER: _ClassVar[int]
    top1_accuracy: float
    top5_accuracy: float
    macro_avg_roc_auc: float
    macro_std_roc_auc: float
    macro_avg_f1_score: float
    macro_std_f1_score: float
    macro_avg_precision: float
    macro_avg_recall: float
    mean_avg_precision_iou_50: float
    mean_avg_precision_iou_range: float
    def __init__(self, top1_accuracy: _Optional[float] = ..., top5_accuracy: _Optional[float] = ..., macro_avg_roc_auc: _Optional[float] = ..., macro_std_roc_auc: _Optional[float] = ..., macro_avg_f1_score: _Optional[float] = ..., macro_std_f1_score: _Optional[float] = ..., macro_avg_precision: _Optional[float] = ..., macro_avg_recall: _Optional[float] = ..., mean_avg_precision_iou_50: _Optional[float] = ..., mean_avg_precision_iou_range: _Optional[float] = ...) -> None: ...

class EvalMetrics(_message.Message):
    __slots__ = ("status", "user_id", "app_id", "id", "model", "ground_truth_dataset", "predictions_dataset", "summary", "confusion_matrix", "cooccurrence_matrix", "label_counts", "binary_metrics", "test_set", "metrics_by_area", "metrics_by_class", "tracker_metrics", "eval_info", "extended_metrics")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    GROUND_TRUTH_DATASET_FIELD_NUMBER: _ClassVar[int]
    PREDICTIONS_DATASET_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    CONFUSION_MATRIX_FIELD_NUMBER: _ClassVar[int]
    COOCCURRENCE_MATRIX_FIELD_NUMBER: _ClassVar[int]
    LABEL_COUNTS_FIELD_NUMBER: _ClassVar[int]
    BINARY_METRICS_FIELD_NUMBER: _ClassVar[int]
    TEST_SET_FIELD_NUMBER: _ClassVar[int]
    METRICS_BY_AREA_FIELD_NUMBER: _ClassVar[int]
    METRICS_BY_CLASS_FIELD_NUMBER: _ClassVar[int]
    TRACKER_METRICS_FIELD_NUMBER: _ClassVar[int]
    EVAL_INFO_FIELD_NUMBER: _ClassVar[int]
    EXTENDED_METRICS_FIELD_NUMBER: _ClassVar[int]
    status: _status_pb2.Status
    user_id: str
    app_id: str
    id: str
    model: Model
    ground_truth_dataset: Dataset
    predictions_dataset: Dataset
    summary: MetricsSummary
    confusion_matrix: ConfusionMatrix
    cooccurrence_matrix: CooccurrenceMatrix
    label_counts: LabelDistribution
    binary_metrics: _containers.RepeatedCompositeFieldContainer[BinaryMetrics]
    test_set: _containers.RepeatedCompositeFieldContainer[EvalTestSetEntry]
    metrics_by_area: _containers.RepeatedCompositeFieldContainer[BinaryMetrics]
    metrics_by_class: _containers.RepeatedCompositeFieldContainer[BinaryMetrics]
    tracker_metrics: _containers.RepeatedCompositeFieldContainer[TrackerMetrics]
    eval_info: EvalInfo
    extended_metrics: ExtendedMetrics
    def __init__(self, status: _Optional[_Union[_status_pb2.Status, _Mapping]] = ..., user_id: _Optional[str] = ..., app_id: _Optional[str] = ..., id: _Optional[str] = ..., model: _Optional[_Union[Model, _Mapping]] = ..., ground_truth_dataset: _Optional[_Union[Dataset, _Mapping]] = ..., predictions_dataset: _Optional[_Union[Dataset, _Mapping]] = ..., summary: _Optional[_Union[MetricsSummary, _Mapping]] = ..., confusion_matrix: _Optional[_Union[ConfusionMatrix, _Mapping]] = ..., cooccurrence_matrix: _Optional[_Union[CooccurrenceMatrix, _Mapping]] = ..., label_counts: _Optional[_Union[LabelDistribution, _Mapping]] = ..., binary_metrics: _Optional[_Iterable[_Union[BinaryMetrics, _Mapping]]] = ..., test_set: _Optional[_Iterable[_Union[EvalTestSetEntry, _Mapping]]] = ..., metrics_by_area: _Optional[_Iterable[_Union[BinaryMetrics, _Mapping]]] = ..., metrics_by_class: _Optional[_Iterable[_Union[BinaryMetrics, _Mapping]]] = ..., tracker_metrics: _Optional[_Iterable[_Union[TrackerMetrics, _Mapping]]] = ..., eval_info: _Optional[_Union[EvalInfo, _Mapping]] = ..., extended_metrics: _Optional[_Union[ExtendedMetrics, _Mapping]] = ...) -> None: ...

class ExtendedMetrics(_message.Message):
    __slots__ = ("user_metrics",)
    USER_METRICS_FIELD_NUMBER: _ClassVar[int]
    user_metrics: _struct_pb2.Struct
    def __init__(self, user_metrics: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class Output(_message.Message):
    __slots__ = ("id", "status", "created_at", "model", "input", "data", "prompt_tokens", "completion_tokens", "cached_tokens")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHED_TOKENS_FIELD_NUMBER: _ClassVar[int]
    id: str
    status: _status_pb2.Status
    created_at: _timestamp_pb2.Timestamp
    model: Model
    input: Input
    data: Data
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    def __init__(self, id: _Optional[str] = ..., status: _Optional[_Union[_status_pb2.Status, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., model: _Optional[_Union[Model, _Mapping]] = ..., input: _Optional[_Union[Input, _Mapping]] = ..., data: _Optional[_Union[Data, _Mapping]] = ..., prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., cached_tokens: _Optional[int] = ...) -> None: ...

class Hit(_message.Message):
    __slots__ = ("score", "input", "annotation", "user_id", "app_id")
    SCORE_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    ANNOTATION_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    score: float
    input: Input
    annotation: Annotation
    user_id: str
    app_id: str
    def __init__(self, score: _Optional[float] = ..., input: _Optional[_Union[Input, _Mapping]] = ..., annotation: _Optional[_Union[Annotation, _Mapping]] = ..., user_id: _Optional[str] = ..., app_id: _Optional[str] = ...) -> None: ...

class And(_message.Message):
    __slots__ = ("input", "output", "negate", "annotation")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    NEGATE_FIELD_NUMBER: _ClassVar[int]
    ANNOTATION_FIELD_NUMBER: _ClassVar[int]
    input: Input
    output: Output
    negate: bool
    annotation: Annotation
    def __init__(self, input: _Optional[_Union[Input, _Mapping]] = ..., output: _Optional[_Union[Output, _Mapping]] = ..., negate: _Optional[bool] = ..., annotation: _Optional[_Union[Annotation, _Mapping]] = ...) -> None: ...

class Query(_message.Message):
    __slots__ = ("ands", "language", "filters", "ranks")
    ANDS_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    RANKS_FIELD_NUMBER: _ClassVar[int]
    ands: _containers.RepeatedCompositeFieldContainer[And]
    language: str
    filters: _containers.RepeatedCompositeFieldContainer[Filter]
    ranks: _containers.RepeatedCompositeFieldContainer[Rank]
    def __init__(self, ands: _Optional[_Iterable[_Union[And, _Mapping]]] = ..., language: _Optional[str] = ..., filters: _Optional[_Iterable[_Union[Filter, _Mapping]]] = ..., ranks: _Optional[_Iterable[_Union[Rank, _Mapping]]] = ...) -> None: ...

class Search(_message.Message):
    __slots__ = ("query", "id", "application_id", "name", "as_of", "git_hash", "created_at", "modified_at", "algorithm", "save", "min_value", "visibility", "metric")
    class Metric(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        METRIC_NOT_SET: _ClassVar[Search.Metric]
        EUCLIDEAN_DISTANCE: _ClassVar[Search.Metric]
        COSINE_DISTANCE: _ClassVar[Search.Metric]
    METRIC_NOT_SET: Search.Metric
    EUCLIDEAN_DISTANCE: Search.Metric
    COSINE_DISTANCE: Search.Metric
    QUERY_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    GIT_HASH_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    MODIFIED_AT_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    SAVE_FIELD_NUMBER: _ClassVar[int]
    MIN_VALUE_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    query: Query
    id: str
    application_id: str
    name: str
    as_of: _timestamp_pb2.Timestamp
    git_hash: str
    created_at: _timestamp_pb2.Timestamp
    modified_at: _timestamp_pb2.Timestamp
    algorithm: str
    save: bool
    min_value: float
    visibility: Visibility
    metric: Search.Metric
    def __init__(self, query: _Optional[_Union[Query, _Mapping]] = ..., id: _Optional[str] = ..., application_id: _Optional[str] = ..., name: _Optional[str] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., git_hash: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., modified_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., algorithm: _Optional[str] = ..., save: _Optional[bool] = ..., min_value: _Optional[float] = ..., visibility: _Optional[_Union[Visibility, _Mapping]] = ..., metric: _Optional[_Union[Search.Metric, str]] = ...) -> None: ...

class Filter(_message.Message):
    __slots__ = ("negate", "annotation", "input", "last_updated_time_range")
    NEGATE_FIELD_NUMBER: _ClassVar[int]
    ANNOTATION_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATED_TIME_RANGE_FIELD_NUMBER: _ClassVar[int]
    negate: bool
    annotation: Annotation
    input: Input
    last_updated_time_range: TimeRange
    def __init__(self, negate: _Optional[bool] = ..., annotation: _Optional[_Union[Annotation, _Mapping]] = ..., input: _Optional[_Union[Input, _Mapping]] = ..., last_updated_time_range: _Optional[_Union[TimeRange, _Mapping]] = ...) -> None: ...

class TimeRange(_message.Message):
    __slots__ = ("start_time", "end_time")
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Rank(_message.Message):
    __slots__ = ("negate", "annotation")
    NEGATE_FIELD_NUMBER: _ClassVar[int]
    ANNOTATION_FIELD_NUMBER: _ClassVar[int]
    negate: bool
    annotation: Annotation
    def __init__(self, negate: _Optional[bool] = ..., annotation: _Optional[_Union[Annotation, _Mapping]] = ...) -> None: ...

class Text(_message.Message):
    __slots__ = ("raw", "url", "allow_duplicate_url", "hosted", "text_info")
    RAW_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    ALLOW_DUPLICATE_URL_FIELD_NUMBER: _ClassVar[int]
    HOSTED_FIELD_NUMBER: _ClassVar[int]
    TEXT_INFO_FIELD_NUMBER: _ClassVar[int]
    raw: str
    url: str
    allow_duplicate_url: bool
    hosted: HostedURL
    text_info: TextInfo
    def __init__(self, raw: _Optional[str] = ..., url: _Optional[str] = ..., allow_duplicate_url: _Optional[bool] = ..., hosted: _Optional[_Union[HostedURL, _Mapping]] = ..., text_info: _Optional[_Union[TextInfo, _Mapping]] = ...) -> None: ...

class TextInfo(_message.Message):
    __slots__ = ("char_count", "encoding")
    CHAR_COUNT_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    char_count: int
    encoding: str
    def __init__(self, char_count: _Optional[int] = ..., encoding: _Optional[str] = ...) -> None: ...

class User(_message.Message):
    __slots__ = ("id", "primary_email", "first_name", "last_name", "company_name", "job_title", "job_role", "intention", "referral_source", "bill_type", "created_at", "date_gdpr_consent", "date_tos_consent", "date_marketing_consent", "date_pii_consent", "metadata", "email_addresses", "two_factor_auth_enabled", "teams_count", "is_starred", "star_count", "visibility", "user_detail", "image")
    ID_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_EMAIL_FIELD_NUMBER: _ClassVar[int]
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    COMPANY_NAME_FIELD_NUMBER: _ClassVar[int]
    JOB_TITLE_FIELD_NUMBER: _ClassVar[int]
    JOB_ROLE_FIELD_NUMBER: _ClassVar[int]
    INTENTION_FIELD_NUMBER: _ClassVar[int]
    REFERRAL_SOURCE_FIELD_NUMBER: _ClassVar[int]
    BILL_TYPE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    DATE_GDPR_CONSENT_FIELD_NUMBER: _ClassVar[int]
    DATE_TOS_CONSENT_FIELD_NUMBER: _ClassVar[int]
    DATE_MARKETING_CONSENT_FIELD_NUMBER: _ClassVar[int]
    DATE_PII_CONSENT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    EMAIL_ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    TWO_FACTOR_AUTH_ENABLED_FIELD_NUMBER: _ClassVar[int]
    TEAMS_COUNT_FIELD_NUMBER: _ClassVar[int]
    IS_STARRED_FIELD_NUMBER: _ClassVar[int]
    STAR_COUNT_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    USER_DETAIL_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    id: str
    primary_email: str
    first_name: str
    last_name: str
    company_name: str
    job_title: str
    job_role: str
    intention: str
    referral_source: str
    bill_type: str
    created_at: _timestamp_pb2.Timestamp
    date_gdpr_consent: _timestamp_pb2.Timestamp
    date_tos_consent: _timestamp_pb2.Timestamp
    date_marketing_consent: _timestamp_pb2.Timestamp
    date_pii_consent: _timestamp_pb2.Timestamp
    metadata: _struct_pb2.Struct
    email_addresses: _containers.RepeatedCompositeFieldContainer[EmailAddress]
    two_factor_auth_enabled: bool
    teams_count: int
    is_starred: bool
    star_count: int
    visibility: Visibility
    user_detail: UserDetail
    image: Image
    def __init__(self, id: _Optional[str] = ..., primary_email: _Optional[str] = ..., first_name: _Optional[str] = ..., last_name: _Optional[str] = ..., company_name: _Optional[str] = ..., job_title: _Optional[str] = ..., job_role: _Optional[str] = ..., intention: _Optional[str] = ..., referral_source: _Optional[str] = ..., bill_type: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., date_gdpr_consent: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., date_tos_consent: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., date_marketing_consent: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., date_pii_consent: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., email_addresses: _Optional[_Iterable[_Union[EmailAddress, _Mapping]]] = ..., two_factor_auth_enabled: _Optional[bool] = ..., teams_count: _Optional[int] = ..., is_starred: _Optional[bool] = ..., star_count: _Optional[int] = ..., visibility: _Optional[_Union[Visibility, _Mapping]] = ..., user_detail: _Optional[_Union[UserDetail, _Mapping]] = ..., image: _Optional[_Union[Image, _Mapping]] = ...) -> None: ...

class UserDetail(_message.Message):
    __slots__ = ("primary_email", "bill_type", "date_gdpr_consent", "date_tos_consent", "date_marketing_consent", "date_pii_consent", "metadata", "email_addresses", "two_factor_auth_enabled", "teams_count", "country", "state", "commitment_value", "phone_verified")
    PRIMARY_EMAIL_FIELD_NUMBER: _ClassVar[int]
    BILL_TYPE_FIELD_NUMBER: _ClassVar[int]
    DATE_GDPR_CONSENT_FIELD_NUMBER: _ClassVar[int]
    DATE_TOS_CONSENT_FIELD_NUMBER: _ClassVar[int]
    DATE_MARKETING_CONSENT_FIELD_NUMBER: _ClassVar[int]
    DATE_PII_CONSENT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    EMAIL_ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    TWO_FACTOR_AUTH_ENABLED_FIELD_NUMBER: _ClassVar[int]
    TEAMS_COUNT_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    COMMITMENT_VALUE_FIELD_NUMBER: _ClassVar[int]
    PHONE_VERIFIED_FIELD_NUMBER: _ClassVar[int]
    primary_email: str
    bill_type: str
    date_gdpr_consent: _timestamp_pb2.Timestamp
    date_tos_consent: _timestamp_pb2.Timestamp
    date_marketing_consent: _timestamp_pb2.Timestamp
    date_pii_consent: _timestamp_pb2.Timestamp
    metadata: _struct_pb2.Struct
    email_addresses: _containers.RepeatedCompositeFieldContainer[EmailAddress]
    two_factor_auth_enabled: bool
    teams_count: int
    country: str
    state: str
    commitment_value: CommitmentValue
    phone_verified: bool
    def __init__(self, primary_email: _Optional[str] = ..., bill_type: _Optional[str] = ..., date_gdpr_consent: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., date_tos_consent: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., date_marketing_consent: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., date_pii_consent: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., email_addresses: _Optional[_Iterable[_Union[EmailAddress, _Mapping]]] = ..., two_factor_auth_enabled: _Optional[bool] = ..., teams_count: _Optional[int] = ..., country: _Optional[str] = ..., state: _Optional[str] = ..., commitment_value: _Optional[_Union[CommitmentValue, _Mapping]] = ..., phone_verified: _Optional[bool] = ...) -> None: ...

class EmailAddress(_message.Message):
    __slots__ = ("email", "primary", "verified")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_FIELD_NUMBER: _ClassVar[int]
    VERIFIED_FIELD_NUMBER: _ClassVar[int]
    email: str
    primary: bool
    verified: bool
    def __init__(self, email: _Optional[str] = ..., primary: _Optional[bool] = ..., verified: _Optional[bool] = ...) -> None: ...

class CommitmentValue(_message.Message):
    __slots__ = ("value", "type")
    class CommitmentType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        TYPE_NOT_SET: _ClassVar[CommitmentValue.CommitmentType]
        MONTHLY: _ClassVar[CommitmentValue.CommitmentType]
        ANNUAL: _ClassVar[CommitmentValue.CommitmentType]
    TYPE_NOT_SET: CommitmentValue.CommitmentType
    MONTHLY: CommitmentValue.CommitmentType
    ANNUAL: CommitmentValue.CommitmentType
    VALUE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    value: int
    type: CommitmentValue.CommitmentType
    def __init__(self, value: _Optional[int] = ..., type: _Optional[_Union[CommitmentValue.CommitmentType, str]] = ...) -> None: ...

class Video(_message.Message):
    __slots__ = ("url", "base64", "allow_duplicate_url", "thumbnail_url", "hosted", "hosted_thumbnail", "video_info")
    URL_FIELD_NUMBER: _ClassVar[int]
    BASE64_FIELD_NUMBER: _ClassVar[int]
    ALLOW_DUPLICATE_URL_FIELD_NUMBER: _ClassVar[int]
    THUMBNAIL_URL_FIELD_NUMBER: _ClassVar[int]
    HOSTED_FIELD_NUMBER: _ClassVar[int]
    HOSTED_THUMBNAIL_FIELD_NUMBER: _ClassVar[int]
    VIDEO_INFO_FIELD_NUMBER: _ClassVar[int]
    url: str
    base64: bytes
    allow_duplicate_url: bool
    thumbnail_url: str
    hosted: HostedURL
    hosted_thumbnail: HostedURL
    video_info: VideoInfo
    def __init__(self, url: _Optional[str] = ..., base64: _Optional[bytes] = ..., allow_duplicate_url: _Optional[bool] = ..., thumbnail_url: _Optional[str] = ..., hosted: _Optional[_Union[HostedURL, _Mapping]] = ..., hosted_thumbnail: _Optional[_Union[HostedURL, _Mapping]] = ..., video_info: _Optional[_Union[VideoInfo, _Mapping]] = ...) -> None: ...

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

class Workflow(_message.Message):
    __slots__ = ("id", "app_id", "created_at", "nodes", "metadata", "visibility", "user_id", "modified_at", "version", "is_starred", "star_count", "description", "notes", "use_cases", "check_consents", "bookmark_origin", "image")
    ID_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    MODIFIED_AT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    IS_STARRED_FIELD_NUMBER: _ClassVar[int]
    STAR_COUNT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    USE_CASES_FIELD_NUMBER: _ClassVar[int]
    CHECK_CONSENTS_FIELD_NUMBER: _ClassVar[int]
    BOOKMARK_ORIGIN_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    id: str
    app_id: str
    created_at: _timestamp_pb2.Timestamp
    nodes: _containers.RepeatedCompositeFieldContainer[WorkflowNode]
    metadata: _struct_pb2.Struct
    visibility: Visibility
    user_id: str
    modified_at: _timestamp_pb2.Timestamp
    version: WorkflowVersion
    is_starred: bool
    star_count: int
    description: str
    notes: str
    use_cases: _containers.RepeatedScalarFieldContainer[str]
    check_consents: _containers.RepeatedScalarFieldContainer[str]
    bookmark_origin: BookmarkOrigin
    image: Image
    def __init__(self, id: _Optional[str] = ..., app_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., nodes: _Optional[_Iterable[_Union[WorkflowNode, _Mapping]]] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., visibility: _Optional[_Union[Visibility, _Mapping]] = ..., user_id: _Optional[str] = ..., modified_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[_Union[WorkflowVersion, _Mapping]] = ..., is_starred: _Optional[bool] = ..., star_count: _Optional[int] = ..., description: _Optional[str] = ..., notes: _Optional[str] = ..., use_cases: _Optional[_Iterable[str]] = ..., check_consents: _Optional[_Iterable[str]] = ..., bookmark_origin: _Optional[_Union[BookmarkOrigin, _Mapping]] = ..., image: _Optional[_Union[Image, _Mapping]] = ...) -> None: ...

class WorkflowVersion(_message.Message):
    __slots__ = ("id", "workflow_id", "created_at", "modified_at", "visibility", "nodes", "metadata", "app_id", "user_id", "description", "license", "is_deprecated")
    ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    MODIFIED_AT_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    LICENSE_FIELD_NUMBER: _ClassVar[int]
    IS_DEPRECATED_FIELD_NUMBER: _ClassVar[int]
    id: str
    workflow_id: str
    created_at: _timestamp_pb2.Timestamp
    modified_at: _timestamp_pb2.Timestamp
    visibility: Visibility
    nodes: _containers.RepeatedCompositeFieldContainer[WorkflowNode]
    metadata: _struct_pb2.Struct
    app_id: str
    user_id: str
    description: str
    license: str
    is_deprecated: bool
    def __init__(self, id: _Optional[str] = ..., workflow_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., modified_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., visibility: _Optional[_Union[Visibility, _Mapping]] = ..., nodes: _Optional[_Iterable[_Union[WorkflowNode, _Mapping]]] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., app_id: _Optional[str] = ..., user_id: _Optional[str] = ..., description: _Optional[str] = ..., license: _Optional[str] = ..., is_deprecated: _Optional[bool] = ...) -> None: ...

class WorkflowNode(_message.Message):
    __slots__ = ("id", "model", "node_inputs", "suppress_output", "output_info_override")
    ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    NODE_INPUTS_FIELD_NUMBER: _ClassVar[int]
    SUPPRESS_OUTPUT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_INFO_OVERRIDE_FIELD_NUMBER: _ClassVar[int]
    id: str
    model: Model
    node_inputs: _containers.RepeatedCompositeFieldContainer[NodeInput]
    suppress_output: bool
    output_info_override: OutputInfo
    def __init__(self, id: _Optional[str] = ..., model: _Optional[_Union[Model, _Mapping]] = ..., node_inputs: _Optional[_Iterable[_Union[NodeInput, _Mapping]]] = ..., suppress_output: _Optional[bool] = ..., output_info_override: _Optional[_Union[OutputInfo, _Mapping]] = ...) -> None: ...

class NodeInput(_message.Message):
    __slots__ = ("node_id",)
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    def __init__(self, node_id: _Optional[str] = ...) -> None: ...

class Visibility(_message.Message):
    __slots__ = ("gettable",)
    class Gettable(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        UNKNOWN_VISIBILITY: _ClassVar[Visibility.Gettable]
        PRIVATE: _ClassVar[Visibility.Gettable]
        ORG: _ClassVar[Visibility.Gettable]
        PUBLIC: _ClassVar[Visibility.Gettable]
    UNKNOWN_VISIBILITY: Visibility.Gettable
    PRIVATE: Visibility.Gettable
    ORG: Visibility.Gettable
    PUBLIC: Visibility.Gettable
    GETTABLE_FIELD_NUMBER: _ClassVar[int]
    gettable: Visibility.Gettable
    def __init__(self, gettable: _Optional[_Union[Visibility.Gettable, str]] = ...) -> None: ...

class FullTag(_message.Message):
    __slots__ = ("name", "id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    id: str
    def __init__(self, name: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class TimeSegment(_message.Message):
    __slots__ = ("id", "data", "time_info")
    ID_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    TIME_INFO_FIELD_NUMBER: _ClassVar[int]
    id: str
    data: Data
    time_info: TimeInfo
    def __init__(self, id: _Optional[str] = ..., data: _Optional[_Union[Data, _Mapping]] = ..., time_info: _Optional[_Union[TimeInfo, _Mapping]] = ...) -> None: ...

class TimeInfo(_message.Message):
    __slots__ = ("num_frames", "begin_time", "end_time")
    NUM_FRAMES_FIELD_NUMBER: _ClassVar[int]
    BEGIN_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    num_frames: int
    begin_time: float
    end_time: float
    def __init__(self, num_frames: _Optional[int] = ..., begin_time: _Optional[float] = ..., end_time: _Optional[float] = ...) -> None: ...

class BookmarkOrigin(_message.Message):
    __slots__ = ("id", "app_id", "user_id", "resource_type")
    class BookmarkType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        unknown: _ClassVar[BookmarkOrigin.BookmarkType]
        model: _ClassVar[BookmarkOrigin.BookmarkType]
        workflow: _ClassVar[BookmarkOrigin.BookmarkType]
        dataset: _ClassVar[BookmarkOrigin.BookmarkType]
    unknown: BookmarkOrigin.BookmarkType
    model: BookmarkOrigin.BookmarkType
    workflow: BookmarkOrigin.BookmarkType
    dataset: BookmarkOrigin.BookmarkType
    ID_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    id: str
    app_id: str
    user_id: str
    resource_type: BookmarkOrigin.BookmarkType
    def __init__(self, id: _Optional[str] = ..., app_id: _Optional[str] = ..., user_id: _Optional[str] = ..., resource_type: _Optional[_Union[BookmarkOrigin.BookmarkType, str]] = ...) -> None: ...

class ComputeInfo(_message.Message):
    __slots__ = ("cpu_limit", "cpu_memory", "cpu_requests", "cpu_memory_requests", "num_accelerators", "accelerator_memory", "accelerator_type", "accelerator_topology")
    CPU_LIMIT_FIELD_NUMBER: _ClassVar[int]
    CPU_MEMORY_FIELD_NUMBER: _ClassVar[int]
    CPU_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    CPU_MEMORY_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    NUM_ACCELERATORS_FIELD_NUMBER: _ClassVar[int]
    ACCELERATOR_MEMORY_FIELD_NUMBER: _ClassVar[int]
    ACCELERATOR_TYPE_FIELD_NUMBER: _ClassVar[int]
    ACCELERATOR_TOPOLOGY_FIELD_NUMBER: _ClassVar[int]
    cpu_limit: str
    cpu_memory: str
    cpu_requests: str
    cpu_memory_requests: str
    num_accelerators: int
    accelerator_memory: str
    accelerator_type: _containers.RepeatedScalarFieldContainer[str]
    accelerator_topology: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, cpu_limit: _Optional[str] = ..., cpu_memory: _Optional[str] = ..., cpu_requests: _Optional[str] = ..., cpu_memory_requests: _Optional[str] = ..., num_accelerators: _Optional[int] = ..., accelerator_memory: _Optional[str] = ..., accelerator_type: _Optional[_Iterable[str]] = ..., accelerator_topology: _Optional[_Iterable[str]] = ...) -> None: ...
