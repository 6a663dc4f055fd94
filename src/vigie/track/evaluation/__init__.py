"""Measuring trackers offline: the scene simulator (known trajectories, a simulated detector) and
MOT metrics (MOTA, IDF1, HOTA). Pure numpy; imports nothing else of the track stage.
"""

from vigie.track.evaluation.metrics import evaluate, evaluate_frames, format_mot, parse_mot
from vigie.track.evaluation.simulate import SimulatedScene, simulate

__all__ = ["SimulatedScene", "evaluate", "evaluate_frames", "format_mot", "parse_mot", "simulate"]
