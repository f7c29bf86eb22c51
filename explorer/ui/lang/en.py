"""English: every word the app writes, and the default language.

The tables (every language file has the same ones, with the same keys; :mod:`explorer.ui.lang`
checks them):

- ``PAGE``: the page's labels and explanations, translated in the browser by Gradio's
  ``gr.I18n`` (``i18n.T(key)``). No values in them, and no key may equal a string a
  component shows as a choice (Gradio translates choices too).
- ``OPTIONS``: the label (``name``) and help (``name_info``) of each method option's control.
  In English they are the method registry's own (``Option.label`` and ``Option.help`` in
  ``explorer/analyses/__init__.py``), read from there rather than written twice.
- ``TOUR_LABELS``, ``TOUR_TITLES``, ``TOUR_TEXTS``: the guided tour's buttons, and each
  step's title and text, by step (``views.TOUR_STEPS``).
- ``SAY``: the sentences the server writes with ``{values}`` in them (``messages.say``), in
  the session's language; a translation keeps every ``{placeholder}`` of the English.
- ``MODEL_NOTES``: the model card's one-line note of each catalog model, by its spec. In
  English they are the catalog's own (``CatalogEntry.note``).
- ``MODEL_LABELS``: each catalog model's name in the model pickers, by its spec (in English the
  catalog's own ``CatalogEntry.label``, which is also the value the picker sends).
- ``CHOICES``: how a control shows each of its choices, by ``"<control>:<value>"`` (``"method:rollout"``,
  ``"fill:mean"``, ``"head_fusion:max"``). The value is the method registry's name or the option's value that
  the API and the command line take; in English the label is the value itself, read from where it is defined.
  Translated at the page's edge only: radio buttons in the browser (``i18n.choices``), captions and tables on
  the server (``messages.choice_label``).
- ``GRADIO``: Gradio's own words on its controls, which its language files lack: the tooltips and screen-reader
  labels it writes as English literals (``"Fullscreen"``, ``"Thumbnail {i} of {n}"``; in English each is Gradio's
  text, word for word, which ``gradio_fixes.page_words`` looks for), and ``complete``, the screen-reader word for
  a finished run that Gradio asks its i18n for (``common.complete``) and no language of Gradio's defines.

The transformer's blocks are "blocks" everywhere (never "layers").
"""
from __future__ import annotations

from ...analyses import EXPLANATION_METHODS, all_options
from ...analyses.not_available import CNN_REASONS
from ...analyses.perturbation import FILLS
from ...analyses.surgery import MODES as SURGERY_MODES
from ...capture import ABLATION_MODES
from ...models.catalog import CATALOG
from ...render.figures import HEAD_STYLES

