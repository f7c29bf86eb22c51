"""Korean (한국어): the same tables and keys as :mod:`.en`, which says what each table is for.

The transformer's blocks are "블록" everywhere.
"""
from __future__ import annotations

from ...analyses import EXPLANATION_METHODS

PAGE = {
    "intro": """
## ViT 탐색기
**비전 트랜스포머**(ViT)의 속을 들여다봅니다: 내 이미지를 무엇이라고 답하는지, 그리고 어디를 보는지.
모델을 고르고 이미지를 올리거나(또는 예시를 클릭하고) 아래 탭을 여세요.
""",
    "about": "비전 트랜스포머가 이미지를 읽는 방법",
    "intro_more": """
모델은 이미지를 정사각형 *패치*로 자르고, 각 패치를 벡터(*토큰*)로 바꾸고, *위치 임베딩*을 더한 다음,
블록마다 모든 토큰이 다른 모든 토큰을 *셀프 어텐션*으로 봅니다. 이 화면들은 모델이 어디를 보는지 보여
줍니다. Dosovitskiy 외, *An Image is Worth 16x16 Words* (ICLR 2021)의 그림 6과 7을 따릅니다. 아래
*둘러보기* 탭이 내 이미지로 한 단계씩 보여 줍니다.
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
가장 작은 값부터 가장 큰 값까지 색 지도로 그린 것.
*버림 비율*은 잔차를 더하기 전에 각 행에서 가장 약한 패치 어텐션을 그 비율만큼 버립니다(클래스/레지스터 토큰은
버리지 않음). *시작 블록*은 앞쪽 블록을 건너뜁니다.
**그래디언트 롤아웃**(Chefer 외 2021)은 클래스별입니다: 각 블록의 어텐션에 고른 클래스에 대한 그래디언트를
곱하고, 양의 근거만 남깁니다. **마지막 블록 어텐션**은 마지막 블록의 클래스 토큰 어텐션 그대로입니다.
위 목록의 다른 방법들(어텐션 플로우, Grad-CAM, 통합 그래디언트, 살리언시, 가림, 답을 층마다 거꾸로 나눠 주는
트랜스포머 기여도와 AttnLRP, 무작위 기준선)은 **방법 비교** 탭에서 설명하고 점수를 매깁니다.
""",
    "query_help": """
**한 패치의 어텐션.** 이미지에서 패치를 클릭하세요. *이 블록에서 그 패치의 어텐션*은 그 패치가 고른 블록에서
어디를 보는지(헤드 하나 또는 모든 헤드의 평균), *그 패치의 롤아웃 행*은 모든 블록을 거쳐 그 패치의 정보가
어디서 오는지 보여 줍니다. 앞쪽 블록은 이웃을 자주 보고, 뒤쪽 블록은 이미지 전체를 봅니다.
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
*RGB 임베딩 필터* (그림 7 왼쪽): 첫 블록 앞의 패치 임베딩은 학습된 필터로 각 패치를 벡터로 바꿉니다.
그 주성분(또는 처음 몇 개의 필터 그대로)을 보여 주고, 주성분의 부호는 임의이므로 각각 [0, 1]로 맞췄습니다. *위치 임베딩 유사도* (그림 7
가운데): (r, c) 칸은 패치 (r, c)의 위치 임베딩과 다른 모든 패치의 코사인 유사도입니다. 논문의 ViT는 가까운
패치끼리 비슷하다는 것을 배웁니다: 각 칸에 자기 위치 주변의 밝은 점이 있고, 행과 열이 보입니다. 무엇을 배우는지는
데이터에 달려 있습니다: 작은 이미지로 학습한 작은 모델은 테두리와 안쪽처럼 더 거친 구조를 보일 수 있습니다.
학습된 절대 위치 임베딩이 없는 모델(예: RoPE)에는 이런 격자가 없습니다.
""",
    "compare_help": """
**어떤 설명을 믿을 수 있을까?** 모든 방법이 같은 이미지와 클래스(롤아웃 탭에서 고른 클래스, 기본은 예측)를
설명하고, 각 지도를 라벨 없이 모델 자체로 시험합니다:

- **삭제(deletion)**: 가장 중요한 패치부터 흐리게 지웁니다. 지도가 맞다면 클래스 확률이 빨리 떨어집니다:
  곡선 아래 면적이 **낮을수록** 좋습니다.
- **삽입(insertion)**: 흐린 이미지에서 시작해 가장 중요한 패치부터 되돌립니다. 확률이 빨리 올라야 합니다:
  면적이 **높을수록** 좋습니다.
- **섭동(perturbation)** (양/음): 가장(가장 덜) 중요한 패치부터 90%까지 지우고, *지운 패치를 채우는 방법*에서
  고른 대로 채웁니다(기본은 이미지의 평균 색; 삭제와 삽입은 늘 흐리게 합니다). 양은 낮을수록, 음은 높을수록 좋습니다.
- **건전성 ρ**: 모델의 위쪽 블록을 무작위 가중치로 바꾸고 지도를 다시 계산합니다. 지도가 그대로라면(ρ가 1에
  가까우면) 모델이 배운 것에 의존하지 않는 것입니다. 낮을수록 좋고, **무작위** 지도는 "설명 없음"의 점수를
  보여 줍니다.
- **무작위 대비**: 이 이미지에서 각 면적에서 무작위 지도의 면적을 뺀 값입니다. 네 면적 열의 순서(양의 섭동,
  음의 섭동, 삭제, 삽입)대로이며, **+** 이면 무작위보다 좋다는 뜻이 되도록 부호를 맞췄습니다. 이미지 한 장은
  지도마다 숫자 하나뿐이라 여기에는 신뢰 구간이 없습니다. 폴더에 `python -m explorer evaluate` 를 실행하면
  95% 구간과 함께 어떤 지표가 무작위와 구별하지 못하는지 알려 줍니다.

각 지도는 자기 최댓값에 맞춰 그립니다. 지도를 클릭하면 곡선을 봅니다. 큰 모델에서는 어텐션 플로우와 건전성
검사가 오래 걸리며, 진행 막대가 보입니다.
""",
    "model": "모델", "model_info_open": "준비된 모델을 고르거나 timm ViT 이름을 입력하세요.",
    "model_info_closed": "이 서버가 제공하는 모델입니다.", "your_image": "내 이미지", "examples": "예시 (하나를 클릭)",
    "seen": "모델이 보는 이미지", "prediction": "예측 (상위 5개)",
    "where": "모델이 보는 곳",
    "where_help": "**모델이 보는 곳:** 이 이미지의 어텐션 롤아웃입니다. 답에 크게 기여한 패치일수록 빨갛고, 거의 "
                  "기여하지 않은 패치는 파랗습니다(어텐션이 없는 CNN과 어텐션이 윈도 안에 머무는 Swin은 Grad-CAM). "
                  "다른 방법은 *어텐션 롤아웃* 탭에 "
                  "있습니다.",
    "tab_rollout": "어텐션 롤아웃", "method": "방법", "target": "클래스 (클래스별 방법)",
    "alpha": "겹침 투명도", "cmap": "색 지도", "mask_label": "그림 6 방식: 지도를 통해 본 이미지", "heat_label": "히트 오버레이",
    "guess_hidden": "**모델의 지도와 답은 숨겨져 있습니다.** *먼저 맞혀 보기*가 켜져 있는 동안입니다(어텐션 롤아웃 탭): "
                    "그곳에서 추측을 표시하고 공개하거나, 상자를 해제하면 다시 보입니다.",
    "guess_mode": "먼저 맞혀 보기: 모델이 어디를 보는지 표시할 때까지 지도를 숨김",
    "prompts_help": "**단어로 설명하기 (CLIP 모델).** 찾을 것을 입력하세요. 여러 프롬프트는 쉼표나 줄바꿈으로 "
                    "나눕니다 (\"고양이, 귀, 풀\" 대신 영어로: \"a cat, the ears, grass\"). 프롬프트마다 지도가 "
                    "하나씩 나옵니다: 이미지의 어느 부분이 그 글에 대한 모델의 점수(CLIP이 계산하는 유사도)를 "
                    "높이는지 보여 줍니다. 지도 옆에는 점수와 입력한 프롬프트 사이에서의 비율이 있습니다. 프롬프트가 "
                    "레이블이면 이것이 CLIP의 제로샷 추측입니다.",
    "prompts": "프롬프트 (쉼표나 줄바꿈으로 구분)", "prompts_placeholder": "a cat, the ears, grass (CLIP은 영어 문장을 읽습니다)",
    "prompt_method": "프롬프트에 쓸 방법", "prompt_run": "프롬프트 설명하기", "prompt_gallery": "프롬프트별 지도",
    "guess_about": "무엇을 맞혀 볼까요?",
    "guess_about_class": "모델이 답을 위해 보는 곳 (롤아웃, 추측한 뒤에 공개)",
    "guess_about_patch": "따라가는 패치가 보는 곳 (하늘색; 어텐션 탐색기에서 다른 패치를 누르세요)",
    "guess_block": "블록 (따라가는 패치용)",
    "guess_block_info": "어텐션을 맞혀 볼 블록: 앞쪽 블록은 가까이, 뒤쪽 블록은 멀리 봅니다",
    "guess_image": "모델이 쓸 것 같은 패치를 누르세요 (다시 누르면 취소)",
    "guess_patches": "내가 고른 패치 (행,열; 행,열 ...)", "guess_clear": "내 추측 지우기", "guess_reveal": "지도 보기",
    "reveal_image": "지도와 내가 고른 패치(흰색), 지도에서 가장 강한 패치(빨간색; 빨간 틀 안의 흰 틀: 둘 다)",
    "few_classes": "**이 모델은 위 모델 카드에 적힌 몇 개의 클래스만 압니다.** 다른 그림(도형 모델에 사진)을 넣어도 "
                   "그중 하나로 답합니다: 그때의 답은 추측일 뿐입니다.",
    "tab_query": "어텐션 탐색기", "block": "블록", "head": "헤드", "patch_row": "패치 행",
    "patch_col": "패치 열", "click_patch": "패치를 클릭하세요", "its_attention": "이 블록에서 그 패치의 어텐션",
    "its_rollout": "그 패치의 롤아웃 행 (모든 블록)", "style": "모양", "heads": "헤드별 클래스 토큰 어텐션",
    "tab_compare": "방법 비교", "fill": "지운 패치를 채우는 방법",
    "fill_info": "평균 색: 이미지의 평균 색으로; 흐리게: 같은 패치를 흐리게; ROAD: 이웃 패치로 채우고 잡음을 조금 더함 "
                 "(Rong 외 2022)",
    "sanity": "건전성 검사 (무작위로 바꾼 모델에서 다시 계산)", "compare_run": "모든 방법 비교하기", "compare_cancel": "취소",
    "gallery": "모든 방법 (하나를 클릭)", "scores": "점수: ↓ 낮을수록 좋음, ↑ 높을수록 좋음",
    "chosen": "고른 방법", "curves": "그 곡선과 무작위 기준선",
    "quick": "빠르게", "quick_info": "통합 그래디언트와 가림(occlusion)의 계산을 4분의 1로, 프로세서가 지원하면 "
                                   "bfloat16으로: CPU 서버용",
    "tab_distance": "평균 어텐션 거리", "distance": "헤드별 평균 어텐션 거리",
    "per_block": "블록별", "batch_files": "묶음: 여러 이미지", "use_samples": "예시 이미지 포함",
    "batch_run": "묶음 전체 계산",
    "tab_model": "모델", "filters_pca": "RGB 임베딩 필터: 주성분",
    "filters_raw": "RGB 임베딩 필터: 원래 필터", "position": "위치 임베딩 유사도",
    "downloads": "내려받을 파일 준비 (PNG, SVG, PDF, 데이터)", "files": "파일",
    "ablation": "제거 방식", "importance_run": "모든 헤드 순위 매기기", "importance": "헤드 중요도",
    "importance_help": "**어떤 헤드가 중요할까?** 헤드를 하나씩 끄고(출력을 0으로, 또는 토큰 평균으로 바꿈) 클래스 "
                       "확률이 얼마나 떨어지는지 잽니다. 그림의 두 번째 칸에는 각 헤드의 평균 어텐션 거리가 있어, 중요한 헤드가 "
                       "가까이 보는지 멀리 보는지 알 수 있습니다.",
    "tab_side": "나란히 비교", "second_model": "두 번째 모델", "depth_fraction": "깊이",
    "depth_fraction_info": "토큰 색을 가져올 곳: 0 = 첫 블록, 1 = 마지막",
    "side_run": "두 모델 비교하기", "rollout_left": "지도, 이 모델", "rollout_right": "지도, 두 번째 모델",
    "pca_left": "토큰 색, 이 모델", "pca_right": "토큰 색, 두 번째 모델",
    "position_left": "위치 유사도, 이 모델", "position_right": "위치 유사도, 두 번째 모델",
    "side_help": "**두 모델, 한 이미지.** 지금 이미지를 현재 모델과 두 번째 모델에 넣습니다: 한 방법으로 "
                 "구한 각 모델의 지도와 같은 충실도 검사의 점수(표), 각 모델 깊이의 같은 비율에서의 토큰 색, 위치 "
                 "격자, 그리고 두 모델의 어텐션 거리를 한 그림에 보여 줍니다. CNN(ResNet, ConvNeXt)도 ViT 옆에 "
                 "놓을 수 있습니다. CNN에는 어텐션, 토큰, 위치 표가 없으므로 *자동*(auto)은 두 모델 모두 Grad-CAM을 "
                 "고르고, 그 칸들은 왜 비어 있는지 말합니다. 두 모델 모두 서버의 공유된, 크기가 제한된 모델 캐시에 "
                 "들어갑니다.",
    "side_method": "두 지도의 방법",
    "side_method_info": "자동: 롤아웃, 한 모델이 CNN이면 Grad-CAM",
    "side_scores": "각 지도의 충실도",
    "tab_surgery": "패치 수술", "surgery_mode": "누른 패치에 일어나는 일",
    "surgery_mode_info": "빼기: 토큰 열에서 뺌; 회색으로: 평균 색으로 칠함; 흐리게: 패치를 흐리게 함",
    "surgery_follows": "누르면 패치를 따라가기 (편집하지 않고)",
    "surgery_undo": "되돌리기", "surgery_reset": "처음으로", "surgery_keep": "롤아웃 상위 10%만 남기기",
    "surgery_remove": "롤아웃 상위 10% 빼기", "surgery_patches": "편집한 패치 (행,열; 행,열 ...)",
    "surgery_patches_info": "그림에서 패치를 누르거나, 입력하고 Enter를 누르세요",
    "surgery_image": "패치를 눌러 편집하세요 (빨강: 따라가는 패치)",
    "surgery_table": "편집 후 상위 5개와 변화 (퍼센트포인트)",
    "surgery_rollout": "편집한 입력의 롤아웃 (빗금: 뺀 패치)",
    "surgery_attention": "따라가는 패치가 보는 곳 (마지막 블록, 헤드 평균)",
    "surgery_lens": "편집한 입력의 로짓 렌즈: 깊이에 따른 답",
    "surgery_paint": "패치 칠하기 (그림 위로 끌기)",
    "surgery_paint_help": "붓(그림 옆 도구 모음의 펜)을 고르고 패치 위를 칠한 뒤 (휴대폰에서는 손가락으로) 버튼을 누르세요. 4분의 1 이상 칠한 패치가 "
                          "위에서 고른 방식으로 편집할 패치에 더해집니다.",
    "surgery_apply": "칠한 패치 편집하기",
    "surgery_help": """
**패치 수술.** 이미지를 바꾸고 모델이 어떻게 답하는지 보세요. 그림에서 패치를 눌러 **빼기 (drop)**(토큰을 열에서
뺍니다: ViT는 패치의 어떤 부분집합이든 각자의 위치와 함께 읽을 수 있습니다), **회색으로 (grey)**(평균 색으로
칠하기), **흐리게 (blur)** 중 하나를 합니다. 편집할 때마다 새 상위 5개와 원래에서의 변화, 편집한 입력의 롤아웃
(뺀 패치는 빗금: 관련도가 0인 것이 아니라 아예 없습니다), 클래스 토큰의 로짓 렌즈, 따라가는 패치가 보는 곳이
나옵니다. 미리 정한 두 버튼은 섭동 시험을 손으로 해 봅니다: 롤아웃이 상위 10%로 꼽은 패치만 남기거나, 바로
그 패치들을 뺍니다. **되돌리기**는 한 단계 뒤로, **처음으로**는 편집을 모두 지웁니다.
""",
    "tab_tokens": "토큰", "foreground": "전경만 (첫 번째 주성분)",
    "pca": "패치 특징, 세 주성분을 색으로", "similarity": "따라가는 패치와 비슷한 곳",
    "norms": "토큰 노름", "lens": "로짓 렌즈: 깊이에 따른 답",
    "tokens_help": """
**토큰이 담고 있는 것.** *패치 특징*: 고른 블록을 지난 각 패치의 특징을 PCA로 세 숫자로 줄여 색으로 보여 줍니다(DINOv2의
그림): 모델이 비슷하게 다루는 패치는 비슷한 색이 됩니다. *전경만*은 첫 번째 주성분으로 먼저 패치를 나눕니다.
*따라가는 패치와 비슷한 곳*: 모든 패치의 특징이 여러분이 따라가는 패치(*어텐션 탐색기* 탭에서 클릭)와 얼마나 비슷한지 보여 줍니다.
코사인 유사도가 0 이하이면 짙은 보라, 1(따라가는 패치 자신)이면 노랑입니다.
*토큰 노름*: 모든 토큰의 길이입니다. 아주 긴 몇몇 "인공물" 토큰(Darcet 외 2024)은 동그라미로 표시하고 기준값을
함께 적습니다. *로짓 렌즈*: **로짓 렌즈**는 각 블록의 클래스 토큰을 모델의 마지막 정규화와 헤드로 읽어, 답이 어느
깊이에서 만들어지는지 보여 줍니다.
""",
    "tab_room": "교실",
    "room_help": """
**교실.** 선생님이 보여 주는 방 코드를 여기에 입력하세요 (별명은 없어도 됩니다). 그런 다음
**모델이 답을 낼 때 쓴다고 생각하는 패치를 누르고**, 모델이 답할 것 같은 클래스를 고른 뒤
추측을 보내세요. 선생님이 모델의 지도를 공개하면, 내 추측과 함께 나타나고 얼마나 겹치는지와
모델의 답도 보여 줍니다. 내 표시는 다른 사람에게 보이지 않고, 선생님은 반 전체의 추측을 한데 모아 봅니다.
""",
    "join_code": "방 코드", "room_nickname": "별명 (선택)", "room_join": "들어가기",
    "room_picture": "방의 이미지: 모델이 쓴다고 생각하는 패치를 누르세요 (다시 누르면 취소)",
    "room_label": "모델이 답할 것 같은 클래스", "room_send": "내 추측 보내기",
    "room_answer": "모델의 지도 (선생님이 공개한 뒤): 내 패치는 흰색, 지도의 가장 강한 패치는 빨간색, 둘 다면 빨간 틀 안에 흰 틀",
    "room_teacher": "선생님용: 방을 열고 반의 추측 보기",
    "room_teacher_help": """
보여 줄 이미지를 (맨 위에서 올리거나 골라) 띄운 뒤 **방 열기**를 누르면, 학생에게 알려 줄 짧은
코드와 선생님 화면용 비밀 링크가 나옵니다 (링크를 가진 사람은 방을 바꿀 수 있으니 혼자만
보관하세요). **지금 이미지를 방에 보여 주기**는 맨 위의 현재 이미지로 새 라운드를 시작합니다.
게시판에는 패치마다 그 패치를 고른 학생의 비율, 학생들이 예상한 클래스, 답한 사람이 나옵니다.
**모델의 지도 공개**에 체크하면 모델의 롤아웃이 반의 추측과 함께, 선생님 게시판과 모든 학생 화면에
나타납니다 (체크를 풀면 다시 숨겨집니다). 한 번 공개하면 지도를 다시 숨겨도 그 라운드의 추측은
마감되고, 다음 이미지가 새 라운드를 엽니다. 세 시간 동안 쓰지 않은 방은 닫힙니다.
""",
    "room_open": "방 열기", "room_code": "방 코드 (선생님)", "room_key": "방 열쇠 (비밀)",
    "room_image": "지금 이미지를 방에 보여 주기", "room_shown": "모델의 지도 공개",
    "room_class": "반이 생각하는 모델의 시선 (패치별 학생 비율: 검정은 아무도, 노랑은 가장 많이)",
    "room_model": "모델이 보는 곳 (롤아웃; 공개하면 보임)",
    "room_votes": "학생들이 예상한 클래스", "room_answers": "답",
    "tab_training": "학습 과정",
    "training_help": """
**이 모델은 어떻게 배웠을까요?** 학습하는 동안 몇몇 단계에서 가중치를 저장해 둘 수 있습니다(*타임라인*).
슬라이더로 저장된 단계들을 오가거나 **재생**을 누르세요. 저장된 단계마다 그 가중치의 RGB 임베딩 필터와 위치
임베딩 유사도(그림 7 왼쪽과 가운데), 예시 이미지들에서 잰 블록별 모든 헤드의 평균 어텐션 거리(그림 7 오른쪽,
모든 단계가 같은 눈금), 단계별 검증 정확도(학습에 쓰지 않은 장면, 이 단계는 빨간 점), 그리고 그 단계의 모델이
여러분의 이미지에 낸 답과 어텐션 롤아웃을 봅니다. 여기서는 아무것도 학습하지 않습니다. 모든 그림은 저장된
가중치에서 나오는데, 가중치를 반 정밀도(float16)로 저장하므로 마지막 단계의 답이 페이지 위쪽의 답과 1%포인트쯤
다를 수 있습니다(92%와 91%).
""",
    "training_step": "저장된 체크포인트 (0: 처음)", "training_play": "재생", "training_pause": "일시 정지",
    "training_filters": "이 단계의 RGB 임베딩 필터",
    "training_position": "이 단계의 위치 임베딩 유사도",
    "training_distance": "이 단계의 평균 어텐션 거리", "training_accuracy": "단계별 검증 정확도",
    "training_rollout": "이 단계의 모델이 여러분의 이미지에서 보는 곳", "training_prediction": "이 단계의 답",
}

