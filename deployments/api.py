"""The HTTP API (FastAPI): authentication, limits, routes, errors, metrics.

:func:`create_api` builds the app over a :class:`Backend`, which the Serve ingress implements
with deployment handles (no HTTP hop between our own deployments). Everything a request can get
wrong answers with a 4xx and ``{"error": {"code", "message"}}``.
"""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol

import numpy as np
from fastapi import (
    Depends,
    FastAPI,
    File,
    Form,
    Query,
    Request,
    UploadFile,
    WebSocket,
    WebSocketDisconnect,
)
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from opentelemetry import trace
from pydantic import BaseModel, Field
from ray.serve import context as serve_context
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ai2text.asr.formats import openai_verbose_json, to_srt, to_vtt
from ai2text.asr.streaming import StreamOptions, StreamSession
from ai2text.asr.transcriber import Transcript
from ai2text.asr.vocabulary import Vocabulary
from ai2text.audio.transcoder import SAMPLE_RATE
from ai2text.auth import Principal, TokenVerifier, bearer_token
from ai2text.auth import Scope as AuthScope
from ai2text.config import Settings
from ai2text.errors import (
    Ai2TextError,
    AudioDecodeError,
    AuthError,
    ConflictError,
    ForbiddenError,
    InputError,
    NotFoundError,
    RangeError,
    RateLimitError,
    StorageError,
    TooLargeError,
)
from ai2text.ratelimit import RateLimiter, client_address, parse_networks
from ai2text.search.hybrid import MAX_LIMIT, Mode, SearchFilters, SearchQuery
from ai2text.store.recordings import AudioSlice
from deployments.metrics import ApiMetrics

WS_POLICY_VIOLATION = 1008
WS_UNSUPPORTED = 1003
WS_TOO_BIG = 1009
WS_TRY_AGAIN_LATER = 1013
ResponseFormat = Literal["json", "text", "srt", "vtt", "verbose_json"]
_UNLIMITED = ("/health", "/metrics")


class Backend(Protocol):
    """What the routes need from the platform (the Serve ingress gives deployment handles)."""

    settings: Settings

    async def transcribe(self, samples: np.ndarray) -> Transcript: ...

    async def clean(self, text: str) -> dict[str, Any]: ...

    async def embed(self, texts: list[str]) -> list[list[float]]: ...

    async def decode(self, data: bytes, filename: str) -> np.ndarray: ...

    async def ingest(
        self,
        data: bytes,
        filename: str,
        speaker_id: str | None,
        reference_text: str | None,
        actor: str,
    ) -> dict[str, Any]: ...

    async def get_transcript(self, audio_id: str) -> dict[str, Any]: ...

    async def correct_transcript(self, audio_id: str, text: str, actor: str) -> dict[str, Any]: ...

    async def asr_stats(self) -> dict[str, Any]: ...

    async def stream_info(self) -> dict[str, Any]: ...

    async def stream_encode(self, window: np.ndarray) -> np.ndarray: ...

    async def stream_stats(self) -> dict[str, Any]: ...

    async def search(self, query: SearchQuery) -> list[dict[str, Any]]: ...

    async def audio(self, audio_id: str, range_header: str | None) -> AudioSlice: ...

    async def delete_recording(self, audio_id: str, actor: str) -> dict[str, Any]: ...

    async def request_training(self, actor: str) -> dict[str, Any]: ...

    async def pipeline_stats(self) -> dict[str, Any]: ...


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


