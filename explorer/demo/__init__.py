"""The bundled offline demo: generated scenes with known truth, the small ViT trained
on them, and a ground-truth benchmark of explanation methods.

* :mod:`explorer.demo.scenes` - deterministic scene generator (image, label, mask, box);
* :mod:`explorer.demo.recipe` - the demo model's architecture, kwargs, normalisation and
  data config, shared by training and evaluation;
* ``python -m explorer.demo train`` - trains the demo ViT (:mod:`explorer.demo.train`);
* ``python -m explorer.demo evaluate`` - accuracy, pointing game and energy share of
  every explanation method, and the model-level bars (:mod:`explorer.demo.evaluate`).
"""

from .scenes import CLASS_NAMES, HELDOUT_SEED, NUM_CLASSES, TRAIN_SEED, Scene, make_batch, make_scene

__all__ = ["CLASS_NAMES", "HELDOUT_SEED", "NUM_CLASSES", "TRAIN_SEED", "Scene", "make_batch", "make_scene"]