OPTIONS = {
    "head_fusion": "헤드 결합", "head_fusion_info": "한 블록의 헤드들을 하나의 행렬로 합치는 방법",
    "discard_ratio": "버림 비율", "discard_ratio_info": "잔차를 더하기 전에 각 행에서 버리는 가장 약한 패치 어텐션의 비율",
    "start_block": "시작 블록", "start_block_info": "곱하기 시작하는 첫 블록",
    "n_steps": "단계 수",
    "n_steps_info": "통합 그래디언트가 평균 색에서 이미지까지 가는 길 위의 점 수 (점마다 순전파와 역전파 한 번)",
    "window": "가림 창 크기",
    "window_info": "회색으로 가리는 정사각형의 한 변, 패치 단위 (정사각형마다 순전파 한 번: 2는 1의 4분의 1 시간에 "
                   "절반 해상도); 격자를 나누어떨어지게 해야 합니다",
}

TOUR_LABELS = {
    "tab_tour": "둘러보기", "tour_back": "이전", "tour_next": "다음",
    "tour_intro": "**비전 트랜스포머가 이 이미지를 읽는 방법**, 픽셀에서 답까지 여덟 단계로 봅니다. 페이지 맨 위의 "
                  "이미지로 봅니다(바꾸려면 이미지를 올리거나 예시를 클릭하세요). '다음'을 눌러 나아가세요.",
    "tour_step": "단계",
}