PAGE = {
    "intro": """
## ViT Explorer
Look inside a **Vision Transformer** (ViT): what it answers for your image, and where it looks.
Pick a model, drop an image (or click an example), then open the tabs below.
""",
    "about": "How a Vision Transformer reads an image",
    "intro_more": """
The model cuts the image into square *patches*, turns each into a vector (a *token*), adds a
*position embedding*, and lets every token look at every other one through *self-attention*,
block after block. These views show where it looks, following the analyses of Dosovitskiy et
al., *An Image is Worth 16x16 Words* (ICLR 2021), Figures 6 and 7. The *Guided tour* tab
below walks through it step by step on your image.
""",
    "prediction_help": """
**Prediction.** The five most likely classes and their probabilities (softmax of the
model's output). The image shown is exactly what the model saw: resized and
center-cropped to its input size.
""",
    "rollout_help": """
**Attention rollout** (paper Figure 6, Appendix D.8; Abnar & Zuidema 2020). Attention
flows through the blocks, and each block also passes its input straight on (the
residual connection). Rollout follows that flow: per block it averages the heads
(*head fusion*), adds the identity for the residual, renormalizes rows to sum to 1,
and multiplies the blocks together. The class token's row over the patches says how
much each patch fed the final answer.
*Figure 6 look:* the image seen through the map (scaled so its maximum is 1) over
black. *Heat overlay:* the same map through a colormap, from its lowest value to its highest.
*Discard ratio* drops the weakest fraction of each row's patch attention before the
residual (never the class/register tokens). *Start block* skips early blocks.
**Gradient rollout** (Chefer et al. 2021) is class-specific: each block's attention is
weighted by its gradient for the chosen class, keeping only positive evidence.
**Last-block attention** is the raw class-token attention of the final block.
The list's other methods (attention flow, Grad-CAM, integrated gradients, saliency, occlusion,
Transformer Attribution and AttnLRP, which pass the answer back layer by layer, and a random
baseline) are explained, and scored against each other, on the **Compare methods** tab.
""",
    "query_help": """
**Attention of one patch.** Click a patch on the image: *Its attention in this block* shows
where that patch looks in the chosen block (one head, or the mean of all heads); *Its rollout
row* shows where its information comes from through all blocks.
Early blocks often look at neighbours; later ones look across the image.
""",
    "heads_help": """
**Heads of one block.** Each head of a block attends differently. Each panel shows the
class token's attention in one head (each scaled to its own maximum).
""",
    "distance_help": """
**Mean attention distance** (paper Figure 7 right, Appendix D.7). For each head: the
distance in pixels between a query patch and the patches it attends to, weighted by
attention and averaged over query patches (class/register tokens are left out, weights
are not renormalized, as in Kornblith's reference code). It is like a receptive-field
size: small = local head, large = global head. The paper finds some heads are global
already in the first blocks, and all become global with depth. The note under the table
gives the "fully global" level for this model's grid (116.5 px for ViT-B/16 at 224 px).
Batch mode averages over many images without keeping their maps.
""",
    "model_help": """
**What the model learned before seeing your image.**
*RGB embedding filters* (Figure 7 left): the patch embedding, before the first block,
turns each patch into a vector with learned filters; shown are their top principal
components (or the raw first filters), each scaled to [0, 1] on its own since a
component's sign is arbitrary. *Position embedding similarity* (Figure 7 center): tile (r, c) shows the
cosine similarity between the position embedding of patch (r, c) and every other
patch. The paper's ViTs learn that nearby patches are similar: each tile shows a bright
spot around its own position, and rows and columns appear. What a model learns here
depends on its data: a small model trained on small images may show coarser structure,
such as border versus interior patches.
Models without learned absolute position embeddings (e.g. RoPE) have no such grid.
""",
    "compare_help": """
**Which explanation can I trust?** Every method explains the same image and class (the
class picked on the rollout tab; by default the prediction), and each map is then
tested against the model itself, without any labels:

- **Deletion** (*del.* in the table): the most relevant patches are blurred away first. If the map is right,
  the class's probability falls fast: a **low** area under the curve is good.
- **Insertion** (*ins.*): starting from a blurred image, the most relevant patches come back
  first. The probability should rise fast: a **high** area is good.
- **Perturbation** (positive / negative, *pos.* / *neg.*): patches are removed from the most (least) relevant
  on, up to 90%, filled as *Removed patches become* says (by default the image's average colour; deletion and
  insertion always blur): low positive and high negative areas are good.
- **Sanity ρ**: the model's top blocks are replaced by random weights and the map is
  computed again. A map that stays the same (ρ near 1) does not depend on what the model
  learned. Lower is better; the **random** map is there to show what "no explanation" scores.
- **vs random**: each area minus the random map's on this image, in the order of the four area
  columns (positive, negative, deletion, insertion), signed so that **+** means better than random.
  One image gives one number per map, so there is no interval here; `python -m explorer evaluate`
  over a folder gives the 95% interval and says when a metric cannot tell a method from random.

Each map is scaled to its own maximum. Click a map for its curves. Attention flow and the
sanity check take a while on large models; the bar shows progress.
""",
    "model": "Model", "model_info_open": "A curated model, or type any timm ViT name.",
    "model_info_closed": "The models this server offers.", "your_image": "Your image", "examples": "Examples (click one)",
    "seen": "What the model sees", "prediction": "Prediction (top 5)",
    "where": "Where it looks",
    "where_help": "**Where the model looks:** the attention rollout of this image, red where patches fed the "
                  "answer most, blue where they hardly did (a CNN, which has no attention, or a Swin, whose attention "
                  "stays inside windows: its Grad-CAM). More methods "
                  "on the *Attention rollout* tab.",
    "tab_rollout": "Attention rollout", "method": "Method", "target": "Class (class-specific methods)",
    "alpha": "Overlay alpha", "cmap": "Colormap", "mask_label": "Figure 6 look: image through the map", "heat_label": "Heat overlay",
    "guess_hidden": "**The model's map and answer are hidden** while *Guess first* is on (Attention rollout tab): "
                    "mark your guess there and reveal it, or untick the box to see them.",
    "guess_mode": "Guess first: hide the map until I have marked where I think the model looks",
    "prompts_help": "**Words as targets (CLIP models).** Type what to look for, several prompts separated by commas "
                    "or new lines (\"a cat, the ears, grass\"). Each gets its own map: where the image makes the "
                    "model's score for that text (its similarity, as CLIP computes it) high. Beside each map: the "
                    "score and its share among your prompts, CLIP's zero-shot guess when the prompts are labels.",
    "prompts": "Prompts (comma or line separated)", "prompts_placeholder": "a cat, the ears, grass",
    "prompt_method": "Method for the prompts", "prompt_run": "Explain the prompts", "prompt_gallery": "A map per prompt",
    "guess_about": "What do you guess?",
    "guess_about_class": "where the model looks for its answer (its rollout, revealed after your guess)",
    "guess_about_patch": "where the followed patch looks (cyan; click another on the Attention explorer)",
    "guess_block": "Block (for a followed patch)",
    "guess_block_info": "the block whose attention you guess: early blocks look near, late ones far",
    "guess_image": "Click the patches you think the model uses (click again to unmark)",
    "guess_patches": "Your patches (row,col; row,col ...)", "guess_clear": "Clear my guess", "guess_reveal": "Reveal the map",
    "reveal_image": "The map with your patches (white) and its strongest patches (red; white inside red: both)",
    "few_classes": "**This model knows only the few classes listed in its card above.** Any other picture (a "
                   "photo on the shape model) still gets one of them: the answer is then a guess.",
    "tab_query": "Attention explorer", "block": "Block", "head": "Head", "patch_row": "Patch row",
    "patch_col": "Patch column", "click_patch": "Click a patch", "its_attention": "Its attention in this block",
    "its_rollout": "Its rollout row (all blocks)", "style": "Style", "heads": "Class-token attention per head",
    "tab_compare": "Compare methods", "fill": "Removed patches become",
    "fill_info": "mean: the average colour; blur: the same patch, blurred; ROAD: filled in from its neighbours, "
                 "with a little noise (Rong et al. 2022)",
    "sanity": "Sanity check (re-run on randomized models)", "compare_run": "Compare every method", "compare_cancel": "Cancel",
    "gallery": "Every method (click one)", "scores": "Scores: ↓ lower is better, ↑ higher is better",
    "chosen": "The chosen method", "curves": "Its curves, beside the random baseline",
    "quick": "Quick", "quick_info": "a quarter of the work for integrated gradients and occlusion, and bfloat16 "
                                     "where the processor has it: for a CPU server",
    "tab_distance": "Mean attention distance", "distance": "Mean attention distance per head",
    "per_block": "Per block", "batch_files": "Batch: several images", "use_samples": "Include the sample images",
    "batch_run": "Compute over the batch",
    "tab_model": "Model", "filters_pca": "RGB embedding filters: principal components",
    "filters_raw": "RGB embedding filters: raw", "position": "Position embedding similarity",
    "downloads": "Prepare downloads (PNG, SVG, PDF, data)", "files": "Files",
    "ablation": "Ablation", "importance_run": "Rank every head", "importance": "Head importance",
    "importance_help": "**Which heads matter?** Silence one head at a time (its output set to zero, or to its mean "
                       "over the tokens) and measure how much the class's probability drops. The figure's second "
                       "panel: each head's mean attention distance, so you can see whether the important heads look near or far.",
    "tab_side": "Side by side", "second_model": "Second model", "depth_fraction": "Depth",
    "depth_fraction_info": "of the token colours: 0 = first block, 1 = last",
    "side_run": "Compare the two models", "rollout_left": "The map, this model", "rollout_right": "The map, second model",
    "pca_left": "Token colours, this model", "pca_right": "Token colours, second model",
    "position_left": "Position similarity, this model", "position_right": "Position similarity, second model",
    "side_help": "**Two models, one image.** The current image goes through the current model and a second "
                 "one: one method's map of each, scored by the same faithfulness tests (the table), token "
                 "colours at the same fraction of each model's depth, position grids, and both models' attention "
                 "distances in one plot. A CNN (ResNet, ConvNeXt) can stand beside a ViT: it has no attention, "
                 "tokens or position table, so *auto* picks Grad-CAM for both and those panels say why they are "
                 "empty. Both models stay in the server's shared, bounded model cache.",
    "side_method": "Method for both maps",
    "side_method_info": "auto: rollout, or Grad-CAM when one model is a CNN",
    "side_scores": "Faithfulness of each map",
    "tab_surgery": "Patch surgery", "surgery_mode": "What happens to the patches you click",
    "surgery_mode_info": "drop: removed from the sequence of tokens; grey: painted the mean colour; blur: blurred",
    "surgery_follows": "A click follows a patch (instead of editing it)",
    "surgery_undo": "Undo", "surgery_reset": "Reset", "surgery_keep": "Keep only the top 10% of the rollout",
    "surgery_remove": "Remove the top 10% of the rollout", "surgery_patches": "Edited patches (row,col; row,col ...)",
    "surgery_patches_info": "Click patches on the picture, or type them and press Enter",
    "surgery_image": "Click patches to edit them (red: the followed patch)",
    "surgery_table": "Top 5 after the edit, with the change (percentage points)",
    "surgery_rollout": "Rollout of the edited input (hatched: removed)",
    "surgery_attention": "Where the followed patch looks (last block, mean of heads)",
    "surgery_lens": "Logit lens of the edited input: the answer across depth",
    "surgery_paint": "Paint patches (drag across the picture)",
    "surgery_paint_help": "Pick the brush (the pen in the tools beside the picture), paint over patches (a finger works on a phone), then press "
                          "the button: every "
                          "patch at least a quarter painted joins the edited patches, in the mode chosen above.",
    "surgery_apply": "Edit the painted patches",
    "surgery_help": """
**Patch surgery.** Change the image and watch the model answer. Click patches on the picture to
**drop** them (their tokens leave the sequence: a ViT reads any subset of its patches, each with its
own position), paint them **grey** (the mean colour) or **blur** them. After every edit you see the
new top 5 with the change from the original, the rollout of the edited input (removed patches are
hatched: they have no relevance at all, not zero), the logit lens of the class token and where a
followed patch looks. The presets do the perturbation test by hand: keep only the patches the
rollout ranks in its top 10%, or remove exactly those. **Undo** steps back, **Reset** starts over.
""",
    "tab_tokens": "Tokens", "foreground": "Foreground only (first component)",
    "pca": "Patch features, 3 principal components as colours", "similarity": "Similar to the followed patch",
    "norms": "Token norms", "lens": "Logit lens: the answer across depth",
    "tokens_help": """
**What the tokens carry.** *Patch features*: each patch's features after the chosen block, squeezed to three numbers by
PCA and shown as a colour (DINOv2's picture): patches the model treats alike get alike colours. *Foreground
only* cuts the patches by the first component first. *Similar to the followed patch*: how similar every patch's features are to the
patch you follow (click one on the *Attention explorer* tab): their cosine similarity, dark purple at 0 or
below, yellow at 1 (the followed patch itself). *Token norms*: the length of every token; a few
very long "artifact" tokens (Darcet et al. 2024) are ringed, with the threshold stated. *Logit lens*: the **logit
lens** reads every block's class token through the model's final norm and head, to show at which depth the
answer forms.
""",
    "tab_room": "Class room",
    "room_help": """
**A class room.** Your teacher shows a room code. Type it here (a nickname is optional), then
**click the patches you think the model uses** for its answer, pick the class you expect it to
answer, and send your guess. When the teacher reveals the model's map, it appears with your
guess, with how well they overlap, and what the model answered. Nobody else sees your marks; the teacher sees the whole
class's guesses together.
""",
    "join_code": "Room code", "room_nickname": "Nickname (optional)", "room_join": "Join",
    "room_picture": "The room's image: click the patches you think the model uses (click again to unmark)",
    "room_label": "The class you expect the model to answer", "room_send": "Send my guess",
    "room_answer": "The model's map (once the teacher reveals it): your patches in white, its strongest in red, white inside red when both",
    "room_teacher": "For the teacher: open a room and see the class's guesses",
    "room_teacher_help": """
**Open a room** on the image you are showing (upload or pick it at the top first): you get a short
code for the students and a secret link for your own screen (whoever has the link can change the
room: keep it to yourself). **Show my current image to the room** starts a new round with the image
now at the top. The board shows the share of students who marked each patch, the classes they
expect, and who answered; ticking **Reveal the model's map** shows the model's rollout with the
class's guesses, on your board and on every student's page (untick it to hide the map again). Once you
reveal it, the round's guesses are closed, even if you hide the map again: the next image opens a new
round. Rooms close after three hours unused.
""",
    "room_open": "Open a room", "room_code": "Room code (yours)", "room_key": "Room key (secret)",
    "room_image": "Show my current image to the room", "room_shown": "Reveal the model's map",
    "room_class": "Where the class thinks the model looks (share of students per patch: black none, yellow the most)",
    "room_model": "Where the model looks (rollout; shown once you reveal it)",
    "room_votes": "The classes the students expect", "room_answers": "Answers",
    "tab_training": "Training",
    "training_help": """
**How this model learned.** A trainer can save the weights at a few steps along training (a *timeline*).
Move the slider through them, or press **Play**: at each saved step you see the RGB embedding filters and
the position embedding similarity of those weights (Figure 7 left and centre), the mean attention distance
of every head by block over the example images (Figure 7 right, on one scale for every step), the held-out
accuracy by step with this step in red, and what the model answered for your image at that step, with its
attention rollout. Nothing is trained here: every picture comes from the saved weights, which are kept
in half precision (float16), so the last step's answer can differ by a point from the page's (92% beside 91%).
""",
    "training_step": "Saved checkpoint (0: the first)", "training_play": "Play", "training_pause": "Pause",
    "training_filters": "RGB embedding filters at this step",
    "training_position": "Position embedding similarity at this step",
    "training_distance": "Mean attention distance at this step", "training_accuracy": "Held-out accuracy by step",
    "training_rollout": "Where it looks in your image at this step", "training_prediction": "Its answer at this step",
}