_STATUS: tuple[tuple[type[Ai2TextError], int], ...] = (
    (AuthError, 401),
    (ForbiddenError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (TooLargeError, 413),
    (AudioDecodeError, 415),
    (RangeError, 416),
    (RateLimitError, 429),
    (InputError, 422),
    (StorageError, 503),
)


def status_of(error: Ai2TextError) -> int:
    return next((status for kind, status in _STATUS if isinstance(error, kind)), 500)


class _BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Counts the body while it streams in and answers 413 the moment it passes the limit
    (a Content-Length over the limit is refused before a byte is read)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        seen = 0
        started = exceeded = False

        async def counting_receive() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # the form parser turns any error while reading into its own 400: once over the
            # limit, whatever the app answers is replaced by the 413
            nonlocal started
            if exceeded:
                if not started:
                    started = True
                    await self._refuse(send)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _BodyTooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        limit_mib = self.max_bytes / 2**20
        response = JSONResponse(
            error_body("too_large", f"the request body is over the {limit_mib:.1f} MiB limit"),
            status_code=413,
            headers={"Connection": "close"},
        )
        await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


class TranscriptCorrection(BaseModel):
    text: str = Field(min_length=1, max_length=100_000)


class EmbeddingRequest(BaseModel):
    input: str | list[str]
    model: str | None = None


def create_api(backend: Backend) -> FastAPI:
    settings = backend.settings
    verifier = TokenVerifier(settings)
    trusted = parse_networks(settings.serve.trusted_proxies)
    per_principal = RateLimiter(settings.serve.rate_limit_per_minute)
    per_address = RateLimiter(settings.serve.rate_limit_per_address_per_minute)
    metrics = ApiMetrics()
    tracer = trace.get_tracer("ai2text.ingress")
    app = FastAPI(
        title="ai2text",
        version="1",
        description="Vietnamese speech recognition: OpenAI-compatible transcription, ingestion, "
        "transcripts and search.",
    )

    @app.exception_handler(Ai2TextError)
    async def _platform_error(request: Request, exc: Ai2TextError) -> JSONResponse:
        headers = {}
        if isinstance(exc, RateLimitError):
            headers["Retry-After"] = str(max(1, round(exc.retry_after_s)))
        if isinstance(exc, AuthError):
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse(
            error_body(exc.code, exc.message), status_code=status_of(exc), headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()
        )
        return JSONResponse(error_body("invalid_input", problems), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code)

    @app.middleware("http")
    async def _context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # Serve's proxy takes X-Request-ID from the client (or makes one) and echoes it back
        request_id = serve_context._get_serve_request_context().request_id
        started = time.perf_counter()
        metrics.in_flight.inc()
        span = tracer.start_span(f"{request.method} {request.url.path}")
        try:
            # the request's span is current while it runs: the ingress's calls nest under it
            with trace.use_span(span, end_on_exit=False):
                if request.url.path not in _UNLIMITED:
                    peer = request.client.host if request.client else "unknown"
                    forwarded = request.headers.get("x-forwarded-for")
                    address = client_address(peer, forwarded, trusted)
                    try:
                        per_address.take(f"address:{address}")
                    except RateLimitError as exc:
                        response: Response = await _platform_error(request, exc)
                    else:
                        response = await call_next(request)
                else:
                    response = await call_next(request)
        finally:
            metrics.in_flight.dec()
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        span.set_attributes(
            {"http.route": path, "http.status_code": response.status_code, "request.id": request_id}
        )
        span.end()
        metrics.observe(request.method, path, response.status_code, time.perf_counter() - started)
        return response

    app.add_middleware(BodyLimit, max_bytes=settings.serve.max_upload_bytes + 64 * 1024)
    if settings.serve.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.serve.cors_origins),
            allow_methods=["GET", "POST", "PUT"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        )

    def principal(scope: AuthScope) -> Callable[[Request], Principal]:
        def check(request: Request) -> Principal:
            caller = verifier.verify(bearer_token(request.headers.get("authorization")))
            caller.require(scope)
            per_principal.take(f"principal:{caller.subject}")
            return caller

        return check

    async def read_upload(file: UploadFile) -> bytes:
        data = await file.read(settings.serve.max_upload_bytes + 1)
        if len(data) > settings.serve.max_upload_bytes:
            raise TooLargeError(
                f"the file is over the {settings.serve.max_upload_bytes / 2**20:.1f} MiB limit"
            )
        if not data:
            raise InputError("the file is empty")
        return data

    @app.get("/health", tags=["platform"])
    async def health() -> dict[str, Any]:
        stats = await backend.asr_stats()
        return {"status": "ok", "model_version": stats.get("model_version")}

    @app.get("/metrics", tags=["platform"], response_class=PlainTextResponse)
    async def prometheus() -> Response:
        body, content_type = metrics.render(
            await backend.asr_stats(), await backend.stream_stats(), await backend.pipeline_stats()
        )
        return Response(body, media_type=content_type)

    @app.post("/v1/audio/transcriptions", tags=["transcription"], response_model=None)
    async def transcriptions(
        caller: Annotated[Principal, Depends(principal("transcribe"))],
        file: Annotated[UploadFile, File(description="audio in any format ffmpeg reads")],
        model: Annotated[str | None, Form(max_length=128)] = None,
        language: Annotated[str | None, Form(max_length=16)] = None,
        prompt: Annotated[str | None, Form(max_length=4096)] = None,
        response_format: Annotated[ResponseFormat, Form()] = "json",
        temperature: Annotated[float | None, Form(ge=0, le=1)] = None,
        granularities: Annotated[
            list[Literal["word", "segment"]] | None, Form(alias="timestamp_granularities[]")
        ] = None,
    ) -> Response | dict[str, Any]:
        if language not in (None, "", "vi"):
            raise InputError(f"language {language!r} is not served here; use 'vi' or leave it out")
        data = await read_upload(file)
        samples = await backend.decode(data, file.filename or "upload")
        transcript = await backend.transcribe(samples)
        cleaned = await backend.clean(transcript.text)
        text = cleaned["text_clean"]
        if response_format == "text":
            return PlainTextResponse(text)
        if response_format == "srt":
            return PlainTextResponse(to_srt(transcript))
        if response_format == "vtt":
            return PlainTextResponse(to_vtt(transcript), media_type="text/vtt")
        if response_format == "verbose_json":
            chosen = set(granularities or ["segment"])
            body = openai_verbose_json(transcript, "word" in chosen, "segment" in chosen)
            return {**body, "text": text}
        return {
            "text": text,
            "text_raw": transcript.text,
            "corrections": cleaned["corrections"],
            "model_version": transcript.model_version,
            "duration": transcript.duration_s,
            "confidence": transcript.confidence,
        }

    @app.post("/v1/ingest", tags=["ingestion"], status_code=202)
    async def ingest(
        caller: Annotated[Principal, Depends(principal("ingest"))],
        file: Annotated[UploadFile, File()],
        speaker_id: Annotated[str | None, Form(min_length=1, max_length=200)] = None,
        reference_text: Annotated[str | None, Form(max_length=100_000)] = None,
    ) -> dict[str, Any]:
        data = await read_upload(file)
        return await backend.ingest(
            data, file.filename or "upload", speaker_id, reference_text, caller.subject
        )

    @app.get("/v1/transcripts/{audio_id}", tags=["transcripts"])
    async def get_transcript(
        audio_id: str, caller: Annotated[Principal, Depends(principal("read"))]
    ) -> dict[str, Any]:
        return await backend.get_transcript(audio_id)

    @app.put("/v1/transcripts/{audio_id}", tags=["transcripts"])
    async def put_transcript(
        audio_id: str,
        correction: TranscriptCorrection,
        caller: Annotated[Principal, Depends(principal("write"))],
    ) -> dict[str, Any]:
        return await backend.correct_transcript(audio_id, correction.text, caller.subject)

    @app.get("/v1/search", tags=["search"])
    async def search(
        caller: Annotated[Principal, Depends(principal("read"))],
        q: Annotated[str, Query(min_length=1, max_length=500)],
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
        mode: Mode = "hybrid",
        speaker: Annotated[str | None, Query(max_length=200)] = None,
        split: Literal["train", "val", "test"] | None = None,
        verified: bool | None = None,
        model_version: Annotated[str | None, Query(max_length=128)] = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> dict[str, Any]:
        filters = SearchFilters(speaker, split, verified, model_version, since, until)
        results = await backend.search(SearchQuery(q, limit, mode, filters))
        return {"results": results}

    @app.get("/v1/audio/{audio_id}", tags=["search"], response_model=None)
    async def get_audio(
        audio_id: str,
        request: Request,
        caller: Annotated[Principal, Depends(principal("read"))],
    ) -> Response:
        part = await backend.audio(audio_id, request.headers.get("range"))
        headers = {"Accept-Ranges": "bytes", "Content-Length": str(len(part.data))}
        if part.partial:
            headers["Content-Range"] = part.content_range
        return Response(
            part.data, 206 if part.partial else 200, headers=headers, media_type="audio/wav"
        )

    @app.delete("/v1/recordings/{audio_id}", tags=["ingestion"])
    async def delete_recording(
        audio_id: str, caller: Annotated[Principal, Depends(principal("admin"))]
    ) -> dict[str, Any]:
        return await backend.delete_recording(audio_id, caller.subject)

    @app.post("/v1/train/now", tags=["training"], status_code=202)
    async def train_now(
        caller: Annotated[Principal, Depends(principal("admin"))],
    ) -> dict[str, Any]:
        return await backend.request_training(caller.subject)

    @app.post("/v1/embeddings", tags=["search"])
    async def embeddings(
        request: EmbeddingRequest, caller: Annotated[Principal, Depends(principal("read"))]
    ) -> dict[str, Any]:
        texts = [request.input] if isinstance(request.input, str) else request.input
        vectors = await backend.embed(texts)
        return {
            "object": "list",
            "model": request.model or "default",
            "data": [
                {"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)
            ],
        }

    streams = StreamEndpoint(settings, backend)

    @app.websocket("/v1/asr/stream")
    async def stream(websocket: WebSocket, token: str | None = None) -> None:
        await streams.serve(websocket, token)

    return app


class StreamEndpoint:
    """The WebSocket protocol of ARCHITECTURE.md with its limits: frame size, session length,
    idle time, open streams per replica, and the token's expiry (policy-violation close)."""

    def __init__(self, settings: Settings, backend: Backend) -> None:
        self.settings = settings.serve
        self.backend = backend
        self.verifier = TokenVerifier(settings)
        self.open = 0

    async def serve(self, websocket: WebSocket, query_token: str | None) -> None:
        await websocket.accept()
        header = websocket.headers.get("authorization")
        try:
            raw = bearer_token(header) if header else (query_token or bearer_token(None))
            caller = self.verifier.verify(raw)
            caller.require("transcribe")
        except Ai2TextError as exc:
            await websocket.close(code=WS_POLICY_VIOLATION, reason=exc.message[:120])
            return
        if self.open >= self.settings.max_streams:
            await websocket.close(code=WS_TRY_AGAIN_LATER, reason="too many open streams")
            return
        self.open += 1
        try:
            await self._run(websocket, caller.expires_at)
        except WebSocketDisconnect:
            pass
        finally:
            self.open -= 1

    async def _run(self, websocket: WebSocket, expires_at: float) -> None:
        start = await self._receive(websocket, expires_at)
        if start is None:
            return
        try:
            opening = json.loads(start.get("text") or "")
        except ValueError:
            opening = None
        if not (
            isinstance(opening, dict)
            and opening.get("type") == "start"
            and opening.get("sample_rate") == SAMPLE_RATE
            and opening.get("encoding", "pcm_s16le") == "pcm_s16le"
        ):
            await self._refuse(
                websocket,
                WS_UNSUPPORTED,
                'send {"type":"start","sample_rate":16000,"encoding":"pcm_s16le"} first',
            )
            return
        info = await self.backend.stream_info()
        session = StreamSession(
            Vocabulary(tuple(info["labels"]), info["kind"]),
            float(info["frame_s"]),
            StreamOptions(
                step_s=self.settings.stream_step_s,
                left_context_s=self.settings.stream_left_context_s,
                right_context_s=self.settings.stream_right_context_s,
                endpoint_silence_s=self.settings.stream_endpoint_silence_s,
                max_session_s=self.settings.ws_max_session_s,
            ),
        )
        await websocket.send_json({"type": "started", "model_version": info["model_version"]})
        while True:
            message = await self._receive(websocket, expires_at)
            if message is None:
                return
            data = message.get("bytes")
            if data is not None:
                if len(data) > self.settings.ws_max_frame_bytes:
                    await self._refuse(websocket, WS_TOO_BIG, "the audio frame is too large")
                    return
                if len(data) % 2:
                    await self._refuse(
                        websocket, WS_UNSUPPORTED, "pcm_s16le frames hold 2-byte samples"
                    )
                    return
                try:
                    session.push(np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0)
                except InputError as exc:
                    await self._refuse(websocket, WS_POLICY_VIOLATION, exc.message)
                    return
                await self._step(websocket, session, final=False)
                continue
            try:
                control = json.loads(message.get("text") or "")
            except ValueError:
                control = None
            if isinstance(control, dict) and control.get("type") == "end":
                await self._step(websocket, session, final=True)
                await websocket.close(code=1000)
                return
            await self._refuse(websocket, WS_UNSUPPORTED, 'expected audio bytes or {"type":"end"}')
            return

    async def _step(self, websocket: WebSocket, session: StreamSession, final: bool) -> None:
        while (window := session.window(final=final)) is not None:
            log_probs = await self.backend.stream_encode(window.samples)
            for event in session.accept(window, log_probs):
                await websocket.send_json(event.to_json())
            if final:
                return

    async def _receive(self, websocket: WebSocket, expires_at: float) -> Message | None:
        """The next message, or None after closing for expiry, idleness or a disconnect."""
        left = expires_at - time.time()
        if left <= 0:
            await self._refuse(websocket, WS_POLICY_VIOLATION, "the token has expired")
            return None
        try:
            message: Message = await asyncio.wait_for(
                websocket.receive(), timeout=min(left, self.settings.ws_idle_timeout_s)
            )
        except TimeoutError:
            expired = time.time() >= expires_at
            reason = "the token has expired" if expired else "no audio within the idle timeout"
            await self._refuse(websocket, WS_POLICY_VIOLATION, reason)
            return None
        if message["type"] == "websocket.disconnect":
            return None
        return message

    async def _refuse(self, websocket: WebSocket, code: int, reason: str) -> None:
        await websocket.send_json(error_body("stream", reason))
        await websocket.close(code=code, reason=reason[:120])
