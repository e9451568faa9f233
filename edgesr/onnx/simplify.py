"""Graph simplification: onnxsim first, onnxslim when onnxsim is missing or fails."""

from __future__ import annotations

from edgesr.errors import ModelError
from edgesr.lazy import available
from edgesr.log import logger


def simplify(model) -> tuple[object, str, list[str]]:
    """Constant-fold and simplify ``model``. Returns the result, the tool used and notes.

    Numeric parity is proven afterwards on real images, so the simplifiers' own random-input
    checks are turned off.
    """
    notes: list[str] = []
    if available("onnxsim"):
        import onnxsim

        try:
            simplified, _ = onnxsim.simplify(model, check_n=0)
            return simplified, f"onnxsim {onnxsim.__version__.lstrip('v')}", notes
        except Exception as exc:  # onnxsim surfaces C++ failures as assorted exception types
            notes.append(f"onnxsim failed ({_first_line(exc)}); used onnxslim")
            logger.warning("onnxsim failed (%s); falling back to onnxslim", _first_line(exc))
    else:
        notes.append("onnxsim is not installed; used onnxslim")
    if not available("onnxslim"):
        raise ModelError("neither onnxsim nor onnxslim can simplify this model; pip install onnxslim")
    import onnxslim

    try:
        slimmed = onnxslim.slim(model)
    except Exception as exc:
        raise ModelError(f"onnxslim could not simplify the model ({_first_line(exc)})") from None
    return slimmed, f"onnxslim {getattr(onnxslim, '__version__', '')}".strip(), notes


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
