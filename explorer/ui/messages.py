"""The sentences the server writes at run time (errors, captions, notes, the model card),
in English and Korean, in the language of the user's browser.

The page's fixed labels are translated in the browser by Gradio's ``gr.I18n``
(:mod:`.i18n`); those keys cannot carry numbers, so sentences with values ("Block 7 is out
of range: ... 0 to 3") are written here, on the server. Each user's language is read once,
when the page loads, from the browser's ``Accept-Language`` header (the language the page's
labels follow too) and kept in their session; :func:`speaking` makes it the language of
one handler call, and :func:`say` writes a sentence in it. API clients get English.

Written by hand because Gradio translates only whole strings in the browser and has no
server-side catalog with values; Python's ``gettext`` would add .po/.mo build steps for
two languages and some forty sentences.

The table headers of the distance and Compare tabs are written here too (the handlers return
them with the rows). Not translated: the texts inside figures (matplotlib titles, axes and
legends), method and option names (the technical terms the tabs use), and the library's own
error details, which Korean users get after a Korean lead-in.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

LANGUAGES = ("en", "ko")  # the first is the default

_EN = {
    "upload_first": "Upload an image (or pick an example) first.",
    "expired": "Your image's analysis was cleared to free memory for other users (it was idle too long, or the "
               "server is busy). Upload the image again, or click it again in the examples.",
    "library_error": "{error}",
    "not_whole": "{what} must be a whole number from 0 to {last}, not '{value}'.",
    "out_of_range": "{what} {index} is out of range: this model's {plural} are numbered 0 to {last}.",
    "patch_not_whole": "{what} must be a whole number, not '{value}'.",
    "patch_negative": "{what} {index} is negative: rows and columns are numbered from 0 (top left).",
    "what_block": "Block", "what_head": "Head", "what_class": "Class",
    "plural_block": "blocks", "plural_head": "heads", "plural_class": "classes",
    "what_row": "Patch row", "what_col": "Patch column",
    "unknown_method": "Unknown method '{method}'; choose one of {choices}.",
    "one_of": "{what} must be one of {choices}, not '{value}'.",
    "what_ablation": "Ablation", "what_fill": "Fill",
    "model_card": "**{name}** on `{device}`.{note}  \nFrom: {source}.  \n{blocks} blocks, {heads} heads, input "
                  "{h}x{w} px, {p}-px patches ({gh}x{gw} grid), {k} prefix token(s), {n} classes{classes}.",
    "load_failed": "{error} The current model ({current}) stays.",
    "load_failed_status": "Could not load **{choice}** (see the message). Still using {card}",
    "map_range": "values {low} to {high} (shown scaled so the maximum is brightest)",
    "near_uniform": "; **nearly uniform**: the differences you see are tiny, stretched to full brightness",
    "caption_for": "{caption} for **{label}**",
    "most_important": "Most important: {ranking}.",
    "ablating": "ablating heads",
    "second_model": "Pick a second model to compare with.",
    "side_note": "Blocks shown: {a} of {na} (left) and {b} of {nb} (right), the same fraction of each model's depth.",
    "compare_first": "Press '{button}' first.",
    "no_images": "Upload some images, or tick '{checkbox}'.",
    "too_many": "A batch here takes at most {most} images (you sent {sent}); for more, use the Python API or the "
                "command line on your own machine.",
    "running": "Running the model",
    "distance_note": "The table lists **{shown}**. For this model's {gh}x{gw} grid of {p}-px patches, a head attending "
                     "only to its own patch scores 0 px and one attending uniformly to all patches **{uniform:.1f} px**.",
    "norms_none": "no patch token above the outlier threshold {threshold:.1f}",
    "norms_some": "{n} patch token(s) above {threshold:.1f} (median + 5 robust SD): {where}",
    # table headers, series names and captions of the distance and Compare tabs
    "col_block": "block", "col_local": "most local head (px)", "col_mean": "mean (px)",
    "col_global": "most global head (px)", "col_method": "method",
    "col_positive_auc": "positive AUC (lower is better)", "col_negative_auc": "negative AUC (higher is better)",
    "col_deletion_auc": "deletion AUC (lower is better)", "col_insertion_auc": "insertion AUC (higher is better)",
    "col_sanity_rho": "sanity ρ (lower is better)", "col_seconds": "seconds",
    "series_image": "this image", "series_batch": "the mean over {n} image(s)",
    "compare_caption": "{method}: deletion {deletion:.2f}, insertion {insertion:.2f}{sanity}",
    "compare_sanity": ", sanity ρ {rho:.2f}",
}

_KO = {
    "upload_first": "먼저 이미지를 올리세요 (또는 예시를 고르세요).",
    "expired": "다른 사용자를 위해 메모리를 비우느라 이 이미지의 분석 결과를 지웠습니다 (오래 쓰지 않았거나 서버가 "
               "바쁩니다). 이미지를 다시 올리거나 예시를 다시 누르세요.",
    "library_error": "다음 문제로 멈췄습니다 (자세한 내용은 영어): {error}",
    "not_whole": "{what}: 0부터 {last}까지의 정수를 넣으세요 ('{value}'은(는) 쓸 수 없습니다).",
    "out_of_range": "{what} {index}은(는) 범위 밖입니다: 이 모델의 {plural}은(는) 0부터 {last}까지입니다.",
    "patch_not_whole": "{what}: 정수를 넣으세요 ('{value}'은(는) 쓸 수 없습니다).",
    "patch_negative": "{what} {index}은(는) 음수입니다: 행과 열은 왼쪽 위를 0으로 해서 셉니다.",
    "what_block": "블록", "what_head": "헤드", "what_class": "클래스",
    "plural_block": "블록 번호", "plural_head": "헤드 번호", "plural_class": "클래스 번호",
    "what_row": "패치 행", "what_col": "패치 열",
    "unknown_method": "'{method}'은(는) 없는 방법입니다. 다음 중 하나를 고르세요: {choices}.",
    "one_of": "{what}은(는) {choices} 중 하나여야 합니다 ('{value}'은(는) 안 됩니다).",
    "what_ablation": "헤드 끄기 방식", "what_fill": "채우기",
    "model_card": "**{name}** (`{device}`에서 실행).{note}  \n출처: {source}.  \n블록 {blocks}개, 헤드 {heads}개, 입력 "
                  "{h}x{w} px, {p}-px 패치 ({gh}x{gw} 격자), 앞쪽(prefix) 토큰 {k}개, 클래스 {n}개{classes}.",
    "load_failed": "{error} 지금 쓰던 모델({current})을 그대로 씁니다.",
    "load_failed_status": "**{choice}**을(를) 불러오지 못했습니다 (메시지 참고). 계속 쓰는 모델: {card}",
    "map_range": "값 {low} ~ {high} (가장 큰 값이 가장 밝도록 늘려서 보여 줌)",
    "near_uniform": "; **거의 균일함**: 보이는 차이는 아주 작은데, 최대 밝기까지 늘려서 보여 준 것입니다",
    "caption_for": "{caption}, 설명하는 클래스: **{label}**",
    "most_important": "가장 중요한 헤드: {ranking}.",
    "ablating": "헤드를 하나씩 끄는 중",
    "second_model": "비교할 두 번째 모델을 고르세요.",
    "side_note": "보여 주는 블록: 왼쪽은 {na}개 중 {a}번, 오른쪽은 {nb}개 중 {b}번입니다. 두 모델 깊이의 같은 비율 "
                 "지점입니다.",
    "compare_first": "먼저 '{button}' 버튼을 누르세요.",
    "no_images": "이미지를 올리거나 '{checkbox}'에 체크하세요.",
    "too_many": "여기서는 한 번에 이미지를 {most}장까지 처리합니다 ({sent}장을 보냈습니다). 더 많이 하려면 자기 "
                "컴퓨터에서 Python API나 명령줄을 쓰세요.",
    "running": "모델 실행 중",
    "distance_note": "표는 **{shown}**의 값입니다. 이 모델의 {gh}x{gw} 격자({p}-px 패치)에서 자기 패치만 보는 헤드는 "
                     "0 px, 모든 패치를 고르게 보는 헤드는 **{uniform:.1f} px**입니다.",
    "norms_none": "이상치 기준 {threshold:.1f}을(를) 넘는 패치 토큰이 없습니다",
    "norms_some": "패치 토큰 {n}개가 기준 {threshold:.1f}(중앙값 + 강건 표준편차의 5배)을(를) 넘습니다: {where}",
    "col_block": "블록", "col_local": "가장 가까이 보는 헤드 (px)", "col_mean": "평균 (px)",
    "col_global": "가장 멀리 보는 헤드 (px)", "col_method": "방법",
    "col_positive_auc": "양의 섭동 AUC (낮을수록 좋음)", "col_negative_auc": "음의 섭동 AUC (높을수록 좋음)",
    "col_deletion_auc": "삭제 AUC (낮을수록 좋음)", "col_insertion_auc": "삽입 AUC (높을수록 좋음)",
    "col_sanity_rho": "무작위화 검사 ρ (낮을수록 좋음)", "col_seconds": "초",
    "series_image": "이 이미지", "series_batch": "이미지 {n}장의 평균",
    "compare_caption": "{method}: 삭제 {deletion:.2f}, 삽입 {insertion:.2f}{sanity}",
    "compare_sanity": ", 무작위화 ρ {rho:.2f}",
}

MESSAGES: dict[str, dict[str, str]] = {"en": _EN, "ko": _KO}

#: the catalog's one-line model notes in Korean, by the entry's spec (English: ``CatalogEntry.note``)
MODEL_NOTES_KO = {
    "demo": "이 프로젝트가 직접 만든 도형 장면으로 학습한 작은 ViT입니다. 인터넷 없이 동작합니다.",
    "vit_tiny_patch16_224": "무작위 가중치: 학습하기 전의 어텐션이 어떻게 생겼는지 보여 줍니다.",
    "vit_base_patch16_224.orig_in21k_ft_in1k": "논문의 ViT-B/16 가중치입니다 (Dosovitskiy 외).",
    "vit_large_patch16_224.orig_in21k": "논문의 ViT-L/16, ImageNet-21k 사전 학습입니다 (in1k 분류 헤드 없음).",
    "vit_large_patch32_384.orig_in21k_ft_in1k": "논문의 ViT-L/32, 384 px입니다.",
    "vit_base_patch16_224.augreg2_in21k_ft_in1k": "'How to train your ViT'(Steiner 외)의 가중치입니다.",
    "deit_small_distilled_patch16_224.fb_in1k": "클래스 토큰과 증류(distillation) 토큰이 있는 DeiT입니다 (앞쪽 토큰 2개).",
    "vit_small_patch16_224.dino": "자기 지도 학습 DINO입니다 (분류 헤드 없음).",
    "vit_small_patch14_reg4_dinov2.lvd142m": "레지스터 토큰 4개가 있는 DINOv2입니다 (앞쪽 토큰 5개). 224 px로 실행합니다.",
    "torchvision:vit_b_16": "torchvision의 ViT-B/16입니다 (nn.MultiheadAttention 블록), IMAGENET1K_V1 가중치.",
    "hf:google/vit-base-patch16-224": "Hugging Face transformers로 옮긴 논문의 ViT-B/16입니다 (hf 추가 설치 필요).",
}

_LANGUAGE: ContextVar[str] = ContextVar("vit_explorer_language", default=LANGUAGES[0])


def browser_language(accept_language: str | None) -> str:
    """The first of :data:`LANGUAGES` the browser asks for (``Accept-Language``, by weight),
    else English: ``"ko-KR,ko;q=0.9,en;q=0.8"`` -> ``"ko"``. A weight of 0 (or a broken one)
    means the browser does not want that language."""
    ranked = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        try:
            weight = float(params.split("=", 1)[1]) if params.strip().startswith("q=") else 1.0
        except ValueError:
            weight = 0.0
        if weight > 0:  # q=0: "not this one"
            ranked.append((-weight, i, tag.strip().split("-")[0].lower()))
    return next((lang for _, _, lang in sorted(ranked) if lang in LANGUAGES), LANGUAGES[0])


@contextmanager
def speaking(language: str | None) -> Iterator[None]:
    """Within the block, :func:`say` writes in ``language`` (English if it is not offered)."""
    token = _LANGUAGE.set(language if language in LANGUAGES else LANGUAGES[0])
    try:
        yield
    finally:
        _LANGUAGE.reset(token)


def say(key: str, **values) -> str:
    """Sentence ``key`` in the current language, with ``values`` filled in."""
    return MESSAGES[_LANGUAGE.get()][key].format(**values)


def model_note(spec: str, english: str) -> str:
    """A catalog entry's note in the current language."""
    return MODEL_NOTES_KO.get(spec, english) if language() == "ko" else english


def language() -> str:
    """The current language (``"en"`` outside :func:`speaking`)."""
    return _LANGUAGE.get()
