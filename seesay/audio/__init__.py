"""Speech in and out: capture, voice activity, Whisper, TTS and playback."""
