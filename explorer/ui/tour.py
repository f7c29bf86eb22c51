"""The guided tour: how a ViT reads this image, one step at a time, in English and Korean.

Each step is a short text (translated with Gradio's ``gr.I18n``: the page follows the
browser's language, and Gradio's settings menu switches it) and the pictures
``views.tour_pictures`` draws for the current image, model and patch.
"""
from __future__ import annotations

from ..views import TOUR_STEPS

TITLES = {
    "en": {
        "patches": "1. The image is cut into patches",
        "projection": "2. Each patch becomes a vector",
        "positions": "3. Position embeddings say where each patch was",
        "attention": "4. Patches look at each other: attention",
        "heads": "5. Many heads look in different ways",
        "distance": "6. Deeper blocks look further",
        "prediction": "7. The class token gives the answer",
    },
    "ko": {
        "patches": "1. 이미지를 패치로 자릅니다",
        "projection": "2. 각 패치는 벡터가 됩니다",
        "positions": "3. 위치 임베딩은 패치가 어디에 있었는지 알려 줍니다",
        "attention": "4. 패치들이 서로를 봅니다: 어텐션",
        "heads": "5. 여러 헤드가 서로 다른 방식으로 봅니다",
        "distance": "6. 깊은 블록일수록 더 멀리 봅니다",
        "prediction": "7. 클래스 토큰이 답을 냅니다",
    },
}