TOUR_TITLES = {
    "patches": "1. 이미지를 패치로 자릅니다",
    "projection": "2. 각 패치는 벡터가 됩니다",
    "positions": "3. 위치 임베딩은 패치가 어디에 있었는지 알려 줍니다",
    "attention": "4. 패치들이 서로를 봅니다: 어텐션",
    "heads": "5. 여러 헤드가 서로 다른 방식으로 봅니다",
    "distance": "6. 각 헤드는 얼마나 멀리 볼까요",
    "prediction": "7. 클래스 토큰이 답을 냅니다",
    "learned": "8. 어떻게 배웠을까요",
}

TOUR_TEXTS = {
    "patches": "트랜스포머는 단어의 시퀀스를 읽습니다. 비전 트랜스포머는 그림을 그런 시퀀스로 바꿉니다. 이미지를 "
               "P x P 픽셀의 작은 정사각형(논문 제목에서는 P가 16, 이 모델의 P는 아래 문장에 있습니다), 즉 **패치**로 자르고 왼쪽에서 오른쪽, 위에서 아래 순서로 읽습니다. "
               "흰 선이 자른 자리이고, 빨간 사각형은 다음 단계에서 따라갈 패치입니다 (*어텐션 탐색기* 탭에서 "
               "다른 패치를 클릭하면 그 패치를 따라갑니다).",
    "projection": "각 패치는 하나의 긴 숫자 목록(P x P 픽셀 x 3 색)으로 펼쳐지고(flatten), 학습된 행렬 하나와 "
                  "곱해집니다: **선형 투영(linear projection)**입니다. *행렬이 찾는 패턴*: 그 행렬의 주요 패턴(주성분, "
                  "CNN의 앞쪽 층도 비슷한 것을 배웁니다). *이 이미지의 패치 벡터*: 이 이미지에서 만들어진 벡터, 패치마다 한 줄입니다.",
    "positions": "트랜스포머는 패치가 어디에 있었는지 모릅니다. 그래서 학습된 **위치 임베딩**을 각 패치 벡터에 "
                 "더하고, 답을 모을 **클래스 토큰**을 시퀀스 맨 앞에 둡니다. *빨간 패치*는 우리가 따라가는 패치입니다. *빨간 패치의 위치와 닮은 곳*: 빨간 패치의 위치 임베딩이 "
                 "다른 모든 위치와 얼마나 비슷한지 보여 줍니다. 가까운 위치끼리 비슷하면 모델이 2차원 배치를 "
                 "알고 있는 것입니다(논문 그림 7 가운데). ViT-B/16 같은 큰 모델은 데이터만으로 이것을 배우고, "
                 "함께 들어 있는 작은 데모 모델은 2차원 사인·코사인 무늬를 출발점으로 받아 학습하는 동안 그대로 "
                 "지켰습니다. *모든 위치*: 모든 위치에 대해 같은 그림을 제자리에 놓았습니다.",
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
                  "*어텐션 롤아웃*: 모든 블록의 어텐션을 곱해 어떤 패치가 클래스 토큰에 정보를 주었는지 보여 "
                  "줍니다. *모델의 답*: 점수가 가장 높은 클래스들입니다.",
    "learned": "모델이 처음부터 이랬던 것은 아닙니다. 예시를 보며 한 단계씩 배웠습니다. 학습하는 동안 몇몇 "
               "단계에서 가중치를 저장해 둘 수 있는데(**타임라인**), 여기에는 처음과 마지막으로 저장된 단계가 "
               "있습니다. *정확도*: 단계별 검증 정확도. *위치 유사도*: 처음 단계(위)와 마지막 단계(아래)의 위치 임베딩 "
               "유사도입니다. 위치 임베딩이 무작위로 시작한 모델에서는 어떤 패치끼리 이웃인지 배우면서 2차원 "
               "격자가 나타나고, 격자 무늬에서 출발한 모델(내장 데모)은 그것을 지킵니다. *어텐션 거리*: 두 단계에서 모든 헤드의 어텐션 거리입니다. 논문의 ViT에서는 첫 "
               "블록의 헤드들이 자기 패치 가까이를 보는 국소 헤드와 멀리 보는 전역 헤드로 나뉩니다. 아래 문장이 "
               "이 모델의 숫자를 알려 주고, *학습 과정* 탭에서 저장된 모든 단계를 볼 수 있습니다.",
}

