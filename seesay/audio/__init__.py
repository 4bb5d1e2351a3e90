"""Speech in and out: capture, voice activity, Whisper, TTS and playback."""

SAMPLE_RATE = 16000
"""What the microphone is resampled to and what Whisper and the voice detector listen at."""
