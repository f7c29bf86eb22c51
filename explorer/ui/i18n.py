"""Every word the page shows, in English and Korean, through Gradio's own ``gr.I18n``.

The page follows the browser's language (English when it is neither), and Gradio's
settings menu (the footer's "Settings") switches it. ``T(key)`` marks a string for
translation; :data:`STRINGS` holds them all, and a test checks that both languages
have every key and that no component of the page keeps an untranslated label.
Sentences the server writes at run time, with values in them (errors, captions, the model
card), are translated on the server: :mod:`.messages`.
No key may equal a string a component shows as a choice (Gradio translates choices too).
"""
from __future__ import annotations

import gradio as gr

from . import text, tour

LANGUAGES = ("en", "ko")

_EN = {
    "intro": text.INTRO, "prediction_help": text.PREDICTION, "rollout_help": text.ROLLOUT, "query_help": text.QUERY,
    "heads_help": text.HEADS, "distance_help": text.DISTANCE, "model_help": text.MODEL, "compare_help": text.COMPARE,
    "model": "Model", "model_info_open": "A curated model, or type any timm ViT name.",
    "model_info_closed": "The models this server offers.", "your_image": "Your image", "examples": "Examples (click one)",
    "seen": "What the model sees", "prediction": "Prediction (top 5)",
    "tab_rollout": "Attention rollout", "method": "Method", "target": "Class (class-specific methods)",
    "alpha": "Overlay alpha", "cmap": "Colormap", "mask_label": "Figure 6 look: image through the map", "heat_label": "Heat overlay",
    "few_classes": "**This model knows only the few classes listed in its card above.** Any other picture (a "
                   "photo on the shape model) still gets one of them: the answer is then a guess.",
    "head_fusion": "Head fusion", "discard_ratio": "Discard ratio", "start_layer": "Start layer",
    "head_fusion_info": "how one block's heads become one matrix",
    "discard_ratio_info": "fraction of each row's weakest patch attention dropped before the residual",
    "start_layer_info": "first block multiplied in",
    "tab_query": "Attention explorer", "block": "Block", "head": "Head", "patch_row": "Patch row",
    "patch_col": "Patch column", "click_patch": "Click a patch", "its_attention": "Its attention in this block",
    "its_rollout": "Its rollout row (all blocks)", "style": "Style", "heads": "Class-token attention per head",
    "tab_compare": "Compare methods", "fill": "Removed patches become",
    "fill_info": "mean: the average colour; blur: the same patch, blurred",
    "sanity": "Sanity check (re-run on randomized models)", "compare_run": "Compare every method",
    "gallery": "Every method (click one)", "scores": "Scores (see the note above for which way is better)",
    "chosen": "The chosen method", "curves": "Its curves, beside the random baseline",
    "tab_distance": "Mean attention distance", "distance": "Mean attention distance per head",
    "per_block": "Per block", "batch_files": "Batch: several images", "use_samples": "Include the sample images",
    "batch_run": "Compute over the batch",
    "tab_model": "Model", "filters_pca": "RGB embedding filters: principal components",
    "filters_raw": "RGB embedding filters: raw", "position": "Position embedding similarity",
    "downloads": "Prepare downloads (PNG, SVG, PDF, data)", "files": "Files",
    "ablation": "Ablation", "importance_run": "Rank every head", "importance": "Head importance",
    "importance_help": "**Which heads matter?** Silence one head at a time (its output set to zero, or to its mean "
                       "over the tokens) and measure how much the class's probability drops. Beside it: each head's "
                       "mean attention distance, so you can see whether the important heads look near or far.",
    "tab_side": "Side by side", "second_model": "Second model", "depth_fraction": "Depth (0 = first block, 1 = last)",
    "side_run": "Compare the two models", "rollout_left": "Rollout, this model", "rollout_right": "Rollout, second model",
    "pca_left": "Token colours, this model", "pca_right": "Token colours, second model",
    "position_left": "Position similarity, this model", "position_right": "Position similarity, second model",
    "side_help": "**Two models, one image.** The current image goes through the current model (left) and a second "
                 "one (right): rollout, token colours at the same fraction of each model's depth, position "
                 "grids, and both models' attention distances in one plot. Both models stay in the server's "
                 "shared, bounded model cache.",
    "tab_tokens": "Tokens", "foreground": "Foreground only (first component)",
    "pca": "Patch features, 3 principal components as colours", "similarity": "Similar to the followed patch",
    "norms": "Token norms", "lens": "Logit lens: the answer across depth",
    "tokens_help": """
**What the tokens carry.** Left: each patch's features after the chosen block, squeezed to three numbers by
PCA and shown as a colour (DINOv2's picture): patches the model treats alike get alike colours. *Foreground
only* cuts the patches by the first component first. Middle: how similar every patch's features are to the
patch you follow (click one on the *Attention explorer* tab). Below: the length (norm) of every token; a few
very long "artifact" tokens (Darcet et al. 2024) are ringed, with the threshold stated. Right: the **logit
lens** reads every block's class token through the model's final norm and head, to show at which depth the
answer forms.
""",
}

