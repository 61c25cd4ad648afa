"""The wire protocol: typed JSON messages both ways over a session's WebSocket, plus binary frames.

Client → server: ``auth`` (first message), ``action``, ``pose``, ``rewind``, ``cancel``, ``view``, ``stream``,
``ping``.
Server → client: ``hello``, ``narration``, ``plan``, ``state``, ``progress``, ``rewound``, ``error``,
``pong``, and frames.

A frame is one *binary* WebSocket message: a 4-byte big-endian header length N, then N bytes of
UTF-8 JSON (a :class:`FrameHeader`), then the image (JPEG, or an H.264 access unit), then for a
headset pose the depth plane. Header and image travel together, so the
pose a frame was rendered for can never be paired with another frame's pixels.
"""

from __future__ import annotations

import json
import math
import struct
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from agent.turns.turn import TurnRequest
from simulator.limits import LIMITS, LimitError, parse_json
from simulator.scene import Event

if TYPE_CHECKING:
    import numpy as np

SCHEMA_VERSION = 2
"""2: the action message's words are ``action`` (were ``text``), the name every turn message uses."""
MAX_ACTION_CHARS = LIMITS.max_action_chars
MAX_EVENTS = LIMITS.max_events_per_step


class Message(BaseModel):
    """Base of every message: unknown fields are refused, so typos are reported, not ignored."""

    model_config = ConfigDict(extra="forbid")


# ---- client → server ----------------------------------------------------------------------


class AuthMsg(Message):
    """First message on a socket: the session's player token or a spectator token."""

    type: Literal["auth"] = "auth"
    token: str = Field(min_length=1, max_length=128)
    """The token from ``POST /api/sessions`` (``player_token`` or ``spectator_token``)."""
    schema_version: int = SCHEMA_VERSION
    """The protocol version the client speaks; must equal the server's."""


class ActionMsg(Message):
    """Play one turn: the planner turns ``action`` into events, unless ``events`` pins them."""

    type: Literal["action"] = "action"
    action: str = Field(min_length=1, max_length=MAX_ACTION_CHARS)
    """What happens next, in words (e.g. "someone flicks the ball toward the edge")."""
    events: list[Event] | None = Field(default=None, max_length=MAX_EVENTS)
    """Optional pinned simulator events, played as written instead of asking the planner."""
    duration: float | None = Field(default=None, ge=LIMITS.min_turn_seconds, le=LIMITS.max_turn_seconds)
    """Seconds of world time the turn simulates (simulator.limits: min_turn_seconds to max_turn_seconds);
    not given: until the bodies have come to rest (at most max_rest_seconds)."""

    def to_request(self) -> TurnRequest:
        """The turn engine's typed request (checked here, at the edge, and nowhere again)."""
        return TurnRequest(action=self.action, events=self.events, duration=self.duration)


MAX_TANGENT = 12.0
"""Largest frustum tangent accepted (about 85° off axis)."""


def _finite_position(v):
    if not all(math.isfinite(x) and abs(x) <= LIMITS.world_extent for x in v):
        raise ValueError(f"position must be three finite numbers within ±{LIMITS.world_extent:g} m")
    return v


def _unit_quaternion(v):
    if not all(math.isfinite(x) for x in v):
        raise ValueError("orientation must be four finite numbers (x, y, z, w)")
    n = math.sqrt(sum(x * x for x in v))
    if not 0.5 <= n <= 1.5:
        raise ValueError(f"orientation must be a unit quaternion (x, y, z, w); its length is {n:.3g}")
    return tuple(x / n for x in v)