OPTIONS = {
    key: text
    for option in all_options(list(EXPLANATION_METHODS.values()))
    for key, text in ((option.name, option.label), (f"{option.name}_info", option.help))
}

TOUR_LABELS = {
    "tab_tour": "Guided tour", "tour_back": "Back", "tour_next": "Next",
    "tour_intro": "**How a Vision Transformer reads this image**, from pixels to the answer, in eight steps, "
                  "with the image at the top of the page (upload your own or click an example to change it). "
                  "Press Next to go on.",
    "tour_step": "Step",
}

TOUR_TITLES = {
    "patches": "1. The image is cut into patches",
    "projection": "2. Each patch becomes a vector",
    "positions": "3. Position embeddings say where each patch was",
    "attention": "4. Patches look at each other: attention",
    "heads": "5. Many heads look in different ways",
    "distance": "6. How far each head looks",
    "prediction": "7. The class token gives the answer",
    "learned": "8. How it learned",
}

TOUR_TEXTS = {
    "patches": "A Transformer reads a sequence of words. A Vision Transformer turns the picture into such a "
               "sequence: it cuts the image into small squares of P x P pixels (P is 16 in the paper's title; the "
               "sentence below gives this model's), the **patches**, and reads them "
               "left to right, top to bottom. The white lines show the cut; the red square is the patch we "
               "follow in the next steps (click a patch on the *Attention explorer* tab to follow another one).",
    "projection": "Each patch is flattened into one long list of numbers (P x P pixels x 3 colours) and "
                  "multiplied by one learned matrix: the **linear projection**. *What the matrix looks for*: its main "
                  "patterns (principal components; early CNN layers learn similar ones). *This image's patch "
                  "vectors*: what it makes for this image, one row per patch.",
    "positions": "A Transformer does not know where a patch was. So a learned **position embedding** is added "
                 "to each patch vector, and a **class token** is put in front of the sequence to collect the "
                 "answer. *The red patch* is the one we follow. *Like the red patch's position*: how similar its position embedding is to every other position. "
                 "Where near positions look alike, the model knows the 2-D layout (the paper's Figure 7, centre): "
                 "big models such as ViT-B/16 learn it from data alone, while the small bundled demo model was "
                 "given it as a starting point (a 2-D sine-cosine pattern) and kept it while learning. *Every position*: "
                 "the same for every position, each tile in its place.",
    "attention": "In every block, each patch asks every other patch how relevant it is (query times key, "
                 "then a softmax) and takes a weighted mix of their values: **self-attention**. The pictures "
                 "show where the red patch looks in the first block, a middle block and the last block "
                 "(heads averaged).",
    "heads": "Each block has several **heads**; each head computes its own attention. Here: where the class "
             "token looks in each head of the last block. Some heads look at the object, others at the "
             "background or at everything.",
    "distance": "The paper measures how far each head looks: the average distance, in pixels, between a patch "
                "and the patches it attends to. One dot per head, one column per block. In the paper some "
                "heads already look far in the first blocks while others look only near their own patch, "
                "like a small filter of a CNN, and all heads look far in the deep ones. The dashed line is "
                "what a head that looks everywhere equally would score.",
    "prediction": "After the last block, only the class token is read: a small head turns it into a score per "
                  "class. *Attention rollout*: it multiplies the attention of all blocks to show "
                  "which patches fed the class token. *The answer*: the model's top classes.",
    "learned": "The model did not start out like this: it learned from examples, one step at a time. A trainer "
               "can save its weights at a few steps along training (a **timeline**); here are the first and the "
               "last saved step. *Accuracy*: on held-out images, by step. *Position similarity*: at the first step (top) and the last "
               "(bottom): a model whose position embeddings start random forms the 2-D grid as it learns which "
               "patches are neighbours; one given a grid to start from (the bundled demo) keeps it. *Attention distance*: every head's at both steps: in the paper's "
               "ViTs the first block's heads split into local ones, near their own patch, and global ones. The "
               "sentence below gives this model's numbers; the *Training* tab shows every saved step.",
}