_KO = {
    "intro": """
# ViT 탐색기
**비전 트랜스포머**(ViT)의 속을 들여다봅니다. 모델은 이미지를 정사각형 *패치*로 자르고, 각 패치를
벡터(*토큰*)로 바꾸고, *위치 임베딩*을 더한 다음, 블록마다 모든 토큰이 다른 모든 토큰을 *셀프 어텐션*으로
봅니다. 이 화면들은 모델이 어디를 보는지 보여 줍니다. Dosovitskiy 외, *An Image is Worth 16x16 Words*
(ICLR 2021)의 그림 6과 7을 따릅니다. 모델을 고르고 이미지를 올리거나(또는 예시를 고르고) 탭을 여세요.
""",
    "prediction_help": """
**예측.** 가장 가능성이 높은 다섯 클래스와 그 확률(모델 출력의 소프트맥스)입니다. 보이는 이미지는 모델이
실제로 본 그대로입니다: 입력 크기에 맞게 크기를 바꾸고 가운데를 잘라 냈습니다.
""",
    "rollout_help": """
**어텐션 롤아웃** (논문 그림 6, 부록 D.8; Abnar & Zuidema 2020). 어텐션은 블록을 따라 흐르고, 각 블록은
입력을 그대로 다음으로도 넘깁니다(잔차 연결). 롤아웃은 그 흐름을 따라갑니다: 블록마다 헤드를 평균하고
(*헤드 결합*), 잔차를 위해 단위 행렬을 더하고, 각 행의 합이 1이 되게 맞춘 뒤, 블록들을 곱합니다. 패치에 대한
클래스 토큰의 행이 각 패치가 최종 답에 얼마나 기여했는지 알려 줍니다.
*그림 6 방식:* 지도(최댓값이 1이 되게 맞춤)를 통해 본 이미지, 바탕은 검정. *히트 오버레이:* 같은 지도를
색 지도로 그린 것.
*버림 비율*은 잔차를 더하기 전에 각 행에서 가장 약한 패치 어텐션을 그 비율만큼 버립니다(클래스/레지스터 토큰은
버리지 않음). *시작 블록*은 앞쪽 블록을 건너뜁니다.
**그래디언트 롤아웃**(Chefer 외 2021)은 클래스별입니다: 각 블록의 어텐션에 고른 클래스에 대한 그래디언트를
곱하고, 양의 근거만 남깁니다. **마지막 블록 어텐션**은 마지막 블록의 클래스 토큰 어텐션 그대로입니다.
다른 방법들(어텐션 플로우, Grad-CAM, Integrated Gradients, 살리언시, 가림, 무작위 기준선)은 **방법 비교**
탭에서 설명하고 점수를 매깁니다.
""",
    "query_help": """
**한 패치의 어텐션.** 이미지에서 패치를 클릭하세요. 가운데 그림은 그 패치가 고른 블록에서 어디를 보는지(헤드
하나 또는 모든 헤드의 평균), 오른쪽 그림은 *롤아웃 행*, 즉 모든 블록을 거쳐 그 패치의 정보가 어디서 오는지
보여 줍니다. 앞쪽 블록은 이웃을 자주 보고, 뒤쪽 블록은 이미지 전체를 봅니다.
""",
    "heads_help": """
**한 블록의 헤드들.** 블록의 헤드마다 다르게 어텐션합니다. 각 칸은 한 헤드에서 클래스 토큰의 어텐션입니다
(각자 자기 최댓값에 맞춤).
""",
    "distance_help": """
**평균 어텐션 거리** (논문 그림 7 오른쪽, 부록 D.7). 헤드마다: 쿼리 패치와 그 패치가 어텐션하는 패치들 사이의
거리(픽셀)를 어텐션으로 가중하고 쿼리 패치에 대해 평균한 값입니다(클래스/레지스터 토큰은 빼고, 가중치는 다시
정규화하지 않습니다. Kornblith의 참조 코드와 같습니다). 수용 영역의 크기와 비슷합니다: 작으면 가까이 보는
헤드, 크면 멀리 보는 헤드입니다. 논문은 첫 블록에서도 멀리 보는 헤드가 있고, 깊어질수록 모두 멀리 본다는 것을
발견했습니다. 표 아래의 설명은 이 모델의 격자에서 "전체를 고르게 보는" 수준을 알려 줍니다(224 px의 ViT-B/16은
116.5 px). 묶음 모드는 여러 이미지의 지도를 남기지 않고 평균합니다.
""",
    "model_help": """
**모델이 여러분의 이미지를 보기 전에 배운 것.**
*RGB 임베딩 필터* (그림 7 왼쪽): 첫 층은 학습된 필터로 각 패치를 벡터로 바꿉니다. 그 주성분(또는 처음 몇 개의
필터 그대로)을 보여 주고, 주성분의 부호는 임의이므로 각각 [0, 1]로 맞췄습니다. *위치 임베딩 유사도* (그림 7
가운데): (r, c) 칸은 패치 (r, c)의 위치 임베딩과 다른 모든 패치의 코사인 유사도입니다. 논문의 ViT는 가까운
패치끼리 비슷하다는 것을 배웁니다: 각 칸에 자기 위치 주변의 밝은 점이 있고, 행과 열이 보입니다. 무엇을 배우는지는
데이터에 달려 있습니다: 작은 이미지로 학습한 작은 모델은 테두리와 안쪽처럼 더 거친 구조를 보일 수 있습니다.
""",
    "compare_help": """
**어떤 설명을 믿을 수 있을까?** 모든 방법이 같은 이미지와 클래스(롤아웃 탭에서 고른 클래스, 기본은 예측)를
설명하고, 각 지도를 라벨 없이 모델 자체로 시험합니다:

- **삭제(deletion)**: 가장 중요한 패치부터 흐리게 지웁니다. 지도가 맞다면 클래스 확률이 빨리 떨어집니다:
  곡선 아래 면적이 **낮을수록** 좋습니다.
- **삽입(insertion)**: 흐린 이미지에서 시작해 가장 중요한 패치부터 되돌립니다. 확률이 빨리 올라야 합니다:
  면적이 **높을수록** 좋습니다.
- **섭동(perturbation)** (양/음): 가장(가장 덜) 중요한 패치부터 90%까지 회색으로(또는 흐리게) 지웁니다.
  양은 낮을수록, 음은 높을수록 좋습니다.
- **건전성 ρ**: 모델의 위쪽 블록을 무작위 가중치로 바꾸고 지도를 다시 계산합니다. 지도가 그대로라면(ρ가 1에
  가까우면) 모델이 배운 것에 의존하지 않는 것입니다. 낮을수록 좋고, **무작위** 지도는 "설명 없음"의 점수를
  보여 줍니다.

각 지도는 자기 최댓값에 맞춰 그립니다. 지도를 클릭하면 곡선을 봅니다. 큰 모델에서는 어텐션 플로우와 건전성
검사가 오래 걸리며, 진행 막대가 보입니다.
""",
    "model": "모델", "model_info_open": "준비된 모델을 고르거나 timm ViT 이름을 입력하세요.",
    "model_info_closed": "이 서버가 제공하는 모델입니다.", "your_image": "내 이미지", "examples": "예시 (하나를 클릭)",
    "seen": "모델이 보는 이미지", "prediction": "예측 (상위 5개)",
    "tab_rollout": "어텐션 롤아웃", "method": "방법", "target": "클래스 (클래스별 방법)",
    "alpha": "겹침 투명도", "cmap": "색 지도", "mask_label": "그림 6 방식: 지도를 통해 본 이미지", "heat_label": "히트 오버레이",
    "few_classes": "**이 모델은 위 모델 카드에 적힌 몇 개의 클래스만 압니다.** 다른 그림(도형 모델에 사진)을 넣어도 "
                   "그중 하나로 답합니다: 그때의 답은 추측일 뿐입니다.",
    "head_fusion": "헤드 결합", "discard_ratio": "버림 비율", "start_layer": "시작 블록",
    "head_fusion_info": "한 블록의 헤드들을 하나의 행렬로 합치는 방법",
    "discard_ratio_info": "잔차를 더하기 전에 각 행에서 버리는 가장 약한 패치 어텐션의 비율",
    "start_layer_info": "곱하기 시작하는 첫 블록",
    "tab_query": "어텐션 탐색기", "block": "블록", "head": "헤드", "patch_row": "패치 행",
    "patch_col": "패치 열", "click_patch": "패치를 클릭하세요", "its_attention": "이 블록에서 그 패치의 어텐션",
    "its_rollout": "그 패치의 롤아웃 행 (모든 블록)", "style": "모양", "heads": "헤드별 클래스 토큰 어텐션",
    "tab_compare": "방법 비교", "fill": "지운 패치를 채우는 방법",
    "fill_info": "mean: 평균 색; blur: 같은 패치를 흐리게",
    "sanity": "건전성 검사 (무작위로 바꾼 모델에서 다시 계산)", "compare_run": "모든 방법 비교하기",
    "gallery": "모든 방법 (하나를 클릭)", "scores": "점수 (어느 쪽이 좋은지는 위 설명 참고)",
    "chosen": "고른 방법", "curves": "그 곡선과 무작위 기준선",
    "tab_distance": "평균 어텐션 거리", "distance": "헤드별 평균 어텐션 거리",
    "per_block": "블록별", "batch_files": "묶음: 여러 이미지", "use_samples": "예시 이미지 포함",
    "batch_run": "묶음 전체 계산",
    "tab_model": "모델", "filters_pca": "RGB 임베딩 필터: 주성분",
    "filters_raw": "RGB 임베딩 필터: 원래 필터", "position": "위치 임베딩 유사도",
    "downloads": "내려받을 파일 준비 (PNG, SVG, PDF, 데이터)", "files": "파일",
    "ablation": "제거 방식", "importance_run": "모든 헤드 순위 매기기", "importance": "헤드 중요도",
    "importance_help": "**어떤 헤드가 중요할까?** 헤드를 하나씩 끄고(출력을 0으로, 또는 토큰 평균으로 바꿈) 클래스 "
                       "확률이 얼마나 떨어지는지 잽니다. 옆에는 각 헤드의 평균 어텐션 거리가 있어, 중요한 헤드가 "
                       "가까이 보는지 멀리 보는지 알 수 있습니다.",
    "tab_side": "나란히 비교", "second_model": "두 번째 모델", "depth_fraction": "깊이 (0 = 첫 블록, 1 = 마지막)",
    "side_run": "두 모델 비교하기", "rollout_left": "롤아웃, 이 모델", "rollout_right": "롤아웃, 두 번째 모델",
    "pca_left": "토큰 색, 이 모델", "pca_right": "토큰 색, 두 번째 모델",
    "position_left": "위치 유사도, 이 모델", "position_right": "위치 유사도, 두 번째 모델",
    "side_help": "**두 모델, 한 이미지.** 지금 이미지를 현재 모델(왼쪽)과 두 번째 모델(오른쪽)에 넣습니다: 롤아웃, 각 "
                 "모델 깊이의 같은 비율에서의 토큰 색, 위치 격자, 그리고 두 모델의 어텐션 거리를 한 그림에 보여 "
                 "줍니다. 두 모델 모두 서버의 공유된, 크기가 제한된 모델 캐시에 들어갑니다.",
    "tab_tokens": "토큰", "foreground": "전경만 (첫 번째 주성분)",
    "pca": "패치 특징, 세 주성분을 색으로", "similarity": "따라가는 패치와 비슷한 곳",
    "norms": "토큰 노름", "lens": "로짓 렌즈: 깊이에 따른 답",
    "tokens_help": """
**토큰이 담고 있는 것.** 왼쪽: 고른 블록을 지난 각 패치의 특징을 PCA로 세 숫자로 줄여 색으로 보여 줍니다(DINOv2의
그림): 모델이 비슷하게 다루는 패치는 비슷한 색이 됩니다. *전경만*은 첫 번째 주성분으로 먼저 패치를 나눕니다.
가운데: 모든 패치의 특징이 여러분이 따라가는 패치(*어텐션 탐색기* 탭에서 클릭)와 얼마나 비슷한지 보여 줍니다.
아래: 모든 토큰의 길이(노름)입니다. 아주 긴 몇몇 "인공물" 토큰(Darcet 외 2024)은 동그라미로 표시하고 기준값을
함께 적습니다. 오른쪽: **로짓 렌즈**는 각 블록의 클래스 토큰을 모델의 마지막 정규화와 헤드로 읽어, 답이 어느
깊이에서 만들어지는지 보여 줍니다.
""",
}

STRINGS: dict[str, dict[str, str]] = {
    lang: {**table, **tour.translations()[lang]} for lang, table in (("en", _EN), ("ko", _KO))
}
I18N = gr.I18n(**STRINGS)


def T(key: str):
    """A translated string of the page (``STRINGS[lang][key]``)."""
    if key not in STRINGS["en"]:
        raise KeyError(f"no text '{key}' in explorer/ui/i18n.py")
    return I18N(key)
