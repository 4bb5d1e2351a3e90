"""CLI commands for voice: ``transcribe``, ``say``, ``voice`` and ``bench voice``.

``transcribe`` and ``say`` run no language model, yet every command inherits the shared
model flags. Accepting them and doing nothing would run a different model than the one
asked for, so each flag either picks the model the command does run (``--model``: the
Whisper model, the Piper voice; ``--device`` for Whisper) or is refused with one line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from seesay.config import Settings
from seesay.errors import InputError, SeeSayError


def add_commands(sub: Any, bench: Any, parents: list[argparse.ArgumentParser]) -> None:
    tr = sub.add_parser(
        "transcribe",
        parents=parents,
        help="speech to text for audio files (any format)",
        description="Speech to text. Here --model names the Whisper model (a size such as base.en, "
        "a CTranslate2 model folder, or a .pt file for openai-whisper) and --device where it runs; "
        "both default to the voice settings.",
    )
    tr.add_argument("files", nargs="+", metavar="FILE", help="wav, flac, mp3, ogg or aiff; any rate")
    tr.add_argument("--language", help="language code such as en; default from settings")
    tr.add_argument("--words", action="store_true", help="print word timings too")
    tr.set_defaults(func=_transcribe)

    say = sub.add_parser(
        "say",
        parents=parents,
        help="speak text aloud or into a WAV file",
        description="Text to speech. Here --model names the Piper voice (a .onnx file with its "
        ".onnx.json beside it); it defaults to the voice settings.",
    )
    say.add_argument("text", help="what to say")
    say.add_argument("-o", "--output", metavar="FILE", help="write a WAV file instead of playing it")
    say.add_argument("--speed", type=float, help="speaking speed, 1 is natural")
    say.set_defaults(func=_say)

    voice = sub.add_parser("voice", parents=parents, help="talk with SeeSay (hands-free) in the terminal")
    voice.add_argument("--input-file", metavar="WAV", help="run one turn from this recording instead")
    voice.add_argument("--output-file", metavar="WAV", help="with --input-file: write the spoken reply here")
    voice.add_argument("--headset", action="store_true", help="keep listening while speaking (barge-in)")
    voice.add_argument("--list-devices", action="store_true", help="list microphones and speakers")
    voice.add_argument("--no-history", action="store_true", help="do not save this conversation")
    voice.set_defaults(func=_voice)

    bv = bench.add_parser("voice", parents=parents, help="STT/TTS speed and voice-to-voice latency")
    bv.add_argument("--turns", type=int, default=10, help="full turns to time (p50 over them)")
    bv.set_defaults(func=_bench_voice)


def _transcribe(args: argparse.Namespace, settings: Settings) -> int:
    from seesay.audio.stt import create_transcriber, transcribe_file

    _refuse_flags(args, "transcribe", "dtype", "remote", "remote_model")
    if args.language is not None:
        settings = settings.replace({"voice.language": args.language}, source="command line")
    if args.words:
        settings = settings.replace({"voice.word_timestamps": True})
    if args.model is not None:
        settings = settings.replace({"voice.stt_model": args.model}, source="command line")
    if args.device is not None:
        settings = settings.replace({"voice.stt_device": args.device}, source="command line")
    transcriber = create_transcriber(settings.voice)
    load = getattr(transcriber, "load", None)
    if load is not None:
        load()  # a model that cannot load fails once, not once per file
    failed = 0
    for name in args.files:
        try:
            result = transcribe_file(transcriber, name, progress=_progress(name) if args.verbose else None)
        except SeeSayError as e:
            failed += 1
            print(f"seesay: error: {e}", file=sys.stderr)
            continue
        prefix = f"{name}: " if len(args.files) > 1 else ""
        print(prefix + (result.text or "(no speech)"), flush=True)
        if args.words:
            for w in result.words:
                print(f"  {w.start:7.2f} {w.end:7.2f} {w.text.strip()}")
    if failed:
        print(f"seesay: {failed} of {len(args.files)} files could not be transcribed", file=sys.stderr)
    return 1 if failed else 0


def _refuse_flags(args: argparse.Namespace, command: str, *names: str) -> None:
    """Shared model flags that mean nothing to ``command``: an error, not silence."""
    given = [f"--{n.replace('_', '-')}" for n in names if getattr(args, n, None) is not None]
    if given:
        raise InputError(f"seesay {command} does not take {', '.join(given)}; see seesay {command} --help.")


def _progress(name: str) -> Any:
    def show(done: float, total: float) -> None:
        frac = f" {done / total:4.0%}" if total else ""
        sys.stderr.write(f"\r{name}: {done:7.1f} s{frac}")
        sys.stderr.flush()

    return show


def _say(args: argparse.Namespace, settings: Settings) -> int:
    from seesay.audio import audiofile
    from seesay.audio.tts import create_synthesizer, spoken_text

    _refuse_flags(args, "say", "device", "dtype", "remote", "remote_model")
    text = spoken_text(args.text)
    if not text.strip():
        what = "empty" if not args.text.strip() else "only control characters"
        raise InputError(f"Nothing to say: the text is {what}.")
    if args.speed is not None:
        settings = settings.replace({"voice.tts_speed": args.speed}, source="command line")
    if args.model is not None:
        settings = settings.replace({"voice.tts_voice": args.model}, source="command line")
    synth = create_synthesizer(settings.voice)
    if args.output:
        with audiofile.AudioWriter(args.output, synth.sample_rate) as out:
            for chunk in synth.stream(text):
                out.write(chunk)
            if not out.frames:  # raising inside the block leaves no file behind
                raise InputError("Nothing to say: the voice makes no sound for this text.")
        print(f"wrote {args.output} ({out.frames / synth.sample_rate:.1f} s)", file=sys.stderr)
        return 0
    from seesay.audio.playback import Player

    with Player(settings.voice.output_device) as player:
        for chunk in synth.stream(text):
            player.play(chunk, synth.sample_rate)
        player.wait()
        time.sleep(player.latency + 0.05)  # let the device buffer play out
    return 0


def _components(settings: Settings) -> tuple[Any, Any, Any]:
    from seesay.audio.stt import create_transcriber
    from seesay.audio.tts import create_synthesizer
    from seesay.audio.vad import Endpointer, SileroVAD, config_from

    return (
        create_transcriber(settings.voice),
        create_synthesizer(settings.voice),
        Endpointer(SileroVAD(), config_from(settings.voice)),
    )


def _voice(args: argparse.Namespace, settings: Settings) -> int:
    if args.list_devices:
        from seesay.audio.devices import list_devices

        for d in list_devices():
            pairs = (("in", d.max_input_channels), ("out", d.max_output_channels))
            kinds = ", ".join(k for k, n in pairs if n)
            mark = " (default)" if d.is_default_input or d.is_default_output else ""
            print(f"{d.label()} [{kinds}] {d.default_samplerate:.0f} Hz{mark}")
        return 0
    if args.output_file and not args.input_file:
        raise InputError("--output-file needs --input-file.")
    from seesay.chat import ChatSession
    from seesay.inference import create_engine

    engine = create_engine(settings)
    tools = None
    if settings.tools.enabled:
        from seesay.cli.chat import show_event
        from seesay.tools.approvals import deny_all
        from seesay.tools.runner import ToolRunner
        from seesay.tools.toolbox import Toolbox

        # Hands-free there is no one at a keyboard to approve with: the tools that change
        # nothing (the calculator, reading granted folders) run; the others are declined.
        tools = ToolRunner(Toolbox.from_settings(settings), deny_all, show_event)
    session = ChatSession(engine, settings, save=not args.no_history, tools=tools)
    stt, synth, endpointer = _components(settings)
    engine.load()  # load everything up front: a turn's latency should not include model loading
    stt.load()
    synth.load()
    if args.input_file:
        from seesay.audio.turn import run_turn_from_file

        result = run_turn_from_file(session, stt, synth, endpointer, args.input_file, args.output_file)
        print(f"you> {result.transcript}")
        print(f"seesay> {result.reply}")
        print(
            json.dumps(
                {
                    "latency": result.latency,
                    "reply_audio_s": round(len(result.audio) / result.sample_rate, 2),
                },
                indent=2,
            )
        )
        return 0
    return _live(args, settings, session, stt, synth, endpointer)


def _live(
    args: argparse.Namespace, settings: Settings, session: Any, stt: Any, synth: Any, endpointer: Any
) -> int:
    from seesay.audio.capture import Capture
    from seesay.audio.conversation import VoiceCallbacks, VoiceLoop
    from seesay.audio.playback import Player

    errors: list[SeeSayError] = []

    def on_transcript(text: str) -> None:
        print(f"\nyou> {text}\nseesay> ", end="", flush=True)

    callbacks = VoiceCallbacks(
        state=lambda s: print(f"\r[{s}]", end="  ", file=sys.stderr, flush=True),
        transcript=on_transcript,
        reply_delta=lambda d: print(d, end="", flush=True),
        reply_done=lambda r: print(" [interrupted]" if r.status == "interrupted" else "", flush=True),
        error=errors.append,
    )
    loop = VoiceLoop(
        session,
        stt,
        synth,
        endpointer,
        Capture(settings.voice.input_device),
        Player(settings.voice.output_device),
        headset=args.headset or settings.voice.headset,
        callbacks=callbacks,
    )
    print("SeeSay is listening — speak, then pause. Ctrl-C to leave.", file=sys.stderr)
    loop.start()
    try:
        while loop._thread is not None and loop._thread.is_alive():
            time.sleep(0.2)
    except KeyboardInterrupt:
        print(file=sys.stderr)
    finally:
        loop.stop()
    if errors:
        raise errors[0]
    return 0


def _bench_voice(args: argparse.Namespace, settings: Settings) -> int:
    from seesay.audio.bench import bench_voice

    print(json.dumps(bench_voice(settings, turns=max(1, args.turns)), indent=2))
    return 0