class EyeMsg(Message):
    """One eye of a headset (a WebXR ``XRView``): its pose and its frustum."""

    position: tuple[float, float, float]
    """The eye's position in the reference space (metres, XR axes)."""
    orientation: tuple[float, float, float, float]
    """The eye's orientation quaternion (x, y, z, w), XR axes; normalised by the server."""
    tangents: tuple[float, float, float, float]
    """(left, right, bottom, top) edges of the eye's frustum at unit distance (left, bottom negative
    for a frustum around the view axis): from the view's projection matrix P (column-major),
    left = (P[8] - 1) / P[0], right = (P[8] + 1) / P[0], bottom = (P[9] - 1) / P[5], top = (P[9] + 1) / P[5]."""

    _position = field_validator("position")(classmethod(lambda cls, v: _finite_position(v)))
    _orientation = field_validator("orientation")(classmethod(lambda cls, v: _unit_quaternion(v)))

    @field_validator("tangents")
    @classmethod
    def _frustum(cls, v):
        left, right, bottom, top = v
        if not all(math.isfinite(x) and abs(x) <= MAX_TANGENT for x in v) or left >= right or bottom >= top:
            raise ValueError(f"tangents must be finite (left, right, bottom, top) within ±{MAX_TANGENT:g} with "
                             "left < right and bottom < top")
        return v


class PoseMsg(Message):
    """The viewer's head pose in WebXR convention (metres, y-up, -z forward), and the eye separation."""

    type: Literal["pose"] = "pose"
    position: tuple[float, float, float] = (0.0, 0.0, 0.0)
    """Head position relative to the viewer's start (the scene camera), XR axes."""
    orientation: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)
    """Head orientation quaternion (x, y, z, w), XR axes; normalised by the server."""
    ipd: float = Field(default=0.064, ge=0.0, le=0.2)
    """Eye separation in metres (0 to 0.2)."""
    stereo: bool = True
    """Render a left|right side-by-side pair (True) or one mono view (False)."""
    views: list[EyeMsg] | None = Field(default=None, min_length=1, max_length=2)
    """A headset's eyes (left, right): each is rendered with its own pose and frustum, widened by a
    margin, and the frame carries depth for 6-DoF reprojection. None: the scene camera's field of view."""
    viewport: tuple[int, int] | None = None
    """One eye's framebuffer size (px) on the headset; the server renders that plus the margin, up to its cap."""
    t: float | None = None
    """The client's clock (ms) when the pose was sampled; with ``latency_ms`` it drives pose prediction."""
    latency_ms: float | None = Field(default=None, ge=0.0, le=1000.0)
    """How long (ms) the client measured from a pose to the frame rendered for it being shown: the
    server renders the head extrapolated that far ahead (at most 150 ms)."""

    _position = field_validator("position")(classmethod(lambda cls, v: _finite_position(v)))
    _orientation = field_validator("orientation")(classmethod(lambda cls, v: _unit_quaternion(v)))

    @field_validator("viewport")
    @classmethod
    def _viewport(cls, v):
        if v is not None and not all(16 <= x <= 8192 for x in v):
            raise ValueError("viewport must be one eye's framebuffer size [width, height], 16 to 8192 px each")
        return v


class RewindMsg(Message):
    """Return the world to the end of an earlier step (0 is the scene's start); later steps are dropped."""

    type: Literal["rewind"] = "rewind"
    step: int = Field(ge=0)
    """The step to return to."""


class CancelMsg(Message):
    """Stop the running turn (and drop the queued ones): nothing of it is committed."""

    type: Literal["cancel"] = "cancel"


ViewMode = Literal["rgb", "depth", "segmentation"]
"""What frames show: colour, metric depth as grey (near is bright), or one flat colour per entity."""


class ViewMsg(Message):
    """Choose what the session's frames show; spectators see the player's choice."""

    type: Literal["view"] = "view"
    mode: ViewMode
    """rgb, depth or segmentation."""


Codec = Literal["jpeg", "h264"]
"""How frames are encoded: JPEG stills, or an H.264 stream (Annex B, no B-frames) for WebCodecs."""


class StreamMsg(Message):
    """How this client wants its frames, and (sent about once a second) how they arrive."""

    type: Literal["stream"] = "stream"
    codec: Codec = "jpeg"
    """jpeg (every browser) or h264 (where WebCodecs' VideoDecoder takes avc1)."""
    age_ms: float | None = Field(default=None, ge=0.0, le=60_000.0)
    """The client's median frame age (server render to shown, ms) lately; the bitrate drops when it grows."""
    kbps: float | None = Field(default=None, ge=0.0, le=10_000_000.0)
    """What the client received lately (kbit/s)."""