SAY = {
    "upload_refused": "Your last file was not used (too large, not an image, or broken; the message in the corner said "
                      "why). Everything on this page is still about the image shown here.",
    "upload_first": "Upload an image (or pick an example) first.",
    "prompt_caption": "\u201c{prompt}\u201d: score {score} ({share} of the prompts)",
    "prompt_note": "{method}: a map per prompt; the score is CLIP's logit scale times the cosine of the image and "
                   "text embeddings. {range}",
    "prompt_no_text": "This model has no text tower, so it cannot explain words. Pick a CLIP model "
                      "(open_clip:ViT-B-32) to type prompts.",
    "prompt_empty": "Type at least one prompt, such as 'a cat' (several: separate them with commas).",
    "prompt_not_text": "Prompts are text: type words such as 'a cat' or 'the ears', separated by commas or new lines.",
    "prompt_too_many": "{n} prompts were typed; explain at most {limit} at once.",
    "prompt_text_too_long": "The prompts are {n} characters long; type at most {limit}, a few words per prompt.",
    "prompt_prompt_too_long": "The prompt '{prompt}' has {n} characters; keep each prompt under {limit}, a few words.",
    "prompt_too_long": "The prompt '{prompt}' is {n} text pieces long; this model reads at most {room}. Shorten it "
                       "to a few words.",
    "expired": "Your image's analysis was cleared to free memory for other users (it was idle too long, or the "
               "server is busy). Upload the image again, or click it again in the examples.",
    "model_unknown": "{library} has no model called '{name}'.{close}",
    "model_unknown_close": " Did you mean {names}?",
    "library_error": "{error}",
    "class_unknown": "Class: pick one from the list, or type a class's number (0 to {last}) or its name; "
                     "'{value}' is neither.",
    "not_whole": "{what} must be a whole number from 0 to {last}, not '{value}'.",
    "out_of_range": "{what} {index} is out of range: this model's {plural} are numbered 0 to {last}.",
    "out_of_range_stage": "{what} {index} is out of range for block {block}: it is in stage {stage}, whose heads "
                          "are numbered 0 to {last} ({heads} in all); pick one of them or the mean of heads.",
    "option_not_number": "{what} must be a number, not '{value}'.",
    "patch_clamped": "{what} {value} is outside the grid (0 to {last}): showing {shown}, the nearest.",
    "patch_not_whole": "{what} must be a whole number, not '{value}'.",
    "patches_bad": "Not a patch: {value}. Write each patch as row,col with whole numbers, patches apart with "
                   "';' (for example 3,4; 5,6), or click the patches on the picture.",
    "patch_outside": "Outside the picture: {value}. Rows go from 0 to {last_row} and columns from 0 to "
                     "{last_col}.",
    "patch_negative": "{what} {index} is negative: rows and columns are numbered from 0 (top left).",
    "what_block": "Block", "what_head": "Head", "what_class": "Class",
    "plural_block": "blocks", "plural_head": "heads", "plural_class": "classes",
    "what_checkpoint": "Checkpoint", "plural_checkpoint": "saved checkpoints",
    "what_row": "Patch row", "what_col": "Patch column",
    "unknown_method": "Unknown method '{method}'; choose one of {choices}.",
    "one_of": "{what} must be one of {choices}, not '{value}'.",
    "what_ablation": "Ablation", "what_fill": "Fill",
    "model_card": "**{name}** on `{device}`.{note}  \nFrom: {source}.  \n{blocks} blocks, {heads} heads, input "
                  "{h}x{w} px, {p}-px patches ({gh}x{gw} grid), {k} prefix token{s}, {n} classes{classes}.",
    "model_card_cnn": "**{name}** on `{device}`.{note}  \nFrom: {source}.  \n{blocks} blocks and no attention (a "
                      "convolutional network), input {h}x{w} px, its last feature map a {gh}x{gw} grid of {p}-px "
                      "cells, {n} classes{classes}.",
    "query_window_label": "Its attention inside its window (this block)",
    "query_window_heads": "Each head inside the window",
    "model_card_windowed": "A windowed transformer: {stages} stages of {tokens}-px tokens with {heads} heads, each "
                           "block attending inside {wh}x{ww}-token windows (every second block's shifted); its maps "
                           "use {p}-px cells.",
    "load_failed_status": "Could not load **{choice}**. {error}  \nStill using: {card}",
    "weights_offline": "Its weights are not on this machine and cannot be downloaded now. To use it without "
                       "network, download it once where there is network: `{command}`",
    "needs_download": "{label} (needs a download)",
    # the model card's "From:" line: the models layer's English phrases, as said in each language
    "source_demo": "the bundled demo weights", "source_cache": "pretrained weights (Hugging Face cache)",
    "source_random": "random weights", "source_its": "its weights", "source_built": "weights as built",
    "map_range": "values {low} to {high} (the colours run from the lowest value to the highest)",
    "guess_note": "Patches you marked: **{k}**; the map's {k} strongest include **{overlap}** of them (a random "
                  "guess of {k} patch{es} includes {chance} of them on average). Overlap (IoU): **{iou}**. Of the map's {n} patches, your "
                  "best one ranks **{rank}** (rank 1 is the map's strongest patch).",
    "guess_about_unknown": "'{value}' is not something to guess; choose one of: {choices}.",
    "guess_patch_caption": "Where patch (row {row}, col {col}) looks in block {block} (mean of heads): the cyan "
                           "square is the patch, red the places it attends to most.",
    "surgery_paint_nothing": "Nothing is painted yet: paint over some patches with the brush, then press the button.",
    "room_guess_empty": "Click at least one patch on the picture (or type row,col pairs), then send your guess.",
    "not_applicable_said": "{sentence}",  # a refusal said in a panel (its words already the user's)
    "not_applicable_guess_empty": "Click at least one patch on the picture (or type row,col pairs) before revealing the map.",
    "all_zero": "every value is **zero**: this method gives no patch any relevance for this class on this image "
                "(the picture is blank, not hidden)",
    "near_uniform": "; **nearly uniform**: the differences you see are tiny, stretched to full brightness",
    "caption_for": "{caption} for **{label}**",
    "most_important": "Most important: {ranking}.",
    # the words inside figures (render.FigureWords: one key per field, "fig_<field>")
    "fig_head": "head {h}", "fig_heads_title": "Class-token attention per head", "fig_heads_block": "{title}, block {block}",
    "fig_patch_vectors": "this image's patch vectors", "fig_feature": "feature (D = {d})", "fig_patch": "patch (N = {n})",
    "fig_answer": "the model's answer", "fig_probability": "probability", "fig_accuracy": "Accuracy",
    "fig_training_step": "training step", "fig_heldout": "held-out accuracy (%)", "fig_step": "step {step}",
    "fig_norms_title": "patch token norms (outliers ringed)", "fig_norms_threshold": "outlier threshold {threshold}",
    "fig_class_token": "class token", "fig_prefix_tokens": "prefix/register tokens", "fig_norm": "norm",
    "fig_patches": "patches", "fig_lens_block": "block (its output read through the final norm and head)",
    "fig_lens_top": "grey: each block's top class and its own probability",
    "fig_this_image": "this image", "fig_block_first": "block {block}: the first", "fig_block_middle": "block {block}: a middle one",
    "fig_block_last": "block {block}: the last",
    "fig_importance_title": "head importance ({mode} ablation)", "fig_ablation_zero": "zero", "fig_ablation_mean": "mean",
    "fig_importance_drop": "drop of p({target}) when the head is ablated", "fig_importance_head": "head",
    "fig_importance_block": "block", "fig_importance_distance": "mean attention distance (px)",
    "fig_importance": "importance", "fig_importance_scatter": "local or global, important or not",
    "fig_distance_title": "Mean attention distance", "fig_distance_depth": "network depth (block)",
    "fig_distance_pixels": "mean attention distance (pixels)", "fig_uniform": "uniform attention",
    "fig_batch_one": "batch of 1 image", "fig_batch_many": "batch of {n} images",
    "fig_distance_windows": "Mean attention distance inside windows", "fig_window_uniform": "uniform inside a window",
    "fig_stage": "stage {stage}",
    "fig_distance_both": "mean attention distance, both models",
    "fig_distance_one": "mean attention distance, the model with attention",
    "fig_side_windows_vs_whole": "mean attention distance: inside windows vs over the whole image",
    "fig_side_windows_both": "mean attention distance, both models, inside windows",
    "fig_side_windows_one": "mean attention distance, the model with attention, inside windows",
    "fig_side_inside_windows": "{name}: inside its windows", "fig_side_whole_image": "{name}: over the whole image",
    "fig_filters_embedding": "RGB embedding filters",
    "fig_filters_convolution": "first convolution's RGB filters ({kh}x{kw}, stride {stride})",
    "fig_filters_pca": "{name} (first {n} principal components)", "fig_filters_raw": "{name} (first {n}, raw)",
    "fig_position_like": "yellow: positions like the red patch's",
    "fig_position_title": "Position embedding similarity", "fig_position_row": "input patch row",
    "fig_position_column": "input patch column",
    "fig_position_paper": "cosine similarity (-1 to 1, the paper's scale)",
    "fig_position_observed": "cosine similarity (scale: {low} to {high},\nthe lowest and highest in this grid)",
    "fig_position_shared": "cosine similarity (scale: {low} to {high},\nthe same for both steps)",
    "fig_position_tile": "cosine similarity, each tile stretched\nfrom its own lowest to its highest",
    "fig_tile_lowest": "tile's\nlowest", "fig_tile_highest": "tile's\nhighest",
    "importance_rank": "block {b} head {h} ({v})",
    "ablating": "ablating heads",
    "second_model": "Pick a second model to compare with.",
    "side_scores_note": "Both maps: **{method}**, each for its own model's predicted class, scored by the same "
                        "tests on {grid}: perturbation AUC (positive: lower is better; negative: higher) and "
                        "deletion (lower) / insertion (higher) AUC.",
    "near_chance": "**This model barely answers:** its top class gets {p}, a blind guess {chance} (1 of {n}), "
                   "hence the 0% above. The map's colours span its own tiny range: its pattern is not learned.",
    "side_near_chance": "**{name}** barely answers: its top class gets {p}, chance is {chance}. Its AUCs are "
                        "near zero because there is almost no probability to remove, not because its map explains "
                        "more; compare trained models.",
    "side_map_flat": "**{name}**'s map is nearly flat (every patch about as relevant as the next), so the image seen "
                     "through it looks almost unchanged: nothing failed to draw, the model singles out no patch.",
    "side_grid_common": "one grid of {p}-pixel squares (the coarser map's cells repeated over it)",
    "side_grid_own": "each model's own grid",
    "col_model": "model",
    # a convolutional network (ResNet, ConvNeXt): what does not apply, in analyses.not_available.CNN_REASONS' words
    **{f"not_applicable_{need}": text for need, text in CNN_REASONS.items()},
    "side_note": "Token colours from block {a} (this model, blocks 0 to {la}) and block {b} (second model, blocks 0 to {lb}), "
                 "the same fraction of each model's depth.",
    "side_sizes": "The models see the image at {a} and {b} pixels: the distance chart measures each in its own "
                  "input's pixels, so compare how far each model's heads look against its own image's size.",
    "compare_first": "Press '{button}' first; once it is running, wait until its note says 'Done'.",
    "no_images": "Upload some images, or tick '{checkbox}'.",
    "too_many": "A batch here takes at most {most} images (you sent {sent}); for more, use the Python API or the "
                "command line on your own machine.",
    "running": "Running the model",
    "distance_note": "The table lists **{shown}**. For this model's {gh}x{gw} grid of {p}-px patches, a head attending "
                     "only to its own patch scores 0 px and one attending uniformly to all patches **{uniform:.1f} px**. "
                     "A head can score more than uniform: it then looks mostly at far patches (the image's corners "
                     "and edges, seen from the other side).",
    "distance_note_windowed": "The table lists **{shown}**, measured inside each block's windows in pixels of the "
                              "input (a token grows twice as large at each patch merging). A head attending only to "
                              "its own token scores 0 px and one attending uniformly inside its window, by stage: "
                              "**{levels} px**.",
    # a windowed transformer (Swin): what does not apply, in the words of analyses.not_available.WINDOWED_REASONS
    "not_applicable_windowed_method": "{method} needs attention between every pair of tokens of one fixed sequence, "
                                      "but {model} attends only inside local windows and its patch merging changes "
                                      "the tokens at every stage, so there is no such matrix to follow through the "
                                      "model: explain it with Grad-CAM, integrated gradients, saliency or occlusion "
                                      "instead.",
    "not_applicable_windowed_attention": "{model} has no class token and attends only inside local windows, so this "
                                         "view of attention over the whole image does not apply to it: click a patch "
                                         "in the Attention explorer tab to see its window's attention instead.",
    "not_applicable_windowed_tokens": "{model}'s tokens change in number and width at every patch merging, so this "
                                      "view of one sequence of tokens through the blocks does not apply to it.",
    "not_applicable_windowed_position": "{model} has no absolute position embedding (it adds a learned relative "
                                        "position bias inside each window), so there is no position similarity to "
                                        "show.",
    "norms_none": "no patch token above the outlier threshold {threshold:.1f}",
    "norms_some": "{n} patch token(s) above {threshold:.1f} (median + 5 robust SD): {where}",
    # patch surgery
    "what_edit": "The edit", "what_preset": "The preset",
    "patches_not_text": "The patch list must be text such as '3,4; 5,6', not '{value}'.",
    "surgery_all": "Keep at least one patch: with every patch dropped the model has nothing of the image to read.",
    "surgery_unused": "**This edit was not applied.** {why} The pictures and the table still show the last edit "
                      "that worked: {last}. Correct the list above, or press “Reset”.",
    "surgery_unused_why": "The message box says why.",
    "surgery_no_edit": "none, the image as it is",
    "surgery_note_drop": "**{n}** of {total} patches dropped. Now: **{now}** ({p_now}); before the edit: "
                         "**{before}** ({p_before}).",
    "surgery_note_grey": "**{n}** of {total} patches greyed. Now: **{now}** ({p_now}); before the edit: "
                         "**{before}** ({p_before}).",
    "surgery_note_blur": "**{n}** of {total} patches blurred. Now: **{now}** ({p_now}); before the edit: "
                         "**{before}** ({p_before}).",
    "choice_predicted": "predicted class", "choice_head_mean": "mean of heads", "choice_head": "head {head}",
    "method_settings": "{method} ({settings})",  # a method and its settings (messages.describe_method)
    "surgery_followed_gone": "The followed patch (row {row}, column {col}) was dropped; follow another one.",
    "col_class": "class", "col_now": "now (%)", "col_before": "before (%)", "col_change": "change (points)",
    # table headers, series names and captions of the distance and Compare tabs
    "col_block": "block", "col_local": "most local head (px)", "col_mean": "mean (px)",
    "col_global": "most global head (px)", "col_method": "method",
    # short words: every column of Compare's table in sight on a phone, none broken mid-word (the help says them whole)
    "col_positive_auc": "pos. AUC ↓", "col_negative_auc": "neg. AUC ↑",
    "col_deletion_auc": "del. AUC ↓", "col_insertion_auc": "ins. AUC ↑",
    "col_sanity_rho": "sanity ρ ↓", "col_seconds": "time (s)", "col_vs_random": "vs random + (pos. neg. del. ins.)",
    "series_image": "this image", "series_batch": "the mean over {n} image{s}",
    "compare_caption": "{method}: deletion {deletion:.2f}, insertion {insertion:.2f}{sanity}",
    "compare_sanity": ", sanity ρ {rho:.2f}",
    "compare_estimate": "Comparing: about {seconds} s on this server. The maps appear first, then their "
                        "scores; the slowest methods come last. **Cancel** stops it.",
    "compare_maps_done": "Comparing: every map in after {took} s; the scores and the sanity check take about {seconds} s "
                         "more on this server. **Cancel** stops it.",
    "compare_cancelled": "Cancelled: what is shown is what finished before Cancel. Press '{button}' to start again.",
    "compare_idle": "Nothing to cancel: no comparison is running. Press '{button}' to start one.",
    "compare_done": "Done: every method's map and scores.",
    "compare_below_random": "On this image {methods} did worse than the random map on every curve: its map "
                            "says less about this answer than chance does, so do not read it as where the model looks.",
    "gradcam_on_vit": "Grad-CAM was made for CNNs: on a ViT it weighs the last block's patch tokens by their "
                      "gradients, which often say little about where the model looks (on the demo's scenes it can mark "
                      "the background and miss the shape). *Compare methods* scores it against a random map.",
    "compare_tied": "{n} methods that beat the random map score alike here ({methods}: every area within {within} of "
                    "their median): the object is a few patches, and removing them ends the answer in whatever order a "
                    "map ranks them, so this image cannot rank these methods. A photo, or `python -m explorer "
                    "evaluate` over a folder, can.",
    "compare_quick": " Quick: integrated gradients at 8 steps (not 32), occlusion in 2×2-patch squares, forwards "
                     "in bfloat16 where the processor has it; `python -m explorer evaluate --quick` gives the same "
                     "numbers, and without Quick it gives the full ones.",
    "chosen_method": "{method}, large (click another map above)",
    # plain sentences for what went wrong (ui/safe.py): never a path, a class name or a traceback
    "server_fault": "Something went wrong on the server while doing this. Try again; if it happens again, try "
                    "another image or setting, and tell whoever runs the app (the server's log has the details).",
    "server_folder": "a folder on the server", "a_value": "a value",
    "weights_missing": "This model's weights are not on this server, and it cannot fetch them now. Pick another "
                       "model, or ask whoever runs the app to fetch them (the server's log says how).",
    "bad_value": "'{name}' must be {expects}, not '{value}'.",
    "expect_range": "a number from {low} to {high}", "expect_whole": "a whole number", "expect_number": "a number",
    "expect_text": "a name (text)", "expect_one_of": "one of {choices}", "expect_bool": "true or false",
    "expect_file": "a file uploaded to this app", "expect_other": "a value of the kind the app's API page shows",
    "wrong_count": "{endpoint} takes {n} value(s) ({names}); this request sent a different number. The app's API "
                   "page (the 'Use via API' link at the bottom of the page) lists them.",
    "this_action": "This action",
    "not_uploaded": "A file named in this request was not uploaded to this app. Upload it first (in gradio_client, "
                    "handle_file does that).",
    "bad_form": "A value sent with this request does not have the form its input takes. The app's API page (the "
                "'Use via API' link at the bottom of the page) shows what each endpoint takes.",
    "name_not_text": "A model name must be text, not '{value}'.",
    # an image that cannot be read (explorer.images.ImageLoadError's reason); English shows the library's own text
    "error_title": "Error",  # the title of the box an error appears in
    "warning_title": "Warning", "info_title": "Info",  # ... a warning, a note (gradio_fixes.page_words)
    # Gradio's own English in a toast, word for word as its page writes it (gradio_fixes.page_words)
    "lost_title": "Connection Lost",
    "lost": "Connection to the server was lost. Attempting reconnection...",
    "request_failed": "Connection errored out.",
    "busy": "This application is currently busy. Please try again.",
    "wrong_file": "{name} is not an image. Use a PNG, JPEG, WebP, BMP, GIF or TIFF image.",
    "file_too_big": "{names}: the file is larger than {limit}, the most this app takes. Save the image smaller "
                    "(a JPEG, or fewer pixels) and upload it again.",
    "image_empty": "The uploaded image is empty (0 bytes). Use a PNG, JPEG, WebP, BMP, GIF or TIFF image.",
    "image_no_pixels": "The image is {width} x {height} pixels: it has no pixels to show. Use a PNG, JPEG, WebP, "
                       "BMP, GIF or TIFF image.",
    "image_too_large": "The image is {megapixels} megapixels; the limit is {limit} megapixels. Downscale it first.",
    "image_damaged": "Could not read the image: the file is damaged or incomplete. Use a PNG, JPEG, WebP, BMP, GIF "
                     "or TIFF image.",
    "image_not_image": "Could not read the file: it is not an image file we know. Use a PNG, JPEG, WebP, BMP, GIF "
                       "or TIFF image.",
    "image_svg": "Could not read the file: SVG is a vector format. Export it as PNG first.",
    "image_unreadable": "Could not read the file as an image. Use a PNG, JPEG, WebP, BMP, GIF or TIFF image.",
    "image_convert": "Could not convert the image (mode {mode}) to RGB. Use a PNG, JPEG, WebP, BMP, GIF or TIFF image.",
    "batch_skipped": " Skipped {n} file{s} that could not be read as images: {names}.",
    "batch_none_read": "None of the {n} files could be read as an image ({names}). Use PNG, JPEG, WebP, BMP, GIF or "
                       "TIFF images.",
    "batch_one_unread": "The file could not be read as an image ({names}). Use PNG, JPEG, WebP, BMP, GIF or TIFF "
                        "images.",
    "room_links": "**Room {code} is open.** Students open <{student}> (or type the code **{code}** in the Class "
                  "room tab).\n\n<details><summary>Your board's own link: secret, so it stays folded here; open it "
                  "on your own screen, not on the projector</summary>\n\n<{teacher}>\n\n</details>",
    "room_new_round": "Round {round}: the room now shows your current image; the guesses start afresh.",
    "room_revealed": "The model's map is now shown to the room.",
    "room_hidden": "The model's map is hidden from the room again.",
    "room_answered": "**{answered}** of {joined} students answered.",
    "room_scores": "Against the model's map: mean overlap (IoU) **{iou}**; {pointed} of {scored} guesses hold its "
                   "strongest patch; {right} of {labelled} expected its answer, **{predicted}**.",
    "room_unnamed": "student {i}",  # a student who gave no nickname, by their place in the room
    "room_press_join": "Room **{code}**: give a nickname if you like, then press **Join** to see the picture and guess.",
    "room_joined": "You are in room **{code}**. Click the patches you think the model uses, pick a class, then "
                   "send your guess.",
    "room_joined_closed": "You are in room **{code}**. The teacher has already revealed the model's map for this "
                          "image, so its guesses are closed; the map shows here in a moment, and the next image opens "
                          "a new round.",
    "room_back": "You are back in room **{code}**: the guess you sent ({k} patch{es}) still counts. Change it and send "
                 "again if you like, until the teacher reveals the map.",
    "room_join_first": "Join a room first: type the code your teacher shows and press Join.",
    "room_sent": "Guess sent (patches marked: {k}). You can change it and send again until the teacher reveals the map.",
    "room_waiting": "Your guess is in. Wait for the teacher to reveal the model's map.",
    "room_mark": "Round {round}: click the patches you think the model uses, then send your guess.",
    "curves_title": "explaining {label}", "curve_positive": "positive perturbation (lower is better)",
    "curve_negative": "negative perturbation (higher is better)", "curve_deletion": "deletion (lower is better)",
    "curve_insertion": "insertion (higher is better)", "curve_removed": "patches removed (%)",
    "curve_inserted": "patches inserted (%)", "curve_probability": "probability of the class",
    "votes_none": "no class guessed yet", "votes_share": "share of the students' answers", "votes_model": "model",
    "room_revealed_no_guess": "The teacher revealed the model's map; you sent no guess this round.",
    "room_full_server": "This server already has {n} open rooms. Close one, or wait until an unused room "
                        "closes (after three hours).",
    "room_full": "This room is full ({n} students). Ask your teacher to open a second room.",
    "room_unknown": "There is no open room with the code '{code}'. Check the code on your teacher's screen "
                    "(rooms close after three hours unused).",
    "room_no_code": "Type the room's code from your teacher's screen first, then press Join.",
    "room_open_first": "Press Open a room first: then students can join, and you can show an image, reveal the "
                       "map and close the room.",
    "room_not_teacher": "Only the teacher of this room can do that: open the teacher's link, or check the room key.",
    "room_not_joined": "You are not in this room any more (it was reopened). Type the code and press Join again.",
    "room_new_image": "The teacher has moved on to a new image: mark your patches on it and send again.",
    "room_model_answer": "The model answered **{answer}** ({p}).",
    "room_model_answer_right": "The model answered **{answer}** ({p}): you expected {expected}, right.",
    "room_model_answer_wrong": "The model answered **{answer}** ({p}): you expected {expected}, wrong this time.",
    "room_model_answer_none": "The model answered **{answer}** ({p}); you picked no class.",
    "room_local_only": "Students' phones and laptops cannot open this link: the app listens on this computer only "
                       "(127.0.0.1). Restart it with `--host 0.0.0.0` so that the class can reach it.",
    "room_closed": "The teacher has revealed the model's map, so the guesses of this round are closed (a guess "
                   "you sent before stays on the board). Wait for the teacher's next image to guess again.",
    "col_name": "name", "col_patches": "patches marked", "col_iou": "overlap (IoU)",
    "col_pointing_rank": "rank of their best patch",
    # the Training tab and the tour's "how it learned" (a model's training timeline)
    "training_none": "This model has no training timeline to show. The bundled demo model has one: pick it in the "
                     "model list. To record one of your own, for the tutorial ViT run `python examples/article_vit.py "
                     "--timeline timeline` (about 5 minutes) and then `python app.py --custom "
                     "examples/article_vit.py:build --checkpoint article_vit.safetensors --timeline timeline`.",
    "training_mismatch": "This timeline does not fit the model: its checkpoints were saved from another "
                         "architecture, so pick the model it was trained with, or start the app with `--timeline` "
                         "and this model's own timeline.",
    "training_caption": "**The weights after {step} training steps** (of the run's {last}; checkpoint {index} of "
                        "0 to {final} on the slider){accuracy}. {bars}",
    "training_caption_accuracy": ", held-out accuracy **{accuracy}**",
    "training_locality": "Position locality **{locality}** (the share of patches whose most similar position is "
                         "a neighbour).",
    "training_heads": "In the first block the heads look **{near} px** to **{far} px** far on average (over the "
                      "example images).",
    # each tour step's pictures, in order, named above them ("|" between names) and in the step's text
    "tour_pictures_projection": "What the matrix looks for|This image's patch vectors",
    "tour_pictures_positions": "The red patch|Like the red patch's position|Every position",
    "tour_pictures_prediction": "Attention rollout|The answer",
    "tour_pictures_learned": "Accuracy|Position similarity|Attention distance",
    "tour_patches": "**This model:** patches of {p} x {p} pixels; its {w} x {h}-pixel input is a grid of {cols} x "
                    "{rows} = {n} patches, so it reads a sequence of {n} patch vectors.",
    "tour_distance": "**This model, on this image:** the first block's heads look {first} px away on average, the last "
                     "block's (block {block}) {last} px.",
    "tour_distance_trend": "As in the paper, its most local head looks further in the last block than in the first.",
    "tour_distance_no_trend": "Unlike the paper's large models, its last block keeps a head that looks nearer than any of "
                              "the first block's: a small model on small images (the demo's are 64 px) need not show "
                              "the paper's trend.",
    "learned_note": "**From step {first} to step {last}:** {parts}.",
    "learned_accuracy": "the held-out accuracy went from {a} to {b}",
    "learned_grid_formed": "the position grid formed (locality, the share of patches whose most similar position is a neighbour: {a} → {b})",
    "learned_grid_kept": "the position grid was already there at the first saved step (locality, the share of patches whose most similar position is a neighbour: {a} → {b}): the "
                         "position embeddings started from a grid pattern and kept it",
    "learned_grid_not_yet": "no 2-D position grid has formed yet (locality, the share of patches whose most similar position is a neighbour: {a} → {b})",
    "learned_heads": "the first block's heads went from {a} px (the most global {ra} times as far as the most "
                     "local) to {b} px ({rb} times)",
}

