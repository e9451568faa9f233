"""The quality protocol (docs/background.md): MATLAB-compatible bicubic LR, Y-channel PSNR/SSIM.

Numbers produced here are meant to sit next to published tables, so every step follows the
convention those tables used rather than whatever a library does by default.
"""

from edgesr.quality.imresize import imresize
from edgesr.quality.metrics import psnr_y, ssim_y
from edgesr.quality.protocol import EvalResult, ImageScore, evaluate, prepare

__all__ = ["EvalResult", "ImageScore", "evaluate", "imresize", "prepare", "psnr_y", "ssim_y"]
