"""The two things the runtime is for, as Python API (the CLI only parses arguments and calls these):

- :class:`Upscale` / :func:`upscale`: a video file, an image, a folder or a glob -> the same,
  upscaled; every frame is kept, and a video's audio stream is copied or dropped knowingly.
- :class:`Stream` / :func:`stream`: a live source -> a sink, dropping stale frames, reconnecting
  a lost camera or stream, reporting statistics as it goes.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from edgesr.errors import EdgeSRError, InputError
from edgesr.io import sinks as sink_mod
from edgesr.io import sources as source_mod
from edgesr.io.images import IMAGE_SUFFIXES
from edgesr.lazy import available, require
from edgesr.log import logger
from edgesr.runtime.runners import RunnerOptions, open_runner
from edgesr.runtime.stats import PipelineStats
from edgesr.runtime.streaming import Pipeline, PipelineOptions, PipelineResult
from edgesr.runtime.tiling import DEFAULT_OVERLAP

AUDIO_POLICIES = ("auto", "copy", "drop")


@dataclass
class UpscaleOptions:
    """``audio``: ``auto`` copies a video's audio when PyAV can (and says so when it cannot),
    ``copy`` fails rather than lose it, ``drop`` writes video only."""

    runner: RunnerOptions = field(default_factory=RunnerOptions)
    tile: tuple[int, int] | None = None
    tile_overlap: int = DEFAULT_OVERLAP
    batch: int | None = None
    codec: str = "mp4v"
    crf: int = 18
    audio: str = "auto"
    image_format: str = "png"
    progress: bool = True
    resume: bool = False
    memory_budget_mb: int | None = None

    def __post_init__(self) -> None:
        if self.audio not in AUDIO_POLICIES:
            raise InputError(f"unknown audio policy '{self.audio}'; choose one of {', '.join(AUDIO_POLICIES)}")


class Upscale:
    """``Upscale(source, target, model, options)()`` upscales a video, image, folder or glob into ``target``."""

    def __init__(
        self,
        source: str | os.PathLike,
        target: str | os.PathLike,
        model: str | os.PathLike,
        options: UpscaleOptions | None = None,
    ):
        self.source, self.target, self.model = str(source), str(target), Path(model)
        self.options = options if options is not None else UpscaleOptions()

    def __call__(self) -> PipelineResult:
        opts = self.options
        if Path(self.source).resolve() == Path(self.target).resolve():
            raise InputError(f"the output {self.target} would overwrite the input; choose another -o")
        source = source_mod.open_source(self.source)
        if source.live:
            raise InputError(f"{self.source} is a live source; use 'edgesr stream --source {self.source} --sink ...'")
        if isinstance(source, source_mod.VideoFileSource) and Path(self.target).suffix.lower() in IMAGE_SUFFIXES:
            raise InputError(f"{self.source} is a video; -o must be a video file or a folder, not an image")
        runner = open_runner(self.model, opts.runner)
        with contextlib.ExitStack() as stack:
            stack.enter_context(source)
            sink = sink_mod.open_sink(
                self.target,
                sink_mod.SinkOptions(fps=source.fps, codec=opts.codec, crf=opts.crf, image_format=opts.image_format),
            )
            stack.enter_context(sink)
            self._resume(source, sink)
            audio, audio_note = self._audio_plan(source, sink)
            stack.enter_context(runner)
            bar = stack.enter_context(_progress_bar(source.frame_count, opts.progress))
            pipeline = Pipeline(
                source,
                runner,
                sink,
                PipelineOptions(
                    tile=opts.tile,
                    tile_overlap=opts.tile_overlap,
                    batch=opts.batch,
                    memory_budget_mb=opts.memory_budget_mb,
                ),
                on_progress=bar,
            )
            sink.outcome = "failed"  # until the pipeline returns: an error removes what this run wrote
            result = pipeline()
            sink.outcome = "interrupted" if result.interrupted else "complete"
        if sink.kept_partial is not None:
            result.stats["partial"] = str(sink.kept_partial)
        if isinstance(sink, sink_mod.VideoFileSink):
            copied = audio is not None and sink.frames_written
            result.stats["audio"] = self._copy_audio(sink.path, source.path, audio) if copied else audio_note
        return result

    def _resume(self, source, sink) -> None:
        if not self.options.resume:
            return
        if not (isinstance(source, source_mod.ImageFilesSource) and isinstance(sink, sink_mod.ImageFolderSink)):
            raise InputError("--resume continues image files into a folder; for a video, run it again without --resume")
        done = source.skip_done(lambda p: sink.path_for(p.stem).is_file())
        logger.info("resuming: %d of %d images already in %s", done, done + source.frame_count, sink.folder)

    def _audio_plan(self, source, sink) -> tuple[str | None, str]:
        """The codec of the audio stream to copy (None: nothing to copy) and what happens to the audio."""
        if not (isinstance(source, source_mod.VideoFileSource) and isinstance(sink, sink_mod.VideoFileSink)):
            return None, "none"
        if self.options.audio == "drop":
            logger.info("audio: not copied (--audio drop)")
            return None, "dropped (--audio drop)"
        if not available("av"):
            if self.options.audio == "copy":
                require("av")
            logger.warning(
                "audio: PyAV is not installed, so an audio stream in %s (if any) is dropped; "
                "pip install 'edgesr[video]' to keep it, or pass --audio drop",
                source.path.name,
            )
            return None, "unknown: PyAV is not installed, so any audio stream was dropped"
        from edgesr.io.pyav import audio_codec

        codec = audio_codec(source.path)
        return codec, "none (the input has no audio)"

    def _copy_audio(self, video: Path, original: Path, codec: str) -> str:
        from edgesr.io.pyav import copy_audio

        try:
            seconds = copy_audio(video, original, video)
        except InputError as exc:
            if self.options.audio == "copy":
                raise
            logger.warning("audio: %s; the video is written without sound", exc)
            return f"dropped: {exc}"
        logger.info("audio: copied %.1f s of %s audio from %s", seconds, codec, original.name)
        return f"copied {codec} ({seconds:.1f} s)"


def upscale(
    source: str | os.PathLike, target: str | os.PathLike, model: str | os.PathLike, **options
) -> PipelineResult:
    """Upscale ``source`` into ``target`` with ``model``; keywords are :class:`UpscaleOptions` fields."""
    return Upscale(source, target, model, UpscaleOptions(**options))()


@dataclass
class StreamOptions:
    runner: RunnerOptions = field(default_factory=RunnerOptions)
    pipeline: PipelineOptions = field(default_factory=lambda: PipelineOptions(report_every=5.0))
    reconnect: source_mod.ReconnectPolicy = field(default_factory=source_mod.ReconnectPolicy)
    source: source_mod.SourceOptions = field(default_factory=source_mod.SourceOptions)
    sink: sink_mod.SinkOptions = field(default_factory=sink_mod.SinkOptions)


class Stream:
    """``Stream(source, sink, model, options)()`` runs a live source (or a file) through ``model`` into ``sink``.

    A live source is wrapped in a :class:`~edgesr.io.sources.ReconnectingSource` unless
    ``options.reconnect.retries`` is 0. ``on_report(stats)`` replaces the periodic log line.
    On an error the statistics so far are logged before it propagates.
    """

    def __init__(
        self,
        source: str,
        sink: str,
        model: str | os.PathLike,
        options: StreamOptions | None = None,
        on_report: Callable[[PipelineStats], None] | None = None,
    ):
        self.source_uri, self.sink_uri, self.model = str(source), str(sink), Path(model)
        self.options = options if options is not None else StreamOptions()
        self.on_report = on_report
        self.pipeline: Pipeline | None = None

    def __call__(self) -> PipelineResult:
        opts = self.options
        source = source_mod.open_source(self.source_uri, opts.source)
        if source.live and opts.reconnect.retries > 0:
            source = source_mod.ReconnectingSource(
                lambda: source_mod.open_source(self.source_uri, opts.source), opts.reconnect
            )
        runner = open_runner(self.model, opts.runner)
        with contextlib.ExitStack() as stack:
            stack.enter_context(source)
            sink_options = sink_mod.SinkOptions(
                fps=opts.sink.fps or source.fps,
                codec=opts.sink.codec,
                crf=opts.sink.crf,
                image_format=opts.sink.image_format,
                flag="--sink",
            )
            sink = stack.enter_context(sink_mod.open_sink(self.sink_uri, sink_options))
            stack.enter_context(runner)
            self.pipeline = Pipeline(source, runner, sink, opts.pipeline, on_report=self.on_report)
            try:
                return self.pipeline()
            except EdgeSRError:
                logger.info("before the error: %s", self.pipeline.stats.line(source))
                raise


def stream(source: str, sink: str, model: str | os.PathLike, **options) -> PipelineResult:
    """Run ``source`` through ``model`` into ``sink``; keywords are :class:`StreamOptions` fields."""
    return Stream(source, sink, model, StreamOptions(**options))()


@contextlib.contextmanager
def _progress_bar(total: int | None, enabled: bool):
    """A callback that moves a tqdm bar to the number of frames written (on a terminal only: redirected,
    a bar is only noise in the log)."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    tqdm = require("tqdm").tqdm
    with tqdm(total=total, unit="frame", file=sys.stderr, dynamic_ncols=True, leave=True) as bar:

        def update(done: int) -> None:
            bar.update(done - bar.n)

        yield update