class PingMsg(Message):
    """Liveness and clock check; answered with a ``pong`` echoing ``t``."""

    type: Literal["ping"] = "ping"
    t: float | None = None
    """Any number the client wants echoed (e.g. its own clock in ms)."""


ClientMessage = Annotated[Union[AuthMsg, ActionMsg, PoseMsg, RewindMsg, CancelMsg, ViewMsg, StreamMsg, PingMsg],
                          Field(discriminator="type")]
_client_adapter: TypeAdapter = TypeAdapter(ClientMessage)
CLIENT_TYPES = ("auth", "action", "pose", "rewind", "cancel", "view", "stream", "ping")


# ---- server → client ----------------------------------------------------------------------


class TurnSummary(Message):
    """One committed turn as the narration log shows it."""

    step: int
    """The session's step after this turn (the turn's number, 1-based)."""
    action: str
    """What was asked ('' for a pause)."""
    narration: str
    """What the turn says happened."""


class HelloMsg(Message):
    """Sent after a good ``auth``: who you are in which session, and how frames are drawn."""

    type: Literal["hello"] = "hello"
    schema_version: int = SCHEMA_VERSION
    session: str
    """Session id."""
    scene: str
    """Scene name."""
    role: Literal["player", "spectator"]
    """Players may act; spectators only watch."""
    width: int
    """Width of one eye's image in pixels."""
    height: int
    """Height of the image in pixels."""
    fov_y: float
    """Vertical field of view of every frame, degrees."""
    home_pitch: float
    """Pitch (radians, XR convention, negative looks down) that reproduces the scene camera's view."""
    step: int
    """The session's current step."""
    limits: dict[str, float]
    """The limits this socket runs under (message bytes, messages per second, ...)."""
    description: str = ""
    """The scene's description: what it shows and what happens in it."""
    view: ViewMode = "rgb"
    """What the session's frames show now."""
    history: list[TurnSummary] = Field(default_factory=list)
    """The committed turns on the session's branch (the newest 100), oldest first."""


class NarrationMsg(Message):
    """What happened in a turn, in words."""

    type: Literal["narration"] = "narration"
    step: int
    """The step this narration belongs to."""
    text: str
    """The narration."""
    action: str = ""
    """The action that caused it."""


class PlanMsg(Message):
    """The plan applied for a turn (the planner's TurnPlan as JSON)."""

    type: Literal["plan"] = "plan"
    step: int
    """The step the plan was applied at."""
    plan: dict[str, Any]
    """Narration, events and caption."""


class StateMsg(Message):
    """The world state (``simulator.state.WorldState`` as JSON), sent on join, after each turn and rewind."""

    type: Literal["state"] = "state"
    state: dict[str, Any]
    """The world state."""
    busy: bool = False
    """True while a turn is being planned or simulated."""
    steps: int = 0
    """How many steps the session holds (``rewind`` accepts 0 to this)."""


ProgressStage = Literal["queued", "plan", "validate", "simulate", "reconcile", "render", "commit", "play", "done",
                        "cancelled", "failed"]


class ProgressMsg(Message):
    """Where the running turn is: sent as each stage starts, and once when the turn ends."""

    type: Literal["progress"] = "progress"
    step: int
    """The turn's number: the session's step once it commits."""
    stage: ProgressStage
    """queued, plan, validate, simulate, reconcile (the narration checked against the outcome), render,
    commit, play (streaming the committed turn), then done, cancelled (nothing committed) or failed."""
    elapsed: float
    """Seconds since the turn started running (0 while queued)."""
    action: str = ""
    """The turn's action."""
    queued: int = 0
    """Turns waiting behind this one."""


