__version__ = "0.1.0"

from .inference import load_generator, sample, load_pretrained, list_pretrained, model_card
