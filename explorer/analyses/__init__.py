"""The paper's analyses as pure functions: numpy / torch in, numpy out.

No gradio, no matplotlib here; each module holds one analysis with its formula.
``EXPLANATION_METHODS`` maps a display name to a :class:`~.methods.MethodSpec` (the
method and its options); the app's controls, the CLI's flags and the demo benchmark
read it. Each method reads out the rows the model's head uses
(``_tokens.pooled_rows``): the class-token row for class-token models, the mean of
the patch rows for average-pooled ones. ARCHITECTURE.md says how to add a method.
"""
from __future__ import annotations

import hashlib

import numpy as np

from .. import pacing

from ._tokens import pooled_rows, readout, readout_weights
from .attention_flow import attention_flow
from . import attn_lrp as _attn_lrp_module, transformer_attribution as _ta_module
from .attn_lrp import attn_lrp
from .attributions import integrated_gradients, occlusion, saliency
from .gradcam import grad_cam
from .head_importance import ablated_logits, head_importance
from .logit_lens import logit_lens
from .token_features import TokenNorms, feature_similarity, pca_rgb, token_norms
from .distance import AttentionDistanceAccumulator, mean_attention_distance, uniform_attention_distance
from .filters import embedding_filter_components, no_filters, rgb_embedding_filters
from .gradient_rollout import gradient_rollout
from . import legrad as _legrad_module
from .legrad import legrad
from .targets import ClassTarget, PromptTarget, Target, as_target, is_class
from .transformer_attribution import transformer_attribution
from .methods import MethodSpec, Option, all_options, applicable
from .not_available import NotAvailable
from .patch_embeddings import patch_embeddings
from .position import position_embedding_similarity
from .query import class_token_attention, head_class_attention, query_attention
from .rollout import HEAD_FUSIONS, attention_rollout, batch_rollout_rows, query_rollout, rollout_matrix


def _rollout(model, trace, target=None, head_fusion="mean", discard_ratio=0.0, start_block=0) -> np.ndarray:
    """Attention rollout (class independent: ``target`` is ignored)."""
    return attention_rollout(trace.attentions, trace.grid, trace.num_prefix_tokens, head_fusion=head_fusion,
                             discard_ratio=discard_ratio, start_block=start_block, rows=pooled_rows(model))


def _last_block(model, trace, target=None) -> np.ndarray:
    """Raw class-token attention of the last block, head mean (``target`` is ignored)."""
    last = np.asarray(trace.attentions[-1], dtype=np.float64).mean(axis=0)  # (T, T) head mean
    return readout(last, trace.grid, trace.num_prefix_tokens, pooled_rows(model))


def _attention_flow(model, trace, target=None) -> np.ndarray:
    """Max-flow from each patch to the readout through the attention graph (``target`` ignored)."""
    from tqdm.auto import tqdm

    with tqdm(total=trace.grid[0] * trace.grid[1], desc="attention flow", unit="patch", leave=False,
              delay=1.0, disable=None) as bar:  # shown after a second (ViT-B and up), and in a terminal only: a
        # bar inside another (the CLI's per image) moves the cursor up, an escape code in a captured log
        return attention_flow(trace.attentions, trace.grid, trace.num_prefix_tokens, pooled_rows(model),
                              progress=lambda done, total: (pacing.pause(), bar.update(1)))


def _of_input(analysis):
    """A class-specific method from ``analysis(model, x, target)``: it runs on the trace's image (already
    the model's crop) for ``target``, by default the trace's predicted class."""

    def compute(model, trace, target=None, **options) -> np.ndarray:
        return analysis(model, model.input_tensor(trace.input_image), trace.predicted if target is None else target,
                        **options)

    compute.__name__ = compute.__qualname__ = f"_{analysis.__name__}"
    return compute