class RewoundMsg(Message):
    """An undo or rewind happened: where the session is now, and which turns left the branch."""

    type: Literal["rewound"] = "rewound"
    step: int
    """The session's step now."""
    from_step: int
    """The step it was at before."""
    time: float
    """Simulated time now (s)."""
    dropped: list[str] = Field(default_factory=list)
    """The actions of the turns taken off the branch, oldest first."""


class ErrorMsg(Message):
    """Something the client sent could not be used; nothing was changed by it."""

    type: Literal["error"] = "error"
    code: str
    """Machine-readable kind: bad_json, bad_message, unauthorized, forbidden, rate_limited, too_large,
    busy, bad_events, bad_step, not_running, unsupported, server_error."""
    message: str
    """What was wrong and how to fix it."""
    field: str | None = None
    """The offending field, when there is one."""
    value: Any = None
    """The offending value (truncated), when there is one."""


class PongMsg(Message):
    """Answer to ``ping``."""

    type: Literal["pong"] = "pong"
    t: float | None = None
    """The client's ``t``, echoed."""
    server_time: float
    """The server's wall clock, ms since the epoch."""


class EyeFrame(Message):
    """How one eye of an XR frame was rendered (the predicted pose and the widened frustum)."""

    position: tuple[float, float, float]
    """The eye's position in the reference space (m, XR axes)."""
    orientation: tuple[float, float, float, float]
    """The eye's orientation (x, y, z, w), XR axes."""
    tangents: tuple[float, float, float, float]
    """(left, right, bottom, top) frustum edges at unit distance that the image spans."""


class DepthPlane(Message):
    """Exact depth sent after the image: little-endian uint16 millimetres along each eye's view axis,
    zlib-compressed, one sample at the centre of every step×step pixel block; 65535 where nothing was hit."""

    width: int
    """Samples per row (both eyes side by side when stereo)."""
    height: int
    """Rows."""
    step: int
    """Image pixels per sample along each axis."""
    bytes: int
    """Length of the compressed plane at the end of the message."""


class FrameHeader(Message):
    """The JSON header carried inside every binary frame message."""

    type: Literal["frame"] = "frame"
    seq: int
    """Per-session frame counter."""
    step: int
    """The world's step when rendered."""
    time: float
    """The world's simulated time (s)."""
    pose: PoseMsg | None
    """The head pose the frame was rendered for (None: the scene camera)."""
    stereo: bool
    """True: the image is a left|right side-by-side pair."""
    width: int
    """Image width in pixels (both eyes when stereo)."""
    height: int
    """Image height in pixels."""
    fov_y: float
    """Vertical field of view, degrees."""
    format: Codec = "jpeg"
    """Image encoding: a JPEG still, or one H.264 access unit (Annex B) of this client's stream."""
    key: bool = True
    """For h264: the access unit is a keyframe (a decoder can start here)."""
    eyes: list[EyeFrame] | None = None
    """For a headset pose with views: how each eye was rendered (left, right); for a generated frame:
    the scene camera as the one eye."""
    depth: DepthPlane | None = None
    """For a headset pose with views, and for a generated frame: the depth plane that follows the image."""
    rendered_at: float
    """Server wall clock when the render finished, ms since the epoch."""
    turn: bool = False
    """True when the frame is part of a turn's playback, False for a look-around re-render."""
    generated: bool = False
    """True when the image is the video model's frame (from the scene camera, as its one eye in
    ``eyes``, with ``depth``), not a geometry render: the client reprojects it to the head."""
    view: ViewMode = "rgb"
    """What the image shows: colour, depth (grey, near is bright) or segmentation (flat colours)."""
    depth_range: tuple[float, float] | None = None
    """For depth: the distances (m) drawn white and black; farther and empty pixels are black."""
    legend: dict[str, str] | None = None
    """For segmentation: entity id → the '#rrggbb' colour it is drawn in."""


SERVER_MESSAGES = (HelloMsg, NarrationMsg, PlanMsg, StateMsg, ProgressMsg, RewoundMsg, ErrorMsg, PongMsg, FrameHeader)


