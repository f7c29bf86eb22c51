"""Plain-language explanations shown beside each view (for classrooms and newcomers)."""

INTRO = """
# ViT Explorer
Look inside a **Vision Transformer** (ViT). The model cuts the image into square
*patches*, turns each into a vector (a *token*), adds a *position embedding*, and lets
every token look at every other one through *self-attention*, block after block. These
views show where it looks, following the analyses of Dosovitskiy et al.,
*An Image is Worth 16x16 Words* (ICLR 2021), Figures 6 and 7.
Pick a model, drop an image (or pick an example), then open the tabs.
"""

PREDICTION = """
**Prediction.** The five most likely classes and their probabilities (softmax of the
model's output). The image shown is exactly what the model saw: resized and
center-cropped to its input size.
"""

ROLLOUT = """
**Attention rollout** (paper Figure 6, Appendix D.8; Abnar & Zuidema 2020). Attention
flows through the blocks, and each block also passes its input straight on (the
residual connection). Rollout follows that flow: per block it averages the heads
(*head fusion*), adds the identity for the residual, renormalizes rows to sum to 1,
and multiplies the blocks together. The class token's row over the patches says how
much each patch fed the final answer.
*Figure 6 look:* the image seen through the map (scaled so its maximum is 1) over
black. *Heat overlay:* the same map through a colormap.
*Discard ratio* drops the weakest fraction of each row's patch attention before the
residual (never the class/register tokens). *Start layer* skips early blocks.
**Gradient rollout** (Chefer et al. 2021) is class-specific: each block's attention is
weighted by its gradient for the chosen class, keeping only positive evidence.
**Last-block attention** is the raw class-token attention of the final block.
The other methods (attention flow, Grad-CAM, Integrated Gradients, saliency, occlusion
and a random baseline) are explained, and scored, on the **Compare methods** tab.
"""

QUERY = """
**Attention of one patch.** Click a patch on the image: the middle picture shows
where that patch looks in the chosen block (one head, or the mean of all heads); the
right one is its *rollout row*: where its information comes from through all blocks.
Early blocks often look at neighbours; later ones look across the image.
"""

HEADS = """
**Heads of one block.** Each head of a block attends differently. Each panel shows the
class token's attention in one head (each scaled to its own maximum).
"""

DISTANCE = """
**Mean attention distance** (paper Figure 7 right, Appendix D.7). For each head: the
distance in pixels between a query patch and the patches it attends to, weighted by
attention and averaged over query patches (class/register tokens are left out, weights
are not renormalized, as in Kornblith's reference code). It is like a receptive-field
size: small = local head, large = global head. The paper finds some heads are global
already in the first blocks, and all become global with depth. The note under the table
gives the "fully global" level for this model's grid (116.5 px for ViT-B/16 at 224 px).
Batch mode averages over many images without keeping their maps.
"""

MODEL = """
**What the model learned before seeing your image.**
*RGB embedding filters* (Figure 7 left): the first layer turns each patch into a
vector with learned filters; shown are their top principal components (or the raw
first filters), each scaled to [0, 1] on its own since a component's sign is
arbitrary. *Position embedding similarity* (Figure 7 center): tile (r, c) shows the
cosine similarity between the position embedding of patch (r, c) and every other
patch. The paper's ViTs learn that nearby patches are similar: each tile shows a bright
spot around its own position, and rows and columns appear. What a model learns here
depends on its data: a small model trained on small images may show coarser structure,
such as border versus interior patches.
Models without learned absolute position embeddings (e.g. RoPE) have no such grid.
"""

COMPARE = """
**Which explanation can I trust?** Every method explains the same image and class (the
class picked on the rollout tab; by default the prediction), and each map is then
tested against the model itself, without any labels:

- **Deletion**: the most relevant patches are blurred away first. If the map is right,
  the class's probability falls fast: a **low** area under the curve is good.
- **Insertion**: starting from a blurred image, the most relevant patches come back
  first. The probability should rise fast: a **high** area is good.
- **Perturbation** (positive / negative): patches are greyed out (or blurred) from the most
  (least) relevant on, up to 90%: low positive and high negative areas are good.
- **Sanity ρ**: the model's top blocks are replaced by random weights and the map is
  computed again. A map that stays the same (ρ near 1) does not depend on what the model
  learned. Lower is better; the **random** map is there to show what "no explanation" scores.

Each map is scaled to its own maximum. Click a map for its curves. Attention flow and the
sanity check take a while on large models; the bar shows progress.
"""