SAY = {
    "prompt_caption": "\u201c{prompt}\u201d: 점수 {score} (프롬프트 중 {share})",
    "prompt_note": "{method}: 프롬프트마다 지도 하나; 점수는 CLIP의 로짓 스케일 곱하기 이미지와 텍스트 임베딩의 "
                   "코사인입니다. {range}",
    "prompt_no_text": "이 모델에는 텍스트 타워가 없어서 단어를 설명할 수 없습니다. 프롬프트를 입력하려면 CLIP 모델"
                      "(open_clip:ViT-B-32)을 고르세요.",
    "prompt_empty": "프롬프트를 하나 이상 입력하세요. 예: 'a cat' (여러 개는 쉼표로 구분).",
    "prompt_not_text": "프롬프트는 글입니다: 'a cat'이나 'the ears' 같은 단어를 쉼표나 줄바꿈으로 나누어 입력하세요.",
    "prompt_too_many": "프롬프트를 {n}개 입력했습니다. 한 번에 {limit}개까지 설명합니다.",
    "prompt_text_too_long": "프롬프트가 모두 {n}자입니다. {limit}자까지, 프롬프트마다 몇 단어로 입력하세요.",
    "prompt_prompt_too_long": "프롬프트 '{prompt}': {n}자입니다. 프롬프트마다 {limit}자 미만, 몇 단어로 줄이세요.",
    "prompt_too_long": "프롬프트 '{prompt}': 텍스트 조각 {n}개 길이입니다. 이 모델은 {room}개까지 읽습니다. 몇 "
                       "단어로 줄이세요.",
    "upload_refused": "마지막으로 올린 파일은 쓰지 않았습니다(너무 크거나, 이미지가 아니거나, 깨진 파일입니다. 구석의 메시지가 "
                      "이유를 알려 줍니다). 이 페이지의 모든 결과는 여전히 여기 보이는 이미지에 대한 것입니다.",
    "upload_first": "먼저 이미지를 올리세요 (또는 예시를 고르세요).",
    "expired": "다른 사용자를 위해 메모리를 비우느라 이 이미지의 분석 결과를 지웠습니다 (오래 쓰지 않았거나 서버가 "
               "바쁩니다). 이미지를 다시 올리거나 예시를 다시 누르세요.",
    "model_unknown": "'{name}': {library}에 이런 이름의 모델이 없습니다.{close}",
    "model_unknown_close": " 비슷한 이름: {names}.",
    "library_error": "다음 문제로 멈췄습니다 (자세한 내용은 영어): {error}",
    "class_unknown": "클래스: 목록에서 고르거나, 클래스 번호(0부터 {last}까지)나 이름을 쓰세요. "
                     "'{value}': 번호도 이름도 아닙니다.",
    "not_whole": "{what}: 0부터 {last}까지의 정수를 넣으세요 ('{value}': 쓸 수 없는 값입니다).",
    "out_of_range": "{what} {index}: 범위 밖입니다. 이 모델의 {plural}는 0부터 {last}까지입니다.",  # {plural}: "... 번호"
    "out_of_range_stage": "{what} {index}: 블록 {block}에서는 범위 밖입니다. 이 블록이 속한 스테이지 {stage}의 "
                          "헤드는 0부터 {last}까지({heads}개)입니다. 그중 하나나 헤드 평균을 고르세요.",
    "option_not_number": "{what}: 숫자를 넣으세요 ('{value}': 숫자가 아닙니다).",
    "patch_clamped": "{what}: {value} 값은 격자(0~{last}) 밖입니다. 가장 가까운 값 {shown}의 패치를 보여 줍니다.",
    "patch_not_whole": "{what}: 정수를 넣으세요 ('{value}': 쓸 수 없는 값입니다).",
    "patches_bad": "패치가 아닙니다: {value}. 패치마다 행,열을 정수로 쓰고 패치 사이는 ';'로 나누거나 "
                   "(예: 3,4; 5,6) 그림에서 패치를 누르세요.",
    "patch_outside": "그림 밖의 패치입니다: {value}. 행은 0부터 {last_row}까지, 열은 0부터 {last_col}까지입니다.",
    "patch_negative": "{what} {index}: 음수입니다. 행과 열은 왼쪽 위를 0으로 해서 셉니다.",
    "what_block": "블록", "what_head": "헤드", "what_class": "클래스",
    "plural_block": "블록 번호", "plural_head": "헤드 번호", "plural_class": "클래스 번호",
    "what_checkpoint": "체크포인트", "plural_checkpoint": "저장된 체크포인트 번호",
    "what_row": "패치 행", "what_col": "패치 열",
    "unknown_method": "'{method}': 없는 방법입니다. 다음 중 하나를 고르세요: {choices}.",
    "one_of": "{what}: {choices} 중 하나여야 합니다 ('{value}': 쓸 수 없는 값입니다).",
    "what_ablation": "헤드 끄기 방식", "what_fill": "채우기",
    "model_card": "**{name}** (`{device}`에서 실행).{note}  \n출처: {source}.  \n블록 {blocks}개, 헤드 {heads}개, 입력 "
                  "{h}x{w} px, {p}-px 패치 ({gh}x{gw} 격자), 앞쪽(prefix) 토큰 {k}개, 클래스 {n}개{classes}.",
    "model_card_cnn": "**{name}** (`{device}`에서 실행).{note}  \n출처: {source}.  \n블록 {blocks}개, 어텐션 없음 "
                      "(합성곱 신경망), 입력 {h}x{w} px, 마지막 특징 맵은 {p}-px 칸의 {gh}x{gw} 격자, 클래스 "
                      "{n}개{classes}.",
    "query_window_label": "윈도 안에서 그 패치의 어텐션 (이 블록)",
    "query_window_heads": "윈도 안에서 헤드마다",
    "model_card_windowed": "윈도 트랜스포머: {stages}개 단계의 토큰 크기는 {tokens} px, 헤드는 {heads}개이고, 각 "
                           "블록은 {wh}x{ww} 토큰 윈도 안에서 어텐션합니다(두 블록마다 한 번 윈도를 옮김). 지도는 "
                           "{p}-px 칸을 씁니다.",
    "load_failed_status": "**{choice}** 모델을 불러오지 못했습니다. {error}  \n계속 쓰는 모델: {card}",
    "weights_offline": "가중치가 이 컴퓨터에 없고, 지금은 내려받을 수도 없습니다. 인터넷 없이 쓰려면 인터넷이 되는 "
                       "곳에서 한 번 내려받으세요: `{command}`",
    "needs_download": "{label} (내려받기 필요)",
    "source_demo": "내장 데모 가중치", "source_cache": "사전 학습 가중치 (Hugging Face 캐시)",
    "source_random": "무작위 가중치", "source_its": "자체 가중치", "source_built": "만든 그대로의 가중치",
    "map_range": "값 {low}–{high} (색은 가장 작은 값부터 가장 큰 값까지)",
    "guess_note": "패치 **{k}**개를 골랐고, 그중 **{overlap}**개가 지도에서 가장 강한 {k}개에 듭니다 (무작위로 고르면 "
                  "평균 {chance}개). 겹침(IoU): **{iou}**. 내가 고른 패치 중 가장 강한 것은 지도에서 {n}개 중 "
                  "**{rank}**번째입니다.",
    "guess_about_unknown": "'{value}': 맞힐 대상이 아닙니다. 다음 중에서 고르세요: {choices}.",
    "guess_patch_caption": "패치 ({row}행, {col}열)가 블록 {block}에서 보는 곳 (헤드 평균): 하늘색 사각형이 그 패치, "
                           "빨간색이 가장 많이 주의를 기울이는 곳입니다.",
    "surgery_paint_nothing": "아직 칠한 곳이 없습니다. 붓으로 패치 몇 개를 칠한 뒤 버튼을 누르세요.",
    "room_guess_empty": "그림에서 패치를 하나 이상 누른 다음(또는 행,열을 입력한 다음) 추측을 보내세요.",
    "not_applicable_said": "{sentence}",
    "not_applicable_guess_empty": "지도를 보기 전에 그림에서 패치를 하나 이상 누르세요 (또는 행,열을 입력하세요).",
    "all_zero": "모든 값이 **0**입니다: 이 방법은 이 이미지에서 이 클래스에 대해 어떤 패치에도 관련도를 주지 않습니다 "
                "(그림이 비어 있는 것이지 숨긴 것이 아닙니다)",
    "near_uniform": "; **거의 균일함**: 보이는 차이는 아주 작은데, 최대 밝기까지 늘려서 보여 준 것입니다",
    "caption_for": "{caption}, 설명하는 클래스: **{label}**",
    "most_important": "가장 중요한 헤드: {ranking}.",
    # 그림 속 글자 (render.FigureWords)
    "fig_head": "헤드 {h}", "fig_heads_title": "헤드별 클래스 토큰 어텐션", "fig_heads_block": "{title}, 블록 {block}",
    "fig_patch_vectors": "이 이미지의 패치 벡터", "fig_feature": "특징 (D = {d})", "fig_patch": "패치 (N = {n})",
    "fig_answer": "모델의 답", "fig_probability": "확률", "fig_accuracy": "정확도",
    "fig_training_step": "학습 단계", "fig_heldout": "검증 정확도 (%)", "fig_step": "단계 {step}",
    "fig_norms_title": "패치 토큰의 노름 (이상치에 동그라미)", "fig_norms_threshold": "이상치 기준 {threshold}",
    "fig_class_token": "클래스 토큰", "fig_prefix_tokens": "앞 토큰/레지스터 토큰", "fig_norm": "노름",
    "fig_patches": "패치 수", "fig_lens_block": "블록 (그 출력을 마지막 정규화와 헤드로 읽음)",
    "fig_lens_top": "회색: 블록마다 가장 높은 클래스와 그 클래스의 확률",
    "fig_this_image": "이 이미지", "fig_block_first": "블록 {block}: 첫 블록", "fig_block_middle": "블록 {block}: 가운데 블록",
    "fig_block_last": "블록 {block}: 마지막 블록",
    "fig_importance_title": "헤드 중요도 (헤드를 {mode} 끌 때)", "fig_ablation_zero": "0으로",
    "fig_ablation_mean": "토큰 평균으로",
    "fig_importance_drop": "헤드를 제거했을 때 p({target})의 감소", "fig_importance_head": "헤드",
    "fig_importance_block": "블록", "fig_importance_distance": "평균 어텐션 거리 (px)",
    "fig_importance": "중요도", "fig_importance_scatter": "국소적인가 전역적인가, 중요한가",
    "fig_distance_title": "평균 어텐션 거리", "fig_distance_depth": "네트워크 깊이 (블록)",
    "fig_distance_pixels": "평균 어텐션 거리 (픽셀)", "fig_uniform": "균일한 어텐션",
    "fig_batch_one": "이미지 1장 묶음", "fig_batch_many": "이미지 {n}장 묶음",
    "fig_distance_windows": "창 안의 평균 어텐션 거리", "fig_window_uniform": "창 안에서 균일한 어텐션",
    "fig_stage": "스테이지 {stage}",
    "fig_distance_both": "평균 어텐션 거리, 두 모델",
    "fig_distance_one": "평균 어텐션 거리, 어텐션이 있는 모델",
    "fig_side_windows_vs_whole": "평균 어텐션 거리: 창 안 대 이미지 전체",
    "fig_side_windows_both": "평균 어텐션 거리, 두 모델, 창 안",
    "fig_side_windows_one": "평균 어텐션 거리, 어텐션이 있는 모델, 창 안",
    "fig_side_inside_windows": "{name}: 창 안", "fig_side_whole_image": "{name}: 이미지 전체",
    "fig_filters_embedding": "RGB 임베딩 필터",
    "fig_filters_convolution": "첫 합성곱의 RGB 필터 ({kh}x{kw}, 보폭 {stride})",
    "fig_filters_pca": "{name} (처음 {n}개 주성분)", "fig_filters_raw": "{name} (처음 {n}개, 원래 필터)",
    "fig_position_like": "노랑: 빨간 패치와 비슷한 위치",
    "fig_position_title": "위치 임베딩 유사도", "fig_position_row": "입력 패치의 행",
    "fig_position_column": "입력 패치의 열",
    "fig_position_paper": "코사인 유사도 (-1에서 1, 논문의 눈금)",
    "fig_position_observed": "코사인 유사도 (눈금: {low}에서 {high},\n이 격자의 가장 낮은 값과 높은 값)",
    "fig_position_shared": "코사인 유사도 (눈금: {low}에서 {high},\n두 단계에 같은 눈금)",
    "fig_position_tile": "코사인 유사도, 칸마다 자기의\n가장 낮은 값에서 높은 값으로 늘림",
    "fig_tile_lowest": "칸의\n최저", "fig_tile_highest": "칸의\n최고",
    "importance_rank": "블록 {b} 헤드 {h} ({v})",
    "ablating": "헤드를 하나씩 끄는 중",
    "second_model": "비교할 두 번째 모델을 고르세요.",
    "side_scores_note": "두 지도 모두 **{method}** 방법으로, 각 모델이 예측한 클래스에 대해 구했고, {grid}에서 같은 "
                        "검사로 점수를 매겼습니다: 섭동(perturbation) AUC (양성(positive): 낮을수록 좋음, 음성(negative): "
                        "높을수록 좋음)와 삭제(deletion, 낮을수록 좋음) / 삽입(insertion, 높을수록 좋음) AUC입니다.",
    "near_chance": "**이 모델은 거의 답하지 못합니다.** 1위 클래스가 {p}, 아무렇게나 고르면 {chance}({n}개 중 "
                   "하나)라서 위에는 0%로 보입니다. 지도의 색은 아주 작은 범위를 늘인 것이라, 무늬는 배운 것이 아닙니다.",
    "side_near_chance": "**{name}** 모델은 거의 답하지 못합니다: 1위 클래스가 {p}이고, 우연 수준은 {chance}입니다. 이 "
                        "모델의 AUC가 0에 가까운 것은 지도가 더 잘 설명해서가 아니라 지울 확률이 거의 없어서입니다. "
                        "학습된 모델끼리 비교하세요.",
    "side_map_flat": "**{name}** 모델의 지도는 거의 평평합니다(모든 패치의 중요도가 비슷함). 그래서 지도를 통해 본 "
                     "이미지가 원래 이미지와 거의 같아 보입니다. 그리기에 실패한 것이 아니라, 모델이 어느 패치도 "
                     "골라내지 않은 것입니다.",
    "side_grid_common": "{p}픽셀 정사각형 하나의 격자(거친 지도의 칸은 그 위에 반복)",
    "side_grid_own": "각 모델 자신의 격자",
    "col_model": "모델",
    # 합성곱 신경망(ResNet, ConvNeXt): 적용되지 않는 것 (analyses.not_available.CNN_REASONS)
    "not_applicable_method": "{method} 방법은 어텐션 지도를 읽는데, {model} 모델은 어텐션이 없는 합성곱 신경망(CNN)입니다. "
                             "대신 Grad-CAM, 통합 그래디언트, 살리언시, 가림으로 설명하세요.",
    "not_applicable_attention": "{model} 모델은 어텐션이 없는 합성곱 신경망(CNN)이라 이 보기는 적용되지 않습니다. 대신 "
                                "Grad-CAM, 통합 그래디언트, 살리언시, 가림으로 설명하세요.",
    "not_applicable_tokens": "{model} 모델은 합성곱 신경망(CNN)으로, 토큰이 아니라 특징 맵(feature map)을 가지므로 이 "
                             "토큰 보기는 적용되지 않습니다.",
    "not_applicable_position": "{model} 모델은 위치 임베딩이 없는 합성곱 신경망(CNN)이라(합성곱은 이웃과 이미지 "
                               "가장자리로만 자기 위치를 압니다) 보여 줄 위치 유사도가 없습니다.",
    "side_note": "토큰 색은 이 모델의 블록 {a}(블록 0–{la} 중), 두 번째 모델의 블록 {b}(블록 0–{lb} 중)에서 가져왔습니다. 두 모델 "
                 "깊이의 같은 비율 지점입니다.",
    "side_sizes": "두 모델은 이미지를 {a}픽셀과 {b}픽셀로 봅니다. 거리 그래프는 각 모델의 입력 픽셀로 재므로, 각 "
                  "모델의 헤드가 얼마나 멀리 보는지는 그 모델의 이미지 크기에 견주어 보세요.",
    "compare_first": "먼저 '{button}' 버튼을 누르세요. 이미 실행 중이면 설명에 '끝났습니다'가 나올 때까지 기다리세요.",
    "no_images": "이미지를 올리거나 '{checkbox}'에 체크하세요.",
    "too_many": "여기서는 한 번에 이미지를 {most}장까지 처리합니다 ({sent}장을 보냈습니다). 더 많이 하려면 자기 "
                "컴퓨터에서 Python API나 명령줄을 쓰세요.",
    "running": "모델 실행 중",
    "distance_note": "표는 **{shown}**의 값입니다. 이 모델의 {gh}x{gw} 격자({p}-px 패치)에서 자기 패치만 보는 헤드는 "
                     "0 px, 모든 패치를 고르게 보는 헤드는 **{uniform:.1f} px**입니다. 고르게 보는 것보다 큰 값도 "
                     "나올 수 있습니다: 그 헤드는 주로 먼 패치(반대쪽의 가장자리와 모서리)를 봅니다.",
    "distance_note_windowed": "표는 **{shown}**의 값으로, 각 블록의 윈도 안에서 입력 이미지의 픽셀 단위로 잰 거리입니다"
                              "(토큰은 패치 병합마다 두 배로 커집니다). 자기 토큰만 보는 헤드는 0 px, 윈도 안을 고르게 "
                              "보는 헤드는 단계별로 **{levels} px**입니다.",
    "not_applicable_windowed_method": "{method} 방법은 고정된 한 토큰 열에서 모든 토큰 쌍 사이의 어텐션이 필요하지만, "
                                      "{model} 모델은 지역 윈도 안에서만 어텐션하고 단계마다 패치 병합으로 토큰이 "
                                      "바뀌므로 모델 전체를 따라갈 그런 행렬이 없습니다. 대신 Grad-CAM, 통합 "
                                      "그래디언트, 살리언시, 가림으로 설명하세요.",
    "not_applicable_windowed_attention": "{model} 모델은 클래스 토큰이 없고 지역 윈도 안에서만 어텐션하므로 이미지 "
                                         "전체에 대한 어텐션을 보여 주는 이 화면은 적용되지 않습니다. 대신 '어텐션 "
                                         "탐색기' 탭에서 패치를 클릭해 그 윈도의 어텐션을 보세요.",
    "not_applicable_windowed_tokens": "{model}의 토큰은 패치 병합마다 개수와 폭이 바뀌므로, 블록을 거치는 하나의 "
                                      "토큰 열을 보여 주는 이 화면은 적용되지 않습니다.",
    "not_applicable_windowed_position": "{model}에는 절대 위치 임베딩이 없으므로(각 윈도 안에 학습된 상대 위치 "
                                        "편향을 더합니다) 보여 줄 위치 유사도가 없습니다.",
    "norms_none": "이상치 기준 {threshold:.1f}보다 큰 패치 토큰이 없습니다",
    "norms_some": "패치 토큰 {n}개가 기준 {threshold:.1f}(중앙값 + 강건 표준편차의 5배)보다 큽니다: {where}",
    # patch surgery
    "what_edit": "편집 방식", "what_preset": "미리 정한 편집",
    "patches_not_text": "패치 목록은 '3,4; 5,6' 같은 글이어야 합니다 ('{value}': 쓸 수 없는 값입니다).",
    "surgery_all": "패치를 하나 이상 남기세요: 모든 패치를 빼면 모델이 이미지에서 읽을 것이 없습니다.",
    "surgery_unused": "**이 편집은 적용되지 않았습니다.** {why} 그림과 표는 마지막으로 적용된 편집을 그대로 "
                      "보여 줍니다: {last}. 위의 목록을 고치거나 “처음으로”를 누르세요.",
    "surgery_unused_why": "이유는 메시지 상자에 있습니다.",
    "surgery_no_edit": "없음, 원래 이미지",
    "surgery_note_drop": "패치 {total}개 중 **{n}**개를 뺐습니다. 지금: **{now}** ({p_now}); 편집 전: "
                         "**{before}** ({p_before}).",
    "surgery_note_grey": "패치 {total}개 중 **{n}**개를 회색으로 칠했습니다. 지금: **{now}** ({p_now}); 편집 전: "
                         "**{before}** ({p_before}).",
    "choice_predicted": "예측한 클래스", "choice_head_mean": "헤드 평균", "choice_head": "헤드 {head}",
    "method_settings": "{method} [{settings}]",
    "surgery_note_blur": "패치 {total}개 중 **{n}**개를 흐리게 했습니다. 지금: **{now}** ({p_now}); 편집 전: "
                         "**{before}** ({p_before}).",
    "surgery_followed_gone": "따라가던 패치(행 {row}, 열 {col})를 뺐습니다. 다른 패치를 따라가세요.",
    "col_class": "클래스", "col_now": "지금 (%)", "col_before": "편집 전 (%)", "col_change": "변화 (포인트)",
    "col_block": "블록", "col_local": "가장 가까이 보는 헤드 (px)", "col_mean": "평균 (px)",
    "col_global": "가장 멀리 보는 헤드 (px)", "col_method": "방법",
    "col_positive_auc": "양의 섭동 AUC ↓", "col_negative_auc": "음의 섭동 AUC ↑",
    "col_deletion_auc": "삭제 AUC ↓", "col_insertion_auc": "삽입 AUC ↑",
    "col_sanity_rho": "건전성 ρ ↓", "col_seconds": "초", "col_vs_random": "무작위 대비 + (양 음 삭제 삽입)",
    "series_image": "이 이미지", "series_batch": "이미지 {n}장의 평균",
    "compare_caption": "{method}: 삭제 {deletion:.2f}, 삽입 {insertion:.2f}{sanity}",
    "compare_sanity": ", 건전성 ρ {rho:.2f}",
    "compare_estimate": "비교하는 중: 이 서버에서 약 {seconds}초 걸립니다. 지도가 먼저 나오고 점수가 뒤따르며, "
                        "가장 느린 방법은 마지막에 나옵니다. **취소**를 누르면 멈춥니다.",
    "compare_maps_done": "비교하는 중: {took}초 만에 모든 지도가 나왔습니다. 점수와 건전성 검사에 이 서버에서 약 {seconds}초 "
                         "더 걸립니다. **취소**를 누르면 멈춥니다.",
    "compare_done": "끝났습니다: 모든 방법의 지도와 점수.",
    "compare_below_random": "이 이미지에서 {methods} 방법은 모든 곡선에서 무작위 지도보다 나빴습니다. 이 지도는 "
                            "이번 답에 대해 우연보다도 적게 알려 주므로, 모델이 보는 곳으로 읽지 마세요.",
    "gradcam_on_vit": "Grad-CAM은 CNN을 위해 만든 방법입니다: ViT에서는 마지막 블록의 패치 토큰을 그래디언트로 "
                      "가중하는데, 이것이 모델이 보는 곳을 잘 말해 주지 못할 때가 많습니다(데모의 장면에서는 도형 대신 "
                      "배경을 표시하기도 합니다). *방법 비교* 탭이 무작위 지도와 견주어 점수를 매깁니다.",
    "compare_tied": "무작위 지도보다 나은 방법 {n}개의 점수가 여기서는 서로 비슷합니다({methods}: 모든 넓이가 중앙값에서 "
                    "{within} 안): 물체가 패치 몇 개뿐이라, 지도가 어떤 순서로 매기든 그 패치들을 지우면 답이 끝납니다. "
                    "그래서 이 이미지로는 이 방법들의 순위를 정할 수 없습니다. 사진이나, 폴더 전체에 대한 "
                    "`python -m explorer evaluate`로는 정할 수 있습니다.",
    "compare_quick": " 빠르게: 통합 그래디언트는 32단계 대신 8단계, 가림은 2×2 패치 정사각형 단위, 프로세서가 "
                     "지원하면 순전파는 bfloat16입니다. `python -m explorer evaluate --quick`이 같은 숫자를 내고, "
                     "--quick 없이는 전체 설정의 숫자를 냅니다.",
    "chosen_method": "{method}, 크게 보기 (위에서 다른 지도를 누르세요)",
    "server_fault": "이 작업을 하는 중에 서버에서 문제가 생겼습니다. 다시 해 보세요. 또 그러면 다른 이미지나 설정을 "
                    "써 보고, 앱을 운영하는 사람에게 알려 주세요 (자세한 내용은 서버 기록에 있습니다).",
    "server_folder": "서버의 폴더", "a_value": "값",
    "weights_missing": "이 모델의 가중치가 이 서버에 없고, 지금은 내려받을 수도 없습니다. 다른 모델을 고르거나, 앱을 "
                       "운영하는 사람에게 내려받아 달라고 하세요 (방법은 서버 기록에 있습니다).",
    "bad_value": "'{name}'에 넣을 값: {expects} ('{value}': 쓸 수 없는 값입니다).",
    "expect_range": "{low}부터 {high}까지의 수", "expect_whole": "정수", "expect_number": "수",
    "expect_text": "이름(글자)", "expect_one_of": "다음 중 하나: {choices}", "expect_bool": "true 또는 false",
    "expect_file": "이 앱에 올린 파일", "expect_other": "앱의 API 페이지에 나온 형태의 값",
    "wrong_count": "{endpoint} 엔드포인트는 값 {n}개({names})를 받는데, 이 요청은 다른 개수를 보냈습니다. 앱의 API 페이지"
                   "(페이지 맨 아래 'Use via API' 링크)에 목록이 있습니다.",
    "this_action": "이 동작",
    "not_uploaded": "이 요청에 적힌 파일은 이 앱에 올린 파일이 아닙니다. 먼저 올리세요 (gradio_client에서는 "
                    "handle_file이 올려 줍니다).",
    "bad_form": "이 요청에 담긴 값 중 하나가 그 입력이 받는 형태가 아닙니다. 앱의 API 페이지(페이지 맨 아래 "
                "'Use via API' 링크)에 엔드포인트마다 받는 값이 나와 있습니다.",
    "name_not_text": "모델 이름은 글자여야 합니다 ('{value}': 쓸 수 없는 값입니다).",
    "error_title": "오류", "warning_title": "경고", "info_title": "알림",
    "lost_title": "연결 끊김",
    "lost": "서버와 연결이 끊겼습니다. 다시 연결하는 중입니다... 잠시 뒤에도 그대로면 페이지를 새로 고치세요.",
    "request_failed": "서버에 연결하지 못했습니다.",
    "busy": "지금 서버가 바쁩니다. 잠시 뒤에 다시 해 보세요.",
    "wrong_file": "{name}: 이미지가 아닙니다. PNG, JPEG, WebP, BMP, GIF, TIFF 이미지를 쓰세요.",
    "file_too_big": "{names}: 파일이 이 앱이 받는 최대 크기 {limit}보다 큽니다. 이미지를 더 작게(JPEG로, 또는 "
                    "픽셀 수를 줄여) 저장해서 다시 올리세요.",
    "image_empty": "올린 이미지가 비어 있습니다 (0바이트). PNG, JPEG, WebP, BMP, GIF, TIFF 이미지를 쓰세요.",
    "image_no_pixels": "이미지가 {width} x {height} 픽셀이라 보여 줄 픽셀이 없습니다. PNG, JPEG, WebP, BMP, GIF, "
                       "TIFF 이미지를 쓰세요.",
    "image_too_large": "이미지가 {megapixels}메가픽셀로, 한도인 {limit}메가픽셀보다 큽니다. 먼저 크기를 줄이세요.",
    "image_damaged": "이미지를 읽을 수 없습니다: 파일이 손상되었거나 일부가 빠져 있습니다. PNG, JPEG, WebP, BMP, "
                     "GIF, TIFF 이미지를 쓰세요.",
    "image_not_image": "파일을 읽을 수 없습니다: 아는 이미지 형식이 아닙니다. PNG, JPEG, WebP, BMP, GIF, TIFF "
                       "이미지를 쓰세요.",
    "image_svg": "파일을 읽을 수 없습니다: SVG는 벡터 형식입니다. 먼저 PNG로 내보내세요.",
    "image_unreadable": "파일을 이미지로 읽을 수 없습니다. PNG, JPEG, WebP, BMP, GIF, TIFF 이미지를 쓰세요.",
    "image_convert": "이미지(모드 {mode})를 RGB로 바꿀 수 없습니다. PNG, JPEG, WebP, BMP, GIF, TIFF 이미지를 쓰세요.",
    "batch_skipped": " 이미지로 읽을 수 없는 파일 {n}개는 건너뛰었습니다: {names}.",
    "batch_none_read": "파일 {n}개 중 어느 것도 이미지로 읽을 수 없습니다 ({names}). PNG, JPEG, WebP, BMP, GIF, TIFF "
                       "이미지를 올리세요.",
    "batch_one_unread": "파일을 이미지로 읽을 수 없습니다 ({names}). PNG, JPEG, WebP, BMP, GIF, TIFF 이미지를 올리세요.",
    "room_links": "**{code} 방이 열렸습니다.** 학생은 링크 <{student}>에 들어가거나, 교실 탭에 이 코드를 "
                  "입력합니다: **{code}**\n\n<details><summary>선생님 게시판 링크: 비밀이라 접어 두었습니다. 프로젝터가 아닌 "
                  "선생님 화면에서만 펼치세요</summary>\n\n<{teacher}>\n\n</details>",
    "room_new_round": "라운드 {round}: 이제 방에 선생님의 현재 이미지가 보입니다. 추측은 새로 시작합니다.",
    "room_revealed": "이제 방에 모델의 지도가 보입니다.",
    "room_hidden": "모델의 지도를 방에서 다시 숨겼습니다.",
    "room_answered": "학생 {joined}명 중 **{answered}**명이 답했습니다.",
    "room_scores": "모델의 지도와 비교: 평균 겹침 (IoU) **{iou}**; 추측 {scored}개 중 {pointed}개가 가장 강한 패치를 "
                   "포함; {labelled}명 중 {right}명이 모델의 답(**{predicted}**)을 맞혔습니다.",
    "room_unnamed": "학생 {i}",
    "room_press_join": "방 **{code}**: 원하면 별명을 적고 **들어가기**를 눌러 그림을 보고 추측하세요.",
    "room_joined": "방 **{code}**에 들어왔습니다. 모델이 쓴다고 생각하는 패치를 누르고, 클래스를 고른 뒤 추측을 보내세요.",
    "room_joined_closed": "방 **{code}**에 들어왔습니다. 선생님이 이 이미지의 지도를 이미 공개해서 이번 추측은 "
                          "마감되었습니다. 곧 여기에 지도가 나오고, 다음 이미지에서 새 라운드가 시작됩니다.",
    "room_back": "방 **{code}**에 다시 들어왔습니다: 보낸 추측(패치 {k}개)이 그대로 있습니다. 선생님이 지도를 공개하기 "
                 "전까지 바꿔서 다시 보낼 수 있습니다.",
    "room_join_first": "먼저 방에 들어가세요: 선생님이 보여 주는 코드를 입력하고 들어가기를 누르세요.",
    "room_sent": "추측을 보냈습니다 (패치 {k}개). 선생님이 지도를 공개하기 전까지 바꿔서 다시 보낼 수 있습니다.",
    "room_waiting": "추측이 접수되었습니다. 선생님이 모델의 지도를 공개할 때까지 기다리세요.",
    "room_mark": "라운드 {round}: 모델이 쓴다고 생각하는 패치를 누른 뒤 추측을 보내세요.",
    "curves_title": "설명하는 클래스: {label}", "curve_positive": "중요한 패치부터 지우기 (낮을수록 좋음)",
    "curve_negative": "덜 중요한 패치부터 지우기 (높을수록 좋음)", "curve_deletion": "삭제 (낮을수록 좋음)",
    "curve_insertion": "삽입 (높을수록 좋음)", "curve_removed": "지운 패치 (%)",
    "curve_inserted": "넣은 패치 (%)", "curve_probability": "그 클래스의 확률",
    "votes_none": "아직 고른 클래스 없음", "votes_share": "학생 답의 비율", "votes_model": "모델",
    "room_revealed_no_guess": "선생님이 모델의 지도를 공개했습니다. 이번 라운드에는 추측을 보내지 않았습니다.",
    "room_full_server": "이 서버에는 이미 열린 방이 {n}개 있습니다. 하나를 닫거나, 쓰지 않는 방이 (세 시간 뒤) 닫힐 때까지 "
                        "기다리세요.",
    "room_full": "이 방은 가득 찼습니다 (학생 {n}명). 선생님께 두 번째 방을 열어 달라고 하세요.",
    "room_unknown": "코드가 '{code}'인 열린 방이 없습니다. 선생님 화면의 코드를 확인하세요 (세 시간 동안 쓰지 않은 방은 "
                    "닫힙니다).",
    "room_no_code": "먼저 선생님 화면에 있는 방 코드를 입력한 뒤 들어가기를 누르세요.",
    "room_open_first": "먼저 방 열기를 누르세요. 그러면 학생이 들어올 수 있고, 이미지를 보여 주고 지도를 공개하고 방을 "
                       "닫을 수 있습니다.",
    "room_not_teacher": "이 방의 선생님만 할 수 있습니다: 선생님 링크를 열거나 방 열쇠를 확인하세요.",
    "room_not_joined": "이제 이 방에 있지 않습니다 (방이 다시 열렸습니다). 코드를 입력하고 다시 들어가기를 누르세요.",
    "room_new_image": "선생님이 새 이미지로 넘어갔습니다: 새 이미지에 패치를 표시하고 다시 보내세요.",
    "room_model_answer": "모델의 답은 **{answer}** ({p})입니다.",
    "room_model_answer_right": "모델의 답은 **{answer}** ({p})입니다. 예상한 클래스: {expected}, 맞혔습니다.",
    "room_model_answer_wrong": "모델의 답은 **{answer}** ({p})입니다. 예상한 클래스: {expected}, 이번에는 틀렸습니다.",
    "room_model_answer_none": "모델의 답은 **{answer}** ({p})입니다. 클래스는 고르지 않았습니다.",
    "room_local_only": "학생의 휴대폰과 노트북은 이 링크를 열 수 없습니다: 앱이 이 컴퓨터(127.0.0.1)에서만 접속을 "
                       "받습니다. 반이 접속할 수 있도록 `--host 0.0.0.0`으로 다시 시작하세요.",
    "room_closed": "선생님이 모델의 지도를 공개했으므로 이번 라운드의 추측은 마감되었습니다 (전에 보낸 추측은 게시판에 "
                   "그대로 남습니다). 다시 추측하려면 선생님의 다음 이미지를 기다리세요.",
    "col_name": "이름", "col_patches": "표시한 패치", "col_iou": "겹침 (IoU)",
    "col_pointing_rank": "가장 좋은 패치의 순위",
    # 학습 과정 탭과 둘러보기의 "어떻게 배웠을까요" (모델의 학습 타임라인)
    "training_none": "이 모델에는 보여 줄 학습 타임라인이 없습니다. 내장 데모 모델에는 있으니 모델 목록에서 고르세요. "
                     "직접 기록하려면, 튜토리얼 ViT는 `python examples/article_vit.py --timeline timeline`(약 5분)을 "
                     "실행한 뒤 `python app.py --custom examples/article_vit.py:build --checkpoint "
                     "article_vit.safetensors --timeline timeline`으로 앱을 시작하세요.",
    "training_mismatch": "이 타임라인은 모델과 맞지 않습니다: 체크포인트가 다른 구조의 모델에서 저장되었으니, 그 "
                         "타임라인으로 학습한 모델을 고르거나 이 모델의 타임라인을 `--timeline`으로 주어 앱을 "
                         "시작하세요.",
    "training_caption": "**학습 {step}단계 뒤의 가중치** (전체 {last}단계 중; 슬라이더의 체크포인트 {index}, 0부터 "
                        "{final}까지){accuracy}. {bars}",
    "training_caption_accuracy": ", 검증 정확도 **{accuracy}**",
    "training_locality": "위치 국소성 **{locality}** (가장 비슷한 위치가 이웃인 패치의 비율).",
    "training_heads": "첫 블록의 헤드들은 평균 **{near} px**에서 **{far} px** 거리를 봅니다 (예시 이미지들에서).",
    "tour_pictures_projection": "행렬이 찾는 패턴|이 이미지의 패치 벡터",
    "tour_pictures_positions": "빨간 패치|빨간 패치의 위치와 닮은 곳|모든 위치",
    "tour_pictures_prediction": "어텐션 롤아웃|모델의 답",
    "tour_pictures_learned": "정확도|위치 유사도|어텐션 거리",
    "tour_patches": "**이 모델:** 패치는 {p} x {p} 픽셀이고, {w} x {h} 픽셀 입력은 {cols} x {rows} = {n}개 패치의 "
                    "격자이므로 {n}개의 패치 벡터로 된 시퀀스를 읽습니다.",
    "tour_distance": "**이 모델, 이 이미지:** 첫 블록의 헤드들은 평균 {first} px 떨어진 곳을, 마지막 블록(블록 "
                     "{block})의 헤드들은 {last} px 떨어진 곳을 봅니다.",
    "tour_distance_trend": "논문에서처럼 가장 가까이 보는 헤드도 마지막 블록에서는 첫 블록에서보다 멀리 봅니다.",
    "tour_distance_no_trend": "논문의 큰 모델과 달리, 마지막 블록에 첫 블록의 어떤 헤드보다도 가까이 보는 헤드가 "
                              "남아 있습니다: 작은 이미지(데모는 64 px)를 보는 작은 모델은 논문의 경향을 따르지 "
                              "않을 수 있습니다.",
    "learned_note": "**{first} 단계에서 {last} 단계까지:** {parts}.",
    "learned_accuracy": "검증 정확도가 {a}에서 {b}가 되었습니다",
    "learned_grid_formed": "위치 격자가 나타났습니다 (국소성, 가장 비슷한 위치가 이웃인 패치의 비율: {a} → {b})",
    "learned_grid_kept": "위치 격자는 처음 저장된 단계에 이미 있었습니다 (국소성, 가장 비슷한 위치가 이웃인 패치의 비율: {a} → {b}): 위치 임베딩이 격자 "
                         "무늬에서 출발해 그것을 지켰습니다",
    "learned_grid_not_yet": "아직 2차원 위치 격자가 나타나지 않았습니다 (국소성, 가장 비슷한 위치가 이웃인 패치의 비율: {a} → {b})",
    "learned_heads": "첫 블록의 헤드들은 {a} px(가장 전역인 헤드가 가장 국소인 헤드의 {ra}배)에서 {b} px({rb}배)가 "
                     "되었습니다",
}