MODEL_NOTES = {entry.spec: entry.note for entry in CATALOG.values()}

MODEL_LABELS = {entry.spec: entry.label for entry in CATALOG.values()}

# how a control shows each of its choices, by "<control>:<value>"; the value (a method registry's name, a fill,
# an option's choice ...) is what the API and the command line take, the same in every language
CHOICES = {
    **{f"method:{name}": spec.shown_name for name, spec in EXPLANATION_METHODS.items()},  # as their papers write them
    "method:auto": "auto",  # Side by side: the rollout, or Grad-CAM beside a CNN
    **{f"{option.name}:{choice}": choice for option in all_options(list(EXPLANATION_METHODS.values()))
       for choice in option.choices},
    **{f"fill:{fill}": fill for fill in FILLS}, "fill:road": "ROAD",  # as its paper (and the info line) writes it
    **{f"style:{style}": style for style in HEAD_STYLES},
    **{f"ablation:{mode}": mode for mode in ABLATION_MODES},
    **{f"surgery_mode:{mode}": mode for mode in SURGERY_MODES},
}

GRADIO = {
    "complete": "Done",
    "fullscreen": "Fullscreen", "exit_fullscreen": "Exit fullscreen", "remove_image": "Remove Image",
    "download": "Download", "download_all": "Download All", "share": "Share", "clear": "Clear", "close": "Close",
    "copy": "Copy", "copied": "Copied", "copy_table": "Copy table data", "copied_table": "Copied to clipboard",
    "table_actions": "Table actions", "cell_menu": "Open cell menu", "sort_up": "Sort ascending",
    "sort_down": "Sort descending", "empty_value": "Empty value", "reset": "Reset to default value",
    "file_upload": "File upload", "upload_file": "Upload file", "drop_files": "Click to upload or drop files",
    "paste": "Paste from clipboard", "footer": "Gradio footer navigation", "stop_recording": "Stop Recording",
    "play": "Play", "pause": "Pause",
    "thumbnail": "Thumbnail {i} of {n}", "number_input": "number input for {label}",
    "range_slider": "range slider for {label}",
}
