"""mnistdemo: train a handwritten-digit network, watch it learn, and draw digits for it.

Sections, as in the notebook: data, models, training, inference (plus checkpoint, augment,
drawing, charts); the CLI (`python -m mnistdemo`) and the Streamlit app (`app.py`) sit on top.
"""

from .checkpoint import load_model
from .drawing import canvas_to_mnist
from .inference import predict_proba

__all__ = ["canvas_to_mnist", "load_model", "predict_proba"]