TEXTS = {
    "en": {
        "patches": "A Transformer reads a sequence of words. A Vision Transformer turns the picture into such a "
                   "sequence: it cuts the image into small squares of P x P pixels, the **patches**, and reads them "
                   "left to right, top to bottom. The white lines show the cut; the red square is the patch we "
                   "follow in the next steps (click a patch on the *Attention explorer* tab to follow another one).",
        "projection": "Each patch is flattened into one long list of numbers (P x P pixels x 3 colours) and "
                      "multiplied by one learned matrix: the **linear projection**. Left: the main patterns that "
                      "matrix looks for (its principal components; early CNN layers learn similar ones). Right: the "
                      "vectors it makes for this image, one row per patch.",
        "positions": "A Transformer does not know where a patch was. So a learned **position embedding** is added "
                     "to each patch vector, and a **class token** is put in front of the sequence to collect the "
                     "answer. Middle: how similar the red patch's position embedding is to every other position. "
                     "Where near positions look alike, the model knows the 2-D layout (the paper's Figure 7, centre): "
                     "big models such as ViT-B/16 learn it from data alone, while the small bundled demo model was "
                     "given it as a starting point (a 2-D sine-cosine pattern) and kept it while learning. Right: the "
                     "same for every position.",
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
                      "class. Left: **attention rollout**, which multiplies the attention of all blocks to show "
                      "which patches fed the class token. Right: the model's answer.",
    },
    "ko": {
        "patches": "트랜스포머는 단어의 시퀀스를 읽습니다. 비전 트랜스포머는 그림을 그런 시퀀스로 바꿉니다. 이미지를 "
                   "P x P 픽셀의 작은 정사각형, 즉 **패치**로 자르고 왼쪽에서 오른쪽, 위에서 아래 순서로 읽습니다. "
                   "흰 선이 자른 자리이고, 빨간 사각형은 다음 단계에서 따라갈 패치입니다 (*어텐션 탐색기* 탭에서 "
                   "다른 패치를 클릭하면 그 패치를 따라갑니다).",
        "projection": "각 패치는 하나의 긴 숫자 목록(P x P 픽셀 x 3 색)으로 펼쳐지고(flatten), 학습된 행렬 하나와 "
                      "곱해집니다: **선형 투영(linear projection)**입니다. 왼쪽: 그 행렬이 찾는 주요 패턴(주성분, "
                      "CNN의 앞쪽 층도 비슷한 것을 배웁니다). 오른쪽: 이 이미지에서 만들어진 벡터, 패치마다 한 줄입니다.",
        "positions": "트랜스포머는 패치가 어디에 있었는지 모릅니다. 그래서 학습된 **위치 임베딩**을 각 패치 벡터에 "
                     "더하고, 답을 모을 **클래스 토큰**을 시퀀스 맨 앞에 둡니다. 가운데: 빨간 패치의 위치 임베딩이 "
                     "다른 모든 위치와 얼마나 비슷한지 보여 줍니다. 가까운 위치끼리 비슷하면 모델이 2차원 배치를 "
                     "알고 있는 것입니다(논문 그림 7 가운데). ViT-B/16 같은 큰 모델은 데이터만으로 이것을 배우고, "
                     "함께 들어 있는 작은 데모 모델은 2차원 사인·코사인 무늬를 출발점으로 받아 학습하는 동안 그대로 "
                     "지켰습니다. 오른쪽: 모든 위치에 대해 같은 그림입니다.",
        "attention": "각 블록에서 모든 패치는 다른 모든 패치에게 얼마나 관련이 있는지 묻고(쿼리와 키를 곱한 뒤 "
                     "소프트맥스), 그 값(value)을 가중 평균합니다: **셀프 어텐션**입니다. 그림은 빨간 패치가 첫 "
                     "블록, 가운데 블록, 마지막 블록에서 어디를 보는지 보여 줍니다(헤드 평균).",
        "heads": "각 블록에는 여러 개의 **헤드**가 있고, 헤드마다 자기만의 어텐션을 계산합니다. 여기서는 마지막 "
                 "블록의 각 헤드에서 클래스 토큰이 어디를 보는지 보여 줍니다. 어떤 헤드는 물체를, 어떤 헤드는 "
                 "배경이나 전체를 봅니다.",
        "distance": "논문은 각 헤드가 얼마나 멀리 보는지 잽니다: 한 패치와 그 패치가 어텐션하는 패치들 사이의 평균 "
                    "거리(픽셀)입니다. 점 하나가 헤드 하나, 열 하나가 블록 하나입니다. 논문에서는 첫 블록에서도 "
                    "멀리 보는 헤드가 있고, 다른 헤드는 CNN의 작은 필터처럼 자기 패치 근처만 봅니다. 깊은 "
                    "블록에서는 모든 헤드가 멀리 봅니다. 점선은 모든 곳을 똑같이 보는 헤드의 값입니다.",
        "prediction": "마지막 블록이 끝나면 클래스 토큰만 읽습니다. 작은 헤드가 그것을 클래스별 점수로 바꿉니다. "
                      "왼쪽: 모든 블록의 어텐션을 곱해 어떤 패치가 클래스 토큰에 정보를 주었는지 보여 주는 "
                      "**어텐션 롤아웃**입니다. 오른쪽: 모델의 답입니다.",
    },
}

LABELS = {  # the page's own words, by i18n key
    "en": {
        "tab_tour": "Guided tour", "tour_back": "Back", "tour_next": "Next",
        "tour_intro": "**How a Vision Transformer reads this image**, from pixels to the answer, in seven steps. "
                      "Upload an image (or click an example) above, then press Next.",
        "tour_step": "Step",
    },
    "ko": {
        "tab_tour": "둘러보기", "tour_back": "이전", "tour_next": "다음",
        "tour_intro": "**비전 트랜스포머가 이 이미지를 읽는 방법**, 픽셀에서 답까지 일곱 단계로 봅니다. 위에서 "
                      "이미지를 올리거나 예시를 클릭한 다음 '다음'을 누르세요.",
        "tour_step": "단계",
    },
}


def translations() -> dict[str, dict[str, str]]:
    """Every translated string by language, keyed as the page asks for them."""
    out: dict[str, dict[str, str]] = {}
    for lang in ("en", "ko"):
        table = dict(LABELS[lang])
        for step in TOUR_STEPS:
            table[f"tour_title_{step}"] = f"### {TITLES[lang][step]}"
            table[f"tour_text_{step}"] = TEXTS[lang][step]
        out[lang] = table
    return out