MODEL_NOTES = {
    "resnet50": "무작위 가중치의 합성곱 신경망(CNN)입니다. 어텐션, 토큰, 위치 표가 없어 Grad-CAM, 통합 그래디언트, "
                "살리언시, 가림만 쓸 수 있습니다. 나란히 비교 탭에서 ViT 옆에 놓아 보세요.",
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
    "swin_tiny_patch4_window7_224": "무작위 가중치의 Swin Transformer: 7x7 토큰 윈도 안에서 어텐션하고, 두 블록마다 한 번 윈도를 옮기며, 4–32 px 토큰의 네 단계를 거칩니다.",
    "swin_tiny_patch4_window7_224.ms_in1k": "Swin Transformer (Liu 외 2021), 윈도 어텐션; 어텐션 탐색기가 패치의 윈도를 보여 줍니다.",
    "open_clip:ViT-B-32": "무작위 가중치의 CLIP 이미지·텍스트 타워입니다 (open_clip, clip 추가 설치에 포함): 어텐션 롤아웃 탭에서 단어를 입력하면 프롬프트마다 지도가 나옵니다.",
}

MODEL_LABELS = {
    "resnet50": "무작위 초기화 ResNet-50 (CNN 기준선, 어텐션 없음)",
    "demo": "데모 ViT (내장, 오프라인)",
    "vit_tiny_patch16_224": "무작위 초기화 ViT-Ti/16 (학습 전 기준선)",
    "vit_base_patch16_224.orig_in21k_ft_in1k": "ViT-B/16, 원본 (in21k, in1k 미세 조정)",
    "vit_large_patch16_224.orig_in21k": "ViT-L/16, 원본 (in21k)",
    "vit_large_patch32_384.orig_in21k_ft_in1k": "ViT-L/32, 원본 (in21k, in1k 미세 조정, 384 px)",
    "vit_base_patch16_224.augreg2_in21k_ft_in1k": "AugReg ViT-B/16 (in21k, in1k 미세 조정)",
    "deit_small_distilled_patch16_224.fb_in1k": "DeiT-S (증류)",
    "vit_small_patch16_224.dino": "DINO ViT-S/16",
    "vit_small_patch14_reg4_dinov2.lvd142m": "DINOv2 ViT-S/14, 레지스터 포함 (224 px)",
    "torchvision:vit_b_16": "torchvision ViT-B/16 (ImageNet)",
    "hf:google/vit-base-patch16-224": "Hugging Face ViT-B/16 (google/vit-base-patch16-224)",
    "swin_tiny_patch4_window7_224": "무작위 초기화 Swin-T (윈도 어텐션)",
    "swin_tiny_patch4_window7_224.ms_in1k": "Swin-T (ImageNet-1k)",
    "open_clip:ViT-B-32": "무작위 초기화 CLIP ViT-B/32 (open_clip, 텍스트 프롬프트)",
}