class ProtocolError(ValueError):
    """A client message that cannot be used; carries the :class:`ErrorMsg` to send back."""

    def __init__(self, error: ErrorMsg):
        super().__init__(error.message)
        self.error = error


def _short(value: Any, limit: int = 80) -> Any:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + "…"


def parse_client(text: str) -> BaseModel:
    """Parse one client JSON message or raise :class:`ProtocolError` naming the field, value and fix.

    The JSON is parsed strictly (depth limit, finite numbers only) and the message validated with
    strict types: ``"step": "0"`` is an error, not 0."""
    try:
        data = parse_json(text)
    except LimitError as exc:
        raise ProtocolError(ErrorMsg(code="bad_json", message=f"{exc}; send one flat JSON object per text message",
                                     value=_short(text[:80]))) from None
    except ValueError as exc:
        raise ProtocolError(ErrorMsg(code="bad_json", message=f"message is not valid JSON ({exc}); send one "
                                     "JSON object per text message, e.g. {\"type\": \"ping\"}",
                                     value=_short(text))) from None
    if not isinstance(data, dict):
        raise ProtocolError(ErrorMsg(code="bad_message", message="a message must be a JSON object with a "
                                     "'type' field", value=_short(data)))
    kind = data.get("type")
    if kind not in CLIENT_TYPES:
        raise ProtocolError(ErrorMsg(code="bad_message", field="type", value=_short(kind),
                                     message=f"type {kind!r} is not known; use one of: {', '.join(CLIENT_TYPES)}"))
    try:
        return _client_adapter.validate_json(text, strict=True)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        loc = loc[1:] if loc[:1] == [kind] else loc  # the union's tag, then the path inside the message
        field = ".".join(loc) or None
        value = err.get("input")
        raise ProtocolError(ErrorMsg(
            code="bad_message", field=field, value=_short(value),
            message=f"{kind}.{field or ''}: {err['msg']} (got {_short(value)}); "
                    f"see /api/protocol.json for the {kind} message's fields",
        )) from None


def pack_frame(header: FrameHeader, image: bytes, depth: bytes = b"") -> bytes:
    """A binary frame message: length-prefixed JSON header, the image, then the depth plane (if any)."""
    head = header.model_dump_json().encode()
    return struct.pack(">I", len(head)) + head + image + depth


def unpack_frame(data: bytes) -> tuple[FrameHeader, bytes]:
    """Split a binary frame message into its header and image bytes (see :func:`unpack_depth`)."""
    (n,) = struct.unpack(">I", data[:4])
    header = FrameHeader.model_validate_json(data[4 : 4 + n])
    end = len(data) - (header.depth.bytes if header.depth else 0)
    return header, data[4 + n : end]


def unpack_depth(data: bytes) -> tuple[FrameHeader, "np.ndarray | None"]:
    """The frame's depth plane in metres (inf where nothing was hit), or None when it has none."""
    import zlib

    import numpy as np

    (n,) = struct.unpack(">I", data[:4])
    header = FrameHeader.model_validate_json(data[4 : 4 + n])
    if header.depth is None:
        return header, None
    mm = np.frombuffer(zlib.decompress(data[len(data) - header.depth.bytes :]), "<u2")
    metres = mm.reshape(header.depth.height, header.depth.width).astype(np.float32) / 1000.0
    return header, np.where(mm.reshape(metres.shape) == 65535, np.inf, metres)


def protocol_schema() -> dict[str, Any]:
    """JSON Schemas of every message, both directions (served at ``/api/protocol.json``)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "frame_layout": "binary message: uint32 big-endian N, N bytes JSON FrameHeader, the image (JPEG or an "
                        "H.264 access unit), then header.depth.bytes of zlib depth plane when header.depth is set",
        "client_to_server": {m.model_fields["type"].default: m.model_json_schema()
                             for m in (AuthMsg, ActionMsg, PoseMsg, RewindMsg, CancelMsg, ViewMsg, StreamMsg,
                                       PingMsg)},
        "server_to_client": {m.model_fields["type"].default: m.model_json_schema() for m in SERVER_MESSAGES},
    }