def _random(model, trace, target=None) -> np.ndarray:
    """Uniform noise, the same for the same image (seeded by its pixels): the floor every method must beat."""
    digest = hashlib.sha256(trace.input_image.tobytes()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little")).random(trace.grid)


ROLLOUT_OPTIONS = (
    Option("head_fusion", "mean", "Head fusion", choices=HEAD_FUSIONS, ui_id="fusion",
           help="how one block's heads become one matrix"),
    Option("discard_ratio", 0.0, "Discard ratio", minimum=0.0, maximum=0.99, step=0.01, ui_id="discard",
           help="fraction of each row's weakest patch attention dropped before the residual"),
    Option("start_block", 0, "Start block", step=1, block_index=True, ui_id="start-block",
           help="first block multiplied in", aliases=("start_layer",)),
)

IG_STEPS = Option("n_steps", 32, "Steps", minimum=2, maximum=128, step=1, whole=True, ui_id="ig-steps",
                  help="integrated gradients' points along the path from the mean colour (cost: one "
                       "forward and backward each)")
OCCLUSION_WINDOW = Option("window", 1, "Occlusion window", minimum=1, maximum=4, step=1, whole=True,
                          ui_id="occlusion-window",
                          help="side of the greyed square, in patches (one forward per square: 2 takes a "
                               "quarter of the time of 1, at half the resolution); must divide the grid")

EXPLANATION_METHODS: dict[str, MethodSpec] = {
    spec.name: spec
    for spec in [
        MethodSpec("rollout", _rollout, options=ROLLOUT_OPTIONS,
                   description="Attention rollout (Abnar & Zuidema 2020; paper Figure 6)."),
        MethodSpec("gradient rollout", _of_input(gradient_rollout), class_specific=True, prompts=True,
                   cost=2.0, description="Gradient-weighted rollout (Chefer et al. 2021) for one class."),
        MethodSpec("last-block attention", _last_block,
                   description="The class token's attention in the last block, mean of heads."),
        MethodSpec("attention flow", _attention_flow,
                   cost=7.0, description="Max-flow from each patch to the class token through the attention "
                                         "graph (Abnar & Zuidema 2020)."),
        MethodSpec("grad-cam", _of_input(grad_cam), title="Grad-CAM", convolutional=True, class_specific=True, prompts=True,
                   cost=1.1,
                   description="Grad-CAM on the last block's norm1 output (Selvaraju et al. 2017; pytorch-grad-cam's ViT recipe)."),
        MethodSpec("integrated gradients", _of_input(integrated_gradients), convolutional=True, class_specific=True, prompts=True,
                   options=(IG_STEPS,), cost=63.0,
                   description="Integrated Gradients (Sundararajan et al. 2017, via Captum; 32 steps "
                               "from the mean colour by default), magnitude summed per patch."),
        MethodSpec("saliency", _of_input(saliency), convolutional=True, class_specific=True, prompts=True,
                   cost=2.0, description="Input-gradient magnitude (Simonyan et al. 2014, via Captum), mean per patch."),
        MethodSpec("occlusion", _of_input(occlusion), convolutional=True, class_specific=True, prompts=True, options=(OCCLUSION_WINDOW,),
                   cost=189.0, description="Drop of the class logit when each patch (or window of patches) is "
                                           "greyed out (via Captum)."),
        MethodSpec("transformer attribution", _of_input(transformer_attribution), title="Transformer Attribution", class_specific=True,
                   options=(ROLLOUT_OPTIONS[2],), cost=7.0, unavailable=_ta_module.unavailable,
                   description="Transformer Attribution (Chefer et al. CVPR 2021): each block's LRP relevance of "
                               "its attention, weighted by its gradient, rolled out."),
        MethodSpec("attnlrp", _of_input(attn_lrp), title="AttnLRP", class_specific=True,  # gammas: attn_lrp's arguments
                   cost=2.6, unavailable=_attn_lrp_module.unavailable,
                   description="AttnLRP (Achtibat et al. 2024, via lxt): layer-wise relevance propagation with "
                               "attention-aware rules, one forward and one backward."),
        MethodSpec("legrad", _of_input(legrad), title="LeGrad", class_specific=True, prompts=True,  # start_block: legrad's argument
                   cost=3.0, unavailable=_legrad_module.unavailable,
                   description="LeGrad (Bousselham et al. ICCV 2025): the last two blocks each read out through "
                               "the CLIP head, its score's positive gradient on that block's attention, summed."),
        MethodSpec("random", _random, convolutional=True, description="Random noise: the baseline every method must beat."),
    ]
}


def prompt_methods(model) -> list[str]:
    """The registered methods that explain a text prompt's similarity on ``model`` (a CLIP model)."""
    return [n for n in applicable_methods(model) if EXPLANATION_METHODS[n].prompts]


def default_method(model) -> str:
    """The map shown unless another is chosen: the rollout, or Grad-CAM for a model without attention (a CNN)."""
    return "rollout" if not EXPLANATION_METHODS["rollout"].refusal(model) else "grad-cam"


def applicable_methods(model, names=None) -> list[str]:
    """The registered methods (or ``names``) that can explain ``model``: Compare's and ``evaluate``'s default."""
    return applicable(EXPLANATION_METHODS, model, names)


__all__ = [
    "applicable_methods",
    "default_method",
    "prompt_methods",
    "ClassTarget",
    "PromptTarget",
    "Target",
    "as_target",
    "is_class",
    "legrad",
    "EXPLANATION_METHODS",
    "HEAD_FUSIONS",
    "MethodSpec",
    "Option",
    "all_options",
    "AttentionDistanceAccumulator",
    "NotAvailable",
    "patch_embeddings",
    "TokenNorms",
    "ablated_logits",
    "head_importance",
    "feature_similarity",
    "logit_lens",
    "pca_rgb",
    "token_norms",
    "attention_flow",
    "attn_lrp",
    "attention_rollout",
    "grad_cam",
    "integrated_gradients",
    "occlusion",
    "saliency",
    "class_token_attention",
    "embedding_filter_components",
    "no_filters",
    "gradient_rollout",
    "transformer_attribution",
    "head_class_attention",
    "mean_attention_distance",
    "position_embedding_similarity",
    "pooled_rows",
    "query_attention",
    "query_rollout",
    "rgb_embedding_filters",
    "uniform_attention_distance",
    "rollout_matrix",
    "batch_rollout_rows",
    "readout_weights",
]