# a method's name: the Korean term, with the English one the papers use in parentheses; a proper name stays
_METHODS = {
    "rollout": "롤아웃 (rollout)", "gradient rollout": "그래디언트 롤아웃 (gradient rollout)",
    "last-block attention": "마지막 블록 어텐션 (last-block attention)", "attention flow": "어텐션 플로우 (attention flow)",
    "grad-cam": "Grad-CAM", "integrated gradients": "통합 그래디언트 (integrated gradients)",
    "saliency": "살리언시 (saliency)", "occlusion": "가림 (occlusion)",
    "transformer attribution": "트랜스포머 기여도 (Transformer Attribution)", "attnlrp": "AttnLRP",
    "legrad": "LeGrad", "random": "무작위 (random)",
}

CHOICES = {
    # a method without a Korean name here shows its registry name (tests/test_lang.py asks for one)
    **{f"method:{name}": _METHODS.get(name, name) for name in EXPLANATION_METHODS},
    "method:auto": "자동 (auto)",
    "head_fusion:mean": "평균 (mean)", "head_fusion:max": "최대 (max)", "head_fusion:min": "최소 (min)",
    "fill:mean": "평균 색 (mean)", "fill:blur": "흐리게 (blur)", "fill:road": "이웃으로 채우기 (ROAD)",
    "style:mask": "마스크 (mask)", "style:heat": "히트 (heat)", "style:map": "지도만 (map)",
    "ablation:zero": "0으로 (zero)", "ablation:mean": "토큰 평균으로 (mean)",
    "surgery_mode:drop": "빼기 (drop)", "surgery_mode:grey": "회색으로 (grey)", "surgery_mode:blur": "흐리게 (blur)",
}

GRADIO = {
    "complete": "끝났습니다",
    "fullscreen": "전체 화면", "exit_fullscreen": "전체 화면 끝내기", "remove_image": "이미지 지우기",
    "download": "내려받기", "download_all": "모두 내려받기", "share": "공유", "clear": "지우기", "close": "닫기",
    "copy": "복사", "copied": "복사했습니다", "copy_table": "표 데이터 복사", "copied_table": "클립보드에 복사했습니다",
    "table_actions": "표 동작", "cell_menu": "셀 메뉴 열기", "sort_up": "오름차순 정렬",
    "sort_down": "내림차순 정렬", "empty_value": "빈 값", "reset": "기본값으로 되돌리기",
    "file_upload": "파일 올리기", "upload_file": "파일 올리기", "drop_files": "눌러서 올리거나 파일을 끌어다 놓으세요",
    "paste": "클립보드에서 붙여넣기", "footer": "Gradio 바닥글 메뉴", "stop_recording": "녹화 멈추기",
    "play": "재생", "pause": "일시 정지",
    "thumbnail": "미리보기 {n}개 중 {i}번째", "number_input": "{label} 숫자 입력",
    "range_slider": "{label} 슬라이더",
}
